"""A member's forum content when they export or delete their account."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from forum import search
from forum.models import (
    AliasBlock,
    Notification,
    Post,
    PostRevision,
    Reaction,
    Thread,
    ThreadFollow,
    ThreadVisit,
    WarningPreference,
)
from identity.models import DELETED_NAME, Member


async def export_content(s: AsyncSession, member_id: int) -> dict[str, Any]:
    rows = await s.exec(
        select(Post, Thread)
        .join(Thread, Thread.id == Post.thread_id)  # type: ignore[arg-type]
        .where(Post.author_id == member_id, Post.status != "deleted")
        .order_by(Post.id)  # type: ignore[arg-type]
    )
    found = list(rows)
    # Earlier versions of edited posts are kept (moderators can read them), so they are
    # part of what the member wrote.
    earlier: dict[int, list[dict[str, str]]] = {}
    revisions = await s.exec(
        select(PostRevision)
        .where(PostRevision.post_id.in_([post.id for post, _ in found]))  # type: ignore[attr-defined]
        .order_by(PostRevision.id)  # type: ignore[arg-type]
    )
    for revision in revisions:
        earlier.setdefault(revision.post_id, []).append(
            {"body": revision.body, "replaced_at": revision.replaced_at.isoformat()}
        )
    return {
        "posts": [
            {
                "id": post.id,
                "thread_id": thread.id,
                "thread_title": thread.title,
                "started_thread": post.is_opening,
                "anonymous": post.anonymous,
                "status": post.status,
                "body": post.body,
                "created_at": post.created_at.isoformat(),
                "edited_at": post.edited_at.isoformat() if post.edited_at else None,
                "earlier_versions": earlier.get(post.id, []),  # type: ignore[arg-type]
            }
            for post, thread in found
        ]
    }


async def erase_content(s: AsyncSession, member_id: int) -> None:
    """Erase everything the member wrote. Threads they started that others replied to stay
    (with the opening text erased), so other members' replies aren't lost with them."""
    posts = list(await s.exec(select(Post.id).where(Post.author_id == member_id)))
    for post_id in posts:
        await search.unindex_post(s, post_id)
    if posts:
        # The index keeps deleted words in its older segments until they are merged.
        await search.compact(s)
    await s.exec(
        update(Post)
        .where(Post.author_id == member_id)
        .values(status="deleted", body="", html="", hold_message=None)
    )
    # Earlier versions of their edited posts, and notices about posts that are now empty.
    await s.exec(delete(PostRevision).where(PostRevision.post_id.in_(posts)))  # type: ignore[attr-defined]
    await s.exec(delete(Notification).where(Notification.post_id.in_(posts)))  # type: ignore[union-attr]
    await s.exec(delete(Reaction).where(Reaction.member_id == member_id))
    await s.exec(update(Thread).where(Thread.author_id == member_id).values(title="[erased]"))


async def forget_member(s: AsyncSession, member_id: int) -> None:
    """On every deletion, erasing or keeping what they wrote. Notices already sent to others
    name them as "[deleted member]", as their posts now do (a notice keeps the name it was
    sent with, so it would otherwise outlive the account). What they followed, had read,
    chose to hide and were told goes with the account: nobody will read it again."""
    member = await s.get(Member, member_id)
    if member is not None and not member.deleted_at:
        await s.exec(
            update(Notification)
            .where(Notification.actor == member.pseudonym)  # type: ignore[arg-type]
            .values(actor=DELETED_NAME)
        )
    for table in (ThreadFollow, ThreadVisit, Notification, WarningPreference, AliasBlock):
        await s.exec(delete(table).where(table.member_id == member_id))  # type: ignore[attr-defined]
