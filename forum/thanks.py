"""Saying a private thank-you for a forum reply, and what the forum tells a helper about
the people their replies helped.

The forum decides what may be thanked (a published reply the sender can read, not their
own) and whether the sender is anonymous there: if they wrote in that thread under an
alias, or the thread itself is anonymous, the helper sees "a member", never a pseudonym
that would tie the alias to them. The rest (once only, blocks, the pipeline) is the one
front door in moderation.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from core.context import AppContext
from core.db import Database
from core.errors import Refusal, not_found
from forum.models import AnonymousAlias, Post, Thread
from forum.queries import post_in_context
from identity.models import Member
from moderation import api as moderation


@dataclass(frozen=True)
class ThankableReply:
    post: Post
    thread: Thread
    author: str  # as the sender sees it: a pseudonym, or "Anonymous member A"
    about: moderation.ThanksFor


async def thankable_reply(db: Database, sender: Member, post_id: int) -> ThankableReply:
    """The reply as the thank-you form shows it; not found for what the sender can't read."""
    found = await post_in_context(db, post_id, sender)
    post, thread = found.post, found.thread
    if post.status != "published" or thread.status != "published":
        raise not_found()
    if post.is_opening:
        raise Refusal("invalid", "You can say thank you for a reply.", status=404)
    async with db.read() as s:
        alias = await s.get(AnonymousAlias, (thread.id, sender.id))
        if post.anonymous:
            label = await s.get(AnonymousAlias, (thread.id, post.author_id))
            author = f"Anonymous member {label.label if label else ''}".strip()
        else:
            helper = await s.get(Member, post.author_id)
            author = helper.display_name if helper else "a member"
    about = moderation.ThanksFor(
        kind="post",
        id=post.id,  # type: ignore[arg-type]
        helper_id=post.author_id,
        community_id=thread.community_id,
        place=f"your reply in “{thread.title}”",
        url=f"/t/{thread.id}#p{post.id}",
        anonymous=thread.anonymous or alias is not None,
        helper_hidden=post.anonymous,
    )
    return ThankableReply(post, thread, author, about)


async def thank_reply(
    ctx: AppContext, sender: Member, post_id: int, note: str, *, region: str | None = None
) -> moderation.SentThanks:
    try:
        reply = await thankable_reply(ctx.db, sender, post_id)
    except Refusal as exc:
        exc.draft = note
        raise
    return await moderation.send_thanks(ctx, sender, reply.about, note, region=region)


async def members_helped(db: Database, helper_id: int) -> set[int]:
    """Who marked one of this member's replies "this helped": for the helper's own page
    (with those who thanked them), never shown to anyone else."""
    async with db.read() as s:
        rows = await s.exec(
            select(Thread.author_id)
            .join(Post, col(Post.id) == Thread.resolved_post_id)
            .where(Post.author_id == helper_id, Thread.author_id != helper_id)
            .distinct()
        )
        return set(rows)
