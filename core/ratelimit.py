"""Rate limits for member actions: moving windows, counted in this process's memory by
default (LocalWindows) and in Redis, through the `limits` library, when one is configured, so
that every worker shares them. What is stored names nobody: each key (a member id, a pseudonym tried
at sign-in, a keyed hash of a client network) is stored as a keyed hash of the action and
the key, so one action's counters can't be matched with another's either (a member's chat
times, which are public, must not name their check-in asks). While Redis can't be reached,
each worker counts in its own memory instead: members keep going, and the limits still
hold per worker. Which actions are limited, and how much, is a setting (core/settings.py:
DEFAULT_LIMITS, overridden by KINDRED_RATE_LIMITS).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from limits import RateLimitItem, WindowStats
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from core.settings import parse_limits

log = logging.getLogger("kindred.ratelimit")


@dataclass(frozen=True)
class Blocked:
    """An action refused for now, with how long until it is allowed again."""

    retry_after: int  # seconds

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


class Limiter(Protocol):
    """What RateLimits asks of a moving-window limiter: `limits`' on Redis, or LocalWindows."""

    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool: ...
    async def test(self, item: RateLimitItem, *identifiers: str) -> bool: ...
    async def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats: ...
    async def clear(self, item: RateLimitItem, *identifiers: str) -> None: ...


class LocalWindows:
    """Moving windows counted in this process's memory: the embedded default, and each
    worker's stand-in while Redis is away. The same rule as `limits`' moving window (a use is
    allowed while fewer than N fall in the last period), kept here instead of in `limits`'
    async MemoryStorage: that store drops expired hits in a background task that awaits
    between the keys it listed, so a clear() meanwhile (a successful sign-in clears the
    account's count) made the task fail with a KeyError, which asyncio logged as "Task
    exception was never retrieved" (limits 5.8; tests/security/test_hardening.py). Nothing
    runs in the background here, and nothing awaits: a key's expired uses go when it is next
    used, and keys unused for a whole period are swept at most once a minute, during a hit.
    """

    SWEEP_EVERY = 60.0  # seconds

    def __init__(self) -> None:
        self._uses: dict[str, tuple[int, deque[float]]] = {}  # key → (period, times, oldest first)
        self._next_sweep = time.time() + self.SWEEP_EVERY

    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        now = time.time()
        self._sweep(now)
        key = item.key_for(*identifiers)
        if key not in self._uses:
            self._uses[key] = (item.get_expiry(), deque())
        uses = self._current(key, now)
        if len(uses) >= item.amount:
            return False
        uses.append(now)
        return True

    async def test(self, item: RateLimitItem, *identifiers: str) -> bool:
        return len(self._current(item.key_for(*identifiers), time.time())) < item.amount

    async def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        now = time.time()
        uses = self._current(item.key_for(*identifiers), now)
        # As `limits` counts it: the window resets when its oldest use leaves it.
        return WindowStats((uses[0] if uses else now) + item.get_expiry(), item.amount - len(uses))

    async def clear(self, item: RateLimitItem, *identifiers: str) -> None:
        self._uses.pop(item.key_for(*identifiers), None)

    def _current(self, key: str, now: float) -> deque[float]:
        period, uses = self._uses.get(key, (0, deque()))
        while uses and uses[0] <= now - period:
            uses.popleft()
        return uses

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.SWEEP_EVERY
        for key, (period, uses) in list(self._uses.items()):
            if not uses or uses[-1] <= now - period:
                del self._uses[key]


class RateLimits:
    def __init__(self, spec: str, redis_url: str = "", secret: str = "") -> None:
        self.enabled, self.items = parse_limits(spec)
        self._secret = secret.encode()
        self._limiter: Limiter = (
            MovingWindowRateLimiter(
                RedisStorage(
                    _limits_redis_uri(redis_url),
                    implementation="redispy",
                    wrap_exceptions=True,  # StorageError, whatever the client raised
                    socket_connect_timeout=2,
                    socket_timeout=2,
                )
            )
            if redis_url
            else LocalWindows()
        )
        self._local: Limiter = LocalWindows()  # while Redis is away
        self._shared_down = False

    async def hit(self, action: str, key: str) -> Blocked | None:
        """Count one use of `action` by `key`; return Blocked when it is over the limit."""
        if not self.enabled:
            return None
        key = self._opaque(action, key)
        try:
            blocked = await self._hit(self._limiter, action, key)
        except StorageError as exc:
            self._note_down(exc)
            return await self._hit(self._local, action, key)
        self._shared_down = False
        return blocked

    async def check(self, action: str, key: str) -> Blocked | None:
        """Would one more use be refused? Counts nothing."""
        if not self.enabled:
            return None
        key = self._opaque(action, key)
        try:
            return await self._check(self._limiter, action, key)
        except StorageError as exc:
            self._note_down(exc)
            return await self._check(self._local, action, key)

    async def clear(self, action: str, key: str) -> None:
        if self.enabled:
            key = self._opaque(action, key)
            await self._local.clear(self.items[action], action, key)
            try:
                await self._limiter.clear(self.items[action], action, key)
            except StorageError as exc:
                self._note_down(exc)

    async def _hit(self, limiter: Limiter, action: str, key: str) -> Blocked | None:
        item = self.items[action]
        if await limiter.hit(item, action, key):
            return None
        return await self._blocked(limiter, item, action, key)

    async def _check(self, limiter: Limiter, action: str, key: str) -> Blocked | None:
        item = self.items[action]
        if await limiter.test(item, action, key):
            return None
        return await self._blocked(limiter, item, action, key)

    def _opaque(self, action: str, key: str) -> str:
        return hmac.new(self._secret, f"{action}:{key}".encode(), hashlib.sha256).hexdigest()[:32]

    def _note_down(self, exc: StorageError) -> None:
        if not self._shared_down:  # once per outage; the type only (messages name the host)
            log.warning(
                "rate limits: Redis unreachable (%s); counting in this process until it is back",
                type(exc.storage_error).__name__,
            )
        self._shared_down = True

    @staticmethod
    async def _blocked(limiter: Limiter, item: RateLimitItem, action: str, key: str) -> Blocked:
        stats = await limiter.get_window_stats(item, action, key)
        return Blocked(retry_after=max(1, math.ceil(stats.reset_time - time.time())))


def _limits_redis_uri(url: str) -> str:
    # `limits` names its async Redis storage with an "async+" prefix.
    return url if url.startswith("async+") else "async+" + url
