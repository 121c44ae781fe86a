"""Faults, against real servers: Redis restarted mid-chat, PostgreSQL cut off, SQLite under
concurrent writers. Each test owns what it breaks: a private `redis-server` on a spare port,
a TCP proxy in front of PostgreSQL that it can cut, a fresh SQLite file."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import html
import json
import logging
import re
import secrets
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy.engine import make_url
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidStatus

from chat.events import room_channel
from chat.history import messages_after
from core.broker import BrokerUnavailable, RedisBroker
from core.settings import Settings
from kindred.app import create_app
from tests.chat.conftest import TIMEOUT, eventually, next_frame, nothing_more, send, serve
from tests.chat.people import make_community
from tests.conftest import SITE, make_client
from tests.helpers import PASSPHRASE, api_post, form_token, join
from tests.services.conftest import PrivateRedis

# --------------------------------------------------------------------------- what we break


class CuttableProxy:
    """A TCP proxy on 127.0.0.1 in front of PostgreSQL: `cut()` refuses new connections and
    drops open ones, as a lost network would; `restore()` listens again on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.pipes: set[asyncio.StreamWriter] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    async def restore(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.pipes):
            writer.transport.abort()
        self.pipes.clear()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self.pipes |= {writer, up_writer}
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        sink.transport.abort()
        self.pipes.discard(sink)


# --------------------------------------------------------------------------- reading chat


class Inbox:
    """A member's messages as their client keeps them: by id, each once. (While Redis is away
    an author may be answered twice with the same frame; clients already ignore a known id.)"""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids: list[int] = []

    async def until(self, *client_ids: str) -> list[str]:
        """Read until all of `client_ids` arrived; returns the client_ids read, in order."""
        got: list[str] = []
        while not set(client_ids) <= set(got):
            frame = await next_frame(self.ws, "message")
            if frame["id"] in self.ids:
                continue
            assert not self.ids or frame["id"] > self.ids[-1], "out of order"
            self.ids.append(frame["id"])
            got.append(frame["client_id"])
        return got


# --------------------------------------------------------------------------- Redis


async def test_chat_goes_on_through_a_redis_restart(
    pg_settings: Settings, private_redis: PrivateRedis
) -> None:
    settings = dataclasses.replace(
        pg_settings, redis_url=private_redis.url, rate_limits="signup_network=1000/hour"
    )
    tag = secrets.token_hex(3)
    slug = f"storm-{tag}"
    async with serve(settings) as a, serve(settings) as b:
        room = await a.room(slug)
        heron, plover = await a.member(f"Heron{tag}"), await a.member(f"Plover{tag}")
        wren = await b.member(f"Wren{tag}")
        async with (
            a.connect(heron, slug) as heron_ws,
            a.connect(plover, slug) as plover_ws,
            b.connect(wren, slug) as wren_ws,
        ):
            for ws in (heron_ws, plover_ws, wren_ws):
                await next_frame(ws, "hello")
            inbox = {ws: Inbox(ws) for ws in (heron_ws, plover_ws, wren_ws)}
            await send(heron_ws, "before the storm", "before")
            for ws in inbox:
                assert await inbox[ws].until("before") == ["before"]
            before = inbox[wren_ws].ids[-1]

            private_redis.kill()
            await eventually(lambda: not a.ctx.broker.connected and not b.ctx.broker.connected)

            # Members on one worker keep talking to each other, and every send is answered.
            await send(heron_ws, "is anyone still here?", "during-1")
            for ws in (heron_ws, plover_ws):
                assert await inbox[ws].until("during-1") == ["during-1"]
            await send(plover_ws, "yes, still here", "during-2")
            for ws in (heron_ws, plover_ws):
                assert await inbox[ws].until("during-2") == ["during-2"]
            await nothing_more(wren_ws, "message", wait=0.5)  # the other worker can't hear
            # Still ready (the database answers), saying what is down; metrics say it too.
            async with httpx.AsyncClient(base_url=a.url) as http:
                ready = await http.get("/readyz")
            assert (ready.status_code, ready.text) == (200, "ready\nredis: down\n")
            assert a.app.state.metrics.registry.get_sample_value("kindred_broker_connected") == 0

            await private_redis.start()
            await eventually(lambda: a.ctx.broker.connected and b.ctx.broker.connected)
            # Both workers subscribed again by themselves, and the one that missed the
            # outage's messages caught up from the database with nothing more sent.
            assert await inbox[wren_ws].until("during-1", "during-2") == ["during-1", "during-2"]
            channel = room_channel(room.id)  # type: ignore[arg-type]
            assert await _subscribers(private_redis.url, channel) == 2

            # Across workers again, both ways.
            await send(heron_ws, "the lights are back", "after-1")
            assert await inbox[wren_ws].until("after-1") == ["after-1"]
            await send(wren_ws, "welcome back", "after-2")
            for ws in (heron_ws, plover_ws):
                assert await inbox[ws].until("after-1", "after-2") == ["after-1", "after-2"]
            await plover_ws.close()

            # Plover comes back on the other worker and resumes with nothing lost.
            async with b.connect(plover, slug, after=before) as back:
                await next_frame(back, "hello")
                resumed = await Inbox(back).until("after-2")
            expected = ["during-1", "during-2", "after-1", "after-2"]
            assert resumed == expected
            stored = await messages_after(a.ctx.db, room, before, before + 100, frozenset())
            assert [m["client_id"] for m in stored] == expected
            assert [m["id"] for m in stored] == list(range(before + 1, before + 5))


async def test_publishing_without_redis_fails_fast_but_reaches_this_process(
    private_redis: PrivateRedis,
) -> None:
    broker = RedisBroker(private_redis.url)
    await broker.start()
    try:
        sub = await broker.subscribe("kindred:test:faults")
        private_redis.kill()
        await eventually(lambda: not broker.connected)
        with pytest.raises(BrokerUnavailable):
            await asyncio.wait_for(broker.publish("kindred:test:faults", {"n": 1}), 1)
        assert await asyncio.wait_for(sub.get(), TIMEOUT) == {"n": 1}
        late = await broker.subscribe("kindred:test:late")  # opened while Redis is away
        await private_redis.start()
        # Every subscription hears that the broker was away, then live events again.
        assert await asyncio.wait_for(sub.get(), TIMEOUT) == {"kind": "resumed"}
        assert await asyncio.wait_for(late.get(), TIMEOUT) == {"kind": "resumed"}
        assert await _subscribers(private_redis.url, "kindred:test:late") == 1
        await broker.publish("kindred:test:late", {"n": 2})
        assert await asyncio.wait_for(late.get(), TIMEOUT) == {"n": 2}
    finally:
        await broker.close()


async def _subscribers(url: str, channel: str) -> int:
    client = aioredis.Redis.from_url(url)
    try:
        ((_, count),) = await client.pubsub_numsub(channel)
        return count
    finally:
        await client.aclose()


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture
async def pg_proxy(postgres_url: str) -> AsyncIterator[CuttableProxy]:
    url = make_url(postgres_url)
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.restore()
    try:
        yield proxy
    finally:
        if proxy.server is not None:
            await proxy.cut()


async def test_postgresql_cut_off_answers_503_and_loses_no_message(
    pg_settings: Settings, pg_proxy: CuttableProxy
) -> None:
    settings = _through(pg_proxy, pg_settings)
    tag = secrets.token_hex(3)
    slug = f"cut-{tag}"
    async with serve(settings) as live, httpx.AsyncClient(base_url=live.url) as http:
        room = await live.room(slug)
        heron = await live.member(f"Heron{tag}")
        signed_in = {"authorization": f"Bearer {heron.token}"}
        async with live.connect(heron, slug) as ws:
            await next_frame(ws, "hello")
            await pg_proxy.cut()

            page = await http.get("/")
            assert page.status_code == 503 and "retry-after" in page.headers
            assert "briefly unavailable" in page.text
            api = await http.get("/api/v1/communities", headers=signed_in)
            assert api.status_code == 503 and "retry-after" in api.headers
            assert api.json()["error"]["code"] == "unavailable"

            # The send is answered: not done, try again (the client keeps it in its outbox
            # and resends it after retry_after).
            await send(ws, "are you there?", "pg-1")
            error = await next_frame(ws, "error", "message")
            assert (error["type"], error["code"], error["client_id"]) == (
                "error",
                "unavailable",
                "pg-1",
            )
            assert error["retry_after"] > 0

            await pg_proxy.restore()
            await eventually(lambda: _answers(http))
            await send(ws, "are you there?", "pg-1")  # the outbox resends, same client_id
            first = await next_frame(ws, "message")
            await send(ws, "are you there?", "pg-1")  # and once more, as a retry would
            again = await next_frame(ws, "message")
            assert first["client_id"] == again["client_id"] == "pg-1"
            assert first["id"] == again["id"]
            await nothing_more(ws, "message")
        stored = await messages_after(live.ctx.db, room, 0, 100, frozenset())
        assert [m["client_id"] for m in stored] == ["pg-1"]


async def _answers(http: httpx.AsyncClient) -> bool:
    return (await http.get("/api/v1/communities")).status_code == 200


def _draft_on(page: str) -> str:
    """The text an error page gives back for the member to copy."""
    found = re.search(r'<textarea id="draft"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    return html.unescape(found.group(1)) if found else ""


def _through(proxy: CuttableProxy, pg_settings: Settings) -> Settings:
    url = make_url(pg_settings.database_url).set(host="127.0.0.1", port=proxy.port)
    return dataclasses.replace(
        pg_settings,
        database_url=url.render_as_string(hide_password=False),
        rate_limits="signup_network=1000/hour",
    )


async def test_postgresql_cut_off_gives_a_signed_in_members_form_text_back(
    pg_settings: Settings, pg_proxy: CuttableProxy, caplog: pytest.LogCaptureFixture
) -> None:
    # Found: with the database gone, a signed-in member's form failed while the app looked up
    # their session (identity's middleware, before any view read the form), and the 503 page
    # had nothing to give back: the new thread, reply, edit, chat message or support note
    # they had written was lost. The outage middleware now keeps the form it saw go by.
    tag = secrets.token_hex(3)
    slug, room = f"cut-{tag}", f"cut-room-{tag}"
    async with (
        serve(_through(pg_proxy, pg_settings)) as live,
        httpx.AsyncClient(base_url=live.url) as browser,
        httpx.AsyncClient(base_url=live.url) as app,
    ):
        await make_community(live.ctx, slug=slug, name=slug.title())
        await live.room(room)
        await join(browser, f"Wren{tag}")  # a member in a browser: a cookie and forms
        opened = await browser.post(
            f"/api/v1/communities/{slug}/threads",
            json={"title": "Evenings", "body": "How do you get through the evenings?"},
            headers={"x-csrf-token": (await browser.get("/api/v1/session")).json()["csrf_token"]},
        )
        assert opened.status_code == 201, opened.text
        thread = opened.json()["id"]
        post = (await browser.get(f"/api/v1/threads/{thread}")).json()["posts"][0]["id"]
        token = form_token((await browser.get(f"/t/{thread}")).text)
        heron = await live.member(f"Heron{tag}")
        app.headers["authorization"] = f"Bearer {heron.token}"  # an app, with a token
        forms = {
            f"/c/{slug}/new": {"title": "Nights are long", "body": "I can't sleep again tonight."},
            f"/t/{thread}/reply": {"body": "A walk after dinner helps me, most days."},
            f"/p/{post}/edit": {"body": "How do you all get through the evenings? (edited)"},
            f"/chat/{room}": {"body": "Is anyone around this evening?"},
            "/support": {"note": "I'd like to talk to someone about my brother."},
            "/sessions/new": {  # a peer supporter's, with its rules
                "title": "Sunday circle",
                "description": "An hour together, cameras off.",
                "ground_rules": "What is shared here stays here.",
            },
        }
        await pg_proxy.cut()

        for path, fields in forms.items():
            page = await browser.post(path, data={"csrf_token": token, **fields})
            assert page.status_code == 503, (path, page.status_code, page.text[:300])
            assert int(page.headers["retry-after"]) > 0
            assert "briefly unavailable, so this wasn&#39;t sent" in page.text
            given_back = _draft_on(page.text)
            for text in fields.values():  # given back, to copy
                assert text in given_back, (path, text)
        reply = f"/api/v1/threads/{thread}/posts"
        api = await app.post(reply, json={"body": "From the app."})
        assert api.status_code == 503 and int(api.headers["retry-after"]) > 0
        assert api.json()["error"]["code"] == "unavailable"
        script = await browser.post(
            reply, json={"body": "From the page's script."}, headers={"x-csrf-token": token}
        )
        assert script.status_code == 503 and script.json()["error"]["code"] == "unavailable"
        # Found too: a chat connection opened meanwhile was answered 500, with a traceback.
        with pytest.raises(InvalidStatus) as refused:
            async with live.connect(heron, room):
                pass
        assert refused.value.response.status_code == 503
        assert int(refused.value.response.headers["retry-after"]) > 0
        assert json.loads(refused.value.response.body)["error"]["code"] == "unavailable"
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text

        await pg_proxy.restore()
        await eventually(lambda: _answers(app))
        path = f"/t/{thread}/reply"
        again = await browser.post(path, data={"csrf_token": token, **forms[path]})
        assert again.status_code == 303, again.text[:300]
        posts = (await app.get(f"/api/v1/threads/{thread}")).json()["posts"]
        assert [p["html"].strip() for p in posts[1:]] == [
            "<p>A walk after dinner helps me, most days.</p>"
        ]


# --------------------------------------------------------------------------- SQLite


async def test_concurrent_writers_on_sqlite_never_see_a_locked_database(
    tmp_path: Path, migrated_sqlite: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(migrated_sqlite, data / "kindred.db")
    settings = Settings(
        data_dir=data,
        secret_key="test-secret-" + "k" * 40,
        site_url=SITE,
        new_member_posts=0,
        link_posts=0,
        rate_limits="signup_network=1000/hour;post=1000/minute",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        from forum.communities import create_community
        from identity import accounts

        ctx = app.state.ctx
        keeper = await accounts.sign_up(ctx.db, ctx.settings, "Keeper", PASSPHRASE, is_admin=True)
        await create_community(
            ctx, keeper.signed_in.member, slug="calm", name="Calm", description="d"
        )
        clients = [make_client(app) for _ in range(6)]
        try:
            for n, client in enumerate(clients):
                await join(client, f"writer-{n}")
            thread = await api_post(
                clients[0],
                "/api/v1/communities/calm/threads",
                {"title": "All at once", "body": "x"},
            )
            assert thread.status_code == 201, thread.text
            replies = f"/api/v1/threads/{thread.json()['id']}/posts"

            async def write(client: httpx.AsyncClient, n: int) -> httpx.Response:
                return await api_post(client, replies, {"body": f"reply number {n}"})

            # Another process (a backup, the CLI) holds the write lock for a moment meanwhile:
            # the busy timeout waits it out.
            other = sqlite3.connect(data / "kindred.db", isolation_level=None)
            other.execute("BEGIN IMMEDIATE")

            async def let_go() -> None:
                await asyncio.sleep(0.5)
                other.execute("COMMIT")
                other.close()

            answers, _ = await asyncio.gather(
                asyncio.gather(*(write(client, n) for n in range(5) for client in clients)),
                let_go(),
            )
        finally:
            for client in clients:
                await client.aclose()
    statuses = [response.status_code for response in answers]
    assert statuses == [201] * 30, [r.text for r in answers if r.status_code != 201][:3]
    assert not any("locked" in response.text for response in answers)
