"""Forum reads: what a member sees. Each page costs a fixed number of queries, however
many posts it shows (tests count them)."""

from __future__ import annotations

import base64
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import Database
from forum.errors import ForumError, not_found
from forum.models import (
    AnonymousAlias,
    Community,
    Notification,
    Post,
    Reaction,
    Thread,
    ThreadFollow,
    ThreadVisit,
    WarningPreference,
)
from identity.models import Member, MemberBlock
from moderation import api as moderation

PAGE_POSTS = 50
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


@dataclass(frozen=True)
class PostInContext:
    post: Post
    thread: Thread
    community: Community
    moderator: bool


async def post_in_context(db: Database, post_id: int, viewer: Member) -> PostInContext:
    """One post with its thread and community, for pages about that post alone (edit,
    history): never the whole thread page."""
    async with db.read() as s:
        post, thread = await post_and_thread(s, post_id)
        community = await s.get(Community, thread.community_id)
        assert community is not None
        moderator = await moderation.is_moderator(s, viewer, community.id)  # type: ignore[arg-type]
    return PostInContext(post, thread, community, moderator)


# --------------------------------------------------------------------------- communities


async def list_communities(db: Database) -> list[Community]:
    async with db.read() as s:
        return list(await s.exec(select(Community).order_by(Community.name)))


async def community_by_slug(db: Database, slug: str, viewer: Member | None) -> Community:
    async with db.read() as s:
        community = (await s.exec(select(Community).where(Community.slug == slug))).first()
    if community is None:
        raise not_found("community")
    if community.members_only and viewer is None:
        raise ForumError(
            "members_only",
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


def encode_cursor(when: datetime, thread_id: int) -> str:
    raw = f"{when.isoformat()}|{thread_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, thread_id = raw.partition("|")
        return datetime.fromisoformat(when), int(thread_id)
    except ValueError:
        return None


async def list_threads(
    db: Database,
    community: Community,
    viewer: Member | None,
    *,
    kind: str | None = None,
    help_type: str | None = None,
    cursor: str | None = None,
) -> tuple[list[ThreadSummary], str | None]:
    """Newest activity first, keyset-paginated: a page boundary never shifts under new posts
    in threads already passed."""
    async with db.read() as s:
        moderator = await moderation.is_moderator(s, viewer, community.id)  # type: ignore[arg-type]
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
            blocked = select(MemberBlock.blocked_id).where(MemberBlock.blocker_id == viewer.id)
            query = query.where(Thread.author_id.not_in(blocked))  # type: ignore[attr-defined]
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
            viewer is not None and newest_id is not None and (seen or 0) < newest_id,
        )
        for thread, member, label, newest_id, seen in rows[:PAGE_THREADS]
    ]
    next_cursor = None
    if len(rows) > PAGE_THREADS:
        last = summaries[-1].thread
        next_cursor = encode_cursor(last.last_activity_at, last.id)  # type: ignore[arg-type]
    return summaries, next_cursor


# --------------------------------------------------------------------------- one thread


@dataclass
class PostView:
    post: Post
    author: str
    author_pseudonym: str | None  # shown to moderators when the post is anonymous
    mine: bool
    is_new: bool
    reactions: dict[str, int] = field(default_factory=dict)
    my_reactions: set[str] = field(default_factory=set)
    peer_supporter: bool = False  # badge: a trained peer supporter (never on anonymous posts)


@dataclass
class ThreadView:
    thread: Thread
    community: Community
    author: str
    posts: list[PostView]
    next_after: int | None
    following: bool
    moderator: bool
    viewer_is_author: bool
    warning_mode: str  # collapse | show (hide only affects lists)
    hidden_by_block: int


async def thread_view(
    db: Database, thread_id: int, viewer: Member | None, *, after: int = 0
) -> ThreadView:
    async with db.read() as s:
        thread, community = await thread_and_community(s, thread_id)
        if community.members_only and viewer is None:
            raise ForumError(
                "members_only",
                "This thread is in a members-only community. Sign in to read it.",
                status=401,
            )
        moderator = await moderation.is_moderator(s, viewer, community.id)  # type: ignore[arg-type]
        viewer_id = viewer.id if viewer else None
        if thread.status != "published" and not moderator and thread.author_id != viewer_id:
            raise not_found("thread")
        posts = await _posts(s, thread, viewer_id, after)
        page, next_after = posts[:PAGE_POSTS], None
        if len(posts) > PAGE_POSTS:
            next_after = page[-1][0].id
        counts, mine = await _reactions(s, [p.id for p, _m, _l in page], viewer_id)  # type: ignore[misc]
        following, seen, blocked, warning_mode = False, 0, set(), "collapse"
        if viewer_id is not None:
            following = await s.get(ThreadFollow, (thread.id, viewer_id)) is not None
            visit = await s.get(ThreadVisit, (thread.id, viewer_id))
            seen = visit.last_post_id if visit else 0
            blocked = set(
                await s.exec(
                    select(MemberBlock.blocked_id).where(MemberBlock.blocker_id == viewer_id)
                )
            )
            if thread.content_warning:
                pref = await s.get(WarningPreference, (viewer_id, thread.content_warning))
                warning_mode = pref.mode if pref and pref.mode == "show" else "collapse"
    views: list[PostView] = []
    opening_author = ""
    hidden = 0
    for post, member, label in page:
        name = author_label(member, post.anonymous, label)
        if post.is_opening:
            opening_author = name
        if post.author_id in blocked and not post.is_opening:
            hidden += 1
            continue
        if post.status == "held" and not (moderator or post.author_id == viewer_id):
            continue
        views.append(
            PostView(
                post,
                name,
                member.display_name if (post.anonymous and moderator) else None,
                post.author_id == viewer_id,
                viewer_id is not None and seen > 0 and post.id > seen,  # type: ignore[operator]
                counts.get(post.id, {}),  # type: ignore[arg-type]
                mine.get(post.id, set()),  # type: ignore[arg-type]
                member.is_peer_supporter and not post.anonymous,
            )
        )
    if not opening_author:
        opening_author = "…"
    return ThreadView(
        thread,
        community,
        opening_author,
        views,
        next_after,
        following,
        moderator,
        thread.author_id == viewer_id,
        warning_mode,
        hidden,
    )


async def _posts(
    s: AsyncSession, thread: Thread, viewer_id: int | None, after: int
) -> list[tuple[Post, Member, str | None]]:
    query = (
        select(Post, Member, AnonymousAlias.label)
        .join(Member, Member.id == Post.author_id)  # type: ignore[arg-type]
        .outerjoin(
            AnonymousAlias,
            and_(  # type: ignore[arg-type]
                AnonymousAlias.thread_id == Post.thread_id,
                AnonymousAlias.member_id == Post.author_id,
            ),
        )
        .where(Post.thread_id == thread.id, Post.id > after)
        .order_by(Post.id)  # type: ignore[arg-type]
        .limit(PAGE_POSTS + 1)
    )
    return list(await s.exec(query))  # type: ignore[arg-type]


async def _reactions(
    s: AsyncSession, post_ids: list[int], viewer_id: int | None
) -> tuple[dict[int, dict[str, int]], dict[int, set[str]]]:
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    mine: dict[int, set[str]] = defaultdict(set)
    if not post_ids:
        return counts, mine
    rows = await s.exec(
        select(
            Reaction.post_id,
            Reaction.kind,
            func.count(),
            func.sum(case((Reaction.member_id == (viewer_id or 0), 1), else_=0)),
        )
        .where(Reaction.post_id.in_(post_ids))  # type: ignore[attr-defined]
        .group_by(Reaction.post_id, Reaction.kind)
    )
    for post_id, kind, count, includes_viewer in rows:
        counts[post_id][kind] = count
        if includes_viewer:
            mine[post_id].add(kind)
    return counts, mine


async def record_visit(db: Database, viewer: Member, thread_id: int, last_post_id: int) -> None:
    """Remember the newest post the member has now seen (for "new since your last visit")."""
    async with db.transaction() as s:
        visit = await s.get(ThreadVisit, (thread_id, viewer.id))
        if visit is None:
            s.add(ThreadVisit(thread_id=thread_id, member_id=viewer.id, last_post_id=last_post_id))  # type: ignore[arg-type]
        elif visit.last_post_id < last_post_id:
            visit.last_post_id = last_post_id
            s.add(visit)


async def post_thread_id(db: Database, post_id: int) -> int:
    async with db.read() as s:
        post = await s.get(Post, post_id)
    if post is None:
        raise not_found()
    return post.thread_id


# --------------------------------------------------------------------------- notifications


@dataclass(frozen=True)
class NotificationView:
    notification: Notification
    thread_title: str


async def notifications(db: Database, member: Member, limit: int = 50) -> list[NotificationView]:
    async with db.read() as s:
        rows = await s.exec(
            select(Notification, Thread.title)
            .join(Thread, Thread.id == Notification.thread_id)  # type: ignore[arg-type]
            .where(Notification.member_id == member.id)
            .order_by(Notification.id.desc())  # type: ignore[union-attr]
            .limit(limit)
        )
        return [NotificationView(n, title) for n, title in rows]


async def unread_count(db: Database, member: Member) -> int:
    async with db.read() as s:
        count = await s.exec(
            select(func.count())
            .select_from(Notification)
            .where(Notification.member_id == member.id, Notification.read_at.is_(None))  # type: ignore[union-attr]
        )
        return int(count.one())


async def warning_preferences(db: Database, member: Member) -> dict[str, str]:
    async with db.read() as s:
        rows = await s.exec(
            select(WarningPreference).where(WarningPreference.member_id == member.id)
        )
        return {p.warning: p.mode for p in rows}


async def edit_history(db: Database, post_id: int) -> list:
    from forum.models import PostRevision

    async with db.read() as s:
        rows = await s.exec(
            select(PostRevision)
            .where(PostRevision.post_id == post_id)
            .order_by(PostRevision.id.desc())  # type: ignore[union-attr]
        )
        return list(rows)


async def audit_anonymous_reveal(db: Database, viewer: Member, view: ThreadView) -> None:
    """Moderators see who wrote anonymous posts; every time they do, the audit log says so."""
    revealed = [p.post.id for p in view.posts if p.author_pseudonym]
    if not revealed:
        return
    async with db.transaction() as s:
        for post_id in revealed:
            await moderation.record(
                s,
                viewer,
                "view_anonymous_author",
                "post",
                post_id,
                view.community.id,
                f"thread {view.thread.id}",
            )
