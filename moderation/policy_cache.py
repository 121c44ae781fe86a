"""Each community's policy, read once per process and kept until it changes.

`vet` needs the community's policy (contact policy, crisis action and sensitivity, watched
words) for every message and post: two reads, for something a moderator changes a few times
a year. So each process keeps the policies it has read, and forgets one when it changes:

- whoever changes a policy or a watched word calls `policy_changed` after the commit, which
  forgets it here and announces it on the broker (POLICY_CHANNEL), so every other worker
  forgets it too (`PolicyFollower`, started with the app);
- a read that overlaps a change is used but not kept (the generation moved meanwhile), so a
  policy read before a commit never outlives the announcement of it;
- when the broker was away (`RESUMED`), announcements may have been missed: every policy is
  forgotten. While Redis is down, a change made by another worker reaches this one when it
  is back, as chat's messages do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlmodel.ext.asyncio.session import AsyncSession

from core.broker import Subscription
from core.context import AppContext
from moderation.policy import CommunityPolicy, load

log = logging.getLogger(__name__)

POLICY_CHANNEL = "kindred:moderation:policy"


class PolicyCache:
    def __init__(self) -> None:
        self._policies: dict[int, CommunityPolicy] = {}
        self._generation = 0  # moves on every change heard of

    async def load(self, s: AsyncSession, community_id: int | None) -> CommunityPolicy:
        if community_id is None:
            return CommunityPolicy()
        if (kept := self._policies.get(community_id)) is not None:
            return kept
        generation = self._generation
        policy = await load(s, community_id)
        if generation == self._generation:  # nothing changed while it was read
            self._policies[community_id] = policy
        return policy

    def forget(self, community_id: int | None = None) -> None:
        """Forget one community's policy, or every one (None)."""
        self._generation += 1
        if community_id is None:
            self._policies.clear()
        else:
            self._policies.pop(community_id, None)


def policy_cache(ctx: AppContext) -> PolicyCache:
    """This app's cache (one per app: tests run many apps, each on its own database)."""
    cache = ctx.extensions.get("policy_cache")
    if cache is None:
        cache = ctx.extensions["policy_cache"] = PolicyCache()
    return cache


async def policy_changed(ctx: AppContext, community_id: int) -> None:
    """Call after committing a change to a community's policy or watched words."""
    policy_cache(ctx).forget(community_id)
    try:
        await ctx.broker.publish(POLICY_CHANNEL, {"community_id": community_id})
    except Exception as exc:  # Redis is away: the others forget everything when it is back
        log.warning("cannot announce a policy change (%s)", type(exc).__name__)


class PolicyFollower:
    """Hears other workers' changes for as long as the app runs."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._sub: Subscription | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._sub = await self.ctx.broker.subscribe(POLICY_CHANNEL)
        self._task = asyncio.create_task(self._follow(self._sub), name="policy-changes")

    async def _follow(self, sub: Subscription) -> None:
        cache = policy_cache(self.ctx)
        async for event in sub:
            cache.forget(event.get("community_id"))  # RESUMED names none: forget them all

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._sub is not None:
            await self.ctx.broker.unsubscribe(self._sub)
