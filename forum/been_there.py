""" "Been there" matching: a request for help that asks for someone who has been through the
same thing tells a few members who have, and said they are open to being asked.

Who is told, and when:
- only once the request is published (a held request waits for its moderator: approving it
  tells them then), and only once per request;
- at most MAX_TOLD members, preferring those asked least recently (never asked first), and
  nobody asked in the last ROTATION_DAYS;
- never the asker, anyone who blocked them or whom they blocked, anyone under a sanction in
  the community (a mute, suspension or ban), anyone in their quiet hours (skipped for this
  request, not asked later: someone awake is asked instead), or anyone not opted in.
The notice links to the thread and says nothing about the asker beyond what the thread
shows. What is kept: the request's label and how many were told (for the asker), each told
member's notice (their own), and when each member was last asked (for rotation).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from communities import experiences
from communities import service as communities
from communities.models import Community, ExperienceLabel
from core.clock import zone_named
from core.db import Database, utcnow
from core.errors import Refusal
from core.i18n import gettext as _
from forum.models import BeenThereAsk, BeenThereChoice, Notification, Post, Thread
from identity.blocks import blocked_either_way
from identity.models import Member
from moderation import api as moderation

MAX_TOLD = 3
ROTATION_DAYS = 7


# --------------------------------------------------------------------------- asking


async def check_ask(
    s: AsyncSession, community: Community, kind: str, label_id: int | None
) -> ExperienceLabel | None:
    """The label a new thread asks about, if any; refused (on the form's field) when it is
    not a request for help or not on this community's list."""
    if label_id is None:
        return None
    if kind != "request":
        raise Refusal(
            "invalid",
            _(
                "Only a request for help can ask for someone who's been through it. Choose "
                "“Asking for help”, or “No one in particular”."
            ),
            field="been_there",
        )
    label = await experiences.label_in(s, community.id, label_id)  # type: ignore[arg-type]
    if label is None:
        raise Refusal(
            "invalid", _("Choose an experience from this community's list."), field="been_there"
        )
    return label


async def start_ask(s: AsyncSession, thread: Thread, label_id: int, *, published: bool) -> None:
    """Store the request's ask, in the thread's own transaction; tell members now if the
    thread is published (a held one waits for tell_matching on approval)."""
    s.add(BeenThereAsk(thread_id=thread.id, label_id=label_id))  # type: ignore[arg-type]
    await s.flush()
    if published:
        await tell_matching(s, thread)


async def tell_matching(s: AsyncSession, thread: Thread, *, now: datetime | None = None) -> int:
    """Tell up to MAX_TOLD matching members about a just-published request, once. Returns
    how many were told (0 when the thread asked for nobody or was told already)."""
    ask = await s.get(BeenThereAsk, thread.id)
    if ask is None or ask.told_at is not None:
        return 0
    now = now or utcnow()
    chosen = await _choose(s, thread, ask, now) if ask.label_id is not None else []
    opening = await _opening_post_id(s, thread.id)  # type: ignore[arg-type]
    for member_id in chosen:
        # No actor: the notice says nothing of the asker beyond the thread it links to.
        s.add(
            Notification(
                member_id=member_id, kind="been_there", thread_id=thread.id, post_id=opening
            )
        )
    if chosen:
        await s.exec(
            update(BeenThereChoice)
            .where(col(BeenThereChoice.member_id).in_(chosen))
            .values(last_asked_at=now)
        )
    ask.told, ask.told_at = len(chosen), now
    s.add(ask)
    return len(chosen)


async def _choose(s: AsyncSession, thread: Thread, ask: BeenThereAsk, now: datetime) -> list[int]:
    """Who to tell: the rules in this module's docstring, in order of least recently asked
    (ties broken at random, so the same few are not always first)."""
    matching = set(await experiences.members_with(s, ask.label_id))  # type: ignore[arg-type]
    matching.discard(thread.author_id)
    matching -= await blocked_either_way(s, thread.author_id)
    if not matching:
        return []
    rows = await s.exec(
        select(BeenThereChoice).where(
            col(BeenThereChoice.member_id).in_(matching), col(BeenThereChoice.open_to_asks)
        )
    )
    resting = now - timedelta(days=ROTATION_DAYS)
    willing = [
        c
        for c in rows
        if (c.last_asked_at is None or c.last_asked_at <= resting) and not in_quiet_hours(c, now)
    ]
    random.shuffle(willing)
    willing.sort(key=lambda c: c.last_asked_at or datetime.min.replace(tzinfo=now.tzinfo))
    chosen: list[int] = []
    for choice in willing:  # standing last: one query each, for the few that get this far
        held_back = await moderation.standing(s, choice.member_id, thread.community_id)
        if not (held_back.banned or held_back.suspended or held_back.muted):
            chosen.append(choice.member_id)
        if len(chosen) == MAX_TOLD:
            break
    return chosen


async def _opening_post_id(s: AsyncSession, thread_id: int) -> int | None:
    rows = await s.exec(
        select(Post.id).where(Post.thread_id == thread_id, col(Post.is_opening)).limit(1)
    )
    return rows.first()


def in_quiet_hours(choice: BeenThereChoice, now: datetime) -> bool:
    """Whether `now` falls in the member's quiet hours, on their clock. From 22 until 7
    wraps past midnight; no hours set (or no zone) means never quiet."""
    start, end, zone = choice.quiet_from, choice.quiet_until, zone_named(choice.zone)
    if start is None or end is None or zone is None or start == end:
        return False
    hour = now.astimezone(zone).hour
    return start <= hour < end if start < end else hour >= start or hour < end


# --------------------------------------------------------------------------- what the asker sees


@dataclass(frozen=True)
class AskShown:
    """What the asker alone sees on their thread: the experience they asked about, and
    whether and how many members were told (never who)."""

    label: str | None
    told: int
    waiting: bool  # not told yet: the thread is waiting for a moderator


async def for_asker(db: Database, thread: Thread, viewer: Member | None) -> AskShown | None:
    """The ask on this thread, for its author only (None for everyone else)."""
    if viewer is None or viewer.id != thread.author_id:
        return None
    async with db.read() as s:
        ask = await s.get(BeenThereAsk, thread.id)
        if ask is None:
            return None
        label = await experiences.label(s, ask.label_id) if ask.label_id else None
    return AskShown(label.label if label else None, ask.told, ask.told_at is None)


async def labels_for(db: Database, community_id: int) -> list[ExperienceLabel]:
    """The community's list, for the new-thread form."""
    async with db.read() as s:
        return await experiences.labels(s, community_id)


# --------------------------------------------------------------------------- the member's own


@dataclass(frozen=True)
class MyBeenThere:
    """Everything the member's "been there" page shows: theirs alone."""

    experiences: list[experiences.MyExperience]
    lists: list[tuple[Community, list[ExperienceLabel]]]  # communities with a list
    choice: BeenThereChoice


async def my_been_there(db: Database, member: Member) -> MyBeenThere:
    async with db.read() as s:
        mine = await experiences.mine(s, member)
        lists = []
        for community in await communities.all_communities(s):
            labels = await experiences.labels(s, community.id)  # type: ignore[arg-type]
            if labels:
                lists.append((community, labels))
        choice = await s.get(BeenThereChoice, member.id) or BeenThereChoice(member_id=member.id)  # type: ignore[arg-type]
    return MyBeenThere(mine, lists, choice)


async def record_experience(db: Database, member: Member, label_id: int, since: str) -> None:
    async with db.transaction() as s:
        await experiences.record(s, member, label_id, since)


async def forget_experience(db: Database, member: Member, label_id: int) -> None:
    async with db.transaction() as s:
        await experiences.forget(s, member, label_id)


def _hour(value: str, field: str) -> int | None:
    if value == "":
        return None
    if not value.isdigit() or not 0 <= int(value) <= 23:
        raise Refusal("invalid", _("Choose an hour from the list."), field=field)
    return int(value)


async def set_choice(
    db: Database,
    member: Member,
    *,
    open_to_asks: bool,
    quiet_from: str,
    quiet_until: str,
    zone: str,
) -> None:
    """Save whether the member is open to being asked and their quiet hours ("" for an
    hour: none). Quiet hours need both hours and a time zone that exists."""
    start, end = _hour(quiet_from, "quiet_from"), _hour(quiet_until, "quiet_until")
    if (start is None) != (end is None):
        raise Refusal(
            "invalid",
            _("Choose both when quiet hours start and when they end, or neither."),
            field="quiet_until" if end is None else "quiet_from",
        )
    if start is not None and start == end:
        raise Refusal(
            "invalid", _("Quiet hours need to end at a different hour."), field="quiet_until"
        )
    zone = zone.strip()
    if start is not None and zone_named(zone) is None:
        raise Refusal(
            "invalid",
            _("Write a time zone such as Europe/London or America/Chicago."),
            field="zone",
        )
    async with db.transaction() as s:
        choice = await s.get(BeenThereChoice, member.id) or BeenThereChoice(member_id=member.id)  # type: ignore[arg-type]
        choice.open_to_asks = open_to_asks
        choice.quiet_from, choice.quiet_until = start, end
        choice.zone = zone if start is not None else None
        s.add(choice)


# --------------------------------------------------------------------------- export and deletion


async def export_mine(s: AsyncSession, member_id: int) -> dict[str, Any]:
    """The member's "been there" record, in their data download."""
    member = await s.get(Member, member_id)
    mine = await experiences.mine(s, member) if member is not None else []
    choice = await s.get(BeenThereChoice, member_id)
    return {
        "experiences": [
            {"community": e.community_name, "experience": e.label, "how_long_ago": e.since_words}
            for e in mine
        ],
        "open_to_being_asked": bool(choice and choice.open_to_asks),
        "quiet_hours": (
            {"from": choice.quiet_from, "until": choice.quiet_until, "time_zone": choice.zone}
            if choice and choice.quiet_from is not None
            else None
        ),
    }


async def forget_mine(s: AsyncSession, member_id: int) -> None:
    """On every account deletion: their experiences and choices go, erased or not."""
    await experiences.forget_all(s, member_id)
    await s.exec(delete(BeenThereChoice).where(col(BeenThereChoice.member_id) == member_id))
