"""Demo content for a first start: a handful of communities, each with rules and warnings."""

from __future__ import annotations

from sqlmodel import select

from chat.service import ensure_room
from core.db import Database
from forum.models import Community
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
    return added
