"""A session's co-facilitator: someone a facilitator names to take over if they can't go
on (their connection drops, or it all gets too much), so a live group is never left alone.

A facilitator names one co-facilitator for a session, or for every session of its weekly
series still to come. They must be able to run sessions there (peer supporters and the
community's moderators, as for facilitators: communities/roles.py), in good standing there
(no ban, suspension or mute), and neither of the two may have blocked the other. Until they
take over they are a participant like any other; taking over gives them the facilitator's
controls (service.is_facilitator), is announced to everyone in the room (the `handover` in
the session's state) and is written to the audit log, as naming them is.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.events import tell_member
from chat.gates import CLOSE_RECONNECT
from chat.groups.controls import audit, broadcast, facilitated
from chat.groups.models import GroupSession, GroupSessionCofacilitator
from chat.groups.seats import give_seat
from chat.groups.service import LIVE, get_session, is_facilitator, participant, refuse_if_over
from communities import roles
from communities.roles import Action
from core.context import AppContext
from core.db import utcnow
from core.errors import Refusal
from core.i18n import gettext as _
from identity.models import Member, MemberBlock
from moderation import api as moderation


async def name_cofacilitator(
    ctx: AppContext, member: Member, session_id: int, pseudonym: str, *, series: bool = False
) -> int:
    """Name (or, with an empty name, stop naming) the co-facilitator of this session, or of
    every session of its series still to come that this facilitator runs. Returns how many
    sessions it changed."""
    async with ctx.db.transaction() as s:
        session = await facilitated(s, member, session_id)
        refuse_if_over(session)
        sessions = await _sessions(s, session, member, series)
        person = await _eligible(s, session, member, pseudonym) if pseudonym.strip() else None
        for each in sessions:
            found = await s.get(GroupSessionCofacilitator, each.id)
            if found is not None and found.taken_over_at is not None:
                continue  # they have taken that one over: it stays theirs
            if found is not None:
                await s.delete(found)
                await s.flush()
            if person is not None:
                s.add(
                    GroupSessionCofacilitator(
                        session_id=each.id,  # type: ignore[arg-type]
                        member_id=person.id,  # type: ignore[arg-type]
                        named_by_id=member.id,
                    )
                )
        how = f"weekly series, {len(sessions)} sessions" if len(sessions) > 1 else ""
        await moderation.record(
            s,
            member,
            "session_cofacilitator" if person else "session_cofacilitator_removed",
            "group_session",
            session.id,
            session.community_id,
            how,
            subject_id=person.id if person else None,
        )
    return len(sessions)


async def _sessions(
    s: AsyncSession, session: GroupSession, member: Member, series: bool
) -> list[GroupSession]:
    if not series or session.series_id is None:
        return [session]
    rows = await s.exec(
        select(GroupSession)
        .where(
            col(GroupSession.series_id) == session.series_id,
            col(GroupSession.status).in_(LIVE),
            col(GroupSession.starts_at) >= session.starts_at,
        )
        .order_by(col(GroupSession.starts_at))
    )
    return [g for g in rows if await is_facilitator(s, g, member)]


async def _eligible(
    s: AsyncSession, session: GroupSession, member: Member, pseudonym: str
) -> Member:
    """The member named, if they may be: else a refusal the facilitator can act on."""
    name = pseudonym.strip()
    person = (
        await s.exec(select(Member).where(col(Member.pseudonym_key) == name.casefold()))
    ).first()
    if person is None or person.deleted_at is not None:
        raise Refusal(
            "invalid",
            _("There's no member called %(name)s.") % {"name": repr(name)},
            field="member",
        )
    if person.id == member.id or await is_facilitator(s, session, person):
        raise Refusal(
            "invalid",
            _(
                "%(name)s already facilitates this session: name someone else to take over if "
                "you both can't go on."
            )
            % {"name": person.pseudonym},
            field="member",
        )
    if not await roles.may(s, person, Action.SCHEDULE_SESSION, session.community_id):
        raise Refusal(
            "invalid",
            _(
                "%(name)s can't be a co-facilitator: co-facilitators are peer supporters or "
                "this community's moderators, as facilitators are."
            )
            % {"name": person.pseudonym},
            field="member",
        )
    standing = await moderation.standing(s, person.id, session.community_id)  # type: ignore[arg-type]
    blocked = await s.exec(
        select(MemberBlock.blocker_id).where(
            sa.or_(
                sa.and_(MemberBlock.blocker_id == member.id, MemberBlock.blocked_id == person.id),
                sa.and_(MemberBlock.blocker_id == person.id, MemberBlock.blocked_id == member.id),
            )
        )
    )
    if standing.banned or standing.suspended or standing.muted or blocked.first() is not None:
        # One answer for all of these: it would tell the facilitator about a sanction or a
        # block that is not theirs to know.
        raise Refusal(
            "invalid",
            _(
                "%(name)s can't be named co-facilitator of this session. Please choose someone "
                "else, or ask the community's moderators."
            )
            % {"name": person.pseudonym},
            field="member",
        )
    return person


async def take_over(ctx: AppContext, member: Member, session_id: int) -> None:
    """The named co-facilitator takes over: from now on they run the session too. Everyone
    in the room is told; their own connection reconnects with the facilitator's panel."""
    async with ctx.db.transaction() as s:
        session = await get_session(s, session_id)
        refuse_if_over(session)
        named = await s.get(GroupSessionCofacilitator, session_id)
        if named is None or named.member_id != member.id:
            raise Refusal(
                "forbidden",
                _("Only the co-facilitator a facilitator named for this session can take it over."),
                status=403,
            )
        if named.taken_over_at is not None:
            return  # already theirs: pressing twice changes nothing
        standing = await moderation.standing(s, member.id, session.community_id)  # type: ignore[arg-type]
        may_run = await roles.may(s, member, Action.SCHEDULE_SESSION, session.community_id)
        if standing.banned or standing.suspended or standing.muted or not may_run:
            raise Refusal(
                "forbidden",
                _(
                    "You can't take over this session now. Please tell the community's "
                    "moderators so they can help the group."
                ),
                status=403,
            )
        named.taken_over_at = utcnow()
        s.add(named)
        seat = await participant(s, session_id, member.id)  # type: ignore[arg-type]
        if seat is not None:  # a facilitator needs no seat, and doesn't wait for the floor
            if seat.seat_held:
                await give_seat(s, session_id)
            seat.seat_held, seat.hand_raised_at = False, None
            s.add(seat)
        await audit(s, member, "session_take_over", session)
        room_id = session.room_id
    await broadcast(ctx, session_id)  # the handover, to everyone in the room
    await tell_member(ctx.broker, member.id, None, room_id=room_id, close=CLOSE_RECONNECT)  # type: ignore[arg-type]
