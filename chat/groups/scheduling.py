"""Scheduling group sessions: who may, when (a single session or a weekly series), and the
checks that refuse a time in the past or one that overlaps a facilitator's other sessions.
Each session gets its own chat room (kind "session", members only) in the same transaction."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.groups import clock, recurrence
from chat.groups.controls import audit
from chat.groups.models import GroupSession, GroupSessionFacilitator, GroupSessionSeries
from chat.groups.service import (
    LIVE,
    MAX_MINUTES,
    MAX_SEATS,
    MAX_TEXT,
    MAX_TITLE,
    MIN_MINUTES,
    MIN_SEATS,
    ends_at,
)
from chat.models import Room
from communities import roles
from communities import service as communities
from communities.roles import Action
from core.context import AppContext
from core.db import Database, utcnow
from core.errors import Refusal
from core.i18n import gettext as _
from identity.models import Member
from moderation import api as moderation


@dataclass
class Schedule:
    """What the scheduling form (or the JSON API) asks for, as the member typed it."""

    community: str  # the community's slug
    title: str
    date: str  # YYYY-MM-DD, local to `timezone`
    time: str  # HH:MM, local to `timezone`
    timezone: str
    duration_minutes: int
    capacity: int
    description: str = ""
    ground_rules: str = ""
    facilitators: list[str] = field(default_factory=list)  # pseudonyms besides the scheduler
    weeks: int = 1  # 1: once; more: weekly, this many times


async def _refuse_unless_may_schedule(s: AsyncSession, member: Member, community_id: int) -> None:
    if not await roles.may(s, member, Action.SCHEDULE_SESSION, community_id):
        raise Refusal(
            "forbidden",
            _("Only peer supporters and this community's moderators can schedule sessions."),
            status=403,
        )


async def schedule(ctx: AppContext, member: Member, form: Schedule) -> list[GroupSession]:
    """Create the session (or each weekly occurrence), each with its own room; returns them.
    The title, description and ground rules are a member's words like any other: vetted
    (moderation.api.SESSION_DETAILS) before anything is stored."""
    db = ctx.db
    title, description = form.title.strip(), form.description.strip()
    rules = form.ground_rules.strip()
    if not title or len(title) > MAX_TITLE:
        raise Refusal(
            "invalid",
            _("Give the session a title of at most %(max)d characters.") % {"max": MAX_TITLE},
        )
    if len(description) > MAX_TEXT or len(rules) > MAX_TEXT:
        raise Refusal(
            "invalid", _("Keep the description and the ground rules to 4,000 characters.")
        )
    if not rules:
        raise Refusal(
            "invalid", _("Write the session's ground rules: members agree to them to join.")
        )
    if not MIN_MINUTES <= form.duration_minutes <= MAX_MINUTES:
        raise Refusal(
            "invalid",
            _("A session lasts from %(min)d to %(max)d minutes.")
            % {"min": MIN_MINUTES, "max": MAX_MINUTES},
        )
    if not MIN_SEATS <= form.capacity <= MAX_SEATS:
        raise Refusal(
            "invalid",
            _("A session has from %(min)d to %(max)d seats.")
            % {"min": MIN_SEATS, "max": MAX_SEATS},
        )
    try:
        slot = recurrence.parse_slot(form.date, form.time, clock.find_zone(form.timezone))
        starts = recurrence.weekly(slot, form.weeks)
    except recurrence.TimeError as exc:
        raise Refusal("invalid_time", str(exc)) from None
    if starts[0] <= utcnow():
        raise Refusal(
            "session_in_past",
            _(
                "That start time has already passed. Choose a time in the future (times are "
                "in %(zone)s)."
            )
            % {"zone": slot.zone},
        )
    async with db.read() as s:
        community = await communities.by_slug(s, form.community.strip())
        if community is None:
            raise Refusal("invalid", _("Choose the community the session is for."))
        community_id: int = community.id  # type: ignore[assignment]
        await _refuse_unless_may_schedule(s, member, community_id)
    words = {"title": title, "description": description, "ground_rules": rules}
    place = moderation.Place(moderation.SESSION_DETAILS, community_id)
    verdict = await moderation.vet(ctx, member, place, {k: v for k, v in words.items() if v})
    if verdict.refused:
        raise verdict.refusal(draft=description or rules)
    title = verdict["title"].text
    description = verdict["description"].text if description else ""
    rules = verdict["ground_rules"].text
    async with db.transaction() as s:
        await _refuse_unless_may_schedule(s, member, community_id)
        facilitators = [member, *await _facilitators(s, form.facilitators, community_id)]
        for start in starts:
            await _refuse_overlap(s, facilitators, start, form.duration_minutes)
        series_id = None
        if len(starts) > 1:
            series = GroupSessionSeries(
                community_id=community_id,
                weekday=slot.on.weekday(),
                local_time=slot.at.strftime("%H:%M"),
                timezone=slot.zone,
                count=len(starts),
                created_by=member.id,
            )
            s.add(series)
            await s.flush()
            series_id = series.id
        created = []
        for start in starts:
            room = Room(
                slug=f"session-{secrets.token_hex(8)}",
                name=title[:80],
                kind="session",
                community_id=community_id,
                members_only=True,
            )
            s.add(room)
            await s.flush()
            session = GroupSession(
                community_id=community_id,
                room_id=room.id,  # type: ignore[arg-type]
                series_id=series_id,
                title=title,
                description=description,
                ground_rules=rules,
                starts_at=start,
                duration_minutes=form.duration_minutes,
                capacity=form.capacity,
                timezone=slot.zone,
                created_by=member.id,
            )
            s.add(session)
            await s.flush()
            for person in {f.id: f for f in facilitators}.values():
                s.add(GroupSessionFacilitator(session_id=session.id, member_id=person.id))  # type: ignore[arg-type]
            created.append(session)
        weekly = f"weekly, {len(created)} sessions" if len(created) > 1 else ""
        await audit(s, member, "session_schedule", created[0], weekly)
    return created


async def _facilitators(s: AsyncSession, names: list[str], community_id: int) -> list[Member]:
    found = []
    for name in (n.strip() for n in names):
        if not name:
            continue
        person = (
            await s.exec(select(Member).where(col(Member.pseudonym_key) == name.casefold()))
        ).first()
        if person is None or person.deleted_at is not None:
            raise Refusal(
                "invalid",
                _("There's no member called %(name)s to facilitate.") % {"name": repr(name)},
            )
        # Whoever may schedule a session here may be named to run it.
        if not await roles.may(s, person, Action.SCHEDULE_SESSION, community_id):
            raise Refusal(
                "invalid",
                _(
                    "%(name)s can't facilitate: facilitators are peer supporters or this "
                    "community's moderators."
                )
                % {"name": person.pseudonym},
            )
        found.append(person)
    return found


async def _refuse_overlap(
    s: AsyncSession, facilitators: list[Member], start: datetime, minutes: int
) -> None:
    end = start + timedelta(minutes=minutes)
    rows = await s.exec(
        select(GroupSession, Member.pseudonym)
        .join(GroupSessionFacilitator, col(GroupSessionFacilitator.session_id) == GroupSession.id)
        .join(Member, col(Member.id) == GroupSessionFacilitator.member_id)
        .where(
            col(GroupSessionFacilitator.member_id).in_([f.id for f in facilitators]),
            col(GroupSession.status).in_(LIVE),
            col(GroupSession.starts_at) < end,
            col(GroupSession.starts_at) > start - timedelta(minutes=MAX_MINUTES),
        )
    )
    for other, name in rows:
        if ends_at(other) > start:
            raise Refusal(
                "session_overlap",
                _(
                    "%(name)s is already facilitating “%(title)s” at %(when)s, which overlaps "
                    "this time. Choose another time."
                )
                % {
                    "name": name,
                    "title": other.title,
                    "when": clock.on_clock(other.starts_at, None),
                },
                status=409,
            )


async def schedulable(db: Database, member: Member | None) -> list[tuple[str, str]]:
    """The communities this member may schedule sessions in, as (slug, name) by name: the
    form offers these, and the list shows "Schedule a session" when there is one."""
    async with db.read() as s:
        where = await roles.communities_where(s, member, Action.SCHEDULE_SESSION)
        if where == set():
            return []
        found = await communities.all_communities(s)
    return [(c.slug, c.name) for c in found if where is None or c.id in where]
