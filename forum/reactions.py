"""Reactions ("thank you", "me too", "sending strength") and "this helped": small answers
to a post that everyone can see, so only to a published post in a published thread.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from core.context import AppContext
from core.errors import Refusal, not_found
from forum.aliases import display_name
from forum.models import REACTIONS, Notification, Post, Reaction, Thread
from forum.queries import post_and_thread
from identity.models import Member


async def _published_post(s: AsyncSession, member: Member, post_id: int) -> tuple[Post, Thread]:
    post, thread = await post_and_thread(s, post_id)
    if post.status != "published" or thread.status != "published":
        raise not_found()
    return post, thread


async def react(ctx: AppContext, member: Member, post_id: int, kind: str) -> Post:
    if kind not in REACTIONS:
        raise Refusal("invalid", "Reactions are thank you, me too and sending strength.")
    try:
        async with ctx.db.transaction() as s:
            post, _thread = await _published_post(s, member, post_id)
            s.add(Reaction(post_id=post.id, member_id=member.id, kind=kind))  # type: ignore[arg-type]
    except IntegrityError:
        raise Refusal(
            "already_reacted", f"You've already sent “{REACTIONS[kind]}” to this post.", status=409
        ) from None
    return post


async def unreact(ctx: AppContext, member: Member, post_id: int, kind: str) -> None:
    async with ctx.db.transaction() as s:
        await s.exec(
            delete(Reaction).where(
                Reaction.post_id == post_id, Reaction.member_id == member.id, Reaction.kind == kind
            )
        )


async def mark_helped(ctx: AppContext, member: Member, post_id: int) -> Thread:
    """The author of a request marks the reply that helped; the thread shows as resolved."""
    async with ctx.db.transaction() as s:
        post, thread = await _published_post(s, member, post_id)
        if thread.author_id != member.id:
            raise Refusal(
                "forbidden", "Only the person who asked can mark what helped.", status=403
            )
        if thread.kind != "request":
            raise Refusal("invalid", "Only requests for help can be marked as helped.")
        if post.is_opening or post.author_id == member.id:
            raise Refusal("invalid", "Mark a reply from someone else as the one that helped.")
        thread.resolved_post_id = post.id
        s.add(thread)
        if post.author_id != member.id:
            s.add(
                Notification(
                    member_id=post.author_id,
                    kind="helped",
                    thread_id=thread.id,
                    post_id=post.id,
                    actor=await display_name(s, thread.id, member, thread.anonymous),  # type: ignore[arg-type]
                )
            )
    return thread
