"""The gate chat asks before letting anyone into a 1:1 support conversation (chat/gates.py).

Only the member who asked, the supporter who accepted, and moderators holding a current
grant (opened from a report, chat/support/access.py) are let in; everyone else is refused
before the WebSocket upgrade: the community's other moderators with 403 `private` (they can
open it from a report), anyone else with 404, as if it did not exist. Only the two people in
the conversation may write, and only while it is going on.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from chat.gates import Admission
from chat.models import Room
from chat.support import access
from chat.support.requests import conversation_url, is_participant, request_for_room
from core.db import Database
from core.errors import Refusal
from core.i18n import N_, gettext
from identity.models import Member
from moderation import api as moderation

PRIVATE = N_(
    "This is a private conversation between a member and a peer supporter. Moderators can "
    "open one only from a report about it."
)


class PrivateConversationGate:
    surface = moderation.SUPPORT_ROOM  # a mute never stops a member talking with their supporter

    async def admit(self, db: Database, room: Room, member: Member) -> Admission:
        async with db.read() as s:
            request = await request_for_room(s, room.id)  # type: ignore[arg-type]
            if request is None:
                raise Refusal(
                    "not_found", gettext("There's no chat room at this address."), status=404
                )
            role = await access.role_in(s, request, room, member)
            if role is None and await access.moderates(s, member, room):
                # It can be opened from a report.
                raise Refusal("private", gettext(PRIVATE), status=403)
            if role is None:  # anyone else is not told it exists
                raise access.not_found()
        return Admission(hello={"support": {"status": request.status, "role": role}})

    async def check_send(self, s: AsyncSession, room: Room, member: Member) -> None:
        request = await request_for_room(s, room.id)  # type: ignore[arg-type]
        if request is None or not is_participant(request, member):
            raise Refusal(
                "read_only",
                gettext(
                    "You can read this conversation, but only the member and their supporter "
                    "write in it. Your text is kept."
                ),
                status=403,
            )
        if request.status != "accepted":
            raise Refusal(
                "ended",
                gettext(
                    "This conversation has ended, so nothing more can be sent in it. Your text "
                    "is kept if you'd like to copy it."
                ),
                status=409,
            )

    def page_url(self, room: Room) -> str:
        return conversation_url(room.slug)
