"""Privacy at rest: what Kindred keeps after a day of use, and after an account is deleted.

The day (tests/security/privacy_day.py) runs against the real `kindred serve`, logging at
debug level as an operator might, behind a trusted proxy that passes on the members'
addresses. Then everything it kept is read back: every column of every table, every file
under the data directory, the log, and (on the PostgreSQL run, where Redis holds the rate
limits and carries chat) every Redis key and value.

Run on both backends: `.venv/bin/pytest tests/security/test_privacy_at_rest.py` and again with
`KINDRED_TEST_BACKEND=postgres`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from websockets.exceptions import ConnectionClosed

from chat.models import ChatMessage
from chat.support import lifecycle as support_lifecycle
from chat.support.models import SupportRequest
from core.ratelimit import RateLimits
from core.settings import Settings
from forum.communities import create_community
from forum.models import (
    AliasBlock,
    Notification,
    Post,
    PostRevision,
    Reaction,
    Thread,
    ThreadFollow,
    ThreadVisit,
    WarningPreference,
)
from identity import accounts
from identity.models import DELETED_NAME, Member, MemberBlock, MemberSession, RecoveryCode
from kindred.app import create_app
from kindred.models import metadata
from moderation.models import AuditEntry, CheckInAsk, CheckInRequest, Report
from tests import backends
from tests.chat.conftest import LiveServer, next_frame
from tests.conftest import make_client, skip_or_fail
from tests.e2e.conftest import make_admin, start_server, stop_server
from tests.helpers import PASSPHRASE, api_post, join
from tests.security import at_rest, leaving
from tests.security.at_rest import AnonymousPost, Cell, Haystack, Schema
from tests.security.privacy_day import Day, live_a_day

ADMIN = "Site-Admin"

# Where an anonymous post may sit next to its author's id, and why. Nothing else may tie them:
# not notifications to anyone else, reports, reactions, the audit log, the search index, chat,
# sanctions, notes — nor any table added later (the scan reads the live schema).
ALLOWED_LINKS = {
    "post": "post.author_id: who wrote it; moderators see it only through an audited reveal",
    "thread": "thread.author_id: who started it; the same",
    "anonymous_alias": "which member is 'Anonymous member A' in a thread: the label's source",
    "moderation_case": "a case about the post names its author to the moderators acting on it",
    "check_in_request": "subject_id: whom a peer supporter is asked to check on (never shown)",
    "check_in_ask": "subject_id: the same, per ask, for moderators spotting harassment",
    "audit_entry": "subject_id: whose anonymity a moderator's reveal lifted, so they can be told",
}
# The author's own rows: what they follow and have read, and notices addressed to them (that
# their reply helped, that it was approved). Shown to nobody else; deleted with the account.
OWN_ROWS = {"thread_follow": "member_id", "thread_visit": "member_id", "notification": "member_id"}


@pytest.fixture
async def day(tmp_path: Path, suite_postgres: str | None) -> tuple[Day, Path, str | None]:
    data = tmp_path / "data"
    data.mkdir()
    env = {
        "KINDRED_LOG_LEVEL": "debug",
        "KINDRED_LOG_FORMAT": "text",
        # The members' addresses arrive as a reverse proxy on this machine passes them on.
        "KINDRED_TRUSTED_PROXIES": "127.0.0.1",
    }
    if suite_postgres:
        backends.empty_database(suite_postgres)
        backends.flush_redis()
        env |= {"KINDRED_DATABASE_URL": suite_postgres, "KINDRED_REDIS_URL": backends.REDIS_URL}
    server = start_server(data, env)
    try:
        passphrase = f"steady admin {secrets.token_hex(4)} lantern"
        make_admin(server, ADMIN, passphrase)
        happened = Day(server.url)
        happened.passphrases.add(passphrase)

        async def member_id(name: str) -> int:
            return await _member_id(data, suite_postgres, name)

        await live_a_day(happened, passphrase, member_id)
        if not suite_postgres:  # an operator's backup, kept in the data directory
            _kindred(server.env, "backup", str(data / "backups" / "kindred.db"))
    finally:
        stop_server(server.process)
    return happened, data, suite_postgres


def _kindred(env: dict[str, str], *args: str) -> None:
    kindred = Path(sys.executable).parent / "kindred"
    subprocess.run([str(kindred), *args], env=env, check=True, capture_output=True, timeout=60)


async def _member_id(data: Path, postgres: str | None, name: str) -> int:
    sql = "SELECT id FROM member WHERE pseudonym_key = "
    if postgres is None:
        with sqlite3.connect(data / "kindred.db") as db:
            (found,) = db.execute(sql + "?", (name.casefold(),)).fetchone()
        return int(found)
    import asyncpg

    conn = await asyncpg.connect(postgres.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return int(await conn.fetchval(sql + "$1", name.casefold()))
    finally:
        await conn.close()


async def _database(data: Path, postgres: str | None) -> list[Cell]:
    if postgres is None:
        return at_rest.sqlite_cells(data / "kindred.db")
    return await at_rest.postgres_cells(postgres)


def _secrets(day: Day) -> dict[str, str]:
    """What must be nowhere at rest, by what it is: needle → label."""
    found: dict[str, str] = {}
    for address in [*day.addresses, "127.0.0.1"]:
        found |= {form: f"address {address}" for form in at_rest.address_forms(address)}
    found |= {p: "a passphrase" for p in day.passphrases}
    for code in day.recovery_codes:
        found |= {code: "a recovery code", code.replace("-", ""): "a recovery code"}
    found |= {t: "a session token" for t in day.tokens}
    return found


def _where(haystack: Haystack, needles: dict[str, str]) -> list[str]:
    return [
        f"{label} ({needle!r}) in {haystack.name}: {c.where} {c.column} {c.row}"
        for needle, label in needles.items()
        for c in haystack.find(needle)
    ]


async def test_a_day_of_use_leaves_no_address_secret_or_anonymous_link_at_rest(day) -> None:
    happened, data, postgres = day
    database = Haystack("the database", await _database(data, postgres))
    # The server's own URL is printed for the operator to open, on the start-up lines only:
    # it is no member's address (a member's, 127.0.0.1 here too, is masked everywhere else).
    own = happened.base_url
    text = (data / "server.log").read_text()
    assert [line.split(": ", 1)[1] for line in text.splitlines() if own in line] == [
        f"open Kindred at {own} (KINDRED_SITE_URL)",
        f"Uvicorn running on {own} (Press CTRL+C to quit)",
    ]
    log = Haystack("the log", [Cell("server.log", "", "", text.replace(own, "[own URL]"))])
    files = Haystack(
        "the data directory",
        [
            dataclasses.replace(c, text=c.text.replace(own, "[own URL]"))
            if c.where == "server.log"
            else c
            for c in at_rest.file_cells(data)
        ],
    )
    redis = Haystack("Redis", at_rest.redis_cells(backends.REDIS_URL) if postgres else [])
    assert database.cells and files.cells and "POST /api/v1/signup 201" in log.cells[0].text
    if not postgres:
        backup = [c.where for c in files.find(happened.words["birchmoor"][0])]
        assert "backups/kindred.db" in backup, backup
    if postgres:  # the rate limits were counted there
        assert any("LIMITER/" in c.text for c in redis.cells), redis.cells

    # No address in any form, no passphrase, recovery code or session token, anywhere.
    needles = _secrets(happened)
    leaks = [leak for place in (database, files, log, redis) for leak in _where(place, needles)]
    # The log and Redis name no member and quote nothing a member wrote (or a token's hash).
    people = {p.name: "a pseudonym" for p in happened.people.values()}
    words = {w: "a member's words" for found in happened.words.values() for w in found}
    hashes = {hashlib.sha256(t.encode()).hexdigest(): "a token's hash" for t in happened.tokens}
    for place in (log, redis):
        leaks += _where(place, people | words | hashes)
    assert not leaks, "\n".join(leaks)

    # Nothing outside the allowed tables ties an anonymous post to its author.
    ids = {p.name: p.member_id for p in happened.people.values()}
    items = [
        AnonymousPost(
            a.post_id,
            a.thread_id,
            ids[a.author],
            a.author,
            (a.author, a.thread_id) not in happened.named,
        )
        for a in happened.anonymous
    ]
    schema = Schema.of(metadata)
    links = at_rest.anonymous_links(database.cells, schema, items, ALLOWED_LINKS, OWN_ROWS)
    assert not links, "\n".join(links)
    # (The scan sees the links that are there: with nothing allowed, it finds the authorship.)
    everywhere = at_rest.anonymous_links(database.cells, schema, items, {}, {})
    assert {"post", "thread", "anonymous_alias"} <= {line.split()[0] for line in everywhere}
    assert database.find(happened.words["birchmoor"][0]) and database.find("cedarvale")

    # Redis (the PostgreSQL run): rate-limit keys name nobody, and the post limit's hit times
    # can't tie an anonymous post to the same member's named posts.
    keys = at_rest.limiter_keys(redis.cells)
    assert not [k for k in keys if not at_rest.opaque(k)], sorted(keys)
    timed = at_rest.timing_links(database.cells, redis.cells)
    assert not timed, "\n".join(timed)

    # The member who deleted their account, erasing what they wrote: neither their pseudonym
    # nor a word of theirs is left in the database or anywhere in the data directory.
    gone = happened.erased
    left = _where(database, {gone: "their pseudonym"}) + _where(
        files, {w: "their words" for w in happened.words[gone]} | {gone: "their pseudonym"}
    )
    assert not left, "\n".join(left)


# --------------------------------------------------------------------------- leaving
#
# Each promise docs/members.md makes about deleting an account, proved on a member who used
# everything first (tests/security/leaving.py). Quotes are from the guide.


async def _rows(server: LiveServer, model: Any, *where: Any) -> list[Any]:
    async with server.ctx.db.read() as s:
        return list(await s.exec(select(model).where(*where)))


async def _delete(life: leaving.Life, choice: str) -> None:
    gone = await leaving.form(
        life.browser,
        "/account/delete",
        "/account/delete",
        {"content": choice, "confirm": "yes", "passphrase": PASSPHRASE},
    )
    assert gone.status_code == 200, gone.text


async def _signed_out(ws: Any) -> None:
    """An open chat connection of the member who left is told and closed (4003)."""
    assert (await next_frame(ws, "error"))["code"] == "signed_out"
    with pytest.raises(ConnectionClosed) as closed:
        await next_frame(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4003


async def _account_is_gone(life: leaving.Life) -> None:
    """ "Your account is a pseudonym and a passphrase … ten recovery codes … every place
    you're signed in": all of it goes, whichever choice."""
    server, wren = life.server, life.wren.member
    [member] = await _rows(server, Member, Member.id == wren.id)
    assert member.deleted_at is not None and member.pseudonym == DELETED_NAME
    assert member.pseudonym_key != "wren" and member.passphrase_hash is None
    assert not member.is_admin and not member.is_peer_supporter
    assert await _rows(server, RecoveryCode, RecoveryCode.member_id == wren.id) == []
    assert await _rows(server, MemberSession, MemberSession.member_id == wren.id) == []
    for http in (life.wren.http, life.browser):  # the bearer token and the cookie: dead
        assert (await http.get("/api/v1/session")).status_code == 401
        assert (await http.get("/api/v1/account/export")).status_code == 401
    login = {"pseudonym": "wren", "passphrase": PASSPHRASE}
    assert (await life.rowan.http.post("/api/v1/login", json=login)).status_code == 401
    # "deleting your account forgets it" (the country for helplines).
    assert member.country is None
    # Blocks both ways, follows, visits, content-warning choices, anonymous authors blocked
    # and notices to them: kept for nobody, so gone. Listed here on purpose, not read from
    # forum/lifecycle.py's forget_member (or identity's deletion): an independent oracle, so
    # a table dropped from the code's list fails this test instead of leaving it unchecked.
    for model, column in (
        (MemberBlock, MemberBlock.blocker_id),
        (MemberBlock, MemberBlock.blocked_id),
        (ThreadFollow, ThreadFollow.member_id),
        (ThreadVisit, ThreadVisit.member_id),
        (WarningPreference, WarningPreference.member_id),
        (AliasBlock, AliasBlock.member_id),
        (Notification, Notification.member_id),
    ):
        assert await _rows(server, model, column == wren.id) == [], model.__name__
    # Notices others had from them name nobody: "wren" is nowhere in the database.
    cells = await _database_of(server)
    assert not Haystack("db", cells).find("wren"), Haystack("db", cells).find("wren")


async def _database_of(server: LiveServer) -> list[Cell]:
    url = server.ctx.settings.effective_database_url
    if url.startswith("sqlite"):
        return at_rest.sqlite_cells(server.ctx.settings.data_dir / "kindred.db")
    return await at_rest.postgres_cells(url)


def _export_holds_everything(export: dict[str, Any], life: leaving.Life) -> None:
    """ "You can download everything you've written … The download includes your country …
    Your download includes what you asked about … your requests as you saw them: topic,
    note, times, status, the supporter's pseudonym and your feedback"."""
    text = json.dumps(export)
    for word in life.words:
        assert word in text, word
    assert export["member"]["country"] == "GB"
    posts = export["content"]["forum"]["posts"]
    assert {p["id"] for p in posts if p["anonymous"]} == {life.ids["wren_anonymous"]}
    [asked] = export["content"]["check_ins_asked"]
    assert (asked["kind"], asked["id"]) == ("post", life.ids["rowan_opening"])
    first = export["content"]["support"]["support_requests"][0]
    assert (first["topic"], first["supporter"], first["helped"]) == ("Grief", "oak", True)
    assert export["blocked_members"] == ["ash"]


async def test_erasing_an_account_keeps_every_promise_of_the_members_guide(live) -> None:
    life = await leaving.live(live, support="going_on")
    try:
        export = await life.wren.http.get("/api/v1/account/export")
        _export_holds_everything(export.json(), life)
        async with (
            live.connect(life.wren.member, "grief") as chat,
            live.connect(life.oak.member, life.room) as supporter,
        ):
            await next_frame(chat, "hello")
            await next_frame(supporter, "hello")
            await _delete(life, "erase")
            await _signed_out(chat)
            # "a conversation going on is ended, and the other person sees you as
            # '[deleted member]'".
            ended = await next_frame(supporter, "support")
            assert "wren" not in json.dumps(ended), ended
        await _account_is_gone(life)
        await _everything_written_is_erased(life)
        await _check_ins_are_deleted(life)
        await _support_is_erased(life)
        # "Reports you made stay with the moderators, under no name".
        [report] = await _rows(live, Report, Report.reporter_id == life.wren.member.id)
        assert report.note == leaving.REPORT_NOTE
    finally:
        await life.close()


async def _everything_written_is_erased(life: leaving.Life) -> None:
    """ "erase everything you wrote": posts (named and anonymous, with their earlier
    versions), thread titles, chat messages, reactions; others' replies stay."""
    server, wren = life.server, life.wren.member
    posts = await _rows(server, Post, Post.author_id == wren.id)
    assert len(posts) == 3 and all(
        (p.status, p.body, p.html) == ("deleted", "", "") for p in posts
    ), posts
    ids = [p.id for p in posts]
    assert await _rows(server, PostRevision, PostRevision.post_id.in_(ids)) == []  # type: ignore[union-attr]
    [thread] = await _rows(server, Thread, Thread.id == life.ids["wren_thread"])
    assert thread.title == "[erased]"
    [kept] = await _rows(server, Post, Post.id == life.ids["rowan_in_wren_thread"])
    assert kept.status == "published" and kept.body == "Thinking of you."
    assert await _rows(server, Reaction, Reaction.member_id == wren.id) == []
    messages = await _rows(server, ChatMessage, ChatMessage.author_id == wren.id)
    assert messages and all((m.status, m.body, m.html) == ("erased", "", "") for m in messages)
    # Nobody can find a word of it: not search, not a page, not the database, not (on SQLite)
    # the database's files, its write-ahead log or the full-text index's old segments.
    for word in life.words:
        found = (await life.rowan.http.get(f"/api/v1/search?q={word}")).json()["results"]
        assert found == [], word
    page = (await life.rowan.http.get(f"/t/{life.ids['rowan_thread']}")).text
    assert not [w for w in life.words if w in page]
    database = Haystack("db", await _database_of(server))
    assert not [w for w in life.words if database.find(w)]
    if server.ctx.db.is_sqlite:
        files = Haystack("files", at_rest.file_cells(server.ctx.settings.data_dir))
        assert not [(w, c.where) for w in life.words for c in files.find(w)]


async def _check_ins_are_deleted(life: leaving.Life) -> None:
    """ "If you erase your account, your asks and any requests about you are deleted"."""
    wren = life.wren.member.id
    assert await _rows(life.server, CheckInAsk, CheckInAsk.asker_id == wren) == []
    assert await _rows(life.server, CheckInAsk, CheckInAsk.subject_id == wren) == []
    assert await _rows(life.server, CheckInRequest, CheckInRequest.subject_id == wren) == []


async def _support_is_erased(life: leaving.Life) -> None:
    """ "your notes and feedback are erased … a conversation going on is ended, and the other
    person sees you as '[deleted member]'"."""
    requests = await _rows(
        life.server, SupportRequest, SupportRequest.member_id == life.wren.member.id
    )
    assert [(r.note, r.note_html, r.helped, r.feedback) for r in requests] == [
        ("", "", None, None)
    ] * 2
    assert {r.status for r in requests} == {"ended"}
    page = await life.oak.http.get(f"/support/conversations/{life.room}")
    assert page.status_code == 200 and DELETED_NAME in html.unescape(page.text)
    assert "wren" not in page.text


async def test_keeping_what_was_written_keeps_every_promise_of_the_members_guide(live) -> None:
    life = await leaving.live(live, support="waiting")
    try:
        async with live.connect(life.wren.member, "grief") as chat:
            await next_frame(chat, "hello")
            await _delete(life, "keep")
            await _signed_out(chat)
        await _account_is_gone(life)
        await _what_was_written_stays_under_deleted_member(life)
        # Check-ins: requests about them are closed (no one is there to check on); the asks
        # stay with the moderators.
        [request] = await _rows(
            live, CheckInRequest, CheckInRequest.subject_id == life.wren.member.id
        )
        assert request.closed_at is not None and request.resolution == "member_left"
        # 1:1 support: the sweeper (every minute) withdraws the request still waiting.
        await support_lifecycle.sweep(live.ctx)
        [_first, waiting] = await _rows(
            live, SupportRequest, SupportRequest.member_id == life.wren.member.id
        )
        assert waiting.status == "cancelled"
    finally:
        await life.close()


async def _what_was_written_stays_under_deleted_member(life: leaving.Life) -> None:
    """ "or leave it in place shown as '[deleted member]'": named posts, thread and chat show
    that name; anonymous posts stay anonymous; notices others had from them say it too."""
    thread = (await life.rowan.http.get(f"/api/v1/threads/{life.ids['rowan_thread']}")).json()
    by_id = {p["id"]: p for p in thread["posts"]}
    assert by_id[life.ids["wren_named"]]["author"] == DELETED_NAME
    assert by_id[life.ids["wren_anonymous"]]["author"] == "Anonymous member A"
    named = life.word("named")
    assert named in by_id[life.ids["wren_named"]]["html"]
    found = (await life.rowan.http.get(f"/api/v1/search?q={named}")).json()["results"]
    assert [r["post_id"] for r in found] == [life.ids["wren_named"]]
    own = (await life.rowan.http.get(f"/api/v1/threads/{life.ids['wren_thread']}")).json()
    assert own["author"] == DELETED_NAME and life.word("title") in own["title"]
    room = html.unescape((await life.rowan.http.get("/chat/grief")).text)
    assert life.word("chat") in room and DELETED_NAME in room and "wren" not in room
    notices = (await life.rowan.http.get("/api/v1/notifications")).json()
    actors = {n["actor"] for n in notices["notifications"]}
    assert DELETED_NAME in actors and "wren" not in actors, actors
    # A moderator who looks at who wrote the anonymous post learns only that it was someone
    # who has left.
    login = {"pseudonym": "Site-Admin", "passphrase": PASSPHRASE, "token": True}
    signed_in = await life.rowan.http.post("/api/v1/login", json=login)
    bearer = {"authorization": f"Bearer {signed_in.json()['token']}"}
    seen = await life.rowan.http.get(f"/api/v1/threads/{life.ids['rowan_thread']}", headers=bearer)
    [anonymous] = [p for p in seen.json()["posts"] if p["id"] == life.ids["wren_anonymous"]]
    assert anonymous["author_pseudonym"] == DELETED_NAME, anonymous


async def test_a_supporter_who_leaves_ends_the_conversation_for_the_member(live) -> None:
    """ "The same happens the other way round if a supporter leaves.\""""
    life = await leaving.live(live, support="going_on")
    try:
        oak = await leaving.browser_session(live, "oak")
        async with live.connect(life.wren.member, life.room) as member:
            await next_frame(member, "hello")
            gone = await leaving.form(
                oak,
                "/account/delete",
                "/account/delete",
                {"content": "erase", "confirm": "yes", "passphrase": PASSPHRASE},
            )
            assert gone.status_code == 200, gone.text
            ended = await next_frame(member, "support")
            assert "oak" not in json.dumps(ended), ended
        await oak.aclose()
        [_first, going_on] = await _rows(
            live, SupportRequest, SupportRequest.member_id == life.wren.member.id
        )
        assert going_on.status == "ended" and going_on.ended_by_id == life.oak.member.id
        # The member's note and feedback are theirs: kept. The supporter's name is not.
        assert going_on.note and life.words[-1] in going_on.note  # the second note
        page = await life.wren.http.get(f"/support/conversations/{life.room}")
        assert DELETED_NAME in html.unescape(page.text) and "oak" not in page.text
        export = (await life.wren.http.get("/api/v1/account/export")).json()
        supporters = {r["supporter"] for r in export["content"]["support"]["support_requests"]}
        assert supporters == {DELETED_NAME}
        # "the moderation log keeps the name you acted under, because staff answer for what
        # they did" — and a member ending their own conversation is logged under no name.
        log = await _rows(live, AuditEntry, AuditEntry.target_kind == "support_request")
        names = {(e.action, e.actor_name) for e in log}
        assert names == {
            ("accept_support_request", "oak"),
            ("end_support_conversation", "the member"),
        }, names
    finally:
        await life.close()


# --------------------------------------------------------------------------- the scans themselves


def test_every_form_of_an_address_is_looked_for() -> None:
    """The scans can fail: each written form of an address is a needle, found in any case."""
    v4 = at_rest.address_forms("203.0.113.57")
    assert {
        "203.0.113.57",
        "203.000.113.057",
        "57.113.0.203",
        "57.113.0.203.in-addr.arpa",
        "cb007139",
        "3405803833",
        "::ffff:cb00:7139",
    } <= v4
    v6 = at_rest.address_forms("2001:db8::57")
    assert {
        "2001:db8::57",
        "2001:0db8:0000:0000:0000:0000:0000:0057",
        "2001:db8:0:0:0:0:0:57",
        "20010db8000000000000000000000057",
        "2001:db8::/64",
        "2001:0db8:0000:0000",
    } <= v6
    for form in v4 | v6:
        cell = Cell("member", "label", "id=1", f"seen from {form.upper()} today")
        assert _where(Haystack("a table", [cell]), {form: "an address"}), form


def test_a_shared_post_counter_is_caught_tying_an_anonymous_post_to_its_author() -> None:
    """The timing scan, on a counter that holds a named and an anonymous post's hits (as the
    post limit did before anonymous posts were counted apart), and on two that don't."""

    def post(post_id: int, author: int, anonymous: bool, at: str) -> list[Cell]:
        row = {"id": post_id, "author_id": author, "anonymous": int(anonymous), "created_at": at}
        return [Cell("post", k, f"id={post_id}", str(v)) for k, v in row.items()]

    posts = [
        *post(1, 7, False, "2026-01-01 10:00:00.500000"),
        *post(2, 7, True, "2026-01-01 10:00:05.500000"),
        *post(3, 8, False, "2026-01-01 10:00:09.500000"),
    ]
    named, anonymous = "1767261600.49", "1767261605.49"  # just before each of 7's posts

    def counter(name: str, *hits: str) -> list[Cell]:
        key = f"LIMITS:LIMITER/post/{name}/30/10/minute"
        return [Cell("redis", "key", key, key)] + [Cell("redis", "list", key, h) for h in hits]

    shared = counter("m:7", anonymous, named)
    assert len(at_rest.timing_links(posts, shared)) == 1
    assert not at_rest.opaque(shared[0].row)
    apart = counter("a" * 32, named) + counter("b" * 32, anonymous)
    assert at_rest.timing_links(posts, apart) == []
    assert all(at_rest.opaque(c.row) for c in apart)


async def test_rate_limit_counters_in_redis_name_no_member_pseudonym_or_network() -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(backends.REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        skip_or_fail(f"Redis is not reachable at {backends.REDIS_URL}: {exc}")
    limits = RateLimits("on", backends.REDIS_URL, secret="a-secret-" + secrets.token_hex(8))
    name = f"quiet-heron-{secrets.token_hex(3)}"
    member = f"m:{secrets.randbelow(10**9)}"
    network = "198.51.100.0"
    try:
        before = set(await client.keys("*"))
        for action, key in (
            ("login_member", f"m:{name}"),
            ("post", member),
            ("post", f"{member}:anonymous"),
            ("chat_send", member),
            ("login_network", network),
        ):
            assert await limits.hit(action, key) is None
        stored = {k.decode() for k in set(await client.keys("*")) - before}
        assert len(stored) == 5, stored
        assert all(at_rest.opaque(k) for k in stored), stored
        assert not [k for k in stored if name in k or member in k or network in k]
        # One member's counters for different actions can't be matched by their names.
        own = {at_rest.limiter_keys([Cell("redis", "key", k, k)]).popitem()[0] for k in stored}
        parts = [k.split("/")[2] for k in own]
        assert len(set(parts)) == 5, parts
    finally:
        for key in set(await client.keys("*")) - before:
            await client.delete(key)
        await client.aclose()


async def test_anonymous_posts_are_counted_apart_and_still_limited(
    settings: Settings,
) -> None:
    app = create_app(dataclasses.replace(settings, rate_limits="post=2/10minutes"))
    async with app.router.lifespan_context(app), make_client(app) as client:
        ctx = app.state.ctx
        admin = await accounts.sign_up(
            ctx.db, ctx.settings, "Site-Admin", PASSPHRASE, is_admin=True
        )
        await create_community(ctx, admin.signed_in.member, slug="grief", name="Grief")
        await join(client, "moss-wren")
        threads = "/api/v1/communities/grief/threads"
        for anonymous in (True, True, False, False):
            body = {"title": "A day", "body": "Some words.", "anonymous": anonymous}
            assert (await api_post(client, threads, body)).status_code == 201
        for anonymous in (True, False):
            body = {"title": "A day", "body": "Some words.", "anonymous": anonymous}
            refused = await api_post(client, threads, body)
            assert refused.status_code == 429, refused.text
            assert refused.json()["error"]["code"] == "rate_limited"
