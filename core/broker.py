"""Publish/subscribe between the app's parts, in one process or across many.

    broker = make_broker(settings.redis_url)   # "" → in-process, redis://… → Redis pub/sub
    await broker.start()
    sub = await broker.subscribe("kindred:room:1")   # receiving once this returns
    await broker.publish("kindred:room:1", {"kind": "message", ...})
    event = await sub.get()
    await broker.unsubscribe(sub)

Events are JSON objects. The in-process broker round-trips them through JSON bytes exactly as
Redis does, so what works on the default works in production. Every subscription has a
bounded queue: a subscriber that falls behind loses events (counted in `lost`) instead of
growing memory without limit, so consumers must be able to recover from the source of truth
(chat fills gaps from the database).

Delivery is at most once and in publish order per channel, per publisher.

When Redis goes away, the Redis broker keeps the process working on its own: `publish`
hands the event to this process's subscribers and then raises `BrokerUnavailable` at once
(callers have stored what matters; other processes did not hear it). Its reader reconnects
with backoff, and Redis-side subscriptions are renewed; then every subscription receives
`RESUMED` ({"kind": "resumed"}), because whatever other processes published meanwhile is
lost, and consumers catch up from the source of truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import Any

log = logging.getLogger("kindred.broker")

Event = dict[str, Any]
DEFAULT_QUEUE = 10_000
RESUMED: Event = {"kind": "resumed"}  # the backend was away: events may have been missed


class BrokerUnavailable(Exception):
    """Redis can't be reached: the event reached this process's subscribers only."""


def encode(event: Event) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


class Subscription:
    """The events published on one channel since subscribing, through a bounded queue."""

    def __init__(self, channel: str, maxsize: int = DEFAULT_QUEUE) -> None:
        self.channel = channel
        self.lost = 0  # events dropped because this subscriber was full
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize)

    def deliver(self, data: bytes) -> None:
        try:
            self._queue.put_nowait(data)
        except asyncio.QueueFull:
            self.lost += 1
            if self.lost == 1 or self.lost % 1000 == 0:
                log.warning("subscriber to %s is full; %d events dropped", self.channel, self.lost)

    @property
    def waiting(self) -> int:
        """Events delivered and not yet read (for the fan-out queue depth metric)."""
        return self._queue.qsize()

    async def get(self) -> Event:
        return json.loads(await self._queue.get())

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        while True:
            yield await self.get()


class Broker(ABC):
    def __init__(self) -> None:
        self._subscriptions: dict[str, set[Subscription]] = {}

    async def start(self) -> None:  # noqa: B027 - the memory broker needs nothing
        """Connect; called once from the app's lifespan."""

    async def close(self) -> None:  # noqa: B027
        """Disconnect; subscriptions receive nothing more."""

    @abstractmethod
    async def publish(self, channel: str, event: Event) -> None: ...

    async def subscribe(self, channel: str, maxsize: int = DEFAULT_QUEUE) -> Subscription:
        """Subscribe; every event published after this returns is delivered."""
        sub = Subscription(channel, maxsize)
        first = channel not in self._subscriptions
        self._subscriptions.setdefault(channel, set()).add(sub)
        if first:
            try:
                await self._listen(channel)
            except BaseException:
                await self.unsubscribe(sub)
                raise
        return sub

    async def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subscriptions.get(sub.channel)
        if subs is None or sub not in subs:
            return
        subs.discard(sub)
        if not subs:
            del self._subscriptions[sub.channel]
            await self._unlisten(sub.channel)

    async def _listen(self, channel: str) -> None:  # noqa: B027
        """Start receiving `channel` from the backend (first local subscriber)."""

    async def _unlisten(self, channel: str) -> None:  # noqa: B027
        """Stop receiving `channel` (last local subscriber gone)."""

    def _dispatch(self, channel: str, data: bytes) -> None:
        for sub in tuple(self._subscriptions.get(channel, ())):
            sub.deliver(data)


class MemoryBroker(Broker):
    """One process: publishing hands the encoded bytes to every local subscriber."""

    async def publish(self, channel: str, event: Event) -> None:
        self._dispatch(channel, encode(event))


class RedisBroker(Broker):
    """Redis pub/sub: one connection for publishing, one for all of this process's channels."""

    RETRY_FIRST = 0.1  # seconds before the reader's first reconnection attempt, doubling …
    RETRY_MOST = 5.0  # … up to this

    def __init__(self, url: str) -> None:
        super().__init__()
        import redis.asyncio as redis  # only when Redis is configured
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self._client = redis.Redis.from_url(
            url,
            # Fail fast: a publish waits seconds at most, never a TCP timeout. One retry
            # replaces a pooled connection that died with a restarted Redis.
            socket_connect_timeout=2,
            socket_timeout=5,
            retry=Retry(NoBackoff(), 1),
            health_check_interval=10,  # finds a silently dead pub/sub connection
        )
        self._pubsub = self._client.pubsub()
        # A private channel keeps the pub/sub connection subscribed (and readable) even when
        # no room is open in this process; its confirmation also tells us of re-subscriptions.
        self._control = f"kindred:broker:{secrets.token_hex(8)}"
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        self._lock = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None
        self._resuming: asyncio.Task[None] | None = None
        self._started = False
        self.down_since: float | None = None  # monotonic time the connection was lost

    @property
    def connected(self) -> bool:
        return self.down_since is None

    async def start(self) -> None:
        await self._pubsub.subscribe(self._control)
        self._reader = asyncio.create_task(self._read(), name="redis-broker-reader")

    async def close(self) -> None:
        for task in (self._reader, self._resuming):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        with contextlib.suppress(Exception):  # Redis may be away: nothing to say goodbye to
            await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            await self._client.aclose()

    async def publish(self, channel: str, event: Event) -> None:
        data = encode(event)
        if self.connected:
            try:
                await self._client.publish(channel, data)
                return
            except (OSError, TimeoutError, *_redis_errors()) as exc:
                error: Exception = exc
        else:
            error = ConnectionError("Redis is unreachable")
        # Members on this process keep talking to each other while Redis is away.
        self._dispatch(channel, data)
        raise BrokerUnavailable(type(error).__name__) from error

    async def _listen(self, channel: str) -> None:
        async with self._lock:
            if self.connected:  # otherwise _resume subscribes on Redis when it is back
                await self._subscribe_confirmed(channel)

    async def _subscribe_confirmed(self, channel: str) -> None:
        confirmed = asyncio.get_running_loop().create_future()
        self._confirmations[channel] = confirmed
        try:
            await self._pubsub.subscribe(channel)
            # Redis confirms after it has registered us: from then on, nothing is missed.
            await asyncio.wait_for(confirmed, timeout=10)
        finally:
            self._confirmations.pop(channel, None)

    async def _unlisten(self, channel: str) -> None:
        async with self._lock:
            if channel in self._subscriptions:  # somebody re-subscribed meanwhile
                return
            try:
                await self._pubsub.unsubscribe(channel)
            except (OSError, TimeoutError, *_redis_errors()):
                pass  # Redis is away; _resume drops the channel once it is back

    async def _read(self) -> None:
        delay = self.RETRY_FIRST
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the connection dropped: reconnect, with backoff
                self._lost(exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.RETRY_MOST)
                continue
            delay = self.RETRY_FIRST
            if message is not None:
                self._receive(message)

    def _receive(self, message: dict[str, Any]) -> None:
        channel = message["channel"].decode()
        if message["type"] == "message":
            self._dispatch(channel, message["data"])
        elif message["type"] == "subscribe":
            future = self._confirmations.get(channel)
            if future is not None and not future.done():
                future.set_result(None)
            if channel == self._control:
                # Subscribed in start() and never again, except by redis-py re-subscribing
                # every channel after it reconnected (possibly without telling us of a loss).
                if self._started:
                    self._resuming = asyncio.create_task(self._resume(), name="redis-resume")
                self._started = True

    def _lost(self, exc: Exception) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()
            # The type only: redis-py's messages name the host and port.
            log.warning(
                "lost the connection to Redis (%s); chat fan-out stays within this process "
                "until it is back",
                type(exc).__name__,
            )
        else:
            log.debug("Redis still unreachable (%s)", type(exc).__name__)

    async def _resume(self) -> None:
        """After a reconnection: make Redis's subscriptions match ours, then tell every
        subscriber to catch up on what it may have missed."""
        away = time.monotonic() - self.down_since if self.down_since is not None else 0.0
        self.down_since = None
        async with self._lock:
            wanted = set(self._subscriptions) | {self._control}
            held = {_text(name) for name in self._pubsub.channels}
            try:
                if stale := held - wanted:
                    await self._pubsub.unsubscribe(*stale)
                for channel in sorted(wanted - held):  # opened while Redis was away
                    await self._subscribe_confirmed(channel)
            except Exception as exc:  # lost again: the reader's next reconnection retries
                log.warning("re-subscribing on Redis failed (%s)", type(exc).__name__)
                return
        log.warning(
            "reconnected to Redis after %.1f s; %d channels subscribed again",
            away,
            len(wanted) - 1,
        )
        for channel in list(self._subscriptions):
            self._dispatch(channel, encode(RESUMED))


def _redis_errors() -> tuple[type[Exception], ...]:
    from redis.exceptions import ConnectionError, TimeoutError

    return (ConnectionError, TimeoutError)


def make_broker(url: str) -> Broker:
    """The broker for a URL: empty or memory:// → in-process; redis(s):// or unix:// → Redis."""
    scheme = url.partition("://")[0].lower() if url else "memory"
    if scheme == "memory":
        return MemoryBroker()
    if scheme in ("redis", "rediss", "unix"):
        return RedisBroker(url)
    raise ValueError(f"no broker for {scheme}:// URLs (use redis:// or leave it empty)")


def _text(name: bytes | str) -> str:
    return name.decode() if isinstance(name, bytes) else name
