"""Demo content for a first start: a handful of communities, each with rules and warnings,
group sessions, and a few welcoming threads written by demo members.

The demo members are marked for readers (their pseudonyms start "Demo-", and each opening
post says it is a demo) and for `kindred remove-demo`: an account with a demo pseudonym and
no passphrase, which nobody can sign in to, is one the demo made.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path

from sqlalchemy import delete
from sqlmodel import col, select

from chat.groups import recurrence
from chat.groups.models import GroupSession, GroupSessionSeries
from chat.models import Room
from chat.rooms import ensure_room
from communities import experiences
from communities.models import Community
from core.context import AppContext
from core.db import Database, utcnow
from core.settings import Settings
from forum import search
from forum.models import Post, Resource, Thread
from forum.threads import reply, start_thread
from identity.models import Member
from identity.names import lookalike_key, pseudonym_key
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


# Each demo community's starting list of "been there" experiences (its moderators edit it).
DEMO_EXPERIENCES = {
    "recovery": ["early recovery", "a relapse", "alcohol", "gambling", "drugs"],
    "grief": ["losing a parent", "losing a partner", "losing a child", "losing a pet"],
    "chronic-illness": ["a new diagnosis", "chronic pain", "fatigue", "work and illness"],
    "carers": ["caring for a parent", "caring for a child", "dementia", "end of life care"],
    "veterans": ["leaving the forces", "a deployment at home", "finding work after service"],
    "anxiety-low-mood": ["panic attacks", "depression", "social anxiety", "starting therapy"],
}


async def seed_experiences(db: Database, communities: list[Community]) -> None:
    """The demo's list of experiences for communities the demo just added."""
    async with db.transaction() as s:
        for community in communities:
            for label in DEMO_EXPERIENCES.get(community.slug, []):
                await experiences.add_label(s, community.id, label)  # type: ignore[arg-type]


async def seed_resources(db: Database, communities: list[Community]) -> None:
    """The demo's resource directory entries (kindred/demo_resources.json: real, well-known
    organisations at their own addresses) for communities the demo just added, checked
    today."""
    entries = json.loads((Path(__file__).parent / "demo_resources.json").read_text())
    async with db.transaction() as s:
        for community in communities:
            for e in entries.get(community.slug, []):
                s.add(
                    Resource(
                        community_id=community.id,  # type: ignore[arg-type]
                        name=e["name"],
                        kind=e["kind"],
                        description=e["description"],
                        url=e["url"],
                        phone=e.get("phone"),
                        help_types="," + ",".join(e["help_types"]) + ",",
                        region=e["region"],
                        last_checked_at=utcnow(),
                    )
                )


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
    await seed_experiences(db, [c for c in communities if c.name in added])
    await seed_resources(db, [c for c in communities if c.name in added])
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


# --- demo threads ------------------------------------------------------------------------

DEMO_MEMBERS = ("Demo-Robin", "Demo-Sam", "Demo-Juniper", "Demo-Ash")
DEMO_MARK = "*A demo post, written to show how Kindred works: not from a real member.*\n\n"


class DemoError(Exception):
    """The demo can't be added as asked; the message is one line for the operator."""


@dataclass(frozen=True)
class DemoThread:
    community: str  # slug
    author: str
    title: str
    body: str
    kind: str = "discussion"
    help_type: str | None = None
    replies: tuple[tuple[str, str], ...] = ()


DEMO_THREADS = (
    DemoThread(
        "recovery",
        "Demo-Robin",
        "Ninety days today: what got you through the first month?",
        "Ninety days alcohol-free as of this morning. The first month was the hardest: the "
        "evenings felt very long. What helped me most was having something to do with my "
        "hands at six o'clock, so I started cooking proper meals.\n\n"
        "What got you through your early days?",
        replies=(
            (
                "Demo-Sam",
                "Congratulations, that's a real milestone. For me it was walking: a loop of "
                "the park after work, every single day, rain or not.",
            ),
            (
                "Demo-Juniper",
                "Well done! I kept a savings jar for the money I used to spend on drink. It "
                "bought me a new bike by spring.",
            ),
        ),
    ),
    DemoThread(
        "recovery",
        "Demo-Ash",
        "Nervous about my first family party sober",
        "My cousin's birthday is next Saturday and it'll be my first big family do since I "
        "stopped drinking. Everyone will have a glass in their hand. How do you handle the "
        "questions, and the moment someone offers you a drink?",
        kind="request",
        help_type="practical",
        replies=(
            (
                "Demo-Robin",
                "Bring your own drink that you actually like, and keep it in your hand. "
                "Most people stop offering when they can see you've got one.",
            ),
            (
                "Demo-Sam",
                'Have a short answer ready, like "I\'m driving" or "Not tonight, thanks". '
                "And plan when you'll leave: going early is allowed.",
            ),
        ),
    ),
    DemoThread(
        "recovery",
        "Demo-Sam",
        "Here in the evenings if you'd like someone to say hello to",
        "I'm a couple of years into recovery and evenings are easier for me now. If early "
        "evenings are hard for you, say hello on this thread around teatime and I'll reply. "
        "Sometimes it helps just to know someone else is around.",
        kind="offer",
        help_type="emotional",
        replies=(("Demo-Ash", "That's kind of you. Saying hello tonight: day four for me."),),
    ),
    DemoThread(
        "grief",
        "Demo-Juniper",
        "Small things that bring them back to you",
        "My mum always hummed while she made tea. A year on, I caught myself doing it this "
        "morning and had to sit down for a minute, in a good way, mostly.\n\n"
        "What little things bring your person back to you?",
        replies=(
            (
                "Demo-Robin",
                "My grandad's handwriting on an old birthday card. I keep it in the kitchen "
                "drawer and read it when I miss him.",
            ),
            (
                "Demo-Ash",
                "The smell of cut grass. Dad was always out in the garden. It used to knock "
                "me sideways; now it mostly makes me smile.",
            ),
        ),
    ),
    DemoThread(
        "grief",
        "Demo-Sam",
        "How did you face clearing out their things?",
        "We need to start on Dad's flat soon and I keep putting it off. Did anyone find a way "
        "to make it more bearable? All at once, or bit by bit?",
        kind="request",
        help_type="emotional",
        replies=(
            (
                "Demo-Juniper",
                "Bit by bit, with a friend there. We made three piles: keep, give away, and "
                "decide later. The last pile saved me: there's no rush on that one.",
            ),
        ),
    ),
    DemoThread(
        "chronic-illness",
        "Demo-Ash",
        "Pacing: how do you plan your week?",
        "I was told to pace myself two years ago and I'm only now getting good at it. Each "
        "day gets a mix of heavy, medium and light jobs, and I rest before I'm worn out. How "
        "do you plan yours?",
        replies=(
            (
                "Demo-Robin",
                "I count my energy in spoons each morning and always keep one spare for "
                "surprises. The spare one gets used more often than not!",
            ),
            (
                "Demo-Juniper",
                "A quiet day after every busy one, written in my diary like an appointment, "
                "so nothing else gets booked in.",
            ),
        ),
    ),
    DemoThread(
        "chronic-illness",
        "Demo-Robin",
        "Tips for a first appointment with a new specialist?",
        "I've waited eight months for this appointment and I'm worried I'll freeze and forget "
        "everything I meant to say. What do you bring, or do beforehand?",
        kind="request",
        help_type="informational",
        replies=(
            (
                "Demo-Sam",
                "Write one page: your symptoms, what you've tried, and what you'd like from "
                "the appointment. Hand them a copy. Mine actually read it!",
            ),
            (
                "Demo-Juniper",
                "Take someone with you to write notes, or ask if you can record it. It took "
                "the pressure off remembering.",
            ),
        ),
    ),
    DemoThread(
        "carers",
        "Demo-Sam",
        "Feeling guilty for wanting a day off",
        "I look after my mum, who has dementia. My sister offered to take over for a Saturday "
        "and I nearly said no, because I feel guilty for even wanting a break. Does that "
        "feeling ever ease?",
        kind="request",
        help_type="emotional",
        replies=(
            (
                "Demo-Ash",
                "It got easier when I saw that Mum was more settled on days I'd had a proper "
                "rest. Taking care of yourself is part of caring for her.",
            ),
            (
                "Demo-Robin",
                "Say yes to your sister! And spend some of it on something just for you, "
                "even if that's a long nap.",
            ),
        ),
    ),
    DemoThread(
        "carers",
        "Demo-Juniper",
        "Happy to share what I learned about getting support as a carer",
        "It took me a while, but I finally got my own needs as a carer looked at, not just "
        "my dad's. If you're wondering how to ask, or what to say, post your questions here "
        "and I'll share what worked for me.",
        kind="offer",
        help_type="informational",
        replies=(
            (
                "Demo-Sam",
                "Thank you, I didn't know carers could ask for that too. What did you say "
                "when you first asked?",
            ),
            (
                "Demo-Juniper",
                "I said plainly how many hours a week I care, and which jobs I need help "
                "with. Writing a list beforehand helped me not play it down.",
            ),
        ),
    ),
    DemoThread(
        "veterans",
        "Demo-Robin",
        "What do you miss about service life?",
        "Twelve years in, and out eighteen months now. I don't miss the early starts, but I "
        "miss the banter and always knowing where I stood. What do you miss, and what has "
        "filled the gap?",
        replies=(
            (
                "Demo-Ash",
                "The sense of a team. I joined a walking group of ex-forces folk and it's the "
                "closest thing I've found.",
            ),
            (
                "Demo-Sam",
                "Speaking as a partner: we both miss the community we had. Meeting other "
                "families who'd moved on too helped us a lot.",
            ),
        ),
    ),
    DemoThread(
        "veterans",
        "Demo-Ash",
        "Writing a CV for civilian jobs",
        "Every draft I write reads like a service report. How did you turn what you did into "
        "words a civilian employer understands?",
        kind="request",
        help_type="practical",
        replies=(
            (
                "Demo-Robin",
                'Swap the ranks and abbreviations for what you did: "led a team of eight", '
                '"kept the stores running". Then ask a civilian friend to circle anything '
                "they don't follow.",
            ),
        ),
    ),
    DemoThread(
        "anxiety-low-mood",
        "Demo-Juniper",
        "Tiny wins this week",
        "Let's collect small wins from this week, however small they seem. Mine: I sent a "
        "message I'd been dreading for a fortnight, and it took four minutes.",
        replies=(
            (
                "Demo-Sam",
                "I went to the shop at a busy time instead of waiting until it was quiet.",
            ),
            (
                "Demo-Robin",
                "I got outside for ten minutes every day. Small, but it's a streak!",
            ),
        ),
    ),
    DemoThread(
        "anxiety-low-mood",
        "Demo-Sam",
        "What helps when your mind won't settle at night?",
        "Lately my thoughts race as soon as I lie down: work, money, things I said years ago. "
        "What helps you wind down?",
        kind="request",
        help_type="emotional",
        replies=(
            (
                "Demo-Ash",
                "Writing the worries down before bed, so my brain knows they're kept "
                "somewhere until morning.",
            ),
            (
                "Demo-Juniper",
                "Naming five things I can see, four I can hear, three I can feel. I rarely "
                "get past three before I'm calmer.",
            ),
        ),
    ),
)


@dataclass(frozen=True)
class Seeded:
    threads: int = 0
    replies: int = 0


@dataclass(frozen=True)
class Removed:
    threads: int = 0
    posts: int = 0
    members: int = 0
    kept: int = 0  # demo threads members have replied to: their words are never deleted


def seeding_settings(settings: Settings) -> Settings:
    """The settings demo threads are vetted under. The operator is adding them: the hold on
    a new member's first posts and the rate limits are for strangers, not for the site's
    own sample. Every filter still runs, as on a member's post. Nothing is counted or
    fanned out, so Redis isn't needed."""
    return dataclasses.replace(
        settings, new_member_posts=0, link_posts=0, rate_limits="off", redis_url=""
    )


async def seed_threads(ctx: AppContext) -> Seeded:
    """The demo threads, each through the same path as a member's post (forum.threads, so
    moderation.vet), in each demo community that has none of them yet: seeding again adds
    nothing, and a community gets them back only after `remove_demo`."""
    authors = await _demo_members(ctx.db)
    ids = [member.id for member in authors.values()]
    async with ctx.db.read() as s:
        communities = {c.slug: c for c in await s.exec(select(Community))}
        done = set(await s.exec(select(Thread.community_id).where(col(Thread.author_id).in_(ids))))
    threads = replies = 0
    for demo in DEMO_THREADS:
        community = communities.get(demo.community)
        if community is None or community.id in done:
            continue
        opening = await start_thread(
            ctx,
            authors[demo.author],
            community,
            title=demo.title,
            body=DEMO_MARK + demo.body,
            kind=demo.kind,
            help_type=demo.help_type,
        )
        for author, text in demo.replies:
            await reply(ctx, authors[author], opening.thread.id, body=text)  # type: ignore[arg-type]
        threads, replies = threads + 1, replies + len(demo.replies)
    return Seeded(threads, replies)


def _is_demo(member: Member) -> bool:
    return member.pseudonym in DEMO_MEMBERS and member.passphrase_hash is None


async def _demo_members(db: Database) -> dict[str, Member]:
    """The demo members, made now if missing: no passphrase, so nobody can sign in as one."""
    keys = [lookalike_key(name) for name in DEMO_MEMBERS]
    async with db.transaction() as s:
        found = list(await s.exec(select(Member).where(col(Member.pseudonym_skeleton).in_(keys))))
        for member in found:
            if not _is_demo(member):
                raise DemoError(
                    f"a member goes by {member.pseudonym}, a name the demo uses, so the demo "
                    "threads were not added"
                )
        mine = {member.pseudonym: member for member in found}
        for name in DEMO_MEMBERS:
            if name not in mine:
                mine[name] = Member(
                    pseudonym=name,
                    pseudonym_key=pseudonym_key(name),
                    pseudonym_skeleton=lookalike_key(name),
                    passphrase_hash=None,
                )
                s.add(mine[name])
        await s.flush()
    return mine


async def remove_demo(db: Database) -> Removed:
    """Delete the demo members, their threads and replies, and nothing else. A demo thread a
    member has replied to stays, with its demo author, so that no member's words are lost."""
    keys = [pseudonym_key(name) for name in DEMO_MEMBERS]
    async with db.transaction() as s:
        members = list(
            await s.exec(
                select(Member.id).where(
                    col(Member.pseudonym_key).in_(keys), col(Member.passphrase_hash).is_(None)
                )
            )
        )
        if not members:
            return Removed()
        threads = list(await s.exec(select(Thread.id).where(col(Thread.author_id).in_(members))))
        shared = set(
            await s.exec(
                select(Post.thread_id).where(
                    col(Post.thread_id).in_(threads), col(Post.author_id).not_in(members)
                )
            )
        )
        gone = [thread for thread in threads if thread not in shared]
        posts = list(await s.exec(select(Post.id).where(col(Post.thread_id).in_(gone))))
        for post in posts:
            await search.unindex_post(s, post)  # type: ignore[arg-type]
        # The posts, follows, visits, reactions and notices go with their thread (ON DELETE
        # CASCADE), and a member's follows and notices with the member.
        await s.exec(delete(Thread).where(col(Thread.id).in_(gone)))
        still = set(
            await s.exec(select(Post.author_id).where(col(Post.author_id).in_(members)))
        ) | set(await s.exec(select(Thread.author_id).where(col(Thread.author_id).in_(members))))
        leaving = [member for member in members if member not in still]
        await s.exec(delete(Member).where(col(Member.id).in_(leaving)))
    return Removed(len(gone), len(posts), len(leaving), len(shared))
