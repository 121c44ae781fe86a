"""What the web-attack, fuzz and bounds tests share: clients that report a 500 as a status, a
small world of members and content on one app, every route of the app with its path filled
in, read from the app's own router at test time (so a new route is attacked too), and a real
server whose log a test reads."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
from starlette.applications import Starlette
from starlette.convertors import IntegerConvertor
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from chat.rooms import ensure_room
from communities.models import CommunityModerator
from core.web.cookies import session_cookie_name
from identity import accounts
from tests.chat.people import make_community
from tests.e2e.conftest import Server, start_server, stop_server
from tests.helpers import PASSPHRASE, csrf, join

SITE = "http://testserver"
EVIL = "https://evil.example"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def raw_client(app: Starlette, **headers: str) -> httpx.AsyncClient:
    """A client that sees a 500 as a status instead of the app's exception."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("203.0.113.9", 1))
    return httpx.AsyncClient(transport=transport, base_url=SITE, headers=headers)


def group_session(community: str, *, days: int = 2, **fields: object) -> dict[str, object]:
    """The JSON of POST /api/v1/sessions: an hour's circle for 8 in `community`, `days` from
    now at 19:00 UTC; `fields` replace or add to it."""
    start = datetime.now(UTC) + timedelta(days=days)
    return {
        "community": community,
        "title": "Evening circle",
        "ground_rules": "Be kind.",
        "date": start.strftime("%Y-%m-%d"),
        "time": "19:00",
        "timezone": "UTC",
        "duration_minutes": 60,
        "capacity": 8,
        **fields,
    }


@dataclass
class World:
    """One community with a thread, a reply, a chat room and a scheduled group session; a
    cookie-signed-in member (alice), a second one (bob), a moderator and the site admin."""

    app: Starlette
    alice: httpx.AsyncClient
    bob: httpx.AsyncClient
    moderator: httpx.AsyncClient
    admin: httpx.AsyncClient
    ids: dict[str, str] = field(default_factory=dict)
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def cookie(self, client: httpx.AsyncClient) -> str:
        return client.cookies[session_cookie_name(self.app.state.ctx.settings)]

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()


async def signed_in(app: Starlette, name: str) -> httpx.AsyncClient:
    """A browser-like member: the session cookie from signing up, no bearer token."""
    client = raw_client(app)
    answer = await client.post("/api/v1/signup", json={"pseudonym": name, "passphrase": PASSPHRASE})
    assert answer.status_code == 201, answer.text
    return client


async def logged_in(app: Starlette, name: str) -> httpx.AsyncClient:
    """Another browser of a member who has an account: a session cookie of its own."""
    client = raw_client(app)
    answer = await client.post("/api/v1/login", json={"pseudonym": name, "passphrase": PASSPHRASE})
    assert answer.status_code == 200, answer.text
    return client


async def make_world(app: Starlette) -> World:
    ctx = app.state.ctx
    community = await make_community(ctx)  # and the site admin, Site-Admin
    await ensure_room(ctx.db, slug="grief", name="Grief", description="", community_id=community.id)
    alice, bob, moderator = [
        await signed_in(app, n) for n in ("alice-fern", "bob-river", "Oak-Keeper")
    ]
    admin = await logged_in(app, "Site-Admin")
    found = await accounts.find_member(ctx.db, "Oak-Keeper")
    assert found is not None
    async with ctx.db.transaction() as s:
        s.add(CommunityModerator(community_id=community.id, member_id=found.id))
    await accounts.set_roles(ctx.db, "alice-fern", peer_supporter=True)
    world = World(app, alice, bob, moderator, admin, clients=[alice, bob, moderator, admin])
    token = {"x-csrf-token": await csrf(alice)}
    thread = await alice.post(
        "/api/v1/communities/grief/threads",
        json={"title": "Evenings are hard", "body": "Some words."},
        headers=token,
    )
    assert thread.status_code == 201, thread.text
    reply = await bob.post(
        f"/api/v1/threads/{thread.json()['id']}/posts",
        json={"body": "You are not alone."},
        headers={"x-csrf-token": await csrf(bob)},
    )
    assert reply.status_code == 201, reply.text
    session = await alice.post("/api/v1/sessions", json=group_session("grief"), headers=token)
    assert session.status_code == 201, session.text
    world.ids = {
        "thread_id": str(thread.json()["id"]),
        "post_id": str(reply.json()["id"]),
        "id": str(session.json()["sessions"][0]["id"]),
        "slug": "grief",
        "room": "grief",
        "member_id": str(found.id),
        "kind": "thanks",
    }
    return world


# --------------------------------------------------------------------------- the router


@dataclass(frozen=True)
class Endpoint:
    template: str  # the route's path, e.g. /t/{thread_id:int}
    path: str  # filled in for a request
    methods: tuple[str, ...]
    params: tuple[tuple[str, bool], ...]  # (name, is a number)


def endpoints(routes: list[BaseRoute], ids: dict[str, str], prefix: str = "") -> Iterator[Endpoint]:
    """Every HTTP route of the app, with its path parameters filled from `ids` (numbers
    default to 1, names to the world's community)."""
    for route in routes:
        if isinstance(route, Mount):
            if route.path != "/static":
                yield from endpoints(route.routes, ids, prefix + route.path)
        elif isinstance(route, Route):
            params = tuple(
                (name, isinstance(conv, IntegerConvertor))
                for name, conv in route.param_convertors.items()
            )
            path = prefix + route.path
            for name, numeric in params:
                value = ids.get(name, "1" if numeric else ids.get("slug", "x"))
                path = re.sub(r"\{" + name + r"(:[a-z]+)?\}", value, path)
            yield Endpoint(prefix + route.path, path, tuple(sorted(route.methods or ())), params)


def websocket_paths(routes: list[BaseRoute]) -> list[str]:
    return [r.path for r in routes if isinstance(r, WebSocketRoute)]


# --------------------------------------------------------------------------- a real server's log


@contextlib.asynccontextmanager
async def logging_server(
    tmp_path: Path, env: dict[str, str] | None = None
) -> AsyncIterator[tuple[Server, str]]:
    """A real `kindred serve` (the demo data) logging as text to server.log in its data
    directory, and the bearer token of a member who signed up, quiet-heron. Stopped on
    leaving, so the whole log can be read then. SQLite-only by nature: a fresh data
    directory's embedded database on either test backend, since what is read is the
    server's own log, not what it stores."""
    data = tmp_path / "data"
    data.mkdir()
    server = start_server(data, {"KINDRED_LOG_FORMAT": "text", **(env or {})})
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            joined = await join(http, "quiet-heron", token=True)
        yield server, joined["token"]
    finally:
        stop_server(server.process)


def server_log(server: Server) -> str:
    return (server.data_dir / "server.log").read_text()


# --------------------------------------------------------------------------- redirects


def browser_target(location: str, base: str = SITE) -> str:
    """Where a browser goes for this Location: as the URL standard reads it for http(s),
    tabs and newlines dropped and backslashes taken for slashes."""
    cleaned = re.sub(r"[\t\n\r]", "", location).replace("\\", "/").strip(" \x00-\x1f")
    return urljoin(base, cleaned)


def same_site(location: str, base: str = SITE) -> bool:
    target = urlsplit(browser_target(location, base))
    return (target.scheme, target.netloc) == tuple(urlsplit(base)[:2])
