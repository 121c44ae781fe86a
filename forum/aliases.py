"""Anonymous authors in a thread: their stable labels ("Anonymous member A"), the name a
member shows under, blocking one label, and the audit trail when moderators see who wrote.

A label belongs to one thread (the same member may be another letter elsewhere), and
nothing here ever says which member a label is.
"""

from __future__ import annotations

from sqlalchemy import delete, func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.context import AppContext
from core.db import Database
from core.errors import Refusal, not_found
from forum.models import AliasBlock, AnonymousAlias
from forum.queries import thread_and_community
from forum.thread_view import ThreadView
from identity.models import Member
from moderation import api as moderation


def alias_label(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: a stable letter per anonymous member in a thread."""
    label = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        label = chr(65 + rest) + label
    return label


async def assign_alias(s: AsyncSession, thread_id: int, member_id: int) -> str:
    """The member's label in this thread: the one they have, or the next letter."""
    existing = await s.get(AnonymousAlias, (thread_id, member_id))
    if existing is not None:
        return existing.label
    count = await s.exec(
        select(func.count())
        .select_from(AnonymousAlias)
        .where(AnonymousAlias.thread_id == thread_id)
    )
    label = alias_label(int(count.one()))
    s.add(AnonymousAlias(thread_id=thread_id, member_id=member_id, label=label))
    await s.flush()
    return label


async def display_name(s: AsyncSession, thread_id: int, member: Member, anonymous: bool) -> str:
    """The name a member shows under in this thread: their pseudonym, or their label."""
    if not anonymous:
        return member.display_name
    alias = await s.get(AnonymousAlias, (thread_id, member.id))
    return f"Anonymous member {alias.label if alias else ''}".strip()


async def shown_name(db: Database, thread_id: int, member: Member, anonymous: bool) -> str:
    """display_name in a read of its own: for an answer about a post just written."""
    async with db.read() as s:
        return await display_name(s, thread_id, member, anonymous)


def _label(text: str) -> str:
    """ "A", "a" or "Anonymous member A" as the label stored: "A"."""
    return text.strip().upper().removeprefix("ANONYMOUS MEMBER ").strip()


async def block_alias(ctx: AppContext, member: Member, thread_id: int, label: str) -> str:
    """Stop seeing one anonymous author ("Anonymous member A") in one thread: their posts,
    the thread itself if they started it, and notices from them there. Returns the label
    as shown. Blocking nobody, or yourself, is refused; nothing says who the label is."""
    label = _label(label)
    async with ctx.db.transaction() as s:
        thread, _community = await thread_and_community(s, thread_id)
        if thread.status != "published":
            raise not_found("thread")
        alias = (
            await s.exec(
                select(AnonymousAlias).where(
                    AnonymousAlias.thread_id == thread_id, AnonymousAlias.label == label
                )
            )
        ).first()
        if alias is None:
            raise Refusal("invalid", "There's no anonymous member with that label in this thread.")
        if alias.member_id == member.id:
            raise Refusal("invalid", "That's you: your own posts can't be blocked.")
        if await s.get(AliasBlock, (member.id, thread_id, label)) is None:
            s.add(AliasBlock(member_id=member.id, thread_id=thread_id, label=label))  # type: ignore[arg-type]
    return f"Anonymous member {label}"


async def unblock_alias(ctx: AppContext, member: Member, thread_id: int, label: str) -> None:
    label = _label(label)
    async with ctx.db.transaction() as s:
        await s.exec(
            delete(AliasBlock).where(
                AliasBlock.member_id == member.id,
                AliasBlock.thread_id == thread_id,
                AliasBlock.label == label,
            )
        )


async def audit_anonymous_reveal(db: Database, viewer: Member, view: ThreadView) -> None:
    """Moderators see who wrote anonymous posts; every time they do, the audit log says so."""
    revealed = [(p.post.id, p.post.author_id) for p in view.posts if p.author_pseudonym]
    if not revealed:
        return
    async with db.transaction() as s:
        for post_id, author_id in revealed:
            await moderation.record(
                s,
                viewer,
                "view_anonymous_author",
                "post",
                post_id,
                view.community.id,
                f"thread {view.thread.id}",
                subject_id=author_id,
            )
