"""Chat across processes: the broker contract on a real Redis, two app instances sharing a
room through it, and two `kindred serve` processes on PostgreSQL + Redis."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from chat.rooms import ensure_room
from core.broker import Broker, RedisBroker, make_broker
from core.db import Database
from core.settings import Settings
from tests.chat.conftest import messages, next_frame, send, serve

# The broker contract, run here on Redis (the same test bodies as tests/core on memory).
from tests.core.test_broker import (  # noqa: F401
    test_a_full_subscriber_loses_events_instead_of_growing,
    test_channels_are_separate_and_unsubscribing_stops_delivery,
    test_events_are_json_not_shared_objects,
    test_order_is_kept_per_channel,
    test_subscribers_receive_what_is_published_after_subscribing,
)
from tests.e2e.conftest import start_server, stop_server
from tests.helpers import PASSPHRASE


@pytest.fixture
async def broker(redis_url: str) -> AsyncIterator[Broker]:
    broker = make_broker(redis_url)
    assert isinstance(broker, RedisBroker)
    await broker.start()
    yield broker
    await broker.close()


async def _sign_up(url: str, pseudonym: str) -> str:
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.post(
            "/api/v1/signup",
            json={"pseudonym": pseudonym, "passphrase": PASSPHRASE, "token": True},
        )
    assert response.status_code == 201, response.text
    return response.json()["token"]


def _ws(url: str, slug: str, token: str, after: int | None = None):  # type: ignore[no-untyped-def]
    query = f"?token={token}" + (f"&after={after}" if after is not None else "")
    return connect(url.replace("http://", "ws://") + f"/ws/rooms/{slug}{query}", open_timeout=10)


async def _sees(ws, pseudonym: str, members: list[dict]) -> None:  # type: ignore[no-untyped-def]
    """Wait until `pseudonym` is in the room as this connection knows it (hello + presence)."""
    names = [m["pseudonym"] for m in members]
    while pseudonym not in names:
        frame = await next_frame(ws, "presence")
        names += [m["pseudonym"] for m in frame["joined"]]


async def test_two_app_instances_share_a_room(pg_settings: Settings, redis_url: str) -> None:
    settings = dataclasses.replace(
        pg_settings, redis_url=redis_url, rate_limits="signup_network=1000/hour"
    )
    slug = f"shared-{secrets.token_hex(3)}"
    async with serve(settings) as a, serve(settings) as b:
        assert a.chat.hub.id != b.chat.hub.id
        room = await a.room(slug)
        heron, wren = await a.member(f"Heron{slug[-6:]}"), await b.member(f"Wren{slug[-6:]}")
        async with a.connect(heron, slug) as on_a, b.connect(wren, slug) as on_b:
            await next_frame(on_a, "hello")
            hello = await next_frame(on_b, "hello")
            await _sees(on_b, heron.pseudonym, hello["members"])
            await send(on_a, "across the wire", "x1")
            (crossed,) = await messages(on_b, 1)
            assert (crossed["client_id"], crossed["author"]["pseudonym"]) == ("x1", heron.pseudonym)
            (echo,) = await messages(on_a, 1)
            assert echo == crossed

            async def burst(ws, tag: str) -> None:  # type: ignore[no-untyped-def]
                for n in range(10):
                    await send(ws, f"{tag} {n}", f"{tag}-{n}")

            await asyncio.gather(burst(on_a, "a"), burst(on_b, "b"))
            for ws in (on_a, on_b):
                ids = [m["id"] for m in await messages(ws, 20)]
                assert ids == list(range(crossed["id"] + 1, crossed["id"] + 21))
        assert room.id is not None


@pytest.fixture
def two_processes(postgres_url: str, redis_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {
        "KINDRED_DATABASE_URL": postgres_url,
        "KINDRED_REDIS_URL": redis_url,
        "KINDRED_SECRET_KEY": "test-secret-" + "k" * 40,
        "KINDRED_RATE_LIMITS": "signup_network=1000/hour",
    }
    servers = []
    try:
        for name in ("a", "b"):  # one after the other: the first seeds the demo communities
            data = tmp_path / name
            data.mkdir()
            servers.append(start_server(data, env))
        yield servers
    finally:
        for server in servers:
            stop_server(server.process)


async def test_a_message_crosses_two_server_processes(two_processes, postgres_url: str) -> None:
    a, b = two_processes
    slug = f"proc-{secrets.token_hex(3)}"
    db = Database(postgres_url)
    try:
        await ensure_room(db, slug=slug, name="Across processes")
    finally:
        await db.close()
    heron = await _sign_up(a.url, f"Heron{slug[-6:]}")
    wren = await _sign_up(b.url, f"Wren{slug[-6:]}")
    async with _ws(a.url, slug, heron) as on_a, _ws(b.url, slug, wren) as on_b:
        await next_frame(on_a, "hello")
        await next_frame(on_b, "hello")
        await send(on_a, "hello from process A", "p1")
        (crossed,) = await messages(on_b, 1)
        assert crossed["client_id"] == "p1" and "process A" in crossed["html"]
        await send(on_b, "and back from B", "p2")
        assert [m["client_id"] for m in await messages(on_a, 2)] == ["p1", "p2"]
        last = crossed["id"] + 1
    # Wren comes back on the other process and gets what was said meanwhile.
    async with _ws(a.url, slug, heron) as on_a:
        await next_frame(on_a, "hello")
        for n in range(3):
            await send(on_a, f"while you were away {n}", f"w{n}")
        await messages(on_a, 3)
        async with _ws(a.url, slug, wren, after=last) as back:
            assert json.loads(await back.recv())["type"] == "hello"
            assert [m["client_id"] for m in await messages(back, 3)] == ["w0", "w1", "w2"]
