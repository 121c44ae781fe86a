"""Forum reads: who may see a thread or a post, communities, thread lists, notices.

Nothing here writes. One thread's page is read in forum/thread_view.py; each page costs a
fixed number of queries, however many posts or threads it shows (tests count them)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from communities import roles
from communities.models import Community
from communities.roles import Action
from core.db import Database
from core.errors import Refusal, not_found
from core.web.params import MAX_ID, loose_int
from forum.models import (
    AliasBlock,
    AnonymousAlias,
    Notification,
    Post,
    PostRevision,
    Thread,
    ThreadVisit,
    WarningPreference,
)
from identity.models import Member, MemberBlock

PAGE_THREADS = 25


def author_label(member: Member, anonymous: bool, alias: str | None) -> str:
    if anonymous:
        return f"Anonymous member {alias or ''}".strip()
    return member.display_name


# --------------------------------------------------------------------------- lookups


async def thread_and_community(s: AsyncSession, thread_id: int) -> tuple[Thread, Community]:
    row = (
        await s.exec(
            select(Thread, Community)
            .join(Community, Community.id == Thread.community_id)  # type: ignore[arg-type]
            .where(Thread.id == thread_id)
        )
    ).first()
    if row is None:
        raise not_found("thread")
    return row[0], row[1]


async def post_and_thread(s: AsyncSession, post_id: int) -> tuple[Post, Thread]:
    row = (
        await s.exec(
            select(Post, Thread)
            .join(Thread, Thread.id == Post.thread_id)  # type: ignore[arg-type]
            .where(Post.id == post_id)
        )
    ).first()
    if row is None:
        raise not_found()
    return row[0], row[1]


async def post_thread_id(db: Database, post_id: int) -> int:
    async with db.read() as s:
        post = await s.get(Post, post_id)
    if post is None:
        raise not_found()
    return post.thread_id


# --------------------------------------------------------------------------- who may see


async def thread_for_member(
    s: AsyncSession, thread_id: int, member: Member
) -> tuple[Thread, Community]:
    """The thread and its community, for a member acting on it: one held or removed is
    there only for its author and the community's moderators, and not found for others."""
    thread, community = await thread_and_community(s, thread_id)
    hidden = thread.status != "published" and thread.author_id != member.id
    if hidden and not await roles.may(s, member, Action.MODERATE, community.id):
        raise not_found("thread")
    return thread, community


async def may_see_post(
    s: AsyncSession, member: Member, post: Post, thread: Thread, *, moderator: bool | None = None
) -> bool:
    """A post is for everyone once it and its thread are published; until then (held,
    hidden, removed, deleted, or in such a thread) only for its author and the community's
    moderators. Whoever may not see it is answered "not found", never "forbidden": a 403
    would confirm that it exists. `moderator` when the caller knows already; otherwise it
    is asked only when it matters."""
    if post.author_id == member.id:
        return True
    if post.status == "published" and thread.status == "published":
        return True
    if moderator is None:
        moderator = await roles.may(s, member, Action.MODERATE, thread.community_id)
    return moderator


@dataclass(frozen=True)
class PostInContext:
    post: Post
    thread: Thread
    community: Community
    moderator: bool


async def post_in_context(db: Database, post_id: int, viewer: Member) -> PostInContext:
    """One post with its thread and community, for pages about that post alone (edit,
    history): never the whole thread page. Not found when the viewer may not see it."""
    async with db.read() as s:
        post, thread = await post_and_thread(s, post_id)
        community = await s.get(Community, thread.community_id)
        assert community is not None
        moderator = await roles.may(s, viewer, Action.MODERATE, community.id)
        if not await may_see_post(s, viewer, post, thread, moderator=moderator):
            raise not_found()
    return PostInContext(post, thread, community, moderator)


# --------------------------------------------------------------------------- communities


async def list_communities(db: Database) -> list[Community]:
    async with db.read() as s:
        return list(await s.exec(select(Community).order_by(Community.name)))


@dataclass(frozen=True)
class CommunityCard:
    """A community as the home page lists it, with the signs of life a reader may see:
    how many published threads it has and when one last moved. `threads` and `last_active`
    are None for a members-only community shown to someone signed out (its name and
    description are public; how busy it is is not)."""

    slug: str
    name: str
    description: str
    members_only: bool
    threads: int | None
    last_active: datetime | None


async def community_cards(db: Database, viewer: Member | None) -> list[CommunityCard]:
    """Every community with its published-thread count and latest activity, in one query
    however many communities there are (grouped, never a count per community)."""
    published = and_(Thread.community_id == Community.id, Thread.status == "published")
    query = (
        select(
            Community.slug,
            Community.name,
            Community.description,
            Community.visibility,
            func.count(Thread.id),  # type: ignore[arg-type]
            func.max(Thread.last_activity_at),
        )
        .outerjoin(Thread, published)  # type: ignore[arg-type]
        .group_by(Community.id)  # type: ignore[arg-type]
        .order_by(Community.name)
    )
    async with db.read() as s:
        rows = list(await s.exec(query))
    cards = []
    for slug, name, description, visibility, threads, last_active in rows:
        members_only = visibility == "members"
        shown = viewer is not None or not members_only
        cards.append(
            CommunityCard(
                slug,
                name,
                description,
                members_only,
                threads if shown else None,
                last_active if shown else None,
            )
        )
    return cards


async def community_by_slug(db: Database, slug: str, viewer: Member | None) -> Community:
    async with db.read() as s:
        community = (await s.exec(select(Community).where(Community.slug == slug))).first()
    if community is None:
        raise not_found("community")
    if community.members_only and viewer is None:
        raise Refusal(
            "not_signed_in",
            "This community is for members only. Sign in or join to read it.",
            status=401,
        )
    return community


# --------------------------------------------------------------------------- thread lists


@dataclass(frozen=True)
class ThreadSummary:
    thread: Thread
    author: str
    has_new: bool


@dataclass(frozen=True)
class ThreadList:
    """One page of a community's threads, and whether the viewer moderates there (the page
    then shows held threads and moderators' links)."""

    threads: list[ThreadSummary]
    next_cursor: str | None
    moderator: bool


def encode_cursor(when: datetime, thread_id: int) -> str:
    raw = f"{when.isoformat()}|{thread_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, thread_id = raw.partition("|")
        moment = datetime.fromisoformat(when)
        found = loose_int(thread_id, high=MAX_ID)  # a forged cursor: no id past any column
        if moment.tzinfo is None or found is None:  # ours always carry their zone (UTC)
            return None
        return moment.astimezone(UTC), found
    except (ValueError, OverflowError):  # OverflowError: year 1 at +14:00, say
        return None


async def list_threads(
    db: Database,
    community: Community,
    viewer: Member | None,
    *,
    kind: str | None = None,
    help_type: str | None = None,
    cursor: str | None = None,
) -> ThreadList:
    """Newest activity first, keyset-paginated: a page boundary never shifts under new posts
    in threads already passed."""
    async with db.read() as s:
        moderator = await roles.may(s, viewer, Action.MODERATE, community.id)
        newest = (
            select(func.max(Post.id))
            .where(Post.thread_id == Thread.id, Post.status == "published")
            .correlate(Thread)
            .scalar_subquery()
        )
        visit = (
            select(ThreadVisit.last_post_id)
            .where(
                ThreadVisit.thread_id == Thread.id,
                ThreadVisit.member_id == (viewer.id if viewer else 0),
            )
            .correlate(Thread)
            .scalar_subquery()
        )
        query = (
            select(Thread, Member, AnonymousAlias.label, newest, visit)
            .join(Member, Member.id == Thread.author_id)  # type: ignore[arg-type]
            .outerjoin(
                AnonymousAlias,
                and_(  # type: ignore[arg-type]
                    AnonymousAlias.thread_id == Thread.id,
                    AnonymousAlias.member_id == Thread.author_id,
                ),
            )
            .where(Thread.community_id == community.id)
        )
        if not moderator:
            visible = Thread.status == "published"
            if viewer is not None:
                visible = or_(visible, and_(Thread.status == "held", Thread.author_id == viewer.id))
            query = query.where(visible)
        if kind:
            query = query.where(Thread.kind == kind)
        if help_type:
            query = query.where(Thread.help_type == help_type)
        if viewer is not None:
            hidden_warnings = select(WarningPreference.warning).where(
                WarningPreference.member_id == viewer.id, WarningPreference.mode == "hide"
            )
            query = query.where(
                or_(
                    Thread.content_warning.is_(None), Thread.content_warning.not_in(hidden_warnings)
                )  # type: ignore[union-attr]
            )
            query = query.where(_not_blocked(viewer.id))  # type: ignore[arg-type]
        position = decode_cursor(cursor) if cursor else None
        if position:
            when, thread_id = position
            query = query.where(
                or_(
                    Thread.last_activity_at < when,
                    and_(Thread.last_activity_at == when, Thread.id < thread_id),
                )
            )
        query = query.order_by(Thread.last_activity_at.desc(), Thread.id.desc()).limit(  # type: ignore[attr-defined]
            PAGE_THREADS + 1
        )
        rows = list(await s.exec(query))
    summaries = [
        ThreadSummary(
            thread,
            author_label(member, thread.anonymous, label),
            # New replies since the viewer's last visit; a thread they never opened is new
            # to them as a whole, not "new replies" (it may have none).
            viewer is not None and newest_id is not None and seen is not None and seen < newest_id,
        )
        for thread, member, label, newest_id, seen in rows[:PAGE_THREADS]
    ]
    next_cursor = None
    if len(rows) > PAGE_THREADS:
        last = summaries[-1].thread
        next_cursor = encode_cursor(last.last_activity_at, last.id)  # type: ignore[arg-type]
    return ThreadList(summaries, next_cursor, moderator)


def _not_blocked(viewer_id: int) -> Any:
    """Threads whose opening the viewer hasn't blocked. A pseudonym's block reaches only
    what they wrote under it: hiding their anonymous threads too would show the blocker
    which anonymous member they are. Anonymous openings are blocked by their label."""
    blocked = select(MemberBlock.blocked_id).where(MemberBlock.blocker_id == viewer_id)
    alias_blocked = (
        select(AliasBlock.label)
        .where(
            AliasBlock.member_id == viewer_id,
            AliasBlock.thread_id == Thread.id,
            AliasBlock.label == AnonymousAlias.label,
        )
        .correlate(Thread, AnonymousAlias)
        .exists()
    )
    return or_(
        and_(Thread.anonymous.is_(False), Thread.author_id.not_in(blocked)),  # type: ignore[attr-defined]
        and_(Thread.anonymous.is_(True), ~alias_blocked),  # type: ignore[attr-defined]
    )


# --------------------------------------------------------------------------- notifications


@dataclass(frozen=True)
class NotificationView:
    notification: Notification
    thread_title: str
    number: int  # counted among the member's own notices: what the API shows as its id


async def notifications(db: Database, member: Member, limit: int = 50) -> list[NotificationView]:
    # Numbered within the member's own notices. The table's ids count everyone's, so their
    # gaps told a member how many notices others were sent: whether the author of an
    # anonymous reply was already following the thread, or was the member it mentioned.
    number = func.row_number().over(order_by=Notification.id).label("number")
    mine = select(Notification.id, number).where(Notification.member_id == member.id).subquery()
    async with db.read() as s:
        rows = await s.exec(
            select(Notification, Thread.title, mine.c.number)
            .join(mine, mine.c.id == Notification.id)  # type: ignore[arg-type]
            .join(Thread, Thread.id == Notification.thread_id)  # type: ignore[arg-type]
            .order_by(Notification.id.desc())  # type: ignore[union-attr]
            .limit(limit)
        )
        return [NotificationView(n, title, number) for n, title, number in rows]


async def warning_preferences(db: Database, member: Member) -> dict[str, str]:
    async with db.read() as s:
        rows = await s.exec(
            select(WarningPreference).where(WarningPreference.member_id == member.id)
        )
        return {p.warning: p.mode for p in rows}


async def edit_history(db: Database, post_id: int) -> list[PostRevision]:
    async with db.read() as s:
        rows = await s.exec(
            select(PostRevision)
            .where(PostRevision.post_id == post_id)
            .order_by(PostRevision.id.desc())  # type: ignore[union-attr]
        )
        return list(rows)
