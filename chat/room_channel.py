"""One room on one process: its broker subscription, whose messages it delivers to the
room's local connections strictly in id order, exactly once, filling any gap from the
database; and presence, who is in the room across every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any, Protocol

from chat import history
from chat.events import room_channel
from chat.listener import Listener
from core.broker import RESUMED, Broker, Subscription
from core.db import Database

log = logging.getLogger("kindred.chat.hub")

Members = dict[str, str | None]  # member id (as text) → pseudonym, or None when hidden


class HubSide(Protocol):
    """What a room needs of its process's hub (chat/hub.py)."""

    id: str  # this process's origin, in presence events
    db: Database
    broker: Broker
    gap_wait: float  # seconds a gap may stay open before it is read from the database


class RoomChannel:
    """Order. Ids in a room are committed in order (chat/sending.py), but publishers in
    several processes can reach the broker out of order, and a full subscription drops
    events. So an early arrival waits in `pending`, and a gap still open after the hub's
    `gap_wait` seconds is filled from the database. `last_seq` is the id up to which the
    room has been delivered here; a connection that joins gets everything after it, in
    order, exactly once (chat/hub.py).

    Presence. Each process knows its own connections and tells the others through the
    room's channel (its whole local member list on every change, again every round of the
    hub, and on request when another process opens the room); a process not heard from for
    three rounds is forgotten, so a crashed worker's members drop out of the list.
    """

    def __init__(self, hub: HubSide, room_id: int, sub: Subscription, last_seq: int) -> None:
        self.hub = hub
        self.room_id = room_id
        self.sub = sub
        self.last_seq = last_seq
        self.pending: dict[int, dict[str, Any]] = {}
        self.listeners: set[Listener] = set()
        self.remote: dict[str, tuple[Members, float]] = {}  # origin → (members, heard at)
        self.view: Members = {}
        self.reader = asyncio.create_task(self._read(), name=f"chat-room-{room_id}")
        self.filler: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------- messages, in order

    async def _read(self) -> None:
        async for event in self.sub:
            try:
                await self._handle(event)
            except Exception:
                log.exception("chat hub: event for room %s failed", self.room_id)

    async def _handle(self, event: dict[str, Any]) -> None:
        kind = event.get("kind")
        if kind == "message":
            self.on_message(event)
        elif kind in ("removed", "state"):  # state: a session's or conversation's new state
            self.broadcast(event["frame"])
        elif kind == "update":  # a message restored or edited by a moderator
            for listener in tuple(self.listeners):
                if listener.receives and event["author"] not in listener.hidden:
                    listener.offer(event["frame"])
        elif kind == "presence" and event.get("origin") != self.hub.id:
            self.remote[event["origin"]] = (event["members"], time.monotonic())
            if not event["members"]:
                del self.remote[event["origin"]]
            self.refresh_view()
        elif kind == "presence_sync" and event.get("origin") != self.hub.id:
            await self.announce()
        elif kind == RESUMED["kind"]:  # the broker was cut off from Redis for a while
            await self.catch_up()

    async def catch_up(self) -> None:
        """Deliver what was stored while the broker was away, then publish the room's newest
        message again: a hub that reconnected before ours fills its gap up to it."""
        newest = await history.last_message_id(self.hub.db, self.room_id)
        since = min(self.last_seq, newest - 1)
        events = await history.events_between(self.hub.db, self.room_id, since, newest)
        for event in events:
            self.on_message(event)
        if events:
            with contextlib.suppress(Exception):
                await self.hub.broker.publish(room_channel(self.room_id), events[-1])
        await self.announce()

    def on_message(self, event: dict[str, Any]) -> None:
        seq = event["seq"]
        if seq <= self.last_seq:
            return  # already delivered (a gap fill got there first)
        self.pending[seq] = event
        self._drain()
        if self.pending and (self.filler is None or self.filler.done()):
            self.filler = asyncio.create_task(self._fill_gap())

    def _drain(self) -> None:
        while (event := self.pending.pop(self.last_seq + 1, None)) is not None:
            self.last_seq += 1
            if event["frame"] is not None:  # None: removed before we saw it
                for listener in tuple(self.listeners):
                    if (
                        listener.receives
                        and self.last_seq > listener.seen_up_to
                        and event["author"] not in listener.hidden
                    ):
                        listener.offer(event["frame"])

    async def _fill_gap(self) -> None:
        await asyncio.sleep(self.hub.gap_wait)  # the missing event is usually on its way
        attempts = 0
        while self.pending:
            upto = min(self.pending) - 1
            before = self.last_seq
            if upto > self.last_seq:
                for event in await history.events_between(
                    self.hub.db, self.room_id, self.last_seq, upto
                ):
                    # The missing events may have arrived live during the read, and been
                    # delivered: never keep (and so deliver) an id twice.
                    if event["seq"] > self.last_seq:
                        self.pending.setdefault(event["seq"], event)
            self._drain()
            if self.last_seq == before:
                attempts += 1
                if attempts > 5:  # cannot happen while ids commit in order; never stall
                    log.error("chat hub: room %s skips ids up to %s", self.room_id, upto)
                    self.last_seq = max(self.last_seq, upto)  # never back: that repeats ids
                    self._drain()
                await asyncio.sleep(self.hub.gap_wait)

    def broadcast(self, frame: str, *, skip: Listener | None = None) -> None:
        for listener in tuple(self.listeners):
            if listener is not skip:
                listener.offer(frame)

    # ------------------------------------------------------------------- presence

    def local_members(self) -> Members:
        members: Members = {}
        for listener in self.listeners:
            if not listener.receives:
                continue
            key = str(listener.member_id)
            members[key] = members.get(key) or listener.pseudonym
        return members

    def refresh_view(self, *, skip: Listener | None = None) -> None:
        """Recompute who is here across all hubs and tell local connections what changed."""
        view = self.local_members()
        for members, _heard in self.remote.values():
            for key, name in members.items():
                view[key] = view.get(key) or name
        old, self.view = self.view, view
        changed = {k for k in old.keys() | view.keys() if old.get(k, 0) != view.get(k, 0)}
        left = [{"pseudonym": old[k]} for k in changed if k in old]
        joined = [{"pseudonym": view[k]} for k in changed if k in view]
        if joined or left:
            frame = {"type": "presence", "joined": joined, "left": left}
            self.broadcast(json.dumps(frame, ensure_ascii=False), skip=skip)

    def forget_silent_hubs(self, older_than: float) -> None:
        stale = [origin for origin, (_, heard) in self.remote.items() if heard < older_than]
        for origin in stale:
            del self.remote[origin]
        if stale:
            self.refresh_view()

    async def announce(self) -> None:
        event = {"kind": "presence", "origin": self.hub.id, "members": self.local_members()}
        with contextlib.suppress(Exception):  # presence is best effort; the next round fixes it
            await self.hub.broker.publish(room_channel(self.room_id), event)

    def members(self) -> list[dict[str, str | None]]:
        return [{"pseudonym": name} for name in self.view.values()]
