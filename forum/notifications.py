"""Who hears about what: following a thread, notices of replies and @mentions, marking
notices read.

Notices are written in the same transaction as the post they are about, so a notice never
points at a post that failed to commit. Nobody is told about a post by an author they have
blocked as that post shows them.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import and_, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.context import AppContext
from core.db import utcnow
from forum.aliases import display_name
from forum.models import AliasBlock, AnonymousAlias, Notification, Post, Thread, ThreadFollow
from forum.queries import thread_for_member
from identity.models import Member, MemberBlock

MENTION = re.compile(r"(?<![\w@/])@([A-Za-z0-9_-]{3,32})")


def _blocks_author(blocker: Any, thread_id: int, author_id: int, anonymous: bool) -> Any:
    """Whether `blocker` (a column) has blocked the author as this post shows them: by
    pseudonym for named posts, by label in this thread for anonymous ones. A pseudonym's
    block never silences their anonymous posts: a missing notice would tell the blocker
    who wrote them."""
    if not anonymous:
        return (
            select(MemberBlock.blocker_id)
            .where(MemberBlock.blocker_id == blocker, MemberBlock.blocked_id == author_id)
            .exists()
        )
    return (
        select(AliasBlock.member_id)
        .join(
            AnonymousAlias,
            and_(  # type: ignore[arg-type]
                AnonymousAlias.thread_id == AliasBlock.thread_id,
                AnonymousAlias.label == AliasBlock.label,
            ),
        )
        .where(
            AliasBlock.member_id == blocker,
            AliasBlock.thread_id == thread_id,
            AnonymousAlias.member_id == author_id,
        )
        .exists()
    )


async def followers_of(
    s: AsyncSession, thread_id: int, author_id: int, anonymous: bool
) -> dict[int, bool]:
    """Who follows the thread, each with whether they have blocked the author: one query
    where a follow check and a blockers query used to be two more."""
    blocks = _blocks_author(ThreadFollow.member_id, thread_id, author_id, anonymous)
    rows = await s.exec(
        select(ThreadFollow.member_id, blocks.correlate(ThreadFollow)).where(
            ThreadFollow.thread_id == thread_id
        )
    )
    return dict(rows.all())  # type: ignore[arg-type]


async def notify_reply(
    s: AsyncSession,
    thread: Thread,
    post: Post,
    author: Member,
    followers: dict[int, bool] | None = None,
) -> None:
    """Tell the members a reply @mentions, then the thread's followers (someone both
    mentioned and following hears once, as a mention). `followers` when the caller has
    read them already (followers_of)."""
    notified = await notify_mentions(s, thread, post, author)
    if followers is None:
        followers = await followers_of(s, thread.id, author.id, post.anonymous)  # type: ignore[arg-type]
    to_tell = {
        member_id
        for member_id, blocked_author in followers.items()
        if member_id != author.id and not blocked_author
    }
    actor = await display_name(s, thread.id, author, post.anonymous)  # type: ignore[arg-type]
    for follower in to_tell - notified:
        s.add(
            Notification(
                member_id=follower, kind="reply", thread_id=thread.id, post_id=post.id, actor=actor
            )
        )


async def notify_mentions(s: AsyncSession, thread: Thread, post: Post, author: Member) -> set[int]:
    """Notify members @mentioned in a post (not those who blocked the author as shown)."""
    names = {m.casefold() for m in MENTION.findall(post.body)}
    if not names:
        return set()
    rows = await s.exec(
        select(Member.id).where(
            Member.pseudonym_key.in_(list(names)[:20]),  # type: ignore[attr-defined]
            Member.deleted_at.is_(None),  # type: ignore[union-attr]
            Member.id != author.id,
        )
    )
    mentioned = set(rows)
    if not mentioned:
        return set()
    blockers = await s.exec(
        select(Member.id).where(
            Member.id.in_(mentioned),  # type: ignore[union-attr]
            _blocks_author(Member.id, thread.id, author.id, post.anonymous).correlate(Member),  # type: ignore[arg-type]
        )
    )
    mentioned -= set(blockers)
    actor = await display_name(s, thread.id, author, post.anonymous)  # type: ignore[arg-type]
    for member_id in mentioned:
        s.add(
            Notification(
                member_id=member_id,
                kind="mention",
                thread_id=thread.id,
                post_id=post.id,
                actor=actor,
            )
        )
    return mentioned


async def set_follow(ctx: AppContext, member: Member, thread_id: int, follow: bool) -> None:
    async with ctx.db.transaction() as s:
        await thread_for_member(s, thread_id, member)
        existing = await s.get(ThreadFollow, (thread_id, member.id))
        if follow and existing is None:
            s.add(ThreadFollow(thread_id=thread_id, member_id=member.id))  # type: ignore[arg-type]
        elif not follow and existing is not None:
            await s.delete(existing)


async def mark_notifications_read(ctx: AppContext, member: Member) -> None:
    async with ctx.db.transaction() as s:
        await s.exec(
            update(Notification)
            .where(Notification.member_id == member.id, Notification.read_at.is_(None))  # type: ignore[union-attr]
            .values(read_at=utcnow())
        )
