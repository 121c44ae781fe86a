"""Web attacks, as a hostile site or a curious person at a shared computer would try them:
cross-site request forgery on every state-changing route (read from the router, so a new one
is attacked too), cross-site WebSocket hijacking, session fixation, sign-out that leaves a
session alive, open redirects, private pages in caches, tokens in logs and URLs, formula
injection in CSV exports and line injection in .ics files."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st
from starlette.applications import Starlette
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from chat.groups.ics import escape
from core.settings import Settings
from core.web.cookies import presession_cookie_name, session_cookie_name
from core.web.headers import reading_page
from identity import api as identity_api
from tests.chat.conftest import LiveServer, next_frame
from tests.helpers import PASSPHRASE, csrf, form_token, submit
from tests.security.webkit import (
    EVIL,
    SITE,
    UNSAFE,
    World,
    browser_target,
    endpoints,
    group_session,
    logged_in,
    logging_server,
    make_world,
    raw_client,
    same_site,
    server_log,
    signed_in,
)

JAR_DOMAIN = "testserver.local"  # where httpx files the cookies of http://testserver


@pytest.fixture
def settings(settings: Settings) -> Settings:
    import dataclasses

    return dataclasses.replace(settings, rate_limits="signup_network=1000/hour")


@pytest.fixture
async def world(app: Starlette) -> AsyncIterator[World]:
    found = await make_world(app)
    yield found
    await found.close()


def refusal(answer: httpx.Response) -> str | None:
    """ "cross_site" or "csrf_failed" when the CSRF layer refused the request, else None."""
    if answer.status_code != 403:
        return None
    if answer.headers.get("content-type", "").startswith("application/json"):
        code = answer.json().get("error", {}).get("code")
        return code if code in ("cross_site", "csrf_failed") else None
    if "came from another site" in answer.text:
        return "cross_site"
    if "security token" in answer.text:
        return "csrf_failed"
    return None


# --------------------------------------------------------------------------- CSRF


async def test_every_state_changing_route_refuses_a_forged_request(world: World) -> None:
    alice = world.alice
    unsafe = [
        (e, method)
        for e in endpoints(world.app.routes, world.ids)
        for method in e.methods
        if method in UNSAFE
    ]
    assert len(unsafe) > 60, "the router was not read"  # there are ~90 today
    good = await csrf(alice)
    bobs = await csrf(world.bob)
    exempt = identity_api.CSRF_EXEMPT
    assert exempt == {"/api/v1/signup", "/api/v1/login"}  # no session yet to bind a token to
    for e, method in unsafe:
        where = f"{method} {e.template}"
        forged = [
            # the member's cookie rides along; the forger can't read the token
            await alice.request(method, e.path, json={"body": "x"}),
            await alice.request(method, e.path, data={"body": "x"}),
            await alice.request(method, e.path, data={"body": "x", "csrf_token": "0" * 64}),
            # a token of the forger's own session is worthless with the member's cookie
            await alice.request(method, e.path, data={"body": "x", "csrf_token": bobs}),
            await alice.request(method, e.path, json={}, headers={"x-csrf-token": bobs}),
        ]
        for answer in forged:
            expected = None if e.path in exempt else "csrf_failed"
            assert refusal(answer) == expected, (where, answer.status_code, answer.text[:200])
        # a foreign Origin is refused even with a good token, sign-up and login included
        for headers in (
            {"origin": EVIL, "x-csrf-token": good},
            {"origin": "null", "sec-fetch-site": "cross-site", "x-csrf-token": good},
            {"origin": SITE + ".evil.example", "x-csrf-token": good},
            {"origin": "http://testserver:8080", "x-csrf-token": good},
        ):
            answer = await alice.request(method, e.path, json={}, headers=headers)
            assert refusal(answer) == "cross_site", (where, headers, answer.status_code)
    # the member was never acted for: still signed in, and nothing of theirs changed
    assert (await alice.get("/api/v1/session")).status_code == 200


async def test_the_token_is_what_lets_a_request_through(world: World) -> None:
    alice = world.alice
    token = await csrf(alice)
    preview = {"body": "hello"}
    assert refusal(await alice.post("/api/v1/preview", json=preview)) == "csrf_failed"
    answer = await alice.post("/api/v1/preview", json=preview, headers={"x-csrf-token": token})
    assert answer.status_code == 200, answer.text
    answer = await submit(alice, "/account", "/account/country", {"country": ""})
    assert answer.status_code == 303


async def test_a_bearer_header_never_borrows_the_cookie(world: World) -> None:
    # A request that names a bearer token is judged by it alone: a junk one is signed out,
    # even with a member's cookie (so no CSRF token is ever needed to act as the cookie).
    thread = world.ids["thread_id"]
    answer = await world.alice.post(
        f"/api/v1/threads/{thread}/posts",
        json={"body": "not from alice"},
        headers={"authorization": "Bearer junk"},
    )
    assert answer.status_code == 401
    view = await world.alice.get(f"/api/v1/threads/{thread}")
    assert "not from alice" not in view.text


async def test_reading_pages_changes_nothing(world: World) -> None:
    db = world.app.state.ctx.db

    async def counts() -> dict[str, int]:
        async with db.engine.connect() as conn:
            names = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
            return {
                n: (await conn.execute(sa.text(f'SELECT count(*) FROM "{n}"'))).scalar_one()
                for n in names
                if not n.startswith("post_search_")
            }

    readable = [e for e in endpoints(world.app.routes, world.ids) if "GET" in e.methods]
    assert len(readable) > 40, "the router was not read"  # there are ~60 today
    before = await counts()
    for e in readable:
        answer = await world.alice.get(e.path)
        assert answer.status_code < 500, (e.template, answer.status_code)
    after = await counts()
    changed = {n for n in before if before[n] != after[n]}
    assert changed <= {"thread_visit"}, changed  # reading a thread remembers how far you read
    assert (await world.alice.get("/api/v1/session")).status_code == 200


# --------------------------------------------------------------------------- WebSockets


async def test_another_site_cannot_open_the_chat_socket_with_the_members_cookie(
    live: LiveServer,
) -> None:
    await live.room()
    heron = await live.member("Heron")
    cookie = {"Cookie": f"{session_cookie_name(live.ctx.settings)}={heron.token}"}
    url = f"{live.ws_url}/ws/rooms/lobby"
    port = live.url.rsplit(":", 1)[1]
    for origin in (EVIL, "null", live.url + ".evil.example", f"http://localhost:{port}"):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, origin=origin, additional_headers=cookie):  # type: ignore[arg-type]
                pass
        assert refused.value.response.status_code == 403, origin
        assert json.loads(refused.value.response.body)["error"]["code"] == "cross_site"
    fetch_metadata = {**cookie, "Sec-Fetch-Site": "cross-site"}
    with pytest.raises(InvalidStatus):
        async with connect(url, additional_headers=fetch_metadata):
            pass
    async with connect(url, origin=live.url, additional_headers=cookie) as ws:  # type: ignore[arg-type]
        assert (await next_frame(ws))["you"]["pseudonym"] == "Heron"


# --------------------------------------------------------------------------- sessions


async def test_a_session_planted_before_sign_in_is_not_the_one_after(app: Starlette) -> None:
    settings = app.state.ctx.settings
    name = session_cookie_name(settings)
    attacker = await signed_in(app, "mallory-x")
    planted = attacker.cookies[name]
    victim = await signed_in(app, "victim-one")
    await victim.post("/api/v1/logout", headers={"x-csrf-token": await csrf(victim)})
    # 1. a made-up session id and pre-session cookie, planted before the login form
    victim.cookies.clear()
    victim.cookies.set(name, "planted-session-id", domain=JAR_DOMAIN)
    victim.cookies.set(presession_cookie_name(settings), "planted-presession", domain=JAR_DOMAIN)
    before = form_token((await victim.get("/login")).text)
    answer = await victim.post(
        "/login", data={"pseudonym": "victim-one", "passphrase": PASSPHRASE, "csrf_token": before}
    )
    assert answer.status_code == 303
    assert victim.cookies[name] not in ("planted-session-id", planted)
    assert (await victim.get("/api/v1/session")).json()["pseudonym"] == "victim-one"
    # a form token from before signing in is no good after it (bound to the session)
    stale = await victim.post("/account/country", data={"csrf_token": before, "country": ""})
    assert refusal(stale) == "csrf_failed"
    # 2. the attacker's own live session planted, then the victim signs in over it
    victim.cookies.clear()
    victim.cookies.set(name, planted, domain=JAR_DOMAIN)
    answer = await victim.post(
        "/api/v1/login", json={"pseudonym": "victim-one", "passphrase": PASSPHRASE}
    )
    assert answer.status_code == 200
    assert victim.cookies[name] != planted
    assert (await victim.get("/api/v1/session")).json()["pseudonym"] == "victim-one"
    # the planted id still means the attacker's own account, never the victim's
    assert (await attacker.get("/api/v1/session")).json()["pseudonym"] == "mallory-x"
    # 3. a passphrase change starts a fresh session too
    page = await victim.get("/account")
    old = victim.cookies[name]
    changed = await victim.post(
        "/account/passphrase",
        data={
            "csrf_token": form_token(page.text),
            "current_passphrase": PASSPHRASE,
            "new_passphrase": PASSPHRASE + " again",
            "new_passphrase_confirm": PASSPHRASE + " again",
        },
    )
    assert changed.status_code == 303 and victim.cookies[name] != old
    async with raw_client(app) as replay:
        replay.cookies.set(name, old, domain=JAR_DOMAIN)
        assert (await replay.get("/api/v1/session")).status_code == 401
    await attacker.aclose()
    await victim.aclose()


async def test_signing_out_kills_the_session_everywhere_it_was_used(app: Starlette) -> None:
    name = session_cookie_name(app.state.ctx.settings)
    member = await signed_in(app, "heron-one")
    cookie = member.cookies[name]
    bearer = (
        await raw_client(app).post(
            "/api/v1/login",
            json={"pseudonym": "heron-one", "passphrase": PASSPHRASE, "token": True},
        )
    ).json()["token"]
    out = await member.post("/api/v1/logout", headers={"x-csrf-token": await csrf(member)})
    assert out.status_code == 200
    assert "cookies" in out.headers["clear-site-data"]
    async with raw_client(app) as replay:
        replay.cookies.set(
            name, cookie, domain=JAR_DOMAIN
        )  # someone who copied the cookie before sign-out
        assert (await replay.get("/api/v1/session")).status_code == 401
        assert (await replay.get("/account")).status_code == 303
    # the bearer session is another sign-in: it lives until it is signed out itself …
    async with raw_client(app, authorization=f"Bearer {bearer}") as api:
        assert (await api.get("/api/v1/session")).status_code == 200
        assert (await api.post("/api/v1/logout")).status_code == 200
        assert (await api.get("/api/v1/session")).status_code == 401
    # … and "sign out everywhere" ends every session of the member at once
    phone, laptop = await logged_in(app, "heron-one"), await logged_in(app, "heron-one")
    answer = await submit(laptop, "/account", "/account/sessions/revoke", {"scope": "everywhere"})
    assert answer.status_code == 303
    for client in (phone, laptop):
        assert (await client.get("/api/v1/session")).status_code == 401
        await client.aclose()
    await member.aclose()


async def test_a_signed_out_token_cannot_open_a_chat_socket(live: LiveServer) -> None:
    await live.room()
    heron = await live.member("Heron")
    async with httpx.AsyncClient(base_url=live.url) as http:
        out = await http.post("/api/v1/logout", headers={"authorization": f"Bearer {heron.token}"})
        assert out.status_code == 200
    with pytest.raises(InvalidStatus) as refused:
        async with live.connect(heron):
            pass
    assert refused.value.response.status_code == 403


# --------------------------------------------------------------------------- redirects

REDIRECT_PAYLOADS = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "https://evil.example",
    "https:evil.example",
    "http:/\\evil.example",
    "javascript:alert(1)",
    "data:text/html,hi",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%5Cevil.example",
    "/.//evil.example",
    "\x00//evil.example",
    "/\u3002evil.example",
    "@evil.example",
    "evil.example",
]


async def test_no_redirect_parameter_leads_off_the_site(world: World) -> None:
    alice, fresh = world.alice, raw_client(world.app)
    failed = []  # what each wrong sign-in answered
    async with fresh:
        login = await fresh.get("/login")
        for payload in REDIRECT_PAYLOADS:
            # signed in: /login?next= redirects at once
            answer = await alice.get("/login", params={"next": payload})
            assert answer.status_code == 303
            assert same_site(answer.headers["location"]), (payload, answer.headers["location"])
            # signing in with a hostile next, from the query or the form
            answer = await fresh.post(
                "/login",
                params={"next": payload},
                data={
                    "pseudonym": "nobody-here",
                    "passphrase": "wrong",
                    "csrf_token": form_token(login.text),
                    "next": payload,
                },
            )
            failed.append(answer.status_code)
            assert "evil.example" not in re.sub(r'value="[^"]*"', "", answer.text), payload
            # the time-zone form's way back
            answer = await submit(
                alice, "/sessions", "/sessions/timezone", {"zone": "UTC", "next": payload}
            )
            assert answer.status_code == 303
            assert same_site(answer.headers["location"]), (payload, answer.headers["location"])
    # Wrong passphrases for one pseudonym: refused, then limited (login_member: 10 a quarter).
    assert failed == [401] * 10 + [429] * (len(REDIRECT_PAYLOADS) - 10)
    # and a real sign-in with a hostile next still lands on the site
    async with raw_client(world.app) as bob:
        answer = await submit(
            bob,
            "/login",
            "/login",
            {"pseudonym": "bob-river", "passphrase": PASSPHRASE, "next": "/\\evil.example"},
        )
        assert answer.status_code == 303 and same_site(answer.headers["location"])


def test_the_redirect_checker_itself_sees_what_a_browser_sees() -> None:
    assert not same_site("/\\evil.example") and not same_site("/\t/evil.example")
    assert not same_site("//evil.example") and not same_site("https://evil.example")
    assert same_site("/t/1?after=2#p3") and same_site("/%5Cevil.example")
    assert browser_target("//evil.example").startswith("http://evil.example")


# --------------------------------------------------------------------------- caching


async def test_nothing_personal_can_be_cached(world: World) -> None:
    pages = [e.path for e in endpoints(world.app.routes, world.ids) if "GET" in e.methods]
    assert len(pages) > 40, "the router was not read"  # there are ~60 today
    for client in (world.alice, world.moderator, world.admin):
        for path in pages:
            if path.startswith("/static/"):
                continue  # the same public files for everyone, cached by version (test_slow_link)
            answer = await client.get(path)
            kept = answer.headers.get("cache-control")
            if reading_page(path) and answer.status_code == 200:
                # what the community reads, in this browser only, checked on every visit
                # and wiped at sign-out (Clear-Site-Data)
                assert kept == "private, no-cache", (path, answer.status_code)
            else:
                assert kept == "no-store", (path, answer.status_code)
    # answers that start a session, before any session cookie was sent
    async with raw_client(world.app) as newcomer:
        page = await newcomer.get("/signup")
        assert page.headers.get("cache-control") == "no-store"  # a cookie and a form token
        answer = await newcomer.post(
            "/signup",
            data={
                "csrf_token": form_token(page.text),
                "pseudonym": "new-wren",
                "passphrase": PASSPHRASE,
                "passphrase_confirm": PASSPHRASE,
            },
        )
        assert answer.status_code == 201 and "recovery" in answer.text.lower()
        assert answer.headers.get("cache-control") == "no-store"  # the recovery codes
    async with raw_client(world.app) as api:
        answer = await api.post(
            "/api/v1/login", json={"pseudonym": "new-wren", "passphrase": PASSPHRASE}
        )
        assert answer.headers.get("cache-control") == "no-store"
    # public, cookie-less reading stays cacheable: nothing to hide there
    async with raw_client(world.app) as reader:
        assert "no-store" not in (await reader.get("/static/css/kindred.css")).headers.get(
            "cache-control", ""
        )


# --------------------------------------------------------------------------- tokens in URLs


async def test_no_session_token_ever_appears_in_a_url_or_a_page(world: World) -> None:
    secrets_ = {world.cookie(c) for c in (world.alice, world.moderator, world.admin)}
    assert all(secrets_) and len(secrets_) == 3  # three signed-in sessions, three cookies
    readable = [e for e in endpoints(world.app.routes, world.ids) if "GET" in e.methods]
    assert len(readable) > 40, "the router was not read"  # there are ~60 today
    for client in (world.alice, world.moderator, world.admin):
        for e in readable:
            answer = await client.get(e.path)
            shown = answer.text + answer.headers.get("location", "")
            assert not any(token in shown for token in secrets_), e.template


def test_the_browsers_chat_socket_carries_no_token_in_its_url() -> None:
    script = (Path(__file__).parents[2] / "static/js/chat.js").read_text()
    assert "/ws/rooms/" in script and "token=" not in script  # the cookie alone


# --------------------------------------------------------------------------- exports

FORMULAS = ['=HYPERLINK("https://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


async def test_csv_exports_escape_formulas(world: World) -> None:
    token = await csrf(world.admin)
    member_id = world.ids["member_id"]
    for reason in FORMULAS:
        answer = await world.admin.post(
            f"/api/v1/moderation/members/{member_id}/sanctions",
            json={"kind": "warn", "reason": reason},
            headers={"x-csrf-token": token},
        )
        assert answer.status_code == 201, answer.text
    export = await world.admin.get("/moderation/audit.csv")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert export.headers["content-disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(export.text)))
    cells = [cell for row in rows[1:] for cell in row]
    for reason in FORMULAS:
        assert "'" + reason in cells, reason  # kept, readable, inert
    risky = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not risky, risky


async def test_the_json_export_is_a_download_never_a_page(world: World) -> None:
    for path in ("/account/export", "/api/v1/account/export"):
        answer = await world.alice.get(path)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert json.loads(answer.text)  # well-formed
    assert "attachment" in (await world.alice.get("/account/export")).headers["content-disposition"]


# --------------------------------------------------------------------------- .ics


ICS_TITLES = [
    "Circle\r\nATTENDEE:mailto:evil@evil.example",
    "Circle\nEND:VEVENT\nBEGIN:VEVENT\nSUMMARY:fake",
    "Circle\u2028X-INJECTED:1\u2029\x0bY\x0cZ\x85W",
    "Circle\x1b[31m; a, b\\c",
]


@pytest.mark.parametrize("title", ICS_TITLES)
async def test_an_ics_file_holds_one_event_whatever_the_title(world: World, title: str) -> None:
    made = await world.alice.post(
        "/api/v1/sessions",
        json=group_session("grief", days=3, title=title, description=title),
        headers={"x-csrf-token": await csrf(world.alice)},
    )
    assert made.status_code == 201, made.text  # stored: the file must carry it safely
    session_id = made.json()["sessions"][0]["id"]
    ics = await world.alice.get(f"/sessions/{session_id}.ics")
    assert ics.status_code == 200
    raw = ics.content.decode()
    assert raw.endswith("\r\n") and "\n" not in raw.replace("\r\n", "")
    assert "\r" not in raw.replace("\r\n", "")
    lines = raw.replace("\r\n ", "").split("\r\n")[:-1]  # unfolded content lines
    for line in lines:
        assert re.fullmatch(r"[A-Z-]+[;:].*", line), repr(line)
        assert not re.search(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]", line), repr(line)
    names = [re.split(r"[;:]", line, maxsplit=1)[0] for line in lines]
    # The calendar, the one event and its reminder (a UTC session needs no VTIMEZONE).
    assert [line for line in lines if line.startswith("BEGIN")] == [
        "BEGIN:VCALENDAR",
        "BEGIN:VEVENT",
        "BEGIN:VALARM",
    ]
    assert names.count("SUMMARY") == 1
    assert "ATTENDEE" not in names and "X-INJECTED" not in names


async def test_a_title_with_a_nul_loses_its_control_characters(world: World) -> None:
    # Vetted like any member's words: the pipeline drops control characters, never the text.
    title = "Circle\x00\x1b[31m; a, b\\c"
    made = await world.alice.post(
        "/api/v1/sessions",
        json=group_session("grief", days=3, title=title, description=title),
        headers={"x-csrf-token": await csrf(world.alice)},
    )
    assert made.status_code == 201, made.text
    url = "/api/v1" + made.json()["sessions"][0]["url"]
    shown = (await world.alice.get(url)).json()["session"]
    assert shown["title"] == "Circle[31m; a, b\\c"


@examples(max_examples=300, deadline=None, derandomize=True)
@given(st.text())
def test_an_ics_text_value_is_always_one_line_without_controls(text: str) -> None:
    escaped = escape(text)
    assert len(escaped.splitlines()) <= 1
    assert not re.search(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]", escaped)


# --------------------------------------------------------------------------- logs


async def test_a_real_servers_log_holds_no_token_even_from_a_query_string(tmp_path: Path) -> None:
    # SQLite-only by nature, on either test backend (see logging_server).
    async with logging_server(tmp_path, {"KINDRED_LOG_LEVEL": "debug"}) as (server, token):
        async with httpx.AsyncClient(base_url=server.url) as http:
            cookie_login = await http.post(
                "/api/v1/login", json={"pseudonym": "quiet-heron", "passphrase": PASSPHRASE}
            )
            cookie = cookie_login.cookies[session_cookie_name(Settings(site_url=server.url))]
            await http.get(f"/c/recovery?token={token}&q={cookie}")
            await http.post("/logout", params={"token": token})  # refused: no CSRF token
        ws = server.url.replace("http://", "ws://")
        async with connect(f"{ws}/ws/rooms/recovery?token={token}", open_timeout=10) as sock:
            await sock.recv()
        with pytest.raises(InvalidStatus):
            async with connect(f"{ws}/ws/rooms/recovery?token={token}", origin=EVIL):
                pass
        with pytest.raises(InvalidStatus):
            async with connect(f"{ws}/ws/rooms/nowhere?token={token}x"):
                pass
    log = server_log(server)
    assert "WebSocket /ws/rooms/recovery?[query]" in log  # uvicorn's line, masked
    assert "GET /c/recovery 200" in log  # the access log: path, never the query
    for secret in (token, cookie, PASSPHRASE, token[:16]):
        assert secret not in log
