"""Seats and joining: RSVP, giving a seat back, agreeing to the ground rules and waiting in
the lobby.

Seats are taken with one conditional UPDATE on the session row (see chat/groups/models.py),
inside the transaction that adds the participant, so the count and the rows never disagree
and two members can never both take the last seat.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.groups.clock import on_clock
from chat.groups.models import GroupSession, GroupSessionParticipant
from chat.groups.service import (
    get_session,
    is_facilitator,
    participant,
    refuse_if_barred,
    refuse_if_over,
)
from core.db import Database, utcnow
from core.errors import Refusal
from core.i18n import gettext as _
from core.i18n import ngettext
from identity.models import Member

_TAKE_SEAT = (
    update(GroupSession)
    .where(
        col(GroupSession.id) == sa.bindparam("session"),
        col(GroupSession.seats_taken) < GroupSession.capacity,
    )
    .values(seats_taken=GroupSession.seats_taken + 1)
    .returning(GroupSession.seats_taken)
)
_GIVE_SEAT = (
    update(GroupSession)
    .where(col(GroupSession.id) == sa.bindparam("session"), col(GroupSession.seats_taken) > 0)
    .values(seats_taken=GroupSession.seats_taken - 1)
)


async def rsvp(db: Database, member: Member, session_id: int) -> GroupSession:
    """Take a seat ahead of the session. Idempotent for someone who already holds one."""
    try:
        async with db.transaction() as s:
            session = await get_session(s, session_id)
            refuse_if_over(session)
            if await is_facilitator(s, session, member):
                raise Refusal(
                    "facilitating",
                    _("You're facilitating this session: you need no seat."),
                    status=409,
                )
            await refuse_if_barred(s, session, member)
            seat = await participant(s, session_id, member.id)  # type: ignore[arg-type]
            _refuse_removed(seat)
            if seat is not None and seat.seat_held:
                return session
            _refuse_locked(session)
            await _take_seat(s, session)
            if seat is None:
                s.add(
                    GroupSessionParticipant(
                        session_id=session_id,
                        member_id=member.id,
                        seat_held=True,  # type: ignore[arg-type]
                    )
                )
            else:
                seat.seat_held = True
                s.add(seat)
    except IntegrityError:  # the same member's second RSVP raced the first: the first won
        pass
    async with db.read() as s:
        return await get_session(s, session_id)


async def cancel_rsvp(db: Database, member: Member, session_id: int) -> GroupSession:
    """Give the seat back (before being let in): someone else can take it."""
    async with db.transaction() as s:
        session = await get_session(s, session_id)
        refuse_if_over(session)
        seat = await participant(s, session_id, member.id)  # type: ignore[arg-type]
        if seat is None or seat.status not in ("rsvp", "lobby"):
            raise Refusal(
                "no_rsvp", _("You have no seat to give back for this session."), status=409
            )
        if seat.seat_held:
            await give_seat(s, session_id)
        await s.delete(seat)
    async with db.read() as s:
        return await get_session(s, session_id)


async def give_seat(s: AsyncSession, session_id: int) -> None:
    """One seat back, in the database (never a read-modify-write that could lose a taker)."""
    await s.exec(_GIVE_SEAT, params={"session": session_id})  # type: ignore[call-overload]


async def _take_seat(s: AsyncSession, session: GroupSession) -> None:
    taken = await s.exec(_TAKE_SEAT, params={"session": session.id})  # type: ignore[call-overload]
    if taken.first() is None:
        raise Refusal(
            "session_full",
            _(
                "This session is full: every seat is taken. Have a look at the other upcoming "
                "sessions, or check back — a seat comes free when someone cancels."
            ),
            status=409,
        )


def _refuse_removed(seat: GroupSessionParticipant | None) -> None:
    if seat is not None and seat.status == "removed":
        raise Refusal(
            "removed",
            _("A facilitator removed you from this session, so you can't rejoin it."),
            status=403,
        )


def _refuse_locked(session: GroupSession) -> None:
    if session.locked:
        raise Refusal(
            "session_locked",
            _(
                "The facilitator has closed this session to late joiners. Have a look at the "
                "upcoming sessions for the next one."
            ),
            status=409,
        )


def lobby_opens_at(session: GroupSession, lobby_minutes: int) -> datetime:
    return session.starts_at - timedelta(minutes=lobby_minutes)


async def join(
    db: Database, member: Member, session_id: int, *, agreed: bool, lobby_minutes: int
) -> GroupSessionParticipant | None:
    """Agree to the ground rules and wait in the lobby (taking a seat if none is held).
    Facilitators go straight in; they get None."""
    try:
        return await _join(db, member, session_id, agreed=agreed, lobby_minutes=lobby_minutes)
    except IntegrityError:  # the same member's second join raced the first: now it has a row
        return await _join(db, member, session_id, agreed=agreed, lobby_minutes=lobby_minutes)


async def _join(
    db: Database, member: Member, session_id: int, *, agreed: bool, lobby_minutes: int
) -> GroupSessionParticipant | None:
    async with db.transaction() as s:
        session = await get_session(s, session_id)
        refuse_if_over(session)
        if await is_facilitator(s, session, member):
            return None
        await refuse_if_barred(s, session, member)
        if not agreed:
            raise Refusal(
                "rules_not_agreed",
                _("Please read the ground rules and tick “I agree” to join the session."),
            )
        opens = lobby_opens_at(session, lobby_minutes)
        if session.status == "scheduled" and utcnow() < opens:
            raise Refusal(
                "lobby_not_open",
                ngettext(
                    "The lobby opens %(num)d minute before the start, at %(when)s. Your seat "
                    "is kept if you RSVP'd.",
                    "The lobby opens %(num)d minutes before the start, at %(when)s. Your seat "
                    "is kept if you RSVP'd.",
                    lobby_minutes,
                )
                % {"num": lobby_minutes, "when": on_clock(opens, None)},
                status=409,
            )
        seat = await participant(s, session_id, member.id)  # type: ignore[arg-type]
        _refuse_removed(seat)
        if seat is None or seat.status == "rsvp":
            _refuse_locked(session)
        if seat is None:
            await _take_seat(s, session)
            seat = GroupSessionParticipant(
                session_id=session_id,
                member_id=member.id,
                seat_held=True,
                status="lobby",  # type: ignore[arg-type]
            )
        elif seat.status == "rsvp":
            seat.status = "lobby"
        seat.rules_ack_at = seat.rules_ack_at or utcnow()
        s.add(seat)
        return seat
