"""Numbers, ids and dates out of range get a clear 4xx (or an `invalid` error frame), never a
500 or a dropped connection (issue 14's listed bug). The rule lives in core/web/params.py:
these tests attack it from every side a request comes in by — a path, a query string, a
form, a JSON body, a chat frame — and pin the parser itself with Hypothesis."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlmodel import select
from starlette.applications import Starlette
from starlette.routing import Route

from chat.groups.models import GroupSession
from chat.rooms import ensure_room
from core.settings import Settings
from core.web.params import (
    MAX_ID,
    BadParameter,
    check_routes,
    json_int,
    loose_int,
    parse_day,
    parse_int,
)
from identity import accounts
from moderation.models import Report
from tests.chat.conftest import LiveServer, next_frame
from tests.chat.people import People, make_community
from tests.helpers import PASSPHRASE, csrf, submit
from tests.security.webkit import make_world, raw_client

HUGE = "9" * 25  # beyond 64 bits
JUST_PAST = str(MAX_ID + 1)  # beyond PostgreSQL's integer, inside SQLite's


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, rate_limits="signup_network=1000/hour")


@pytest.fixture
async def people(app: Starlette) -> AsyncIterator[People]:
    found = People(app.state.ctx, lambda headers: raw_client(app, **headers))
    yield found
    await found.close()


# --------------------------------------------------------------------------- paths


PATH_READS = [
    "/api/v1/threads/{n}",
    "/t/{n}",
    "/sessions/{n}",
    "/sessions/{n}.ics",
    "/api/v1/sessions/{n}",
    "/api/v1/support/requests/{n}",
    "/p/{n}/history",
    "/moderation/members/{n}",
]
PATH_WRITES = [
    "/api/v1/threads/{n}/posts",
    "/api/v1/posts/{n}/reactions",
    "/api/v1/sessions/{n}/rsvp",
    "/api/v1/support/requests/{n}/accept",
    "/api/v1/moderation/cases/{n}/actions",
]


async def test_an_id_past_any_column_is_a_page_that_does_not_exist(
    app: Starlette, people: People
) -> None:
    await make_community(app.state.ctx)
    member = await people.member("Heron")
    for number in (HUGE, JUST_PAST, "0" * 40 + "1" + "0" * 12):
        for path in PATH_READS:
            answer = await member.get(path.format(n=number))
            assert answer.status_code == 404, (path, number, answer.text)
            if path.startswith("/api/"):
                assert answer.json()["error"]["code"] == "not_found"
        for path in PATH_WRITES:
            body = {"body": "hello", "kind": "thanks"}
            answer = await member.post(path.format(n=number), json=body)
            assert answer.status_code == 404, (path, number, answer.text)


async def test_every_route_of_the_app_has_bounded_path_ids(app: Starlette) -> None:
    check_routes(app.routes)  # what create_app runs; a route built too early fails here

    async def endpoint(request: object) -> None: ...

    from starlette.convertors import IntegerConvertor, StringConvertor

    early = Route("/early/{id:int}", endpoint)
    early.param_convertors["id"] = IntegerConvertor()  # as if built before core.web loaded
    with pytest.raises(RuntimeError, match="early"):
        check_routes([early])
    early = Route("/early/{slug}", endpoint)
    early.param_convertors["slug"] = StringConvertor()
    with pytest.raises(RuntimeError, match="early"):
        check_routes([early])


# --------------------------------------------------------------------------- queries, forms, JSON


async def test_a_chat_page_with_odd_digits_in_before_still_shows(
    app: Starlette, people: People
) -> None:
    await ensure_room(app.state.ctx.db, slug="lobby", name="Lobby", description="")
    member = await people.member("Heron")
    for before in ("²", "١٢", HUGE, "-3", "1_000", " 7"):
        answer = await member.get("/chat/lobby", params={"before": before})
        assert answer.status_code == 200, (before, answer.status_code)


async def test_json_numbers_past_any_column_are_422_naming_the_field(
    app: Starlette, people: People
) -> None:
    await make_community(app.state.ctx)
    member = await people.member("Heron")
    for number in (10**30, -(10**30), MAX_ID + 1):
        answer = await member.post(
            "/api/v1/reports", json={"kind": "post", "id": number, "reason": "spam"}
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"] == {
            "code": "invalid_field",
            "message": answer.json()["error"]["message"],
            "field": "id",
        }


async def test_the_moderation_queue_filter_past_any_id_is_422(
    app: Starlette, people: People
) -> None:
    member = await people.member("Heron")
    answer = await member.get("/api/v1/moderation/queue", params={"community": HUGE})
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "community"


async def _thread(app: Starlette, people: People) -> tuple[httpx.AsyncClient, int]:
    await make_community(app.state.ctx)
    member = await people.member("Heron")
    made = await member.post(
        "/api/v1/communities/grief/threads", json={"title": "Hello", "body": "First words."}
    )
    assert made.status_code == 201, made.text
    return member, made.json()["id"]


async def test_after_past_any_post_id_is_422_naming_it(app: Starlette, people: People) -> None:
    member, thread_id = await _thread(app, people)
    for after in (HUGE, JUST_PAST, "²", "-1", "1_0", "9" * 5000):
        answer = await member.get(f"/api/v1/threads/{thread_id}", params={"after": after})
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["field"] == "after"
        page = await member.get(f"/t/{thread_id}", params={"after": after})
        assert page.status_code == 422, page.status_code
        assert "&#39;after&#39; must be a whole number" in page.text
    last = await member.get(f"/api/v1/threads/{thread_id}", params={"after": str(MAX_ID)})
    assert last.status_code == 200 and last.json()["posts"] == []


async def test_a_forged_thread_list_cursor_is_the_first_page_not_a_500(
    app: Starlette, people: People
) -> None:
    import base64

    member, thread_id = await _thread(app, people)
    listed = "/api/v1/communities/grief/threads"
    first = (await member.get(listed)).json()
    assert [t["id"] for t in first["threads"]] == [thread_id]
    for raw in (
        f"2026-01-01T00:00:00+00:00|{HUGE}",
        "9999-12-31T23:59:59|1",
        "9999-12-31T23:59:59-14:00|1",
        "0001-01-01T00:00:00+14:00|1",
        "x|y",
        "|",
        "",
    ):
        cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
        answer = await member.get(listed, params={"cursor": cursor})
        assert answer.status_code == 200, (raw, answer.status_code)
        assert answer.json() == first, raw
        page = await member.get("/c/grief", params={"cursor": cursor})
        assert page.status_code == 200, (raw, page.status_code)
        assert f'href="/t/{thread_id}"' in page.text, raw
    for junk in ("%%%", "é", "A" * 5000):
        answer = await member.get(listed, params={"cursor": junk})
        assert answer.status_code == 200, (junk, answer.status_code)
        assert answer.json() == first, junk


# --------------------------------------------------------------------------- NUL characters


async def test_a_nul_character_anywhere_is_a_4xx_on_both_databases(app: Starlette) -> None:
    # PostgreSQL can't store U+0000 and answered these with a driver error (500); SQLite
    # stored it. Now: a page that doesn't exist in a path, a 422 anywhere else, on both.
    world = await make_world(app)
    alice, h = world.alice, {"x-csrf-token": await csrf(world.alice)}
    for path in ("/c/%00", "/chat/gr%00ief", "/api/v1/communities/%00/threads", "/c/a%1Fb"):
        assert (await alice.get(path)).status_code == 404, path
    for path in ("/sessions?community=%00", "/api/v1/sessions?community=%00"):
        answer = await alice.get(path)
        assert answer.status_code == 422, (path, answer.status_code)
    post = int(world.ids["post_id"])
    writes = [
        ("/api/v1/login", {"pseudonym": "a\x00b", "passphrase": PASSPHRASE}),
        ("/api/v1/reports", {"kind": "chat_message", "id": 1, "room": "g\x00", "reason": "spam"}),
    ]
    for path, body in writes:
        answer = await alice.post(path, json=body, headers=h)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["error"]["code"] == "invalid_text"
    answer = await submit(alice, "/account", "/account/blocks", {"block": "bob\x00"})
    assert answer.status_code == 422 and "NUL" in answer.text
    # text that goes through the content pipeline loses its control characters there: a
    # report's note is vetted like any other words
    note = {"kind": "post", "id": post, "reason": "other", "note": "n\x00ote"}
    reported = await alice.post("/api/v1/reports", json=note, headers=h)
    assert reported.status_code == 201, reported.text
    async with app.state.ctx.db.read() as s:
        notes = list(await s.exec(select(Report.note)))
    assert notes == ["note"]
    made = await alice.post(
        "/api/v1/communities/grief/threads", json={"title": "t\x00", "body": "b\x00c"}, headers=h
    )
    assert made.status_code == 201 and "\x00" not in made.text


async def test_a_session_title_with_a_nul_loses_it_in_the_pipeline(app: Starlette) -> None:
    # A session's title and description are a member's words, vetted like any other: the
    # pipeline drops control characters (as it does from posts) rather than refusing.
    world = await make_world(app)
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    answer = await world.alice.post(
        "/api/v1/sessions",
        json=_session(day, timezone="UTC", title="Circle\x00", description="a\x00b"),
        headers={"x-csrf-token": await csrf(world.alice)},
    )
    assert answer.status_code == 201, answer.text
    url = answer.json()["sessions"][0]["url"]
    shown = (await world.alice.get(f"/api/v1{url}")).json()["session"]
    assert shown["title"] == "Circle"
    async with app.state.ctx.db.read() as s:
        stored = await s.get(GroupSession, shown["id"])
    assert stored is not None and stored.description == "ab"


# --------------------------------------------------------------------------- dates


async def _supporter(app: Starlette, people: People) -> httpx.AsyncClient:
    await make_community(app.state.ctx)
    lead = await people.member("Lantern")
    await accounts.set_roles(app.state.ctx.db, "Lantern", peer_supporter=True)
    return lead


def _session(day: str, **extra: object) -> dict[str, object]:
    return {
        "community": "grief",
        "title": "Evening circle",
        "ground_rules": "1. Be kind.",
        "date": day,
        "time": "23:30",
        "timezone": "Pacific/Kiritimati",
        "duration_minutes": 240,
        "capacity": 8,
        **extra,
    }


@pytest.mark.parametrize(
    "day", ["9999-12-31", "0001-01-01", "+10000-01-01", "2027-02-30", "99999-01-01"]
)
async def test_a_session_at_the_ends_of_the_calendar_is_refused_with_a_reason(
    app: Starlette, people: People, day: str
) -> None:
    lead = await _supporter(app, people)
    answer = await lead.post("/api/v1/sessions", json=_session(day, weeks=26))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "invalid_time"
    assert "date" in answer.json()["error"]["message"]


async def test_a_session_two_years_ahead_is_fine_and_the_next_day_is_not(
    app: Starlette, people: People
) -> None:
    lead = await _supporter(app, people)
    last = date.today() + timedelta(days=2 * 365)
    ok = await lead.post("/api/v1/sessions", json=_session(last.isoformat(), timezone="UTC"))
    assert ok.status_code == 201, ok.text
    late = (last + timedelta(days=1)).isoformat()
    assert (await lead.post("/api/v1/sessions", json=_session(late))).status_code == 422
    page = await lead.get(f"/sessions/{ok.json()['sessions'][0]['id']}.ics")
    assert page.status_code == 200
    async with app.state.ctx.db.read() as s:
        stored = await s.get(GroupSession, ok.json()["sessions"][0]["id"])
    assert stored is not None and stored.starts_at.date() == last


async def test_numbers_in_the_schedule_form_with_odd_digits_are_refused_not_crashed(
    app: Starlette, people: People
) -> None:
    lead = await _supporter(app, people)
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    for value in ("²", HUGE, "-5", "1e3", "NaN"):
        body = _session(day, timezone="UTC", capacity=value, duration_minutes=value)
        answer = await lead.post("/api/v1/sessions", json=body)
        assert answer.status_code == 422, (value, answer.text)


# --------------------------------------------------------------------------- chat frames


async def test_a_history_frame_past_any_id_answers_invalid_and_the_socket_stays(
    live: LiveServer,
) -> None:
    await live.room()
    heron = await live.member("Heron")
    async with live.connect(heron, after=int(HUGE)) as ws:
        assert (await next_frame(ws))["type"] == "hello"
        for before, limit in ((int(HUGE), 10), (-1, 10), (MAX_ID + 1, 10), (5, 10**20)):
            await ws.send(json.dumps({"type": "history", "before": before, "limit": limit}))
            answer = await next_frame(ws)
            assert answer["type"] == "error" and answer["code"] == "invalid", answer
        await ws.send(json.dumps({"type": "history", "before": MAX_ID, "limit": 100}))
        assert (await next_frame(ws))["type"] == "history"
        await ws.send(json.dumps({"type": "ping"}))
        assert (await next_frame(ws))["type"] == "pong"


# --------------------------------------------------------------------------- the parser


@examples(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=40) | st.from_regex(r"\A-?[0-9]{1,30}\Z"))
def test_parse_int_either_answers_in_bounds_or_says_why(text: str) -> None:
    try:
        number = parse_int(text, "n", low=-5, high=MAX_ID)
    except BadParameter as exc:
        assert exc.name == "n" and "whole number" in exc.message
        # What -5..MAX refuses, 0..MAX refuses too: the loose reading falls back.
        assert loose_int(text, 42) == 42
    else:
        assert -5 <= number <= MAX_ID and str(number) == str(int(text.strip()))


@examples(max_examples=200, deadline=None, derandomize=True)
@given(
    st.integers()
    | st.floats(allow_nan=True)
    | st.booleans()
    | st.none()
    | st.text(max_size=5)
    | st.lists(st.integers(), max_size=2)
)
def test_json_int_takes_only_whole_numbers_in_bounds(value: object) -> None:
    try:
        number = json_int(value, "n", low=0, high=100)
    except BadParameter:
        assert not (type(value) is int and 0 <= value <= 100)  # type: ignore[operator]
    else:
        assert type(value) is int and number == value


def test_a_thousand_digits_are_refused_before_int_reads_them() -> None:
    with pytest.raises(BadParameter):
        parse_int("9" * 5000, "n")  # int() itself would raise ValueError past 4300 digits
    assert parse_int("0" * 30 + "7", "n") == 7


def test_parse_day_bounds() -> None:
    window = {"earliest": date(2026, 1, 1), "latest": date(2027, 1, 1)}
    assert parse_day(" 2026-06-01 ", "date", **window) == date(2026, 6, 1)
    for text in ("9999-12-31", "2025-12-31", "2026-13-01", "", "tomorrow"):
        with pytest.raises(BadParameter):
            parse_day(text, "date", **window)


async def test_a_moderation_page_filter_out_of_range_says_which_field(app: Starlette) -> None:
    await make_community(app.state.ctx)  # and its site admin
    async with raw_client(app) as anyone:
        signed_in = await anyone.post(
            "/api/v1/login",
            json={"pseudonym": "Site-Admin", "passphrase": PASSPHRASE, "token": True},
        )
    token = signed_in.json()["token"]
    async with raw_client(app, authorization=f"Bearer {token}") as admin:
        assert (await admin.get("/moderation", params={"community": "1"})).status_code == 200
        for value in ("²", HUGE, "-1"):
            answer = await admin.get("/moderation", params={"community": value})
            assert answer.status_code == 422, (value, answer.status_code)
            assert "&#39;community&#39; must be a whole number" in answer.text
