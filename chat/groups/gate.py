"""The gate chat asks before letting someone into a session's room, and on every send.

In: the session's facilitators and the participants they let in. Waiting (lobby): members
who agreed to the ground rules but are not let in yet — they receive state frames only.
Everyone else is refused before the upgrade, with what to do next.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from chat.gates import Admission
from chat.groups.models import GroupSession
from chat.groups.service import (
    facilitator_view,
    is_facilitator,
    member_view,
    participant,
    public_state,
    refuse_if_barred,
    session_for_room,
    session_url,
)
from chat.groups.session_view import room_parts
from chat.models import Room, slow_mode_label
from chat.sending import slow_mode_wait
from core.db import Database
from core.errors import Refusal
from core.i18n import gettext as _
from identity.models import Member
from moderation import api as moderation


class SessionGate:
    surface = moderation.SESSION_ROOM  # muted members may join and listen, not write

    async def admit(self, db: Database, room: Room, member: Member) -> Admission:
        async with db.read() as s:
            session = await _session(s, room)
            if session.status in ("ended", "cancelled"):
                raise Refusal("session_ended", _("This session has ended."), status=410)
            state = await public_state(s, session)
            you = await member_view(s, session, member)
            # The viewer's own view, as GET /api/v1/sessions/{id} gives it: the page needs
            # no call of its own to know which parts of the room to show.
            hello = {"session": state, "session_you": you, "session_parts": room_parts(state, you)}
            if you["role"] == "facilitator":
                you["panel"] = await facilitator_view(s, session)
                return Admission(hello=hello)
            await refuse_if_barred(s, session, member)  # suspended or banned: not even to read
            seat = await participant(s, session.id, member.id)  # type: ignore[arg-type]
        if seat is not None and seat.status == "removed":
            raise Refusal("removed", _("A facilitator removed you from this session."), status=403)
        if seat is not None and seat.status == "admitted":
            return Admission(hello=hello)
        if seat is not None and seat.status == "lobby" and seat.rules_ack_at is not None:
            return Admission(lobby=True, hello=hello)
        raise Refusal(
            "session_join_first",
            _(
                "Join the session from its page first: agree to its ground rules, then wait in "
                "the lobby."
            ),
            status=403,
        )

    async def check_send(self, s: AsyncSession, room: Room, member: Member) -> None:
        session = await _session(s, room)
        if session.status != "live":
            words = (
                _("This session has ended, so nothing more can be posted. Your text is kept.")
                if session.status in ("ended", "cancelled")
                else _(
                    "The session hasn't started yet: you can post once the facilitator starts "
                    "it. Your text is kept."
                )
            )
            raise Refusal("session_not_live", words, status=409)
        if await is_facilitator(s, session, member):
            return
        seat = await participant(s, session.id, member.id)  # type: ignore[arg-type]
        if seat is None or seat.status == "removed":
            raise Refusal("removed", _("You're no longer in this session."), status=403)
        if seat.status != "admitted":
            raise Refusal(
                "in_lobby",
                _(
                    "You're in the lobby: you can post once a facilitator lets you in. "
                    "Your text is kept."
                ),
                status=403,
            )
        if seat.muted:
            raise Refusal(
                "session_muted",
                _(
                    "A facilitator has muted you for the rest of this session. You can still "
                    "read; your text is kept."
                ),
                status=403,
            )
        if session.turn_taking and session.floor_member_id != member.id:
            raise Refusal(
                "not_your_turn",
                _(
                    "It's not your turn yet — raise your hand and the facilitator will give you "
                    "the floor. Your text is kept."
                ),
                status=409,
            )
        if session.slow_mode_seconds:
            await _slow_mode(s, session, room, member)

    def page_url(self, room: Room) -> str:
        # The room's address finds its session through the page (rooms don't know sessions).
        return f"/sessions/room/{room.slug}"


async def _session(s: AsyncSession, room: Room) -> GroupSession:
    session = await session_for_room(s, room.id)  # type: ignore[arg-type]
    if session is None:  # a session room without its session: never fall open
        raise Refusal("not_found", _("There's no group session here."), status=404)
    return session


async def _slow_mode(s: AsyncSession, session: GroupSession, room: Room, member: Member) -> None:
    if wait := await slow_mode_wait(s, room, member, session.slow_mode_seconds):
        label = slow_mode_label(session.slow_mode_seconds).lower()
        raise Refusal(
            "slow_mode",
            _(
                "The facilitator has turned on slow mode: %(label)s. You can send again in "
                "%(wait)s — your text is kept."
            )
            % {"label": label, "wait": moderation.wait_words(wait)},
            status=429,
            retry_after=wait,
        )


__all__ = ["SessionGate", "session_url"]
