"""Refused WebSocket upgrades are logged with the status the client got, not as errors (issue
14's listed bug: the client got 403/410, the access log said 500 and uvicorn logged "ASGI
callable returned without completing handshake").

A real `kindred serve` with its own logging is refused every way the chat socket refuses, then
its log is read. A bare uvicorn pins the library behaviour core/logs.py works around, so an
upgrade that fixes it fails here and the workaround can go."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlmodel import select
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from chat.groups.models import GroupSession
from chat.models import Room
from core.db import Database
from core.logs import INCOMPLETE_HANDSHAKE, RefusedUpgradeFilter
from core.web.accesslog import AccessLogMiddleware
from identity import accounts
from tests.security.webkit import group_session, logging_server, server_log


async def _refused(url: str, **options: object) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, open_timeout=10, **options):  # type: ignore[arg-type]
            pass
    return refused.value.response.status_code


async def _ended_session_room(url: str, data: Path, bearer: dict[str, str]) -> str:
    db = Database(f"sqlite+aiosqlite:///{data / 'kindred.db'}")
    try:
        await accounts.set_roles(db, "quiet-heron", peer_supporter=True)
        async with httpx.AsyncClient(base_url=url, headers=bearer) as http:
            made = await http.post("/api/v1/sessions", json=group_session("recovery"))
            assert made.status_code == 201, made.text
            session_id = made.json()["sessions"][0]["id"]
            cancelled = await http.post(f"/api/v1/sessions/{session_id}/cancel")
            assert cancelled.status_code == 200, cancelled.text
        async with db.read() as s:
            room = (
                await s.exec(
                    select(Room.slug)
                    .join(GroupSession, GroupSession.room_id == Room.id)  # type: ignore[arg-type]
                    .where(GroupSession.id == session_id)
                )
            ).one()
        return room
    finally:
        await db.close()


async def test_a_real_server_logs_refused_upgrades_with_their_status(tmp_path: Path) -> None:
    # SQLite-only by nature, on either test backend (see logging_server).
    async with logging_server(tmp_path) as (server, token):
        bearer = {"authorization": f"Bearer {token}"}
        ended = await _ended_session_room(server.url, server.data_dir, bearer)
        ws = server.url.replace("http://", "ws://")
        cross_site = f"{ws}/ws/rooms/recovery?token={token}"
        assert await _refused(cross_site, origin="https://evil.example") == 403
        assert await _refused(f"{ws}/ws/rooms/recovery") == 403  # signed out
        assert await _refused(f"{ws}/ws/rooms/no-such-room?token={token}") == 404
        assert await _refused(f"{ws}/ws/rooms/{ended}?token={token}") == 410
        async with connect(f"{ws}/ws/rooms/recovery?token={token}", open_timeout=10) as ok:
            await ok.recv()  # hello: the accepted case logs 101
    log = server_log(server)
    assert INCOMPLETE_HANDSHAKE not in log
    assert not re.search(r" (ERROR|CRITICAL) ", log), log
    assert token not in log
    access = re.findall(r"kindred\.access: WS (\S+) (\d+) ", log)
    assert ("/ws/rooms/recovery", "403") in access
    assert ("/ws/rooms/no-such-room", "404") in access
    assert (f"/ws/rooms/{ended}", "410") in access
    assert ("/ws/rooms/recovery", "101") in access
    assert not [a for a in access if a[1] == "500"], access
    # uvicorn's own line carries the real status too, with the query string masked
    assert re.search(r'"WebSocket /ws/rooms/no-such-room\?\[query\]" 404', log), log


# --------------------------------------------------------------------------- the pinned library


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def _deny_app(scope: Scope, receive: Receive, send: Send) -> None:
    websocket = WebSocket(scope, receive, send)
    await websocket.send_denial_response(JSONResponse({"error": {"code": "gone"}}, 410))


@pytest.fixture
async def bare_uvicorn() -> AsyncIterator[tuple[str, Collected, Collected]]:
    """uvicorn as `kindred serve` runs it (websockets-sansio), around a one-line app that
    refuses every upgrade with a 410: one handler with our filter, one without."""
    filtered, raw = Collected(), Collected()
    filtered.addFilter(RefusedUpgradeFilter())
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(filtered)
    logger.addHandler(raw)
    level = logger.level
    logger.setLevel(logging.INFO)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        AccessLogMiddleware(_deny_app),
        ws="websockets-sansio",
        lifespan="off",
        log_config=None,
        access_log=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for it
                await asyncio.sleep(0.01)
        yield f"ws://127.0.0.1:{sock.getsockname()[1]}", filtered, raw
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()
        logger.removeHandler(filtered)
        logger.removeHandler(raw)
        logger.setLevel(level)


async def test_uvicorn_still_logs_a_denial_as_an_incomplete_handshake_and_we_filter_it(
    bare_uvicorn: tuple[str, Collected, Collected],
) -> None:
    url, filtered, raw = bare_uvicorn
    assert await _refused(f"{url}/anything") == 410
    for _ in range(100):  # the line is logged when the app returns, just after the answer
        if INCOMPLETE_HANDSHAKE in raw.lines:
            break
        await asyncio.sleep(0.02)
    # If this fails, uvicorn fixed it (PR #3138): drop RefusedUpgradeFilter from core/logs.py.
    assert INCOMPLETE_HANDSHAKE in raw.lines
    assert INCOMPLETE_HANDSHAKE not in filtered.lines
    assert any("410" in line for line in filtered.lines)  # uvicorn's own line, kept


async def test_the_filter_keeps_the_line_when_nothing_was_refused() -> None:
    # An app that returns without answering at all is a real bug: the error must stay.
    record = logging.LogRecord(
        "uvicorn.error", logging.ERROR, __file__, 1, INCOMPLETE_HANDSHAKE, None, None
    )
    assert RefusedUpgradeFilter().filter(record) is True
