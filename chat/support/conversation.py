"""A 1:1 support conversation once a supporter has accepted: what its page shows each side,
and its end. Either of its two people may end it; both sides (and a moderator reading it
under a grant) are told, and their sockets closed for good (4003), only after the end is
committed. Its messages are kept ``support_keep_days`` after the end (none: deleted at the
end), except while a moderation case about one of them is open: the moderator may need to
read it, and the rest for context.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.events import publish_state, tell_member
from chat.gates import CLOSE_GONE
from chat.history import HISTORY_LIMIT, recent_messages
from chat.models import ChatMessage
from chat.support.access import Conversation, grant_holders
from chat.support.models import SupportRequest
from chat.support.requests import community_name, is_participant, name_of
from core.context import AppContext
from core.db import utcnow
from core.errors import Refusal
from core.i18n import gettext as _
from identity.models import Member
from moderation import api as moderation


@dataclass(frozen=True)
class ConversationPage:
    topic: str | None
    other: str  # whom the viewer is talking with (for a moderator: the member who asked)
    supporter_name: str
    asker_name: str
    messages: list[dict[str, Any]]
    can_write: bool  # going on, and the viewer is one of its two people
    delete_on: datetime | None  # when its messages go, once it has ended


async def conversation_page(
    ctx: AppContext, conversation: Conversation, viewer: Member
) -> ConversationPage:
    """What the conversation's page shows this viewer."""
    room, found, role = conversation.room, conversation.request, conversation.role
    messages = await recent_messages(ctx.db, room, viewer, limit=HISTORY_LIMIT)
    async with ctx.db.read() as s:
        other_id = found.supporter_id if role == "member" else found.member_id
        other = await s.get(Member, other_id) if other_id else None
        supporter = await s.get(Member, found.supporter_id) if found.supporter_id else None
        asker = await s.get(Member, found.member_id)
        topic = await community_name(s, found.community_id)
    keep_days = ctx.settings.support_keep_days
    return ConversationPage(
        topic=topic,
        other=name_of(other),
        supporter_name=name_of(supporter),
        asker_name=name_of(asker),
        messages=messages,
        can_write=found.status == "accepted" and role != "moderator",
        delete_on=(
            found.ended_at + timedelta(days=keep_days) if found.ended_at and keep_days else None
        ),
    )


# --------------------------------------------------------------------------- ending


async def end(ctx: AppContext, member: Member, request_id: int) -> SupportRequest:
    """Either side ends the conversation; both sides' sockets are closed for good (4003)
    after the commit, and their pages show that it has ended."""
    async with ctx.db.transaction() as s:
        request = await s.get(SupportRequest, request_id)
        if request is None or not is_participant(request, member):
            raise Refusal("not_found", _("There's no conversation of yours here."), status=404)
        ended = await s.exec(
            update(SupportRequest)
            .where(col(SupportRequest.id) == request_id, col(SupportRequest.status) == "accepted")
            .values(status="ended", ended_at=utcnow(), ended_by_id=member.id)
        )
        if ended.rowcount != 1:  # type: ignore[attr-defined]
            raise Refusal("not_open", _("This conversation has already ended."), status=409)
        await moderation.record(
            s, member, "end_support_conversation", "support_request", request_id,
            request.community_id,
            # The supporter is named; the member who asked is not (the request says whose).
            actor_name=None if member.id == request.supporter_id else "the member",
        )  # fmt: skip
        if ctx.settings.support_keep_days == 0:  # kept for no days: deleted at the end
            await purge_messages(s, [request.room_id])  # type: ignore[list-item]
        await s.refresh(request)
        watchers = await grant_holders(s, request.room_id)  # type: ignore[arg-type]
    await announce_end(ctx, request, member.id, watchers)  # type: ignore[arg-type]
    return request


async def purge_messages(s: AsyncSession, room_ids: list[int]) -> int:
    """Delete the messages of these conversations for good, except a conversation with a
    message that a still-open moderation case is about: the moderator may need to read it
    (and the rest for context), so it is deleted on a later round, once the case is closed.
    Returns how many messages went."""
    if not room_ids:
        return 0
    held = await moderation.open_case_targets(s, "chat_message")
    kept: set[int] = set()
    if held:
        kept = set(
            await s.exec(
                select(ChatMessage.room_id)
                .where(col(ChatMessage.id).in_(held), col(ChatMessage.room_id).in_(room_ids))
                .distinct()
            )
        )
    going = [room_id for room_id in room_ids if room_id not in kept]
    if not going:
        return 0
    result = await s.exec(delete(ChatMessage).where(col(ChatMessage.room_id).in_(going)))  # type: ignore[call-overload]
    return result.rowcount or 0


async def announce_end(
    ctx: AppContext, request: SupportRequest, by_id: int, watchers: list[int] | None = None
) -> None:
    """Tell everyone in the conversation that it has ended, then close their sockets for
    good (4003). Call only after the end is committed."""
    assert request.room_id is not None
    if watchers is None:
        async with ctx.db.read() as s:
            watchers = await grant_holders(s, request.room_id)
    ended_by = "member" if by_id == request.member_id else "supporter"
    frame = {"type": "support", "status": "ended", "ended_by": ended_by}
    await publish_state(ctx.broker, request.room_id, frame)
    for member_id in {request.member_id, request.supporter_id, *watchers} - {None}:
        await tell_member(ctx.broker, member_id, None, room_id=request.room_id, close=CLOSE_GONE)  # type: ignore[arg-type]
