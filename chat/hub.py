"""The fan-out hub: one per process, between the broker and this process's WebSockets.

For each room with someone connected here, the hub holds one broker subscription and
delivers each event to every local connection's bounded send queue. A message frame is
encoded once by its publisher and handed to every connection as the same string.

Order. Ids in a room are committed in order (chat/service.py), but publishers in several
processes can reach the broker out of order, and a full subscription drops events. So the
hub delivers a room's messages strictly in id order: an early arrival waits in `pending`,
and a gap still open after `gap_wait` seconds is filled from the database. A connection that
joins gets `last_seq`, the id up to which the hub has delivered; everything after it reaches
the connection's queue, in order, exactly once; the endpoint sends the backlog up to
`last_seq` from the database itself.

Presence. Each hub knows its own connections and tells the others through the room's channel
(its whole local member list on every change, again every `presence_every` seconds, and on
request when another hub opens the room); a hub not heard from for three rounds is forgotten,
so a crashed worker's members drop out of the list.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from chat import service
from chat.gates import CLOSE_GONE
from core.broker import RESUMED, Broker, Subscription
from core.db import Database
from identity.service import blocked_ids, live_sessions

log = logging.getLogger("kindred.chat.hub")

CLOSE_TRY_AGAIN = 1013  # fell behind: reconnect with ?after=<last id>
CLOSE_GOING_AWAY = 1001

Members = dict[str, str | None]  # member id (as text) → pseudonym, or None when hidden

SIGNED_OUT = json.dumps(service.signed_out_frame())


class Listener:
    """One WebSocket as the hub sees it: whom it is, whose messages it hides, its queue."""

    def __init__(
        self,
        member_id: int,
        pseudonym: str | None,
        hidden: frozenset[int],
        queue_size: int,
        *,
        receives: bool = True,
        sign_in: str | None = None,
        community_id: int | None = None,
        mutes_apply: bool = True,
    ) -> None:
        self.member_id = member_id
        self.pseudonym = pseudonym  # None: shown in the member list as "a member"
        self.hidden = hidden
        # The sign-in it connected with (its session's token hash): signing out closes it;
        # and the room's community: a sanction in that community reaches it.
        self.sign_in = sign_in
        self.community_id = community_id
        self.mutes_apply = mutes_apply  # False in a 1:1 support conversation (chat/gates.py)
        # False while waiting in a session's lobby: room state frames only, no messages, and
        # not in the member list.
        self.receives = receives
        # The client has every message up to this id already (its ?after=): they are never
        # sent again, even by a hub that is behind the worker the client came from.
        self.seen_up_to = 0
        self.queue: asyncio.Queue[str] = asyncio.Queue(queue_size)
        self.closing = asyncio.Event()  # the endpoint closes the socket with `close_code`
        self.close_code = CLOSE_TRY_AGAIN
        self.close_reason = ""  # sent with the close code, for people reading a client's log
        self.left = asyncio.Event()  # its endpoint is done with it (Hub.leave)
        # Set by the endpoint once its writer runs (core/web/frames.py): while the writer is
        # idle and nothing waits in the queue, a frame is written at once, in order.
        self.send_now: Callable[[str], bool] | None = None
        self.writing = False

    def offer(self, frame: str) -> None:
        if self.closing.is_set():
            return
        if self.send_now is not None and not self.writing and self.queue.empty():
            try:
                if self.send_now(frame):
                    return
            except Exception:  # the connection is gone: end it (not a slow reader, so not 1013)
                self.close(CLOSE_GOING_AWAY)
                return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:  # fell behind: reconnect with ?after= rather than slow the room
            self.closing.set()

    def close(self, code: int, reason: str = "") -> None:
        """Ask the endpoint to close this connection with `code`, after what is queued."""
        if not self.closing.is_set():
            self.close_code, self.close_reason = code, reason
            self.closing.set()


class RoomChannel:
    def __init__(self, hub: Hub, room_id: int, sub: Subscription, last_seq: int) -> None:
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
        newest = await service.last_message_id(self.hub.db, self.room_id)
        since = min(self.last_seq, newest - 1)
        events = await service.events_between(self.hub.db, self.room_id, since, newest)
        for event in events:
            self.on_message(event)
        if events:
            with contextlib.suppress(Exception):
                await self.hub.broker.publish(service.room_channel(self.room_id), events[-1])
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
                for event in await service.events_between(
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
            await self.hub.broker.publish(service.room_channel(self.room_id), event)

    def members(self) -> list[dict[str, str | None]]:
        return [{"pseudonym": name} for name in self.view.values()]


class Hub:
    def __init__(
        self,
        broker: Broker,
        db: Database,
        *,
        queue_size: int = 256,
        gap_wait: float = 0.25,
        presence_every: float = 30.0,
        session_idle: timedelta | None = None,
    ) -> None:
        self.broker = broker
        self.db = db
        self.session_idle = session_idle  # a sign-in unused this long has ended (settings)
        self.queue_size = queue_size
        self.gap_wait = gap_wait
        self.presence_every = presence_every
        self.id = secrets.token_hex(6)
        self.rooms: dict[int, RoomChannel] = {}
        self._lock = asyncio.Lock()
        self._heartbeat: asyncio.Task[None] | None = None
        self._notices: asyncio.Task[None] | None = None
        self._members: Subscription | None = None

    async def start(self) -> None:
        self._heartbeat = asyncio.create_task(self._presence_rounds(), name="chat-presence")
        self._members = await self.broker.subscribe(service.MEMBERS_CHANNEL)
        self._notices = asyncio.create_task(self._member_notices(), name="chat-members")

    async def close_connections(self, code: int, reason: str, within: float) -> None:
        """Close every connection here with `code` and `reason`, after what is queued for
        it, and wait (at most `within` seconds) until their endpoints have closed them."""
        listeners = [listener for channel in self.rooms.values() for listener in channel.listeners]
        for listener in listeners:
            listener.close(code, reason)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await asyncio.gather(*(listener.left.wait() for listener in listeners))

    async def close(self) -> None:
        for task in (self._heartbeat, self._notices):
            if task is not None:
                task.cancel()
        if self._members is not None:
            await self.broker.unsubscribe(self._members)
        for room_id in list(self.rooms):
            await self._close_room(room_id)

    async def _member_notices(self) -> None:
        """Frames for one member wherever they are connected (a sanction, say): every hub
        hears them and hands them to that member's local connections, in one room when the
        event names it, and closes those connections when it carries a close code."""
        assert self._members is not None
        async for event in self._members:
            if event.get("kind") == RESUMED["kind"]:  # sign-outs may have been missed
                await self.check_sessions()
                continue
            if event.get("blocks_changed"):
                await self._reload_hidden(event["member_id"])
                continue
            frame, close, room_id = event.get("frame"), event.get("close"), event.get("room_id")
            channels = [self.rooms[room_id]] if room_id in self.rooms else []
            if room_id is None:
                channels = list(self.rooms.values())
            for channel in channels:
                for listener in tuple(channel.listeners):
                    if listener.member_id == event.get("member_id") and _concerns(event, listener):
                        if frame:
                            listener.offer(frame)
                        if close:
                            listener.close(close)

    async def check_sessions(self) -> None:
        """Close the connections whose sign-in has ended without this hub hearing of it (a
        sign-out published while Redis was away, a session past its time or unused past the
        idle limit: what a member sends in chat counts as use, chat/ws.py): the sign-out
        events close them at once; this is the net under them."""
        listeners = [
            listener
            for channel in self.rooms.values()
            for listener in channel.listeners
            if listener.sign_in is not None
        ]
        if not listeners:
            return
        try:
            async with self.db.read() as s:
                hashes = {x.sign_in for x in listeners}
                live = await live_sessions(s, hashes, self.session_idle)  # type: ignore[arg-type]
        except Exception as exc:  # the database is away: the next round looks again
            # By type only, as chat/ws.py does: driver messages name hosts, and this runs
            # every 30 s through an outage.
            log.warning("chat hub: cannot check sessions (%s)", type(exc).__name__)
            return
        for listener in listeners:
            if listener.sign_in not in live:
                listener.offer(SIGNED_OUT)
                listener.close(CLOSE_GONE)

    async def _reload_hidden(self, member_id: int) -> None:
        listeners = [
            listener
            for channel in self.rooms.values()
            for listener in channel.listeners
            if listener.member_id == member_id
        ]
        if listeners:
            try:
                async with self.db.read() as s:
                    hidden = frozenset(await blocked_ids(s, member_id))
            except Exception:  # the database is away: the next connection reads it afresh
                log.exception("chat hub: cannot reload blocks")
                return
            for listener in listeners:
                listener.hidden = hidden

    def listener(
        self,
        member_id: int,
        pseudonym: str | None,
        hidden: frozenset[int],
        *,
        receives: bool = True,
        sign_in: str | None = None,
        community_id: int | None = None,
        mutes_apply: bool = True,
    ) -> Listener:
        return Listener(
            member_id,
            pseudonym,
            hidden,
            self.queue_size,
            receives=receives,
            sign_in=sign_in,
            community_id=community_id,
            mutes_apply=mutes_apply,
        )

    async def join(self, room_id: int, listener: Listener) -> tuple[int, list[dict[str, Any]]]:
        """Start delivering the room to `listener`. Returns the id up to which the room was
        delivered (everything after it will reach the listener) and who is here."""
        async with self._lock:
            channel = self.rooms.get(room_id) or await self._open_room(room_id)
            # No await from here on: the snapshot, the presence frame to the others and the
            # new listener's place in the room are taken together.
            channel.listeners.add(listener)
            channel.refresh_view(skip=listener)
            last_seq, members = channel.last_seq, channel.members()
        await channel.announce()
        return last_seq, members

    async def leave(self, room_id: int, listener: Listener) -> None:
        listener.left.set()
        async with self._lock:
            channel = self.rooms.get(room_id)
            if channel is None or listener not in channel.listeners:
                return
            channel.listeners.discard(listener)
            if channel.listeners:
                channel.refresh_view()
            else:
                await self._close_room(room_id)
                return
        await channel.announce()

    def delivered(self, room_id: int) -> int:
        """The id up to which this process has delivered the room (0: not open here)."""
        channel = self.rooms.get(room_id)
        return channel.last_seq if channel else 0

    def connections(self, room_id: int) -> int:
        channel = self.rooms.get(room_id)
        return len(channel.listeners) if channel else 0

    async def _open_room(self, room_id: int) -> RoomChannel:
        channel_name = service.room_channel(room_id)
        sub = await self.broker.subscribe(channel_name)
        # Read after subscribing: every id above this one is published after we listen.
        last_seq = await service.last_message_id(self.db, room_id)
        channel = self.rooms[room_id] = RoomChannel(self, room_id, sub, last_seq)
        with contextlib.suppress(Exception):
            await self.broker.publish(channel_name, {"kind": "presence_sync", "origin": self.id})
        return channel

    async def _close_room(self, room_id: int) -> None:
        channel = self.rooms.pop(room_id)
        channel.listeners.clear()
        await channel.announce()  # an empty list: the other hubs drop our members
        for task in (channel.reader, channel.filler):
            if task is not None:
                task.cancel()
        await self.broker.unsubscribe(channel.sub)

    async def _presence_rounds(self) -> None:
        while True:
            await asyncio.sleep(self.presence_every)
            cutoff = time.monotonic() - 3 * self.presence_every
            for channel in list(self.rooms.values()):
                channel.forget_silent_hubs(cutoff)
                await channel.announce()
            await self.check_sessions()


def _concerns(event: dict[str, Any], listener: Listener) -> bool:
    """Does a member event reach this connection: one sign-in's (`session`), every sign-in
    but one (`keep`), one community's rooms (`community_id`), or else all of them; a mute's,
    only where mutes apply."""
    if event.get("mute") and not listener.mutes_apply:
        return False
    if "session" in event and listener.sign_in != event["session"]:
        return False
    if "keep" in event and listener.sign_in == event["keep"]:
        return False
    return "community_id" not in event or listener.community_id == event["community_id"]
