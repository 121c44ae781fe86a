"""A worker killed outright (SIGKILL) in the middle of a busy chat, beside a second one: the
scaled setup of docs/deploy.md, two `kindred serve` processes sharing PostgreSQL and Redis.

Its members come back (one on the other worker at once, one on the killed worker once it is
restarted) with `?after=` and their outboxes, and nothing is lost: every message anyone sent
is stored once and reaches every member once, in order. (SIGTERM's drain, on one server, is
in tests/security/test_faults.py.)
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import signal
from pathlib import Path

from chat.rooms import ensure_room
from core.db import Database
from core.settings import Settings
from tests.chat.conftest import eventually
from tests.processes import (
    ChatMember,
    ServerProcess,
    acked,
    chatter,
    check_room,
    wind_down,
)
from tests.services.conftest import PrivateRedis


async def test_a_worker_killed_mid_chat_loses_nothing_for_anyone(
    pg_settings: Settings, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    # A Redis of its own: room ids start at 1 in every test database, and the shared test
    # Redis carries the rooms of whatever else runs at the same time on this machine.
    settings = dataclasses.replace(pg_settings, redis_url=private_redis.url, rate_limits="off")
    tag = secrets.token_hex(3)
    slug = f"kill-{tag}"
    db = Database(settings.effective_database_url)
    room = await ensure_room(db, slug=slug, name="Busy room")
    a = ServerProcess(settings, tmp_path / "a.log")
    b = ServerProcess(settings, tmp_path / "b.log")
    restarted = ServerProcess(settings, tmp_path / "a-again.log", port=a.port)
    stop = asyncio.Event()
    members: list[ChatMember] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        await asyncio.gather(a.start(), b.start())
        heron, plover = await a.member(f"Heron{tag}"), await a.member(f"Plover{tag}")
        wren, ibis = await b.member(f"Wren{tag}"), await b.member(f"Ibis{tag}")
        members = [heron, plover, wren, ibis]
        for member, server in ((heron, a), (plover, a), (wren, b), (ibis, b)):
            await member.connect(server.ws_url, slug)
        tasks = [asyncio.create_task(chatter(m, stop)) for m in members]
        await eventually(lambda: acked(members) >= 40)

        a.signal(signal.SIGKILL)
        assert await a.exited(within=5) == -signal.SIGKILL
        for member in (heron, plover):
            assert member.reader is not None
            await asyncio.wait_for(member.reader, 5)
            assert member.closes == [None]  # no close frame: the connection just died
        # Heron reconnects to the other worker at once; Plover keeps writing offline and
        # comes back when the killed worker is restarted on its address.
        await heron.connect(b.ws_url, slug)
        await asyncio.gather(restarted.start(), plover.connect(restarted.ws_url, slug))
        await eventually(lambda: acked(members) >= 120)
        stop.set()
        await asyncio.gather(*tasks)
        await check_room(db, room, members)
        for server in (b, restarted):
            assert "Traceback" not in server.log and " ERROR " not in server.log, server.log
    finally:
        await wind_down(stop, tasks, members)
        for server in (a, b, restarted):
            await server.stop()
        await db.close()
