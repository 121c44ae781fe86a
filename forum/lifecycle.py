"""A member's forum content when they export or delete their account."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from forum import search
from forum.models import Post, Reaction, Thread


async def export_content(s: AsyncSession, member_id: int) -> dict[str, Any]:
    rows = await s.exec(
        select(Post, Thread)
        .join(Thread, Thread.id == Post.thread_id)  # type: ignore[arg-type]
        .where(Post.author_id == member_id, Post.status != "deleted")
        .order_by(Post.id)  # type: ignore[arg-type]
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
            }
            for post, thread in rows
        ]
    }


async def erase_content(s: AsyncSession, member_id: int) -> None:
    """Erase everything the member wrote. Threads they started that others replied to stay
    (with the opening text erased), so other members' replies aren't lost with them."""
    posts = await s.exec(select(Post.id).where(Post.author_id == member_id))
    for post_id in posts:
        await search.unindex_post(s, post_id)
    await s.exec(
        update(Post)
        .where(Post.author_id == member_id)
        .values(status="deleted", body="", html="", hold_message=None)
    )
    await s.exec(delete(Reaction).where(Reaction.member_id == member_id))
    await s.exec(update(Thread).where(Thread.author_id == member_id).values(title="[erased]"))
