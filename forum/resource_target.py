"""A suggested directory entry as moderation sees it, for one case only: words in it that
read as a crisis. A suggestion always waits for the community's moderators on the directory's
review page (forum/resources.py); but a member who writes that they are in danger must reach
the people who answer crisis cases (peer supporters and moderators) as from anywhere else, so
such a suggestion also opens a crisis case. Acting on the case never lists the entry: that
stays the directory's own decision. Removing declines it."""

from __future__ import annotations

from html import escape

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from communities.models import Community
from core.i18n import gettext as _
from forum.models import Resource
from forum.resources import DECLINED, SUGGESTED
from identity.models import DELETED_NAME, Member
from moderation.api import AfterCommit, TargetView

KIND = "resource"


class ResourceSuggestionTarget:
    kind = KIND
    label = "directory suggestion"

    async def lookup(self, s: AsyncSession, public_id: str, viewer: Member) -> int | None:
        return None  # not reported through the report form: moderators review them anyway

    async def view(self, s: AsyncSession, ids: list[int]) -> dict[int, TargetView]:
        rows = await s.exec(
            select(Resource, Community, Member)
            .join(Community, Community.id == Resource.community_id)  # type: ignore[arg-type]
            .outerjoin(Member, Member.id == Resource.suggested_by_id)  # type: ignore[arg-type]
            .where(Resource.id.in_(ids))  # type: ignore[union-attr]
        )
        views = {}
        for entry, community, author in rows:
            views[entry.id] = TargetView(
                kind=KIND,
                id=entry.id,  # type: ignore[arg-type]
                community_id=entry.community_id,
                author_id=entry.suggested_by_id,
                author_name=author.display_name if author else DELETED_NAME,
                html=f"<p><strong>{escape(entry.name)}</strong></p>"
                f"<p>{escape(entry.description)}</p>",
                status="held" if entry.status == SUGGESTED else entry.status,
                context_title=_("A suggestion for the resource directory of %(community)s")
                % {"community": community.name},
                context_url=f"/c/{community.slug}/resources/review",
                hold_reason=entry.hold_reason if entry.status == SUGGESTED else None,
            )
        return views

    async def _entry(self, s: AsyncSession, target_id: int) -> Resource | None:
        return await s.get(Resource, target_id)

    async def set_hidden(
        self, s: AsyncSession, target_id: int, hidden: bool, after_commit: AfterCommit
    ) -> None:
        return None  # a suggestion is seen by no one but moderators and its author

    async def approve(self, s: AsyncSession, target_id: int, after_commit: AfterCommit) -> None:
        return None  # listing it is the directory review's decision, with its own checks

    async def remove(self, s: AsyncSession, target_id: int, after_commit: AfterCommit) -> None:
        entry = await self._entry(s, target_id)
        if entry is not None and entry.status == SUGGESTED:
            entry.status = DECLINED
            s.add(entry)

    async def edit(
        self, s: AsyncSession, target_id: int, text: str, html: str, after_commit: AfterCommit
    ) -> None:
        return None  # edited on the directory's own form

    async def lock(self, s: AsyncSession, target_id: int, after_commit: AfterCommit) -> None:
        return None

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
        return 0  # suggestions earn no trust: trust comes from what others read
