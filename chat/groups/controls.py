"""Running a live session: what facilitators (and members, for their hand) can do.

Each action validates, writes and commits, and only then tells the room: a `session` state
frame to every connection (lobby included) through the broker, and, where one member's place
changes, a word to that member's own connections (admitted: reconnect and come in; removed
or the session ended: close for good). See docs/protocol.md.

Every facilitator's action is written to the audit log in the transaction that takes it
(`audit`): what was done to which session, never a member's words, and never who is in a
private session (admitting, the floor, a mute name nobody). Raising a hand is a member's
own business and is not recorded.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.events import publish_state, tell_member
from chat.frames import error_frame
from chat.gates import CLOSE_GONE, CLOSE_RECONNECT
from chat.groups.models import GroupSession, GroupSessionParticipant
from chat.groups.seats import give_seat
from chat.groups.service import get_session, is_facilitator, public_state, refuse_if_over
from chat.models import SLOW_MODE_CHOICES, slow_mode_label
from core.context import AppContext
from core.db import utcnow
from core.errors import Refusal
from core.i18n import N_
from core.i18n import gettext as _
from identity.models import Member
from moderation import api as moderation


async def facilitated(s: AsyncSession, member: Member, session_id: int) -> GroupSession:
    session = await get_session(s, session_id)
    if not await is_facilitator(s, session, member):
        raise Refusal("forbidden", _("Only this session's facilitators can do that."), status=403)
    return session


async def _named(s: AsyncSession, session: GroupSession, pseudonym: str) -> GroupSessionParticipant:
    found = (
        await s.exec(
            select(GroupSessionParticipant)
            .join(Member, col(Member.id) == GroupSessionParticipant.member_id)
            .where(
                GroupSessionParticipant.session_id == session.id,
                col(Member.pseudonym_key) == pseudonym.strip().casefold(),
            )
        )
    ).first()
    if found is None:
        raise Refusal("not_found", _("That member isn't taking part in this session."), status=404)
    return found


async def audit(
    s: AsyncSession,
    member: Member | None,
    action: str,
    session: GroupSession,
    reason: str = "",
    public_summary: str | None = None,
) -> None:
    """One audit entry for a facilitator's action on this session (member None: Kindred's
    sweeper). `public_summary` goes to the community's public log: only for what moderates
    the room (lock, slow mode, mute, removal, cancelling), in words that name nobody; stored
    in English, marked N_(), and said in each reader's language (moderation/public_log.py)."""
    await moderation.record(
        s,
        member,
        action,
        "group_session",
        session.id,
        session.community_id,
        reason,
        public_summary,
    )


async def broadcast(ctx: AppContext, session_id: int) -> dict[str, Any]:
    """Tell every connection in the session's room its new state (after the commit)."""
    async with ctx.db.read() as s:
        session = await get_session(s, session_id)
        state = await public_state(s, session)
    await publish_state(ctx.broker, session.room_id, {"type": "session", "state": state})
    return state


async def _change(
    ctx: AppContext,
    member: Member,
    session_id: int,
    action: str,
    values: dict[str, Any],
    *,
    reason: str = "",
    public_summary: str | None = None,
) -> None:
    """A facilitator's plain change to the session row, audited, then the room is told."""
    async with ctx.db.transaction() as s:
        session = await facilitated(s, member, session_id)
        refuse_if_over(session)
        for name, value in values.items():
            setattr(session, name, value)
        s.add(session)
        await audit(s, member, action, session, reason, public_summary)
    await broadcast(ctx, session_id)


# --------------------------------------------------------------------------- the lobby


async def admit(ctx: AppContext, member: Member, session_id: int, pseudonym: str) -> None:
    async with ctx.db.transaction() as s:
        session = await facilitated(s, member, session_id)
        refuse_if_over(session)
        seat = await _named(s, session, pseudonym)
        if seat.status != "lobby":
            raise Refusal("not_in_lobby", _("That member isn't waiting in the lobby."), status=409)
        seat.status = "admitted"
        s.add(seat)
        await audit(s, member, "session_admit", session)
        room_id, admitted = session.room_id, [seat.member_id]
    await _let_in(ctx, session_id, room_id, admitted)


async def admit_all(ctx: AppContext, member: Member, session_id: int) -> int:
    async with ctx.db.transaction() as s:
        session = await facilitated(s, member, session_id)
        refuse_if_over(session)
        waiting = list(
            await s.exec(
                select(GroupSessionParticipant).where(
                    GroupSessionParticipant.session_id == session_id,
                    GroupSessionParticipant.status == "lobby",
                )
            )
        )
        for seat in waiting:
            seat.status = "admitted"
            s.add(seat)
        if waiting:  # nobody waiting: nothing was done
            await audit(s, member, "session_admit_all", session, f"{len(waiting)} let in")
        room_id, admitted = session.room_id, [seat.member_id for seat in waiting]
    await _let_in(ctx, session_id, room_id, admitted)
    return len(admitted)


async def _let_in(ctx: AppContext, session_id: int, room_id: int, members: list[int]) -> None:
    await broadcast(ctx, session_id)
    for member_id in members:  # their lobby connection reconnects and is let in
        await tell_member(ctx.broker, member_id, None, room_id=room_id, close=CLOSE_RECONNECT)


async def set_locked(ctx: AppContext, member: Member, session_id: int, locked: bool) -> None:
    await _change(
        ctx,
        member,
        session_id,
        "session_lock" if locked else "session_unlock",
        {"locked": locked},
        public_summary=N_("A group session was closed to late joiners")
        if locked
        else N_("A group session was opened to late joiners again"),
    )


# --------------------------------------------------------------------------- the room


async def pin(
    ctx: AppContext, member: Member, session_id: int, text: str, region: str | None = None
) -> None:
    """Pin a message (the round's topic, say) for everyone; empty text unpins."""
    text = text.strip()
    html = ""
    if text:
        async with ctx.db.read() as s:
            session = await facilitated(s, member, session_id)
        place = moderation.Place(moderation.SESSION_PIN, session.community_id)
        verdict = await moderation.vet(ctx, member, place, text, region=region)
        if verdict.refused:
            raise verdict.refusal(draft=text)
        html = verdict.html
    action = "session_pin" if text else "session_unpin"
    await _change(ctx, member, session_id, action, {"pinned_text": text, "pinned_html": html})


async def set_slow_mode(ctx: AppContext, member: Member, session_id: int, seconds: int) -> None:
    if seconds not in SLOW_MODE_CHOICES:
        raise Refusal("invalid", _("Choose one of the slow mode settings offered."))
    head = N_("Slow mode in a group session")  # the public log says it; the setting as stored
    await _change(
        ctx,
        member,
        session_id,
        "session_slow_mode",
        {"slow_mode_seconds": seconds},
        reason=str(seconds),
        public_summary=f"{head}: {slow_mode_label(seconds, english=True).lower()}",
    )


async def set_turn_taking(ctx: AppContext, member: Member, session_id: int, on: bool) -> None:
    """Turning it off also clears the floor and lowers every hand."""
    async with ctx.db.transaction() as s:
        session = await facilitated(s, member, session_id)
        refuse_if_over(session)
        session.turn_taking = on
        if not on:
            session.floor_member_id = None
            await s.exec(  # type: ignore[call-overload]
                update(GroupSessionParticipant)
                .where(col(GroupSessionParticipant.session_id) == session_id)
                .values(hand_raised_at=None)
            )
        s.add(session)
        await audit(s, member, "session_turns_on" if on else "session_turns_off", session)
    await broadcast(ctx, session_id)


async def give_floor(ctx: AppContext, member: Member, session_id: int, pseudonym: str) -> None:
    """Give the floor to an admitted member (their hand goes down); empty: take it back."""
    async with ctx.db.transaction() as s:
        session = await facilitated(s, member, session_id)
        refuse_if_over(session)
        if not session.turn_taking:
            raise Refusal(
                "turn_taking_off",
                _("Turn on turn-taking before giving someone the floor."),
                status=409,
            )
        if pseudonym.strip():
            seat = await _named(s, session, pseudonym)
            if seat.status != "admitted":
                raise Refusal(
                    "not_admitted", _("That member isn't in the session yet."), status=409
                )
            seat.hand_raised_at = None
            s.add(seat)
            session.floor_member_id = seat.member_id
        else:
            session.floor_member_id = None
        s.add(session)
        given = session.floor_member_id is not None
        await audit(s, member, "session_floor" if given else "session_floor_back", session)
    await broadcast(ctx, session_id)


async def raise_hand(ctx: AppContext, member: Member, session_id: int, up: bool) -> None:
    """A member asks for (or gives up asking for) the floor; the queue is first come."""
    async with ctx.db.transaction() as s:
        session = await get_session(s, session_id)
        refuse_if_over(session)
        seat = (
            await s.exec(
                select(GroupSessionParticipant).where(
                    GroupSessionParticipant.session_id == session_id,
                    GroupSessionParticipant.member_id == member.id,
                )
            )
        ).first()
        if seat is None or seat.status != "admitted":
            raise Refusal(
                "in_lobby", _("You can raise your hand once you're in the session."), status=409
            )
        if up and seat.hand_raised_at is None:
            seat.hand_raised_at = utcnow()
        elif not up:
            seat.hand_raised_at = None
        s.add(seat)
    await broadcast(ctx, session_id)


# --------------------------------------------------------------------------- participants


async def set_muted(
    ctx: AppContext, member: Member, session_id: int, pseudonym: str, muted: bool
) -> None:
    """Mute for this session only (moderation's mutes are site-wide and separate)."""
    async with ctx.db.transaction() as s:
        session = await facilitated(s, member, session_id)
        refuse_if_over(session)
        seat = await _named(s, session, pseudonym)
        seat.muted = muted
        s.add(seat)
        await audit(
            s,
            member,
            "session_mute" if muted else "session_unmute",
            session,
            public_summary=N_("A member was muted in a group session")
            if muted
            else N_("A member was unmuted in a group session"),
        )
        target, room_id = seat.member_id, session.room_id
    await broadcast(ctx, session_id)
    if muted:
        # In English: it goes to the muted member, not the facilitator whose request this is
        # (sessions.js shows the room's own "muted" part instead).
        words = "A facilitator has muted you for the rest of this session. You can still read."
        await tell_member(
            ctx.broker,
            target,
            error_frame(Refusal("session_muted", words)),
            room_id=room_id,
        )


async def remove(ctx: AppContext, member: Member, session_id: int, pseudonym: str) -> None:
    """Remove a participant for the rest of the session: their seat comes free, their
    connection closes for good, and they cannot join again."""
    async with ctx.db.transaction() as s:
        session = await facilitated(s, member, session_id)
        refuse_if_over(session)
        seat = await _named(s, session, pseudonym)
        if seat.status == "removed":
            return
        if seat.seat_held:
            await give_seat(s, session_id)
        seat.status, seat.seat_held, seat.hand_raised_at = "removed", False, None
        if session.floor_member_id == seat.member_id:
            session.floor_member_id = None
        s.add(seat)
        s.add(session)
        await audit(
            s,
            member,
            "session_remove",
            session,
            public_summary=N_("A member was removed from a group session"),
        )
        target, room_id = seat.member_id, session.room_id
    await broadcast(ctx, session_id)
    # In English: it goes to the removed member, not the facilitator whose request this is
    # (sessions.js says it in the member's own language).
    words = "A facilitator has removed you from this session. You can't rejoin it."
    frame = error_frame(Refusal("removed", words))
    await tell_member(ctx.broker, target, frame, room_id=room_id, close=CLOSE_GONE)
