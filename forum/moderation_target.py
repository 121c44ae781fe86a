"""Forum posts as moderation sees them: the ContentTarget that kindred.app registers."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import utcnow
from core.web.params import MAX_ID, loose_int
from forum import search
from forum.models import AnonymousAlias, Notification, Post, PostRevision, Thread
from forum.queries import author_label, post_and_thread
from forum.threads import publish_held
from identity.models import Member
from moderation.api import AfterCommit, TargetView


class PostTarget:
    kind = "post"
    label = "post"

    async def lookup(self, s: AsyncSession, public_id: str, viewer: Member) -> int | None:
        # Every signed-in member can read every community's posts (members-only ones too).
        return loose_int(public_id, high=MAX_ID)

    async def view(self, s: AsyncSession, ids: list[int]) -> dict[int, TargetView]:
        rows = await s.exec(
            select(Post, Thread, Member, AnonymousAlias.label)
            .join(Thread, Thread.id == Post.thread_id)  # type: ignore[arg-type]
            .join(Member, Member.id == Post.author_id)  # type: ignore[arg-type]
            .outerjoin(
                AnonymousAlias,
                (AnonymousAlias.thread_id == Post.thread_id)  # type: ignore[arg-type]
                & (AnonymousAlias.member_id == Post.author_id),
            )
            .where(Post.id.in_(ids))  # type: ignore[union-attr]
        )
        return {
            post.id: TargetView(
                kind=self.kind,
                id=post.id,  # type: ignore[arg-type]
                community_id=thread.community_id,
                author_id=post.author_id,
                author_name=author_label(member, post.anonymous, alias),
                html=post.html,
                status=post.status if thread.status == "published" or post.is_opening else "held",
                context_title=thread.title,
                context_url=f"/t/{thread.id}#p{post.id}",
                anonymous=post.anonymous,
                persona=f"thread {thread.id}" if post.anonymous else "",
                hold_reason=post.hold_reason if post.status == "held" else None,
            )
            for post, thread, member, alias in rows
        }

    async def _post(self, s: AsyncSession, post_id: int) -> tuple[Post, Thread]:
        return await post_and_thread(s, post_id)

    async def set_hidden(
        self, s: AsyncSession, target_id: int, hidden: bool, after_commit: AfterCommit
    ) -> None:
        post, thread = await self._post(s, target_id)
        if hidden and post.status == "published":
            post.status = "hidden"
            await search.unindex_post(s, target_id)
        elif not hidden and post.status == "hidden":
            post.status = "published"
            await search.index_post(s, post, thread.title)
        s.add(post)

    async def approve(self, s: AsyncSession, target_id: int, after_commit: AfterCommit) -> None:
        """Publish held content: the thread opens (for an opening post), the post is indexed,
        followers and mentions are told, and the author hears it is up."""
        post, thread = await self._post(s, target_id)
        if post.status != "held":
            return
        await publish_held(s, thread, post)
        s.add(
            Notification(
                member_id=post.author_id, kind="approved", thread_id=thread.id, post_id=post.id
            )
        )

    async def remove(self, s: AsyncSession, target_id: int, after_commit: AfterCommit) -> None:
        post, thread = await self._post(s, target_id)
        was_visible = post.status == "published"
        post.status = "removed"
        s.add(post)
        await search.unindex_post(s, target_id)
        if was_visible and not post.is_opening:
            await s.exec(
                update(Thread)
                .where(Thread.id == thread.id)
                .values(reply_count=Thread.reply_count - 1)
            )
        if post.is_opening and thread.status == "held":
            thread.status = "removed"
            s.add(thread)

    async def edit(
        self, s: AsyncSession, target_id: int, text: str, html: str, after_commit: AfterCommit
    ) -> None:
        post, thread = await self._post(s, target_id)
        s.add(PostRevision(post_id=post.id, body=post.body, html=post.html))  # type: ignore[arg-type]
        post.body, post.html, post.edited_at = text, html, utcnow()
        s.add(post)
        if post.status == "published":
            await search.index_post(s, post, thread.title)

    async def lock(self, s: AsyncSession, target_id: int, after_commit: AfterCommit) -> None:
        _post, thread = await self._post(s, target_id)
        thread.locked = True
        s.add(thread)

    async def published_count(
        self,
        s: AsyncSession,
        author_id: int,
        community_id: int | None,
        *,
        anonymous: bool | None,
        limit: int,
        waiting: bool = False,
    ) -> int:
        counted_statuses = ("published", "held") if waiting else ("published",)
        mine = select(Post.id).where(
            Post.author_id == author_id,
            Post.status.in_(counted_statuses),  # type: ignore[attr-defined]
        )
        if community_id is not None:
            mine = mine.join(Thread, Thread.id == Post.thread_id).where(  # type: ignore[arg-type]
                Thread.community_id == community_id
            )
        if anonymous is not None:
            mine = mine.where(Post.anonymous == anonymous)
        counted = select(func.count()).select_from(mine.limit(limit).subquery())
        return (await s.exec(counted)).one()
