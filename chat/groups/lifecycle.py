"""A session's life: starting, ending (everyone told, connections closed for good),
cancelling, the facilitator's summary note, and the sweeper that keeps the confidentiality
promise — it ends sessions nobody ended and deletes messages once the grace period is over."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.events import tell_member
from chat.gates import CLOSE_GONE
from chat.groups.controls import audit, broadcast, facilitated
from chat.groups.models import GroupSession, GroupSessionFacilitator, GroupSessionParticipant
from chat.groups.service import ends_at, get_session, refuse_if_over
from chat.models import ChatMessage
from core.context import AppContext
from core.db import utcnow
from core.errors import Refusal
from core.i18n import N_
from core.i18n import gettext as _
from identity.models import Member
from moderation import api as moderation

AUTO_END_AFTER = timedelta(minutes=60)  # a session nobody ended is ended this long after its end


# --------------------------------------------------------------------------- the session


async def start(ctx: AppContext, member: Member, session_id: int) -> None:
    async with ctx.db.transaction() as s:
        session = await facilitated(s, member, session_id)
        refuse_if_over(session)
        if session.status == "live":
            return
        session.status, session.started_at = "live", utcnow()
        s.add(session)
        await audit(s, member, "session_start", session)
    await broadcast(ctx, session_id)


async def end(ctx: AppContext, member: Member | None, session_id: int) -> None:
    """End the session (member None: the sweeper ends one nobody ended). Everyone connected is
    sent the final state and their connection is closed for good; the messages are deleted
    after the grace period (at once when it is 0)."""
    async with ctx.db.transaction() as s:
        session = (
            await facilitated(s, member, session_id) if member else await get_session(s, session_id)
        )
        if session.status in ("ended", "cancelled"):
            return
        session.status, session.ended_at = "ended", utcnow()
        session.floor_member_id, session.turn_taking = None, False
        s.add(session)
        await audit(s, member, "session_end", session, "" if member else "nobody ended it")
        if ctx.settings.session_grace_minutes == 0:
            await purge_messages(s, session)
        people = await _everyone(s, session)
    state = await broadcast(ctx, session_id)
    frame = {"type": "session", "state": state}
    for person in people:  # the state first, then the close, on the same connection
        await tell_member(ctx.broker, person, frame, room_id=session.room_id, close=CLOSE_GONE)


async def cancel(ctx: AppContext, member: Member, session_id: int) -> None:
    async with ctx.db.transaction() as s:
        session = await facilitated(s, member, session_id)
        if session.status != "scheduled":
            raise Refusal(
                "session_started",
                _("Only a session that hasn't started can be cancelled."),
                status=409,
            )
        session.status, session.ended_at, session.seats_taken = "cancelled", utcnow(), 0
        s.add(session)
        await audit(
            s,
            member,
            "session_cancel",
            session,
            public_summary=N_("A group session was cancelled"),
        )
        people = await _everyone(s, session)
    state = await broadcast(ctx, session_id)
    for person in people:
        await tell_member(
            ctx.broker,
            person,
            {"type": "session", "state": state},
            room_id=session.room_id,
            close=CLOSE_GONE,
        )


async def _everyone(s: AsyncSession, session: GroupSession) -> list[int]:
    members = await s.exec(
        select(GroupSessionParticipant.member_id).where(
            GroupSessionParticipant.session_id == session.id
        )
    )
    leads = await s.exec(
        select(GroupSessionFacilitator.member_id).where(
            GroupSessionFacilitator.session_id == session.id
        )
    )
    return sorted(set(members) | set(leads))


async def purge_messages(s: AsyncSession, session: GroupSession) -> int:
    """Delete the session's messages for good: sessions are confidential by default. A message
    that an open moderation case is about (reported, held, or crisis) stays until the case is
    closed, so the moderator deciding it can read it; the sweeper deletes it after that."""
    kept = await moderation.open_case_targets(s, "chat_message")
    query = delete(ChatMessage).where(col(ChatMessage.room_id) == session.room_id)
    if kept:
        query = query.where(col(ChatMessage.id).not_in(kept))
    result = await s.exec(query)  # type: ignore[call-overload]
    left = await s.exec(
        select(ChatMessage.id).where(col(ChatMessage.room_id) == session.room_id).limit(1)
    )
    if left.first() is None:
        session.messages_purged_at = utcnow()
        s.add(session)
    return result.rowcount or 0


async def sweep(ctx: AppContext) -> None:
    """End sessions long past their end, and delete messages whose grace period is over."""
    now = utcnow()
    async with ctx.db.read() as s:
        overdue = [
            g.id
            for g in await s.exec(
                select(GroupSession).where(
                    col(GroupSession.status).in_(("scheduled", "live")),
                    col(GroupSession.starts_at) < now - AUTO_END_AFTER,
                )
            )
            if ends_at(g) + AUTO_END_AFTER < now
        ]
    for session_id in overdue:
        await end(ctx, None, session_id)  # type: ignore[arg-type]
    grace = timedelta(minutes=ctx.settings.session_grace_minutes)
    async with ctx.db.transaction() as s:
        due = await s.exec(
            select(GroupSession).where(
                col(GroupSession.status) == "ended",
                col(GroupSession.messages_purged_at).is_(None),
                col(GroupSession.ended_at) <= utcnow() - grace,
            )
        )
        for session in list(due):
            await purge_messages(s, session)


# --------------------------------------------------------------------------- afterwards


async def save_summary(ctx: AppContext, member: Member, session_id: int, text: str) -> None:
    """The facilitator's anonymised note: no contact details, no crisis details, no names."""
    text = text.strip()
    if len(text) > 4000:
        raise Refusal("too_long", _("Keep the summary to 4,000 characters. Your text is kept."))
    async with ctx.db.read() as s:
        session = await facilitated(s, member, session_id)
        names = set(
            await s.exec(
                select(Member.pseudonym)
                .join(GroupSessionParticipant, col(GroupSessionParticipant.member_id) == Member.id)
                .where(GroupSessionParticipant.session_id == session_id)
            )
        )
    lowered = text.casefold()
    named = sorted(n for n in names if n.casefold() in lowered)
    if named:
        raise Refusal(
            "summary_names_someone",
            _(
                "The summary must name nobody: please take out the pseudonyms (%(names)s). "
                "Your text is kept."
            )
            % {"names": ", ".join(named)},
        )
    if text:
        place = moderation.Place(moderation.SESSION_SUMMARY, session.community_id)
        verdict = await moderation.vet(ctx, member, place, text)
        if verdict.refused:
            raise verdict.refusal(draft=text)
    async with ctx.db.transaction() as s:
        session = await facilitated(s, member, session_id)
        session.summary_note = text
        s.add(session)
        await audit(s, member, "session_summary" if text else "session_summary_clear", session)
