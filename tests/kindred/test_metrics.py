"""Metrics for operators: messages and posts, pipeline decisions by reason, chat fan-out and
slow consumers — through the real app, and never anything that identifies a member."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from core.settings import Settings
from forum.communities import create_community
from identity import accounts
from kindred.app import create_app
from kindred.metrics import Metrics, MetricsMiddleware
from tests.chat.conftest import eventually, messages, next_frame, send, serve
from tests.conftest import make_client
from tests.helpers import PASSPHRASE, api_post, join

TOKEN = "metrics-token-" + "m" * 20
SCRAPE = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def metered(settings: Settings) -> AsyncIterator[Starlette]:
    app = create_app(dataclasses.replace(settings, metrics_token=TOKEN))
    async with app.router.lifespan_context(app):
        ctx = app.state.ctx
        keeper = await accounts.sign_up(ctx.db, ctx.settings, "Keeper", PASSPHRASE, is_admin=True)
        await create_community(
            ctx, keeper.signed_in.member, slug="calm", name="Calm", description="Quiet."
        )
        yield app


def sample(app: Starlette, name: str, **labels: str) -> float:
    """A counter's value; a label set nothing has counted yet reads 0."""
    return app.state.metrics.registry.get_sample_value(name, labels) or 0.0


def gauge(app: Starlette, name: str, **labels: str) -> float:
    """A gauge's value, which must be exported: a missing gauge is a failure, never 0."""
    value = app.state.metrics.registry.get_sample_value(name, labels)
    assert value is not None, f"{name}{labels} is not exported"
    return value


async def test_posts_and_decisions_are_counted_by_reason_and_nothing_more(
    metered: Starlette,
) -> None:
    async with make_client(metered) as alice:
        await join(alice, "alice-fern")
        thread = await api_post(
            alice,
            "/api/v1/communities/calm/threads",
            {"title": "Evenings are hard", "body": "My private words about my sister."},
        )
        assert thread.status_code == 201, thread.text
        replies = f"/api/v1/threads/{thread.json()['id']}/posts"
        assert (await api_post(alice, replies, {"body": "Thank you all."})).status_code == 201
        empty = await api_post(alice, replies, {"body": "   "})
        assert empty.status_code == 422
        preview = await api_post(alice, "/api/v1/preview", {"body": "just a draft"})
        assert preview.status_code == 200
        scraped = await alice.get("/metrics", headers=SCRAPE)

    assert sample(metered, "kindred_forum_posts_total", status="published") == 2
    decided = "kindred_moderation_decisions_total"
    assert sample(metered, decided, kind="post", action="publish", reason="none") == 2
    assert sample(metered, decided, kind="title", action="publish", reason="none") == 1
    assert sample(metered, decided, kind="post", action="refuse", reason="empty") == 1
    # The pseudonym chosen at sign-up is vetted too (a profile field).
    assert sample(metered, decided, kind="profile", action="publish", reason="none") == 1
    # A preview decides nothing, and the fixture's direct service call was no request.
    total = sum(
        s.value
        for metric in metered.state.metrics.registry.collect()
        if metric.name == "kindred_moderation_decisions"
        for s in metric.samples
        if s.name == decided
    )
    assert total == 5  # the name, the title, two posts, one refusal

    text = scraped.text
    assert 'kindred_forum_posts_total{status="published"} 2.0' in text
    for private in ("alice-fern", "sister", "Evenings", "203.0.113.9", TOKEN):
        assert private not in text


async def test_chat_messages_connections_and_fanout_are_counted(settings: Settings) -> None:
    live_settings = dataclasses.replace(
        settings, metrics_token=TOKEN, rate_limits="signup_network=1000/hour"
    )
    async with serve(live_settings) as live:
        room = await live.room("lobby")
        heron, wren = await live.member("Heron"), await live.member("Wren")
        app = live.app
        hub = live.chat.hub
        depth = "kindred_chat_fanout_queue_depth"
        async with live.connect(heron) as one, live.connect(wren) as two:
            for ws in (one, two):
                await next_frame(ws, "hello")
            assert gauge(app, "kindred_websocket_connections_open") == 2
            # A connection whose writer never runs (a second tab of Heron's, stuck): what
            # the room sends it waits in its send queue, and the gauges must show it.
            stuck = hub.listener(heron.id, "Heron", frozenset())
            await hub.join(room.id, stuck)
            await send(one, "hello, private words", "c1")
            await send(two, "hi back", "c2")
            for ws in (one, two):
                await messages(ws, 2)
            assert stuck.queue.qsize() == 2
            assert gauge(app, depth, queue="connections") == 2  # the live ones wrote theirs
            assert gauge(app, "kindred_chat_send_queue_deepest") == 2
            assert gauge(app, depth, queue="broker") == 0  # the room's reader has read all
            # An event handed to the room's subscription, not yet read by its reader (this
            # hub's own presence_sync: the reader reads it and does nothing).
            ours = {"kind": "presence_sync", "origin": hub.id}
            hub.rooms[room.id].sub.deliver(json.dumps(ours).encode())
            assert gauge(app, depth, queue="broker") == 1
            await eventually(lambda: gauge(app, depth, queue="broker") == 0)
            async with httpx.AsyncClient(base_url=live.url) as http:
                text = (await http.get("/metrics", headers=SCRAPE)).text
            await hub.leave(room.id, stuck)
        await eventually(lambda: gauge(app, "kindred_websocket_connections_open") == 0)

    assert sample(app, "kindred_chat_messages_total", status="published") == 2
    decided = "kindred_moderation_decisions_total"
    assert sample(app, decided, kind="chat", action="publish", reason="none") == 2
    assert 'kindred_chat_fanout_queue_depth{queue="connections"} 2.0' in text
    assert "kindred_chat_send_queue_deepest 2.0" in text
    assert "kindred_chat_slow_consumer_disconnects_total 0.0" in text
    for private in ("Heron", "Wren", "private words", heron.token, "127.0.0.1"):
        assert private not in text


async def test_a_slow_consumer_cut_off_is_counted() -> None:
    metrics = Metrics()

    async def fell_behind(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close(1013)

    async def goodbye(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close(1000)

    app = MetricsMiddleware(
        Starlette(routes=[WebSocketRoute("/slow", fell_behind), WebSocketRoute("/ok", goodbye)]),
        metrics=metrics,
    )
    for path in ("/slow", "/ok", "/slow"):
        await _visit(app, path)
    assert metrics.registry.get_sample_value("kindred_chat_slow_consumer_disconnects_total") == 2


async def _visit(app: MetricsMiddleware, path: str) -> None:
    """Connect, let the endpoint do what it does, and go."""
    received = [{"type": "websocket.connect"}]

    async def receive() -> dict:
        return received.pop(0) if received else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict) -> None:
        pass

    scope = {"type": "websocket", "path": path, "headers": [], "query_string": b""}
    await app(scope, receive, send)  # type: ignore[arg-type]


async def test_an_event_loop_stall_is_seen_and_exported(metered: Starlette) -> None:
    """A handler that blocks the loop (here, on purpose, with time.sleep) shows as a stall."""
    import asyncio
    import re
    import time

    await asyncio.sleep(0.25)  # the watch has woken a few times
    assert sample(metered, "kindred_event_loop_lag_seconds_count") >= 1
    before = sample(metered, "kindred_event_loop_stalls_total")
    time.sleep(0.3)  # noqa: ASYNC251  (on purpose: a slow synchronous call in a handler)
    await asyncio.sleep(0.15)
    assert sample(metered, "kindred_event_loop_stalls_total") >= before + 1
    async with make_client(metered) as client:
        scraped = (await client.get("/metrics", headers=SCRAPE)).text
    worst = re.search(r"^kindred_event_loop_lag_worst_seconds ([0-9.e-]+)$", scraped, re.M)
    assert worst and float(worst.group(1)) >= 0.15, worst
    # "since the previous scrape": the next one starts again from what comes after
    assert gauge(metered, "kindred_event_loop_lag_worst_seconds") < float(worst.group(1))
