"""Kindred as operators run it: `kindred serve` in a process of its own, for the fault tests
that signal a server (SIGTERM, SIGKILL) or run two of them on one database.

Each server listens on 127.0.0.1 only, writes its log to a file the test can read, and is
killed by `stop()` (call it in `finally`) whatever the test did: no process outlives a test.
The chat client here behaves as the reference client (static/js/chat.js) does: what it sends
waits in an outbox until the server answers with the message's id, it remembers the largest
id it has seen, and when its connection drops it reconnects with `?after=` and sends its
outbox again with the same client_ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chat.history import last_message_id, messages_after
from chat.models import Room
from core.db import Database
from core.settings import Settings, env_name
from tests.chat.conftest import eventually
from tests.helpers import join

TIMEOUT = 20  # a bound for correctness only: startup takes ~3 s on a quiet machine
KINDRED = Path(sys.executable).parent / "kindred"


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives `kindred serve` these settings (and nothing inherited)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("KINDRED_")}
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        env[env_name(field.name)] = ",".join(value) if isinstance(value, tuple) else str(value)
    return env


class ServerProcess:
    """One `kindred serve` process. `start()` waits until /healthz answers."""

    def __init__(self, settings: Settings, log: Path, *, port: int | None = None) -> None:
        self.port = port or spare_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = dataclasses.replace(settings, site_url=self.url)
        self.log_path = log
        self.process: asyncio.subprocess.Process | None = None

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *(str(KINDRED), "serve", "--host", "127.0.0.1", "--port", str(self.port)),
                env=settings_env(self.settings),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a signal meant for pytest never reaches it
            )
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as http:
            try:
                async with asyncio.timeout(TIMEOUT):
                    while True:
                        if self.process.returncode is not None:
                            raise RuntimeError(f"kindred serve exited:\n{self.log}")
                        with contextlib.suppress(httpx.TransportError):
                            if (await http.get("/healthz")).status_code == 200:
                                return
                        await asyncio.sleep(0.05)
            except BaseException:
                await self.stop()
                raise

    def signal(self, sig: int) -> None:
        assert self.process is not None and self.process.returncode is None
        self.process.send_signal(sig)

    async def exited(self, within: float) -> int:
        """The exit status, once the process has ended (TimeoutError after `within` s)."""
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), within)

    async def stop(self) -> None:
        """Kill it if it still runs (call in `finally`: no test leaves a server behind)."""
        if self.process is None:
            return
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.process.wait(), TIMEOUT)

    async def member(self, pseudonym: str) -> ChatMember:
        async with httpx.AsyncClient(base_url=self.url) as http:
            joined = await join(http, pseudonym, token=True)
        return ChatMember(pseudonym, joined["token"])


class ChatMember:
    """One member's chat client (see the module's docstring)."""

    def __init__(self, pseudonym: str, token: str) -> None:
        self.pseudonym = pseudonym
        self.token = token
        self.arrivals: list[int] = []  # every message frame's id, in the order received
        self.copies: Counter[int] = Counter()
        self.outbox: dict[str, str] = {}  # client_id → body, until answered with an id
        self.sent: dict[str, str] = {}  # every client_id this member ever sent → body
        self.resent: set[str] = set()  # client_ids sent again after a reconnection
        self.acked: dict[str, int] = {}  # client_id → the id the server answered with
        self.errors: list[dict[str, Any]] = []
        self.closes: list[int | None] = []  # close codes received from the server
        self.close_reasons: list[str | None] = []  # and the reasons sent with them
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None

    @property
    def last_id(self) -> int:
        return max(self.arrivals, default=0)

    @property
    def live(self) -> bool:
        return self.reader is not None and not self.reader.done()

    async def connect(self, ws_url: str, room: str, *, within: float = TIMEOUT) -> None:
        """Connect (retrying while the server is away), resume after the last id seen, and
        send the outbox again, as the reference client does on `hello`."""
        url = f"{ws_url}/ws/rooms/{room}?token={self.token}&after={self.last_id}"
        async with asyncio.timeout(within):
            while True:
                try:
                    ws = await connect(url, open_timeout=5)
                    break
                except (OSError, InvalidStatus, TimeoutError):
                    await asyncio.sleep(0.1)  # refused or not up yet: try again
            hello = json.loads(await ws.recv())
        assert hello["type"] == "hello", hello
        self.ws = ws
        self.reader = asyncio.create_task(self._read(ws))
        for client_id, body in list(self.outbox.items()):
            self.resent.add(client_id)
            await self._send(client_id, body)

    async def send(self, body: str) -> None:
        client_id = uuid.uuid4().hex
        self.outbox[client_id] = self.sent[client_id] = body
        if self.live:  # offline, it waits in the outbox for the next `hello`
            await self._send(client_id, body)

    async def _send(self, client_id: str, body: str) -> None:
        assert self.ws is not None
        with contextlib.suppress(ConnectionClosed):  # answered after the reconnection
            await self.ws.send(json.dumps({"type": "send", "body": body, "client_id": client_id}))

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "message":
                    self.arrivals.append(frame["id"])
                    self.copies[frame["id"]] += 1
                    mine = frame["author"]["pseudonym"] == self.pseudonym
                    if mine and frame["client_id"] in self.outbox:
                        del self.outbox[frame["client_id"]]
                        self.acked[frame["client_id"]] = frame["id"]
                elif frame["type"] == "error":
                    self.errors.append(frame)
        except ConnectionClosed:
            pass
        received = ws.protocol.close_rcvd  # None: the connection just dropped
        self.closes.append(received.code if received is not None else None)
        self.close_reasons.append(received.reason if received is not None else None)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await asyncio.wait_for(self.reader, TIMEOUT)

    def check_delivery(self, room_ids: list[int]) -> None:
        """Everything the room holds arrived here once and in order; the only repeats are
        the server's answers to this member's own resends (which repeat the original)."""
        first = list(dict.fromkeys(self.arrivals))
        assert first == room_ids, f"{self.pseudonym}: got {first}, the room holds {room_ids}"
        repeats = {seq for seq, n in self.copies.items() if n > 1}
        answers = {self.acked[cid] for cid in self.resent if cid in self.acked}
        assert repeats <= answers, f"{self.pseudonym}: {sorted(repeats - answers)} twice"
        assert not self.outbox, f"{self.pseudonym}: never answered: {list(self.outbox)}"
        assert not self.errors, f"{self.pseudonym}: {self.errors[:3]}"


async def chatter(member: ChatMember, stop: asyncio.Event, every: float = 0.04) -> None:
    """Send messages until `stop`, online or not (offline ones wait in the outbox)."""
    n = 0
    while not stop.is_set():
        n += 1
        await member.send(f"{member.pseudonym} says hello, number {n}")
        await asyncio.sleep(every)


async def drained(
    members: list[ChatMember], newest: Callable[[], Awaitable[int]], within: float = TIMEOUT
) -> None:
    """Wait until every outbox is answered and every member has seen the room's newest id
    (`newest()` reads it from the database)."""
    try:
        async with asyncio.timeout(within):
            await eventually(lambda: not any(m.outbox for m in members), within)
            last = await newest()
            await eventually(lambda: all(m.last_id >= last for m in members), within)
    except TimeoutError:
        state = {m.pseudonym: (m.last_id, list(m.outbox), m.errors[:2]) for m in members}
        raise AssertionError(f"never drained: (last id, outbox, errors) {state}") from None


def acked(members: list[ChatMember]) -> int:
    """How many of the members' messages the server has answered with an id."""
    return sum(len(m.acked) for m in members)


async def check_room(db: Database, room: Room, members: list[ChatMember]) -> None:
    """Once the chatter has stopped: every outbox is answered, the room holds ids 1..n with
    no gap, every member saw all of them once and in order, and every message anyone sent
    is stored exactly once."""
    room_id = room.id
    assert room_id is not None
    await drained(members, lambda: last_message_id(db, room_id))
    newest = await last_message_id(db, room_id)
    stored = await messages_after(db, room, 0, newest, frozenset())
    room_ids = [m["id"] for m in stored]
    assert room_ids == list(range(1, newest + 1))
    for member in members:
        member.check_delivery(room_ids)
    sent = {client_id for m in members for client_id in m.sent}
    assert sorted(m["client_id"] for m in stored) == sorted(sent)  # each exactly once


async def wind_down(
    stop: asyncio.Event, tasks: list[asyncio.Task[None]], members: list[ChatMember]
) -> None:
    """For `finally`: stop the chatter, cancel what still runs and close every member's
    connection, quietly (a failure here would hide the test's own)."""
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for member in members:
        with contextlib.suppress(Exception):
            await member.close()
