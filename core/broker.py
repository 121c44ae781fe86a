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
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import Any

log = logging.getLogger("kindred.broker")

Event = dict[str, Any]
DEFAULT_QUEUE = 10_000


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

    def __init__(self, url: str) -> None:
        super().__init__()
        import redis.asyncio as redis  # only when Redis is configured

        self._client = redis.Redis.from_url(url)
        self._pubsub = self._client.pubsub()
        # A private channel keeps the pub/sub connection subscribed (and readable) even when
        # no room is open in this process.
        self._control = f"kindred:broker:{secrets.token_hex(8)}"
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        self._lock = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._pubsub.subscribe(self._control)
        self._reader = asyncio.create_task(self._read(), name="redis-broker-reader")

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._pubsub.aclose()
        await self._client.aclose()

    async def publish(self, channel: str, event: Event) -> None:
        await self._client.publish(channel, encode(event))

    async def _listen(self, channel: str) -> None:
        async with self._lock:
            confirmed = asyncio.get_running_loop().create_future()
            self._confirmations[channel] = confirmed
            await self._pubsub.subscribe(channel)
            try:
                # Redis confirms after it has registered us: from then on, nothing is missed.
                await asyncio.wait_for(confirmed, timeout=10)
            finally:
                self._confirmations.pop(channel, None)

    async def _unlisten(self, channel: str) -> None:
        async with self._lock:
            if channel not in self._subscriptions:  # nobody re-subscribed meanwhile
                await self._pubsub.unsubscribe(channel)

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the connection dropped: redis-py reconnects
                log.warning("Redis pub/sub read failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(0.5)
                continue
            if message is None:
                continue
            channel = message["channel"].decode()
            if message["type"] == "message":
                self._dispatch(channel, message["data"])
            elif message["type"] == "subscribe":
                future = self._confirmations.get(channel)
                if future is not None and not future.done():
                    future.set_result(None)


def make_broker(url: str) -> Broker:
    """The broker for a URL: empty or memory:// → in-process; redis(s):// or unix:// → Redis."""
    scheme = url.partition("://")[0].lower() if url else "memory"
    if scheme == "memory":
        return MemoryBroker()
    if scheme in ("redis", "rediss", "unix"):
        return RedisBroker(url)
    raise ValueError(f"no broker for {scheme}:// URLs (use redis:// or leave it empty)")
