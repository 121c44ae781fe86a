"""Chat tests: the real app under a real uvicorn (websockets implementation) on 127.0.0.1,
in this test's event loop, talked to by the `websockets` library's asyncio client.

Running uvicorn in-process (rather than as `kindred serve`) lets a test reach into the hub
to wait for a server-side event instead of sleeping, and starts in milliseconds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect

from chat.models import Room
from chat.rooms import ensure_room
from chat.runtime import TRANSPORT_MAX_BYTES, ChatRuntime
from communities.models import Community
from core.context import AppContext
from core.settings import Settings
from kindred.app import create_app
from tests.chat.people import People, make_community
from tests.conftest import make_client
from tests.helpers import join

TIMEOUT = 10  # generous bounds for correctness only, never a speed assertion


@dataclass
class Member:
    pseudonym: str
    token: str
    id: int


@dataclass
class LiveServer:
    app: Starlette
    url: str
    server: uvicorn.Server

    @property
    def ctx(self) -> AppContext:
        return self.app.state.ctx

    @property
    def chat(self) -> ChatRuntime:
        return self.ctx.extensions["chat"]

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)

    async def member(self, pseudonym: str) -> Member:
        async with httpx.AsyncClient(base_url=self.url) as client:
            joined = await join(client, pseudonym, token=True)
        found = await _member_id(self.ctx, pseudonym)
        return Member(pseudonym, joined["token"], found)

    async def room(self, slug: str = "lobby", **options: Any) -> Room:
        return await ensure_room(
            self.ctx.db, slug=slug, name=slug.title(), description="", **options
        )

    def connect(
        self,
        member: Member | None,
        room: str = "lobby",
        *,
        after: int | None = None,
        origin: str | None = None,
        query: str = "",
        **options: Any,
    ) -> Any:
        params = [f"token={member.token}"] if member else []
        if after is not None:
            params.append(f"after={after}")
        if query:
            params.append(query)
        url = f"{self.ws_url}/ws/rooms/{room}" + ("?" + "&".join(params) if params else "")
        return connect(url, origin=origin, open_timeout=TIMEOUT, **options)  # type: ignore[arg-type]


async def _member_id(ctx: AppContext, pseudonym: str) -> int:
    from identity.accounts import find_member

    found = await find_member(ctx.db, pseudonym)
    assert found is not None and found.id is not None
    return found.id


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    # Many members sign up from 127.0.0.1 in one test; the per-network limit would stop that.
    return dataclasses.replace(settings, rate_limits="signup_network=1000/hour")


@pytest.fixture
async def live(live_settings: Settings) -> AsyncIterator[LiveServer]:
    async with serve(live_settings) as server:
        yield server


@pytest.fixture
def serve_with() -> Callable[..., Any]:
    """For tests that need their own settings: `async with serve_with(rate_limits=…) as s:`."""
    return serve


class serve:  # used like a function: `async with serve(settings) as server:`
    def __init__(self, settings: Settings, *, send_buffer: int | None = None) -> None:
        self.settings = settings
        self.send_buffer = send_buffer  # accepted sockets inherit it: a small one fills fast

    async def __aenter__(self) -> LiveServer:
        sock = socket.socket()
        if self.send_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.send_buffer)
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        app = create_app(dataclasses.replace(self.settings, site_url=url))
        config = uvicorn.Config(
            app,
            ws="websockets-sansio",
            ws_max_size=TRANSPORT_MAX_BYTES,
            ws_per_message_deflate=False,
            lifespan="on",
            log_level="warning",
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        self.task = asyncio.create_task(server.serve(sockets=[sock]))
        self.sock = sock
        async with asyncio.timeout(TIMEOUT):
            while not server.started:
                if self.task.done():
                    self.task.result()
                await asyncio.sleep(0.01)
        self.server = server
        return LiveServer(app, url, server)

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        await asyncio.wait_for(self.task, TIMEOUT)
        self.sock.close()


# --------------------------------------------------------------------------- reading frames


async def next_frame(ws: ClientConnection, *types: str, within: float = TIMEOUT) -> dict:
    """The next frame of one of `types` (any type when none given), skipping the others."""
    async with asyncio.timeout(within):
        while True:
            frame = json.loads(await ws.recv())
            if not types or frame["type"] in types:
                return frame


async def messages(ws: ClientConnection, count: int) -> list[dict]:
    return [await next_frame(ws, "message") for _ in range(count)]


async def nothing_more(ws: ClientConnection, *types: str, wait: float = 0.3) -> None:
    """Assert that no frame of these types arrives in the next `wait` seconds."""
    try:
        frame = await next_frame(ws, *types, within=wait)
    except TimeoutError:
        return
    raise AssertionError(f"unexpected frame: {frame}")


async def send(ws: ClientConnection, body: str, client_id: str | None = None, **extra: Any) -> None:
    frame = {"type": "send", "body": body, "client_id": client_id, **extra}
    await ws.send(json.dumps(frame))


async def eventually(check: Callable[[], bool | Awaitable[bool]], within: float = TIMEOUT) -> None:
    async with asyncio.timeout(within):
        while True:
            result = check()
            if isinstance(result, Awaitable):
                result = await result
            if result:
                return
            await asyncio.sleep(0.02)


# --------------------------------------------------------------------------- people


@pytest.fixture
async def community(app: Starlette) -> Community:
    return await make_community(app.state.ctx)


@pytest.fixture
async def people(app: Starlette) -> AsyncIterator[People]:
    found = People(app.state.ctx, lambda headers: make_client(app, headers=headers))
    yield found
    await found.close()
