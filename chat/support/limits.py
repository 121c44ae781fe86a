"""A peer supporter's limits: how many 1:1 conversations they take at once, and the weekly
hours when requests reach them, on their own clock.

Volunteer burnout is what ends peer support, so the queue honours these: a supporter at
their limit, or outside their hours, is offered no new request and cannot take one (told
why, with the way to change it), and is not counted among the supporters a waiting member
is told are free (`free_supporters`). No row means the defaults: two at once, any time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.support.models import (
    SupporterAvailability,
    SupporterLimits,
    SupporterTopic,
    SupportRequest,
)
from core.clock import zone_named
from core.context import AppContext
from core.db import utcnow
from core.errors import Refusal
from core.i18n import N_, gettext, ngettext
from identity.models import Member, MemberBlock

MIN_AT_ONCE, MAX_AT_ONCE, DEFAULT_AT_ONCE = 1, 5, 2
# Marked where defined, translated where shown (gettext here, `| t` in templates).
DAYS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
LIMITS_URL = "/support/limits"

Hours = dict[int, tuple[int, int]]  # weekday (0 = Monday) -> (from hour, to hour), to > from


@dataclass(frozen=True)
class Limits:
    max_conversations: int
    hours: Hours  # empty: any time
    timezone: str

    @property
    def any_time(self) -> bool:
        return not self.hours


DEFAULTS = Limits(DEFAULT_AT_ONCE, {}, "UTC")


def parse_hours(text: str) -> Hours:
    """The stored form ("0=18-22;5=9-12") back into days and hours; anything unreadable is
    left out rather than guessed at."""
    found: Hours = {}
    for part in (p for p in text.split(";") if p.strip()):
        day, _, span = part.partition("=")
        start, _, end = span.partition("-")
        try:
            d, a, b = int(day), int(start), int(end)
        except ValueError:
            continue
        if 0 <= d <= 6 and 0 <= a < b <= 24:
            found[d] = (a, b)
    return found


def format_hours(hours: Hours) -> str:
    return ";".join(f"{d}={a}-{b}" for d, (a, b) in sorted(hours.items()))


def within(limits: Limits, now: datetime | None = None) -> bool:
    """Is it within the supporter's hours now, on their clock? (Any time when none set.)"""
    if limits.any_time:
        return True
    zone = zone_named(limits.timezone) or UTC
    here = (now or utcnow()).astimezone(zone)
    span = limits.hours.get(here.weekday())
    return span is not None and span[0] <= here.hour < span[1]


async def limits_of(s: AsyncSession, member_id: int) -> Limits:
    row = await s.get(SupporterLimits, member_id)
    if row is None:
        return DEFAULTS
    return Limits(row.max_conversations, parse_hours(row.hours), row.timezone)


async def in_conversation(s: AsyncSession, member_id: int) -> int:
    """How many 1:1 conversations this supporter is in now."""
    query = select(sa.func.count()).where(
        col(SupportRequest.supporter_id) == member_id, col(SupportRequest.status) == "accepted"
    )
    return (await s.exec(query)).one()


@dataclass(frozen=True)
class Pause:
    """Why a supporter who is available is offered no new request now."""

    code: str  # "at_limit" | "outside_hours"
    message: str


async def pause_of(s: AsyncSession, member_id: int, now: datetime | None = None) -> Pause | None:
    """None when the supporter may take one more request now (their limits allow it)."""
    limits = await limits_of(s, member_id)
    talking = await in_conversation(s, member_id)
    if talking >= limits.max_conversations:
        return Pause(
            "at_limit",
            ngettext(
                "You're in one conversation, the most you chose to take at once. New requests "
                "will show here when one ends — or change your limits.",
                "You're in %(num)d conversations, the most you chose to take at once. New "
                "requests will show here when one ends — or change your limits.",
                talking,
            )
            % {"num": talking},
        )
    if not within(limits, now):
        return Pause(
            "outside_hours",
            gettext(
                "It's outside the hours you chose for taking requests, so none are offered to "
                "you now. Rest easy — or change your hours if you'd like to take some."
            ),
        )
    return None


def refusal_for(pause: Pause) -> Refusal:
    return Refusal(pause.code, pause.message, status=409, url=LIMITS_URL)


async def set_limits(
    ctx: AppContext, member: Member, max_conversations: int | None, hours: Hours, zone: str
) -> Limits:
    """Save the supporter's limits (only peer supporters have them: the caller checks)."""
    if max_conversations is None or not MIN_AT_ONCE <= max_conversations <= MAX_AT_ONCE:
        raise Refusal(
            "invalid",
            gettext("Choose between %(low)d and %(high)d conversations at once.")
            % {"low": MIN_AT_ONCE, "high": MAX_AT_ONCE},
            field="max_conversations",
        )
    if zone_named(zone) is None:
        raise Refusal("invalid", gettext("Choose a time zone from the list."), field="timezone")
    for day, (start, end) in hours.items():
        if not (0 <= day <= 6 and 0 <= start < end <= 24):
            raise Refusal(
                "invalid",
                gettext(
                    "On %(day)s, the hours must end after they start (for late nights, end at "
                    "midnight and start again at midnight the next day)."
                )
                % {"day": gettext(DAYS[day % 7])},
                field=f"day{day % 7}",
            )
    async with ctx.db.transaction() as s:
        row = await s.get(SupporterLimits, member.id) or SupporterLimits(member_id=member.id)  # type: ignore[arg-type]
        row.max_conversations, row.hours, row.timezone = (
            max_conversations,
            format_hours(hours),
            zone,
        )
        row.changed_at = utcnow()
        s.add(row)
    return Limits(max_conversations, hours, zone)


async def free_supporters(s: AsyncSession, asker_id: int, community_id: int) -> int:
    """How many peer supporters could take this member's request now: switched on, taking
    this topic, within their limits and hours, and neither side blocking the other. What a
    waiting member is told, so it counts only those who would really see their request."""
    available = set(
        await s.exec(
            select(SupporterAvailability.member_id)
            .join(Member, col(Member.id) == SupporterAvailability.member_id)
            .where(
                col(SupporterAvailability.available).is_(True),
                col(Member.deleted_at).is_(None),
                sa.or_(col(Member.is_peer_supporter).is_(True), col(Member.is_admin).is_(True)),
                col(SupporterAvailability.member_id) != asker_id,
            )
        )
    )
    if not available:
        return 0
    blocks = await s.exec(
        select(MemberBlock).where(
            sa.or_(MemberBlock.blocker_id == asker_id, MemberBlock.blocked_id == asker_id)
        )
    )
    available -= {b.blocked_id if b.blocker_id == asker_id else b.blocker_id for b in blocks}
    topics: dict[int, set[int]] = {}
    for member_id, topic in await s.exec(
        select(SupporterTopic.member_id, SupporterTopic.community_id).where(
            col(SupporterTopic.member_id).in_(available)
        )
    ):
        topics.setdefault(member_id, set()).add(topic)
    free = 0
    for member_id in available:
        if topics.get(member_id) and community_id not in topics[member_id]:
            continue
        if await pause_of(s, member_id) is None:
            free += 1
    return free
