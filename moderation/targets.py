"""How moderation acts on content it does not own.

Forum posts and chat messages live in packages that moderation must not import. Each of
them implements `ContentTarget`, and the composition root (kindred.app) registers the
implementations by kind. Methods run inside moderation's transaction; anything that must
happen only after commit (fanning a `removed` frame out to chat clients, say) is appended
to `after_commit` as a coroutine function.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from identity.models import Member

AfterCommit = list[Callable[[], Awaitable[None]]]


@dataclass(frozen=True)
class TargetView:
    """What a moderator (or a reporter) needs to know about one piece of content."""

    kind: str
    id: int
    community_id: int | None
    author_id: int | None
    author_name: str
    html: str
    status: str  # published | held | hidden | removed | deleted
    context_title: str
    context_url: str
    anonymous: bool = False
    # Who the author appears as, when it isn't their pseudonym: for anonymous content, where
    # its label holds ("thread 12"). What is asked or counted about content is kept apart
    # per persona, so it never ties a member's anonymous posts to their named ones.
    persona: str = ""
    # Said where only some may read it (a group session's room, a 1:1 support conversation):
    # it may reach moderators through a report, but not every peer supporter's queue.
    private: bool = False
    # Why held content is waiting (a pipeline reason code: "new_member", "contact_details"…),
    # None when it isn't held. "new_member" alone means nothing in it was flagged.
    hold_reason: str | None = None


class ContentTarget(Protocol):
    kind: str
    label: str  # "post", "chat message": how members and moderators read the kind

    async def lookup(self, s: AsyncSession, public_id: str, viewer: Member) -> int | None:
        """The target's id from the id members see (a post id; "room-slug:seq" in chat), or
        None when there is no such thing or `viewer` may not see it (a report names only
        what its reporter could read)."""
        ...

    async def view(self, s: AsyncSession, ids: list[int]) -> dict[int, TargetView]: ...

    async def set_hidden(
        self, s: AsyncSession, target_id: int, hidden: bool, after_commit: AfterCommit
    ) -> None: ...

    async def approve(self, s: AsyncSession, target_id: int, after_commit: AfterCommit) -> None: ...

    async def remove(self, s: AsyncSession, target_id: int, after_commit: AfterCommit) -> None: ...

    async def edit(
        self, s: AsyncSession, target_id: int, text: str, html: str, after_commit: AfterCommit
    ) -> None: ...

    async def lock(self, s: AsyncSession, target_id: int, after_commit: AfterCommit) -> None: ...

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
        """How many of the author's contributions of this kind are published, in one
        community (None: anywhere), only `anonymous` ones or only named ones when given,
        counting no further than `limit` (trust.py needs no more). With `waiting`, those
        still held for a moderator count too (the new-member hold counts what a member has
        submitted; one a moderator rejected is removed, and no longer counts)."""
        ...


@dataclass
class ModerationRegistry:
    """Content kinds moderation can act on, and who wants to hear about sanctions."""

    targets: dict[str, ContentTarget] = field(default_factory=dict)
    # Called after a sanction commits, with (member id, kind, reason, community id or None
    # for site-wide): chat uses it to tell a muted member's open connections at once (across
    # workers, through the broker), and to close them on a site-wide ban.
    sanction_listeners: list[Callable[[int, str, str, int | None], Awaitable[None]]] = field(
        default_factory=list
    )

    def register(self, target: ContentTarget) -> None:
        self.targets[target.kind] = target

    async def published_count(
        self,
        s: AsyncSession,
        author_id: int,
        community_id: int | None,
        *,
        anonymous: bool | None = None,
        limit: int,
        waiting: bool = False,
    ) -> int:
        """What the member has published on every surface (and, with `waiting`, what of
        theirs is still held for a moderator), for their trust (trust.py)."""
        total = 0
        for target in self.targets.values():
            total += await target.published_count(
                s, author_id, community_id, anonymous=anonymous, limit=limit, waiting=waiting
            )
        return total

    async def views(
        self, s: AsyncSession, refs: Iterable[tuple[str, int | None]]
    ) -> dict[tuple[str, int], TargetView]:
        """How moderators see each (kind, id): one lookup per kind, however many ids. Kinds
        no longer registered, and content that is gone, are simply missing."""
        by_kind: dict[str, list[int]] = {}
        for kind, target_id in refs:
            if target_id is not None and kind in self.targets:
                by_kind.setdefault(kind, []).append(target_id)
        views: dict[tuple[str, int], TargetView] = {}
        for kind, ids in by_kind.items():
            for target_id, view in (await self.targets[kind].view(s, ids)).items():
                views[(kind, target_id)] = view
        return views
