"""Stories of hope: threads of the kind "story" (a milestone, how someone got through), and
each community's shelf of them, which its moderators curate.

A member marks their own thread as a story when they start it; only the community's
moderators put one on the shelf or take it off, and each of those is in the audit log like
any moderator action. The shelf is what the crisis card and an unanswered request point
to, so it shows only published stories in communities the reader may read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col, select

from communities import roles
from communities.models import Community
from communities.roles import Action
from core.context import AppContext
from core.db import Database
from core.errors import Refusal
from forum.models import AnonymousAlias, HopeShelf, Thread
from forum.queries import thread_and_community
from identity.blocks import blocked_ids
from identity.models import DELETED_NAME, Member
from moderation import api as moderation

STORY = "story"
SHELF_LIMIT = 100


@dataclass(frozen=True)
class ShelfStory:
    thread_id: int
    title: str
    author: str  # a pseudonym, or "Anonymous member A"
    created_at: datetime
    community_slug: str
    community_name: str


async def set_on_shelf(ctx: AppContext, moderator: Member, thread_id: int, on: bool) -> Thread:
    """Put a story on its community's shelf, or take it off: moderators only, audited."""
    async with ctx.db.transaction() as s:
        thread, community = await thread_and_community(s, thread_id)
        if not await roles.may(s, moderator, Action.MODERATE, community.id):
            raise Refusal(
                "forbidden", "Only this community's moderators can change its shelf.", status=403
            )
        if thread.kind != STORY or thread.status != "published":
            raise Refusal("invalid", "Only a published story of hope can go on the shelf.")
        shelved = await s.get(HopeShelf, thread_id)
        if on and shelved is None:
            s.add(
                HopeShelf(
                    thread_id=thread_id,
                    community_id=community.id,  # type: ignore[arg-type]
                    added_by_id=moderator.id,
                )
            )
        elif not on and shelved is not None:
            await s.exec(delete(HopeShelf).where(col(HopeShelf.thread_id) == thread_id))
        else:
            return thread  # nothing changed: nothing to log
        await moderation.record(
            s,
            moderator,
            "shelve_story" if on else "unshelve_story",
            "thread",
            thread_id,
            community.id,
            thread.title,
        )
    return thread


async def on_shelf(db: Database, thread_id: int) -> bool:
    async with db.read() as s:
        return await s.get(HopeShelf, thread_id) is not None


async def shelf(
    db: Database, viewer: Member | None, community: Community | None
) -> list[ShelfStory]:
    """The shelved stories a reader may read, newest story first: one community's, or
    (None) every community's the reader can see. Authors the reader blocked are left out
    (by pseudonym only: an anonymous story's author is never looked up for a reader)."""
    query = (
        select(Thread, Community, Member, AnonymousAlias.label)
        .join(HopeShelf, col(HopeShelf.thread_id) == Thread.id)
        .join(Community, col(Community.id) == Thread.community_id)
        .join(Member, col(Member.id) == Thread.author_id)
        .outerjoin(
            AnonymousAlias,
            (col(AnonymousAlias.thread_id) == Thread.id)
            & (col(AnonymousAlias.member_id) == Thread.author_id),
        )
        .where(Thread.status == "published", Thread.kind == STORY)
        .order_by(col(Thread.created_at).desc(), col(Thread.id).desc())
        .limit(SHELF_LIMIT)
    )
    if community is not None:
        query = query.where(Thread.community_id == community.id)
    if viewer is None:
        query = query.where(Community.visibility == "public")
    async with db.read() as s:
        rows = list(await s.exec(query))
        blocked = await blocked_ids(s, viewer.id) if viewer else set()  # type: ignore[arg-type]
    stories = []
    for thread, place, author, label in rows:
        if not thread.anonymous and thread.author_id in blocked:
            continue
        if thread.anonymous:
            name = f"Anonymous member {label or ''}".strip()
        else:
            name = DELETED_NAME if author.deleted_at else author.pseudonym
        stories.append(
            ShelfStory(thread.id, thread.title, name, thread.created_at, place.slug, place.name)
        )
    return stories
