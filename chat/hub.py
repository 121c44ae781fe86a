"""The fan-out hub: one per process, between the broker and this process's WebSockets.

It keeps the rooms someone here is connected to (chat/room_channel.py: one broker
subscription each, delivered in id order, with presence) and hands each event to every local
connection's bounded queue (chat/listener.py). A message frame is encoded once by its
publisher (chat/events.py) and handed to every connection as the same string. A connection
that joins gets `last_seq`, the id up to which its room has been delivered here; everything
after it reaches the connection's queue, in order, exactly once; the endpoint (chat/ws.py)
sends the backlog up to `last_seq` from the database itself. Beside the rooms, the hub
hears the members' channel: frames for one member wherever they are connected (a sanction, a
sign-out that closes their connections, a changed block list); and every presence round it
checks that the sign-ins its connections were made with still hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from datetime import timedelta
from typing import Any

from chat import history
from chat.events import MEMBERS_CHANNEL, room_channel, signed_out_frame
from chat.gates import CLOSE_GONE
from chat.listener import Listener
from chat.room_channel import RoomChannel
from core.broker import RESUMED, Broker, Subscription
from core.db import Database
from identity.blocks import blocked_ids
from identity.sessions import live_sessions

log = logging.getLogger("kindred.chat.hub")

SIGNED_OUT = json.dumps(signed_out_frame())


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
        self._members = await self.broker.subscribe(MEMBERS_CHANNEL)
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
        channel_name = room_channel(room_id)
        sub = await self.broker.subscribe(channel_name)
        # Read after subscribing: every id above this one is published after we listen.
        last_seq = await history.last_message_id(self.db, room_id)
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
