"""One Refusal with every field set, raised behind real routes on every surface (JSON, pages,
a form shown again, WebSocket frames): each field arrives, or the table says why the
surface has no channel for it.

The service a route calls is replaced by one that raises the refusal; everything between it
and the client (the view, the exception handlers, the translators, the server) is the real
app's. A new field on Refusal fails `test_the_table_covers_every_field` until the table
says where it arrives on every surface.
"""

from __future__ import annotations

import dataclasses
import html
import importlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import websockets
from starlette.applications import Starlette

from core.errors import Refusal
from core.settings import Settings
from tests.chat.conftest import next_frame, serve
from tests.conftest import make_client
from tests.helpers import PASSPHRASE, api_post, join, submit

FULL = Refusal(
    "test_refusal",
    "That wasn't done. Here is why, and what you can do next.",
    409,
    field="body",
    retry_after=42,
    notice={
        "code": "resources",
        "message": "There are people there for you now.",
        "resources": [{"name": "Samaritans", "phone": "116 123", "region": "GB"}],
    },
    draft="My own words, <kept> for me & nobody else.",
    url="/support/requests/7",
    details={"suggestions": ["quiet-fern", "calm-river"]},
)


def refusing(refusal: Refusal) -> Callable[..., Any]:
    """Stands in for a service call: raises a fresh copy each time (a view may add its draft)."""

    async def refuse(*args: Any, **kwargs: Any) -> None:
        raise dataclasses.replace(refusal, details=dict(refusal.details))

    return refuse


@dataclass
class Answer:
    """What a client received: an HTTP answer, or the frames answering one `send`."""

    status: int | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    text: str = ""
    frames: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def json(self) -> dict[str, Any]:
        return json.loads(self.text)["error"]


def no_channel(why: str) -> str:
    return why


# --------------------------------------------------------------------------- reading each field


def _json_retry(a: Answer) -> Any:
    assert a.headers["retry-after"] == str(a.json()["retry_after"])  # header and body agree
    return a.json()["retry_after"]


JSON = {
    "code": lambda a: a.json()["code"],
    "message": lambda a: a.json()["message"],
    "status": lambda a: a.status,
    "field": lambda a: a.json()["field"],
    "retry_after": _json_retry,
    "notice": lambda a: a.json()["notice"],
    "draft": lambda a: a.json()["draft"],
    "url": lambda a: a.json()["url"],
    "details": lambda a: {k: a.json()[k] for k in FULL.details},
}


def _page(pattern: str, a: Answer) -> str | None:
    found = re.search(pattern, a.text, re.S)
    return html.unescape(found.group(1)) if found else None


def _page_notice(a: Answer) -> dict[str, Any]:
    """The parts of a notice a member reads: its words and each helpline's name and phone."""
    panel = _page(r'<section class="crisis-panel"[^>]*id="error-notice">(.*?)</section>', a) or ""
    return {
        "message": FULL.notice["message"] if FULL.notice["message"] in panel else None,  # type: ignore[index]
        "resources": re.findall(r"<strong>(.*?)</strong> — call <a [^>]*>(.*?)</a>", panel),
    }


PAGE_NOTICE = {
    "message": FULL.notice["message"],  # type: ignore[index]
    "resources": [(r["name"], r["phone"]) for r in FULL.notice["resources"]],  # type: ignore[index]
}

PAGE = {
    "code": lambda a: _page(r'<section class="narrow" id="error" data-code="([^"]*)"', a),
    "message": lambda a: _page(r"</h1>\s*<p>(.*?)</p>", a),
    "status": lambda a: a.status,
    "field": no_channel(
        "the error page has no form to mark; a view that shows its own form again marks the "
        "field through form_errors (the FORM rows)"
    ),
    "retry_after": lambda a: int(a.headers["retry-after"]),
    "notice": (_page_notice, PAGE_NOTICE),
    "draft": lambda a: _page(r'<textarea id="draft"[^>]*>(.*?)</textarea>', a),
    "url": lambda a: _page(r'<a href="([^"]*)" id="error-url">', a),
    "details": no_channel("machine-readable extras (pseudonym suggestions) are for clients"),
}

FORM = {
    "code": no_channel("the form shows the message; the code is for clients"),
    "message": lambda a: _page(r'<p class="error" id="f-\w+-error">(.*?)</p>', a),
    "status": lambda a: a.status,
    "field": lambda a: _page(r'<p class="error" id="f-(\w+)-error">', a),
    "retry_after": no_channel("the form is shown again to be corrected, not retried as it is"),
    "notice": no_channel("identity's forms raise none (chat's forms pass theirs as `notice`)"),
    "draft": no_channel("the form keeps what the member typed in its own inputs"),
    "url": no_channel("identity's forms give none"),
    "details": no_channel("the sign-up form shows its own suggestions"),
}


def _frame_error(a: Answer) -> dict[str, Any]:
    error = a.frames[0]
    assert error["type"] == "error" and error["client_id"] == "c-1"  # answers the frame sent
    return error


def _frame_notice(a: Answer) -> dict[str, Any]:
    notice = dict(a.frames[1])
    assert notice.pop("type") == "notice" and notice.pop("client_id") == "c-1"
    return notice


FRAME = {
    "code": lambda a: _frame_error(a)["code"],
    "message": lambda a: _frame_error(a)["message"],
    "status": no_channel("a frame has no HTTP status: the code says what happened"),
    "field": lambda a: _frame_error(a)["field"],
    "retry_after": lambda a: _frame_error(a)["retry_after"],
    "notice": _frame_notice,  # the notice frame after the error (docs/protocol.md)
    "draft": lambda a: _frame_error(a)["draft"],
    "url": lambda a: _frame_error(a)["url"],
    "details": lambda a: {k: _frame_error(a)[k] for k in FULL.details},
}


# --------------------------------------------------------------------------- the surfaces


@dataclass
class Surface:
    name: str
    translator: dict[str, Any]  # JSON, PAGE, FORM or FRAME
    patch: tuple[str, str]  # (module the view calls through, function) that will refuse
    call: Callable[[Any], Awaitable[Answer]]  # given the client or the live server
    refusal: Refusal = FULL


def _answer(response: httpx.Response) -> Answer:
    return Answer(response.status_code, dict(response.headers), response.text)


async def _forum_reply(client: httpx.AsyncClient) -> Answer:
    return _answer(await api_post(client, "/api/v1/threads/1/posts", {"body": "Thank you."}))


async def _moderation_report(client: httpx.AsyncClient) -> Answer:
    body = {"kind": "post", "id": 1, "reason": "spam"}
    return _answer(await api_post(client, "/api/v1/reports", body))


async def _support_cancel(client: httpx.AsyncClient) -> Answer:
    return _answer(await api_post(client, "/api/v1/support/requests/1/cancel"))


async def _session_rsvp(client: httpx.AsyncClient) -> Answer:
    return _answer(await api_post(client, "/api/v1/sessions/1/rsvp"))


async def _identity_login(client: httpx.AsyncClient) -> Answer:
    body = {"pseudonym": "refusal-tester", "passphrase": PASSPHRASE}
    return _answer(await client.post("/api/v1/login", json=body))


async def _forum_follow_page(client: httpx.AsyncClient) -> Answer:
    return _answer(await submit(client, "/account", "/t/1/follow", {"follow": "yes"}))


async def _moderation_reveal_page(client: httpx.AsyncClient) -> Answer:
    return _answer(await submit(client, "/account", "/moderation/cases/1/reveal", {}))


async def _support_availability_page(client: httpx.AsyncClient) -> Answer:
    return _answer(await submit(client, "/account", "/support/availability", {"available": "yes"}))


async def _session_send_page(client: httpx.AsyncClient) -> Answer:
    # The view gives back what was in the form: the draft the member typed.
    return _answer(await submit(client, "/account", "/sessions/1/send", {"body": FULL.draft}))


async def _identity_signup_form(client: httpx.AsyncClient) -> Answer:
    assert (await submit(client, "/account", "/logout", {})).status_code == 303
    data = {"pseudonym": "new-member", "passphrase": PASSPHRASE, "passphrase_confirm": PASSPHRASE}
    return _answer(await submit(client, "/signup", "/signup", data))


async def _chat_handshake(live: Any) -> Answer:
    member = await live.member("frame-tester")
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        async with live.connect(member, "lobby"):
            pass
    response = refused.value.response
    return Answer(response.status_code, dict(response.headers), response.body.decode())


async def _chat_send(live: Any) -> Answer:
    member = await live.member("frame-tester")
    await live.room("lobby")
    async with live.connect(member, "lobby") as ws:
        await next_frame(ws, "hello")
        await ws.send(json.dumps({"type": "send", "body": "Hello", "client_id": "c-1"}))
        error = await next_frame(ws, "error")
        notice = await next_frame(ws, "notice")
    return Answer(frames=[error, notice])


SURFACES = [
    Surface("forum reply API", JSON, ("forum.api", "threads.reply"), _forum_reply),
    Surface(
        "moderation report API", JSON, ("moderation.web_api", "cases.report"), _moderation_report
    ),
    Surface("support API", JSON, ("chat.support.api", "asking.cancel"), _support_cancel),
    Surface("group-session API", JSON, ("chat.groups.actions", "ACTIONS.rsvp"), _session_rsvp),
    Surface("identity API", JSON, ("identity.api", "signin.log_in"), _identity_login),
    Surface("chat handshake", JSON, ("chat.ws", "rooms.room_by_slug"), _chat_handshake),
    Surface("forum page", PAGE, ("forum.pages", "notifications.set_follow"), _forum_follow_page),
    Surface(
        "moderation page",
        PAGE,
        ("moderation.pages", "reveals.reveal_author"),
        _moderation_reveal_page,
    ),
    Surface(
        "support page",
        PAGE,
        ("chat.support.pages", "supporters.set_available"),
        _support_availability_page,
    ),
    Surface(
        "group-session page",
        PAGE,
        ("chat.groups.pages", "service.session_room"),
        _session_send_page,
    ),
    Surface(
        "identity form",
        FORM,
        ("identity.pages", "accounts.sign_up"),
        _identity_signup_form,
        dataclasses.replace(FULL, field="pseudonym"),  # a field the form has
    ),
    Surface("chat frame", FRAME, ("chat.ws", "sending.send_message"), _chat_send),
]
LIVE = {"chat handshake", "chat frame"}  # these need a real server (uvicorn, websockets)


def _patch(monkeypatch: pytest.MonkeyPatch, surface: Surface) -> None:
    module, path = surface.patch
    refuse = refusing(surface.refusal)
    target: Any = importlib.import_module(module)
    *parents, name = path.split(".")
    for parent in parents:
        target = getattr(target, parent)
    if isinstance(target, dict):
        assert name in target, f"{module}.{path} is gone: update the table"
        monkeypatch.setitem(target, name, refuse)
    else:
        assert hasattr(target, name), f"{module}.{path} is gone: update the table"
        monkeypatch.setattr(target, name, refuse)


def _expected(reader: Any, name: str, refusal: Refusal) -> Any:
    return reader[1] if isinstance(reader, tuple) else getattr(refusal, name)


def _read(reader: Any, answer: Answer) -> Any:
    return (reader[0] if isinstance(reader, tuple) else reader)(answer)


# --------------------------------------------------------------------------- the tests


def test_the_table_covers_every_field() -> None:
    """Every field of Refusal has a row on every translator: where it arrives, or why not."""
    names = {f.name for f in dataclasses.fields(Refusal)}
    for translator in (JSON, PAGE, FORM, FRAME):
        assert set(translator) == names
    for name in names:  # the example sets every field, so a missing one can't pass unseen
        assert getattr(FULL, name), name


@pytest.fixture
async def member_client(app: Starlette) -> Any:
    async with make_client(app) as client:
        await join(client, "refusal-tester")
        yield client


@pytest.mark.parametrize(
    "surface", [s for s in SURFACES if s.name not in LIVE], ids=lambda s: s.name
)
async def test_every_field_arrives_over_http(
    surface: Surface, member_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _patch(monkeypatch, surface)
    answer = await surface.call(member_client)
    _check(surface, answer)


@pytest.mark.parametrize("surface", [s for s in SURFACES if s.name in LIVE], ids=lambda s: s.name)
async def test_every_field_arrives_over_a_websocket(
    surface: Surface, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    live_settings = dataclasses.replace(settings, rate_limits="signup_network=1000/hour")
    async with serve(live_settings) as live:
        room = await live.room("lobby")  # before the patch: the room is real
        assert room.id is not None
        _patch(monkeypatch, surface)
        answer = await surface.call(live)
    _check(surface, answer)


def _check(surface: Surface, answer: Answer) -> None:
    arrived, lost = [], []
    for name, reader in surface.translator.items():
        if isinstance(reader, str):  # no channel on this surface, and the table says why
            continue
        try:
            value = _read(reader, answer)
        except (KeyError, IndexError, TypeError, ValueError, AssertionError) as exc:
            value = f"<missing: {exc!r}>"
        expected = _expected(reader, name, surface.refusal)
        (arrived if value == expected else lost).append((name, value))
    assert not lost, f"{surface.name} lost {lost} (status {answer.status}, {answer.text[:300]})"
    assert arrived  # not vacuous: the surface answered
