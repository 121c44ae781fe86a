"""Demo content for a first start: a handful of communities, each with rules and warnings."""

from __future__ import annotations

import secrets
from datetime import time, timedelta

from sqlmodel import select

from chat.groups import recurrence
from chat.groups.models import GroupSession, GroupSessionSeries
from chat.models import Room
from chat.rooms import ensure_room
from communities.models import Community
from core.db import Database, utcnow
from moderation.render import render_markdown
from moderation.sanitise import sanitise_html

COMMON_RULES = """\
1. **Be kind.** Everyone here is carrying something. Disagree gently.
2. **Stay anonymous.** Don't share your real name, phone number, email, address or social media — \
or anyone else's.
3. **Support, don't diagnose.** Share what helped you; leave medical advice to professionals.
4. **Use content warnings** when you write about self-harm, suicide, abuse or substance use.
5. **If you're in danger right now**, call your local emergency number. Crisis lines are listed on \
every post that needs them.
"""

DEMO_COMMUNITIES = [
    (
        "recovery",
        "Recovery",
        "Alcohol, drugs, gambling and other addictions: one day at a time, together.",
        "substance use\nrelapse\nself-harm",
    ),
    (
        "grief",
        "Grief & Loss",
        "For anyone who has lost someone: a partner, a parent, a friend, a child, a pet.",
        "loss of a child\nsuicide\nbaby loss",
    ),
    (
        "chronic-illness",
        "Living with Chronic Illness",
        "Pain, fatigue, diagnoses and the daily work of living with a long-term condition.",
        "medical detail\nself-harm",
    ),
    (
        "carers",
        "Carers",
        "Looking after someone you love: the practical, the exhausting and the tender.",
        "end of life\nabuse",
    ),
    (
        "veterans",
        "Veterans & Families",
        "Service life, leaving it, and the families who live it alongside.",
        "combat trauma\nsuicide\nsubstance use",
    ),
    (
        "anxiety-low-mood",
        "Anxiety & Low Mood",
        "Panic, worry, depression and the small steps that help.",
        "self-harm\nsuicide\neating disorders",
    ),
]


async def seed_demo(db: Database, *, only_if_empty: bool = False) -> list[str]:
    """Add the demo communities that are missing; returns the names added."""
    async with db.transaction() as s:
        existing = set(await s.exec(select(Community.slug)))
        if only_if_empty and existing:
            return []
        added = []
        rules_html = sanitise_html(render_markdown(COMMON_RULES))
        for slug, name, description, warnings in DEMO_COMMUNITIES:
            if slug in existing:
                continue
            s.add(
                Community(
                    slug=slug,
                    name=name,
                    description=description,
                    rules=COMMON_RULES,
                    rules_html=rules_html,
                    content_warnings=warnings,
                )
            )
            added.append(name)
    async with db.read() as s:
        communities = list(await s.exec(select(Community)))
    for community in communities:
        await ensure_room(
            db,
            slug=community.slug,
            name=community.name,
            description=community.description,
            community_id=community.id,
            members_only=community.members_only,
        )
    await seed_sessions(db, {c.slug: c.id for c in communities})  # type: ignore[misc]
    return added


DEMO_SESSION = "Evening check-in"
DEMO_SERIES = "Weekly anxiety circle"
DEMO_RULES = """\
1. What's said here stays here: messages are deleted when the session ends.
2. Speak from your own experience; offer advice only when someone asks for it.
3. Use no names — yours or anyone else's.
4. When turn-taking is on, raise your hand and wait for the floor.
5. If you're in danger right now, call your local emergency number.
"""


async def seed_sessions(db: Database, communities: dict[str, int]) -> None:
    """One session a couple of hours from now and a weekly series (19:00 London time),
    added once: seeding again finds them by title and adds nothing."""
    async with db.transaction() as s:
        titles = set(await s.exec(select(GroupSession.title)))
        soon = (utcnow() + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
        if DEMO_SESSION not in titles and "grief" in communities:
            await _add_session(s, communities["grief"], DEMO_SESSION, soon, None, "UTC")
        if DEMO_SERIES not in titles and "anxiety-low-mood" in communities:
            first = recurrence.local(utcnow() + timedelta(days=7), "Europe/London").date()
            slot = recurrence.LocalSlot(first, time(19, 0), "Europe/London")
            series = GroupSessionSeries(
                community_id=communities["anxiety-low-mood"],
                weekday=first.weekday(),
                local_time="19:00",
                timezone="Europe/London",
                count=4,
            )
            s.add(series)
            await s.flush()
            for start in recurrence.weekly(slot, 4):
                await _add_session(
                    s, communities["anxiety-low-mood"], DEMO_SERIES, start, series.id, slot.zone
                )


async def _add_session(s, community_id, title, starts_at, series_id, zone) -> None:  # type: ignore[no-untyped-def]
    room = Room(
        slug=f"session-{secrets.token_hex(8)}",
        name=title,
        kind="session",
        community_id=community_id,
        members_only=True,
    )
    s.add(room)
    await s.flush()
    s.add(
        GroupSession(
            community_id=community_id,
            room_id=room.id,
            series_id=series_id,
            title=title,
            description="A gentle hour together, led by a peer supporter. Come as you are.",
            ground_rules=DEMO_RULES,
            starts_at=starts_at,
            duration_minutes=60,
            capacity=12,
            timezone=zone,
        )
    )
