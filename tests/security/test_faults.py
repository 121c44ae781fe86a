"""Faults the machine throws at a running Kindred, tried from outside: the server stopped
(SIGTERM) while members write, and a data directory that is full or read-only.

They run on the default SQLite, and on PostgreSQL with KINDRED_TEST_BACKEND=postgres. A worker
killed outright (SIGKILL) beside a second one is in tests/services/test_faults_workers.py
(it needs PostgreSQL and Redis).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import html
import re
import signal
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, update
from sqlmodel import col, select

from chat import history
from chat.events import message_event, message_frame, room_channel
from chat.models import ChatMessage, Room
from chat.rooms import ensure_room
from chat.writer import MessageWriter
from core.db import Database, utcnow
from core.settings import Settings
from forum.models import Post
from identity.models import MemberSession
from kindred.app import create_app
from tests.chat.conftest import (
    LiveServer,
    Member,
    eventually,
    messages,
    next_frame,
    nothing_more,
    send,
    serve,
)
from tests.chat.people import make_community
from tests.helpers import form_token, join
from tests.processes import (
    ChatMember,
    ServerProcess,
    acked,
    chatter,
    check_room,
    wind_down,
)

# --------------------------------------------------------------------------- SIGTERM


async def _community_with_room(settings: Settings, slug: str) -> Room:
    """A community and a chat room, made before any server runs (as an admin would)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        ctx = app.state.ctx
        await make_community(ctx, slug=slug, name=slug.title())
        return await ensure_room(ctx.db, slug=slug, name=slug.title())


class PostWriters:
    """Members replying in a thread over HTTP as fast as they are answered. A reply counts
    as stored only when it was answered 201; refused connections are simply not answered."""

    def __init__(self, url: str, token: str, thread_id: int) -> None:
        self.url = url
        self.headers = {"authorization": f"Bearer {token}"}
        self.path = f"/api/v1/threads/{thread_id}/posts"
        self.answered: set[str] = set()
        self.statuses: Counter[int] = Counter()
        self.unanswered = 0
        self.stop = asyncio.Event()

    async def write(self, writer: int) -> None:
        n = 0
        async with httpx.AsyncClient(base_url=self.url, headers=self.headers) as http:
            while not self.stop.is_set():
                n += 1
                body = f"Reply {n} from writer {writer}: thank you all for being here."
                try:
                    response = await http.post(self.path, json={"body": body})
                except httpx.TransportError:
                    self.unanswered += 1
                    await asyncio.sleep(0.05)
                    continue
                self.statuses[response.status_code] += 1
                if response.status_code == 201:
                    self.answered.add(body)


async def test_sigterm_drains_in_flight_writes_and_members_resume_losing_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    # One server: the in-process broker is its fan-out (on the PostgreSQL run too, where the
    # shared test Redis carries other runs' rooms, whose ids start at 1 like ours).
    settings = dataclasses.replace(settings, redis_url="", rate_limits="off", shutdown_timeout=5)
    room = await _community_with_room(settings, "steady")
    first = ServerProcess(settings, tmp_path / "first.log")
    # systemd's restart: the same address, the same data.
    again = ServerProcess(settings, tmp_path / "again.log", port=first.port)
    db = Database(settings.effective_database_url)
    stop = asyncio.Event()
    members: list[ChatMember] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        await first.start()
        members = [await first.member(name) for name in ("Heron", "Plover", "Wren")]
        for member in members:
            await member.connect(first.ws_url, "steady")
        async with httpx.AsyncClient(base_url=first.url) as http:
            writer = await first.member("Ibis")
            opened = await http.post(
                "/api/v1/communities/steady/threads",
                json={"title": "Still here", "body": "A thread to reply in."},
                headers={"authorization": f"Bearer {writer.token}"},
            )
        assert opened.status_code == 201, opened.text
        posts = PostWriters(first.url, writer.token, opened.json()["id"])
        tasks = [asyncio.create_task(chatter(m, stop)) for m in members]
        tasks += [asyncio.create_task(posts.write(n)) for n in range(3)]
        await eventually(lambda: acked(members) >= 30)
        await eventually(lambda: len(posts.answered) >= 10)

        first.signal(signal.SIGTERM)
        status = await first.exited(within=15)
        # uvicorn re-raises the signal once drained, so systemd sees a clean SIGTERM exit.
        assert status in (0, -signal.SIGTERM), first.log
        for member in members:
            assert member.reader is not None
            await asyncio.wait_for(member.reader, 5)
            assert member.closes == [1012], member.closes  # "service restart": come back
            # Closed by chat itself before uvicorn got to it, saying why (kindred/stopping.py).
            assert member.close_reasons == ["server restarting, reconnecting"]

        reconnecting = [m.connect(again.ws_url, "steady") for m in members]
        await asyncio.gather(again.start(), *reconnecting)
        await eventually(lambda: acked(members) >= 60)
        stop.set()
        posts.stop.set()
        await asyncio.gather(*tasks)
        await check_room(db, room, members)
        # Every reply answered 201 is stored, and nothing was stored without an answer.
        async with db.read() as s:
            bodies = (
                await s.exec(select(Post.body).where(col(Post.body).startswith("Reply ")))
            ).all()
        assert sorted(bodies) == sorted(posts.answered)
        assert set(posts.statuses) == {201}, posts.statuses
        for log in (first.log, again.log):
            assert "Traceback" not in log and " ERROR " not in log, log
    finally:
        await wind_down(stop, tasks, members)
        await first.stop()
        await again.stop()
        await db.close()


async def test_a_client_stuck_mid_request_cannot_hold_up_a_stopping_server(
    settings: Settings, tmp_path: Path
) -> None:
    # Found by this suite: uvicorn waits for every request in flight with no limit by default,
    # so one client that sends half a body (a slow link, or on purpose) kept the server from
    # stopping at all. KINDRED_SHUTDOWN_TIMEOUT bounds the wait.
    settings = dataclasses.replace(settings, shutdown_timeout=1)
    server = ServerProcess(settings, tmp_path / "server.log")
    try:
        await server.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            b"POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b'Content-Type: application/json\r\nContent-Length: 400\r\n\r\n{"pseudo'
        )
        await writer.drain()
        await asyncio.sleep(0.2)  # the server has read the headers: a request in flight
        started = asyncio.get_running_loop().time()
        server.signal(signal.SIGTERM)
        status = await server.exited(within=settings.shutdown_timeout + 8)
        took = asyncio.get_running_loop().time() - started
        assert status in (0, -signal.SIGTERM), server.log
        assert took >= settings.shutdown_timeout * 0.9  # it did wait for the request …
        answer = await asyncio.wait_for(reader.read(), 1)  # … then cut it off, unsaved
        assert not answer.startswith(b"HTTP/1.1 2"), answer
        assert "timeout graceful shutdown exceeded" in server.log  # what the operator sees
        writer.close()
    finally:
        await server.stop()


# --------------------------------------------------------------------------- full or read-only


class Storage:
    """Takes the database's room for writes away and gives it back, as the machine would.

    Tests run as root, and root ignores file modes (`chmod a-w` on the data directory stops
    nothing here), while a small filesystem would need mount privileges we don't assume. So
    SQLite itself is made to refuse, with exactly the errors a full disk and a read-only file
    give: `PRAGMA max_page_count` caps the file at its present size (SQLITE_FULL, "database or
    disk is full"), `PRAGMA query_only` makes it read-only (SQLITE_READONLY, "attempt to write
    a readonly database"). Both are set on each connection as the app takes it from its pool,
    so giving the room back needs nothing from the app: no restart, no signal.

    On PostgreSQL, read-only is what hosted services do when the disk fills up: the
    database's `default_transaction_read_only` is turned on and its sessions reset (the pool
    reconnects by itself). A truly full PostgreSQL disk (SQLSTATE 53100) can't be made
    without filling a real disk, so that case runs on SQLite only.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.fault: str | None = None
        with contextlib.closing(sqlite3.connect(":memory:")) as raw:
            (self.unlimited,) = raw.execute("PRAGMA max_page_count").fetchone()

    async def __aenter__(self) -> Storage:
        if self.db.is_sqlite:
            event.listen(self.db.engine.sync_engine, "checkout", self._on_checkout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.fault = None
        if self.db.is_sqlite:
            event.remove(self.db.engine.sync_engine, "checkout", self._on_checkout)
        else:
            await self._postgres(read_only=False)

    @contextlib.asynccontextmanager
    async def refusing(self, fault: str) -> AsyncIterator[None]:
        if fault == "full":  # free pages would take a little more; a full disk has none
            path = self.db.url.split("///", 1)[1]
            with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as raw:
                raw.execute("VACUUM")
        if not self.db.is_sqlite:
            await self._postgres(read_only=True)
        self.fault = fault
        try:
            yield
        finally:
            self.fault = None
            if not self.db.is_sqlite:
                await self._postgres(read_only=False)

    def _on_checkout(self, connection: Any, _record: Any, _proxy: Any) -> None:
        cursor = connection.cursor()
        # max_page_count is never set below the file's size: 1 means "as it is now".
        cursor.execute(f"PRAGMA max_page_count = {1 if self.fault == 'full' else self.unlimited}")
        cursor.execute(f"PRAGMA query_only = {int(self.fault == 'read_only')}")
        cursor.close()

    async def _postgres(self, *, read_only: bool) -> None:
        import asyncpg

        url = self.db.url.replace("postgresql+asyncpg://", "postgresql://", 1)
        conn = await asyncpg.connect(url, timeout=5)
        try:
            await conn.execute("SET default_transaction_read_only = off")  # this session only
            name = await conn.fetchval("SELECT current_database()")
            value = "on" if read_only else "off"
            await conn.execute(
                f'ALTER DATABASE "{name}" SET default_transaction_read_only = {value}'
            )
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await conn.close()


# Long enough to need new pages (a row this size spills to overflow pages).
WORDS = "Today was hard but I got through it, and reading here helped me more than I can say. "


@pytest.mark.parametrize("fault", ["full", "read_only"])
async def test_a_full_or_read_only_database_refuses_clearly_keeps_the_text_and_recovers(
    live_settings: Settings, fault: str
) -> None:
    if fault == "full" and not live_settings.uses_embedded_database:
        pytest.skip("a full PostgreSQL disk can't be made without filling one (see Storage)")
    async with (
        serve(live_settings) as live,
        Storage(live.ctx.db) as storage,
        httpx.AsyncClient(base_url=live.url) as http,
        httpx.AsyncClient(base_url=live.url) as browser,
    ):
        await make_community(live.ctx, slug="calm", name="Calm")
        room = await live.room("calm-chat")
        heron = await live.member("Heron")
        http.headers["authorization"] = f"Bearer {heron.token}"  # an app, with a token
        opened = await http.post(
            "/api/v1/communities/calm/threads",
            json={"title": "A long day", "body": "How is everyone?"},
        )
        assert opened.status_code == 201, opened.text
        thread_id = opened.json()["id"]
        thread, thread_api = f"/t/{thread_id}", f"/api/v1/threads/{thread_id}"
        await join(browser, "Wren")  # a member in a browser, with a cookie and forms
        reply_form = {"csrf_token": form_token((await browser.get(thread)).text)}
        # A session last used over a minute ago is marked as used on its next request: a
        # write, which must not stop anyone reading.
        async with live.ctx.db.transaction() as s:
            await s.exec(update(MemberSession).values(last_seen_at=utcnow() - timedelta(minutes=5)))
        api_text, form_text, chat_text = (f"{n} " + WORDS * 40 for n in ("api", "form", "chat"))

        async with live.connect(heron, "calm-chat") as ws:
            await next_frame(ws, "hello")
            async with storage.refusing(fault):
                api = await http.post(f"{thread_api}/posts", json={"body": api_text})
                assert api.status_code == 503, api.text
                assert int(api.headers["retry-after"]) > 0
                assert api.json()["error"]["code"] == "unavailable"
                assert "couldn't save this" in api.json()["error"]["message"]

                page = await browser.post(f"{thread}/reply", data={**reply_form, "body": form_text})
                assert page.status_code == 503 and "retry-after" in page.headers
                assert "couldn&#39;t save this" in page.text
                assert html.escape(form_text.strip()) in page.text  # given back to copy

                await send(ws, chat_text, "kept-1")
                refused = await next_frame(ws, "error", "message")
                assert (refused["type"], refused["code"], refused["client_id"]) == (
                    "error",
                    "unavailable",
                    "kept-1",
                )
                assert refused["retry_after"] > 0 and "Your text is kept" in refused["message"]

                # Reading goes on, for both members.
                assert (await browser.get(thread)).status_code == 200
                assert (await http.get(thread_api)).status_code == 200

            # Room again: the same texts go through, once each, with nothing restarted.
            again = await http.post(f"{thread_api}/posts", json={"body": api_text})
            assert again.status_code == 201, again.text
            posted = await browser.post(f"{thread}/reply", data={**reply_form, "body": form_text})
            assert posted.status_code == 303, posted.text
            await send(ws, chat_text, "kept-1")  # the outbox resends with the same client_id
            sent = await next_frame(ws, "message", "error")
            assert (sent["type"], sent["client_id"]) == ("message", "kept-1")
            await nothing_more(ws, "message")

        posts = (await http.get(thread_api)).json()["posts"]
        assert [p["html"][:8] for p in posts] == ["<p>How i", "<p>api T", "<p>form "]
        stored = await history.messages_after(live.ctx.db, room, 0, 100, frozenset())
        assert [m["client_id"] for m in stored] == ["kept-1"]


# --------------------------------------------------------------------------- locked


def _draft_on(page: str) -> str:
    """The text an error page gives back for the member to copy."""
    found = re.search(r'<textarea id="draft"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    return html.unescape(found.group(1)) if found else ""


async def test_a_database_locked_by_another_process_gives_a_signed_in_members_text_back(
    live_settings: Settings,
) -> None:
    # SQLite only, by nature: another process (a backup, the CLI) holds its one write lock.
    # PostgreSQL cut off, where the session itself can't be read, is the same test in
    # tests/services/test_faults.py. Found: the session lookup's "last used" write waited
    # out the lock and failed in identity's middleware, before any view read the form, and
    # the 503 page had no text to give back.
    if not live_settings.uses_embedded_database:
        pytest.skip("SQLite's write lock; PostgreSQL's outage is in tests/services")
    async with (
        serve(live_settings) as live,
        httpx.AsyncClient(base_url=live.url) as http,
        httpx.AsyncClient(base_url=live.url) as browser,
    ):
        db = live.ctx.db
        await make_community(live.ctx, slug="calm", name="Calm")
        heron = await live.member("Heron")
        http.headers["authorization"] = f"Bearer {heron.token}"
        opened = await http.post(
            "/api/v1/communities/calm/threads", json={"title": "Evenings", "body": "How are you?"}
        )
        assert opened.status_code == 201, opened.text
        thread = f"/t/{opened.json()['id']}"
        await join(browser, "Wren")
        token = form_token((await browser.get(thread)).text)
        reply = {"body": "I'm here too, and I'm listening."}
        new_thread = {"title": "A bad night", "body": "I couldn't sleep, again."}

        def busy_timeout(connection: Any, _record: Any, _proxy: Any) -> None:
            # The app waits 5 s for a lock (core/db.py); a test needn't wait that long.
            cursor = connection.cursor()
            cursor.execute("PRAGMA busy_timeout = 100")
            cursor.close()

        event.listen(db.engine.sync_engine, "checkout", busy_timeout)
        other = sqlite3.connect(db.url.split("///", 1)[1], isolation_level=None)
        try:
            async with db.transaction() as s:  # the session's "last used" is due a write
                await s.exec(
                    update(MemberSession).values(last_seen_at=utcnow() - timedelta(minutes=5))
                )
            other.execute("BEGIN IMMEDIATE")  # and the other process holds the write lock
            for path, fields in ((f"{thread}/reply", reply), ("/c/calm/new", new_thread)):
                page = await browser.post(path, data={"csrf_token": token, **fields})
                assert page.status_code == 503, (path, page.status_code, page.text[:300])
                assert int(page.headers["retry-after"]) > 0
                assert "this wasn&#39;t sent" in page.text
                given_back = _draft_on(page.text)
                assert all(text in given_back for text in fields.values()), given_back
            api = await http.post(f"/api/v1{thread.replace('/t/', '/threads/')}/posts", json=reply)
            assert api.status_code == 503 and int(api.headers["retry-after"]) > 0
            assert api.json()["error"]["code"] == "unavailable"
            other.execute("COMMIT")

            posted = await browser.post(f"{thread}/reply", data={"csrf_token": token, **reply})
            assert posted.status_code == 303, posted.text[:300]
        finally:
            other.close()
            event.remove(db.engine.sync_engine, "checkout", busy_timeout)
        async with db.read() as s:
            bodies = (await s.exec(select(Post.body))).all()
        assert sorted(bodies) == sorted(["How are you?", reply["body"]])


# --------------------------------------------------------------------------- between workers
# Two findings of tests/services/test_faults_workers.py, made deterministic on one server:
# what another worker did is done here by hand (a message stored, its fan-out late or never).


async def _stored_elsewhere(live: LiveServer, room: Room, author: Member, text: str) -> dict:
    """A message another worker committed: in the database, not (yet) fanned out here.
    Returns the broker event that worker publishes for it."""
    message = ChatMessage(
        room_id=room.id,  # type: ignore[arg-type]
        author_id=author.id,
        client_id=text,
        body=text,
        html=f"<p>{text}</p>",
    )
    await MessageWriter(live.ctx.db).store(message, community_id=None, held=False, crisis=False)
    frame = message_frame(message, author.pseudonym, room.slug)
    return message_event(message.seq, author.id, frame)  # type: ignore[arg-type]


async def test_resuming_on_a_worker_behind_the_one_left_sends_nothing_twice(
    live: LiveServer,
) -> None:
    # Found: a member who resumed (?after=3) on a worker whose room had not yet heard of 1-3
    # got 1-3 again when their fan-out arrived, though the protocol promises no repeats.
    room = await live.room("behind")
    wren, heron = await live.member("Wren"), await live.member("Heron")
    async with live.connect(wren, "behind") as wren_ws:
        await next_frame(wren_ws, "hello")  # this worker's room is open, at id 0
        events = [await _stored_elsewhere(live, room, wren, f"m-{n}") for n in (1, 2, 3)]
        # Heron saw 1-3 on the worker he left, and resumes here.
        async with live.connect(heron, "behind", after=3) as heron_ws:
            assert (await next_frame(heron_ws, "hello"))["last_id"] == 0
            for event in events:  # the other worker's fan-out arrives late
                await live.ctx.broker.publish(room_channel(room.id), event)  # type: ignore[arg-type]
            assert [m["id"] for m in await messages(wren_ws, 3)] == [1, 2, 3]
            await send(wren_ws, "and four", "m-4")
            assert (await next_frame(heron_ws, "message"))["id"] == 4  # not 1 again


async def test_a_message_stored_but_never_fanned_out_reaches_the_room_on_its_resend(
    live: LiveServer,
) -> None:
    # Found: a worker killed between storing a message and fanning it out left it unseen by
    # everyone still connected, until someone else happened to write; the author's resend
    # was answered to the author alone.
    room = await live.room("lost")
    wren, heron = await live.member("Wren"), await live.member("Heron")
    async with live.connect(wren, "lost") as wren_ws, live.connect(heron, "lost") as heron_ws:
        for ws in (wren_ws, heron_ws):
            await next_frame(ws, "hello")
        await _stored_elsewhere(live, room, heron, "lost-1")  # then that worker died
        await send(heron_ws, "lost-1", "lost-1")  # Heron's outbox resends it, here
        for ws in (heron_ws, wren_ws):
            got = await next_frame(ws, "message", within=3)
            assert (got["id"], got["client_id"]) == (1, "lost-1")
        await send(heron_ws, "lost-1", "lost-1")  # once more: answered, to Heron only
        assert (await next_frame(heron_ws, "message"))["id"] == 1
        await nothing_more(heron_ws, "message")
        await nothing_more(wren_ws, "message")


async def test_ids_arriving_live_while_a_gap_is_read_from_the_database_come_once(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found: with two workers publishing, a room's hub fills a gap from the database; when the
    # missing ids arrived live during that read, the read's copies stayed behind, and the hub
    # went back and delivered a whole run of ids again (the killed-worker test saw ~60 twice).
    room = await live.room("race")
    wren, heron = await live.member("Wren"), await live.member("Heron")
    async with live.connect(wren, "race") as ws:
        await next_frame(ws, "hello")
        channel = live.chat.hub.rooms[room.id]  # type: ignore[index]
        one, two, three = [await _stored_elsewhere(live, room, heron, f"r-{n}") for n in (1, 2, 3)]
        read = history.events_between

        async def read_while_they_arrive(*args: Any) -> list[dict]:
            found = await read(*args)  # the database's 1 and 2 …
            channel.on_message(one)  # … and, meanwhile, the live ones
            channel.on_message(two)
            return found

        monkeypatch.setattr(history, "events_between", read_while_they_arrive)
        channel.on_message(three)  # 3 before 1 and 2: a gap, filled from the database
        assert [m["id"] for m in await messages(ws, 3)] == [1, 2, 3]
        await eventually(lambda: channel.filler is not None and channel.filler.done())
        await nothing_more(ws, "message")
