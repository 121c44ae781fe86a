"""Group sessions' rules: who may do what, and what everyone sees of a session.

No HTTP or WebSockets here: the pages, the JSON API and the room's gate share these rules.
Seats and joining (RSVP, the lobby) are in chat/groups/seats.py, scheduling in
chat/groups/scheduling.py, live facilitation (admit, the floor …) in chat/groups/controls.py,
and starting, ending and deleting messages in chat/groups/lifecycle.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.events import iso
from chat.groups.models import (
    GroupSession,
    GroupSessionCofacilitator,
    GroupSessionFacilitator,
    GroupSessionParticipant,
)
from chat.models import Room
from communities import roles
from communities import service as communities
from communities.roles import Action
from core.clock import on_clock
from core.db import Database, utcnow
from core.errors import Refusal
from core.i18n import gettext as _
from identity.models import Member
from moderation import api as moderation

MIN_MINUTES, MAX_MINUTES = 15, 240
MIN_SEATS, MAX_SEATS = 2, 100
MAX_TITLE, MAX_TEXT = 120, 4000
LIVE = ("scheduled", "live")


def ends_at(session: GroupSession) -> datetime:
    return session.starts_at + timedelta(minutes=session.duration_minutes)


def session_url(session_id: int) -> str:
    return f"/sessions/{session_id}"


# --------------------------------------------------------------------------- who may do what


async def is_facilitator(s: AsyncSession, session: GroupSession, member: Member | None) -> bool:
    """Who may run this session: communities.roles decides, told whether they are one of
    the facilitators named on it (only chat knows that) — a co-facilitator who has taken
    the session over counts as named (chat/groups/cofacilitators.py)."""
    if member is None:
        return False
    named = await s.exec(
        select(GroupSessionFacilitator.member_id).where(
            GroupSessionFacilitator.session_id == session.id,
            GroupSessionFacilitator.member_id == member.id,
        )
    )
    is_named = named.first() is not None
    if not is_named:
        took_over = await s.get(GroupSessionCofacilitator, session.id)
        is_named = (
            took_over is not None
            and took_over.member_id == member.id
            and took_over.taken_over_at is not None
        )
    return await roles.may(
        s, member, Action.FACILITATE_SESSION, session.community_id, named_facilitator=is_named
    )


async def handover_words(s: AsyncSession, session: GroupSession) -> str | None:
    """What the room is told once a co-facilitator has taken over (None: nobody has). In
    English: it goes to everyone in the room, in the state frames, whatever their language."""
    named = await s.get(GroupSessionCofacilitator, session.id)
    if named is None or named.taken_over_at is None:
        return None
    person = await s.get(Member, named.member_id)
    if person is None or person.deleted_at is not None:
        return "A co-facilitator has taken over facilitating this session."
    return f"{person.pseudonym} has taken over facilitating this session."


async def cofacilitator_named(s: AsyncSession, session: GroupSession) -> dict[str, Any] | None:
    """For the facilitators' panel: whom they named to take over, and whether they have."""
    named = await s.get(GroupSessionCofacilitator, session.id)
    if named is None:
        return None
    person = await s.get(Member, named.member_id)
    name = person.pseudonym if person and person.deleted_at is None else _("[deleted member]")
    return {"pseudonym": name, "taken_over": named.taken_over_at is not None}


async def get_session(s: AsyncSession, session_id: int) -> GroupSession:
    session = await s.get(GroupSession, session_id)
    if session is None:
        raise Refusal("not_found", _("There's no group session at this address."), status=404)
    return session


async def session_for_room(s: AsyncSession, room_id: int) -> GroupSession | None:
    return (await s.exec(select(GroupSession).where(GroupSession.room_id == room_id))).first()


async def session_at_room(db: Database, slug: str) -> int | None:
    """The id of the session whose room has this address (rooms don't know sessions)."""
    async with db.read() as s:
        found = await s.exec(
            select(GroupSession.id)
            .join(Room, Room.id == GroupSession.room_id)  # type: ignore[arg-type]
            .where(Room.slug == slug)
        )
        return found.first()


async def session_room(db: Database, session_id: int) -> Room:
    """The session's chat room (Refusal not_found when there is no such session)."""
    async with db.read() as s:
        session = await get_session(s, session_id)
        room = await s.get(Room, session.room_id)
    assert room is not None
    return room


async def participant(
    s: AsyncSession, session_id: int, member_id: int
) -> GroupSessionParticipant | None:
    found = await s.exec(
        select(GroupSessionParticipant).where(
            GroupSessionParticipant.session_id == session_id,
            GroupSessionParticipant.member_id == member_id,
        )
    )
    return found.first()


async def refuse_if_barred(s: AsyncSession, session: GroupSession, member: Member) -> None:
    """Members suspended or banned (site-wide, or in the session's community) take no seat
    and don't come in. A mute is only a chat mute: muted members can still join and listen,
    and what they send is refused (chat/sending.py)."""
    standing = await moderation.standing(s, member.id, session.community_id)  # type: ignore[arg-type]
    if standing.banned:
        raise Refusal(
            "banned",
            _(
                "You've been banned from this community, so you can't take part in its group "
                "sessions. If you need someone to talk to now, the helplines at /help are "
                "there for you."
            ),
            status=403,
        )
    if standing.suspended and standing.suspended_until is None:
        raise Refusal(
            "suspended",
            _(
                "Your account is suspended, so you can't take a seat in group sessions or join "
                "one until it ends; then you can RSVP again. If you need someone to talk to "
                "now, the helplines at /help are there for you."
            ),
            status=403,
        )
    if standing.suspended and standing.suspended_until is not None:
        raise Refusal(
            "suspended",
            _(
                "Your account is suspended until %(when)s, so you can't take a seat in group "
                "sessions or join one until it ends; then you can RSVP again. If you need "
                "someone to talk to now, the helplines at /help are there for you."
            )
            % {"when": on_clock(standing.suspended_until, None)},  # a message: UTC, labelled
            status=403,
        )


def refuse_if_over(session: GroupSession) -> None:
    if session.status == "cancelled":
        raise Refusal("session_cancelled", _("This session was cancelled."), status=409)
    if session.status == "ended":
        raise Refusal(
            "session_ended",
            _("This session has ended. Have a look at the upcoming sessions for the next one."),
            status=409,
        )


# --------------------------------------------------------------------------- what people see


async def public_state(s: AsyncSession, session: GroupSession) -> dict[str, Any]:
    """The state everyone connected to the room may see: counts, never lobby names."""
    counts = dict(
        list(
            await s.exec(
                select(GroupSessionParticipant.status, sa.func.count())
                .where(GroupSessionParticipant.session_id == session.id)
                .group_by(GroupSessionParticipant.status)
            )
        )
    )
    hands = (
        await s.exec(
            select(sa.func.count()).where(
                GroupSessionParticipant.session_id == session.id,
                col(GroupSessionParticipant.hand_raised_at).is_not(None),
                GroupSessionParticipant.status == "admitted",
            )
        )
    ).one()
    floor = None
    if session.floor_member_id is not None:
        holder = await s.get(Member, session.floor_member_id)
        floor = holder.pseudonym if holder else None
    state: dict[str, Any] = {
        "id": session.id,
        "title": session.title,
        "status": session.status,
        "starts_at": iso(session.starts_at),
        "ends_at": iso(ends_at(session)),
        "capacity": session.capacity,
        "seats_taken": session.seats_taken,
        "lobby_count": counts.get("lobby", 0),
        "admitted_count": counts.get("admitted", 0),
        "hands_count": hands,
        "locked": session.locked,
        "turn_taking": session.turn_taking,
        "floor": floor,
        "slow_mode_seconds": session.slow_mode_seconds,
        "pinned_html": session.pinned_html,
    }
    if handover := await handover_words(s, session):  # a co-facilitator took over
        state["handover"] = handover
    return state


async def facilitator_view(s: AsyncSession, session: GroupSession) -> dict[str, Any]:
    """Names for the facilitators only: who waits in the lobby, the hand queue, who's in."""
    rows = list(
        await s.exec(
            select(GroupSessionParticipant, Member.pseudonym)
            .join(Member, col(Member.id) == GroupSessionParticipant.member_id)
            .where(GroupSessionParticipant.session_id == session.id)
            .order_by(col(GroupSessionParticipant.created_at), col(GroupSessionParticipant.id))
        )
    )
    hands = sorted(
        (p for p, _ in rows if p.hand_raised_at and p.status == "admitted"),
        key=lambda p: p.hand_raised_at,  # type: ignore[arg-type, return-value]
    )
    names = {p.member_id: name for p, name in rows}
    return {
        "pinned_text": session.pinned_text,  # the pin box's text, for a second facilitator
        "cofacilitator": await cofacilitator_named(s, session),
        "series": session.series_id is not None,
        "lobby": [name for p, name in rows if p.status == "lobby"],
        "hands": [names[p.member_id] for p in hands],
        "participants": [
            {"pseudonym": name, "status": p.status, "muted": p.muted}
            for p, name in rows
            if p.status in ("admitted", "lobby")
        ],
    }


async def member_view(
    s: AsyncSession, session: GroupSession, member: Member | None
) -> dict[str, Any]:
    """One member's own place: their seat, whether they're in, their place in the queue."""
    if member is None:
        return {"role": "visitor"}
    if await is_facilitator(s, session, member):
        return {"role": "facilitator"}
    named = await s.get(GroupSessionCofacilitator, session.id)
    cofacilitator = named is not None and named.member_id == member.id
    seat = await participant(s, session.id, member.id)  # type: ignore[arg-type]
    mine: dict[str, Any] = {"cofacilitator": True} if cofacilitator else {}  # may take over
    if seat is None:
        return {"role": "member", "status": None, **mine}
    place = None
    if seat.hand_raised_at is not None:
        ahead = await s.exec(
            select(sa.func.count()).where(
                GroupSessionParticipant.session_id == session.id,
                GroupSessionParticipant.status == "admitted",
                col(GroupSessionParticipant.hand_raised_at) < seat.hand_raised_at,
            )
        )
        place = ahead.one() + 1
    return {
        "role": "member",
        "status": seat.status,
        "rules_agreed": seat.rules_ack_at is not None,
        "muted": seat.muted,
        "hand_place": place,
        "has_floor": session.floor_member_id == member.id,
        **mine,
    }


@dataclass(frozen=True)
class Upcoming:
    id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    community: str
    community_slug: str
    status: str
    capacity: int
    seats_taken: int
    series_id: int | None
    url: str


async def upcoming_sessions(
    db: Database, *, community_id: int | None = None, limit: int = 5, signed_in: bool = True
) -> list[Upcoming]:
    """Sessions not yet over, soonest first (for the sessions pages and 1:1 support's links).
    Signed-out visitors are not shown those of members-only communities."""
    now = utcnow()
    query = (
        select(GroupSession)
        .where(
            col(GroupSession.status).in_(LIVE),
            col(GroupSession.starts_at) > now - timedelta(minutes=MAX_MINUTES),
        )
        .order_by(col(GroupSession.starts_at))
    )
    if community_id is not None:
        query = query.where(GroupSession.community_id == community_id)
    async with db.read() as s:
        if not signed_in:
            shown = [c.id for c in await communities.all_communities(s) if not c.members_only]
            query = query.where(col(GroupSession.community_id).in_(shown))
        rows = list(await s.exec(query.limit(limit * 2)))
        places = await communities.by_ids(s, (g.community_id for g in rows))
    found = [
        Upcoming(
            id=g.id,
            title=g.title,
            starts_at=g.starts_at,
            ends_at=ends_at(g),
            community=places[g.community_id].name,
            community_slug=places[g.community_id].slug,
            status=g.status,
            capacity=g.capacity,
            seats_taken=g.seats_taken,
            series_id=g.series_id,
            url=session_url(g.id),  # type: ignore[arg-type]
        )
        for g in rows
        if ends_at(g) > now and g.community_id in places
    ]
    return found[:limit]


async def community_by_slug(db: Database, slug: str) -> tuple[int, str] | None:
    async with db.read() as s:
        community = await communities.by_slug(s, slug)
    return (community.id, community.name) if community else None  # type: ignore[return-value]


async def community_options(db: Database) -> list[tuple[str, str]]:
    async with db.read() as s:
        return [(c.slug, c.name) for c in await communities.all_communities(s)]


async def visible_to(s: AsyncSession, session: GroupSession, member: Member | None) -> bool:
    """Sessions of members-only communities are not admitted to exist for visitors."""
    if member is not None:
        return True
    community = await communities.get(s, session.community_id)
    return community is None or not community.members_only


async def community_name(s: AsyncSession, community_id: int) -> tuple[str, str]:
    community = await communities.get(s, community_id)
    if community is None:  # a session goes with its community (ON DELETE CASCADE)
        raise LookupError(f"no community {community_id}")
    return community.slug, community.name
