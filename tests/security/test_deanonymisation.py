"""De-anonymisation, tried as an attacker would: can anyone but a moderator tell who wrote an
anonymous post?

The property test builds the same community twice. Everything in the two worlds is the
same — members, named posts, reactions, reports, check-in asks, follows, blocks, in the same
order — except who is behind the anonymous author (the *persona*): `fern-owl` in one world,
`reed-fox` in the other. Both of them also post under their own pseudonyms. Then every
member who is neither of them, a peer supporter and a signed-out visitor fetch everything
they can reach: every GET route the app serves (walked from the router, not listed by
hand), the pages that take their subject from the query string, the JSON API, the chat
WebSocket (hello and history), and what their own actions answered (check-in asks, reports,
blocks, posts). Before they look, a moderator reads every thread (seeing the authors), so a
page cached or keyed wrongly would carry what the moderator saw. If anything differs between
the two worlds, someone who is not a moderator can tell which member wrote the anonymous
posts, and the test shows where. Every scenario starts with the attacks that mattered (see
PRELUDE), then Hypothesis adds threads, replies, reactions, "this helped", edits, deletions,
follows, reports, check-in asks, per-thread blocks and chat, and sometimes has one owner
delete their account keeping their posts.

Beside that comparison, every anonymous post is checked where it is shown (thread pages and
the thread API): nothing next to it names its author, links to them or carries their id.

Moderators may see who wrote an anonymous post, but every page that shows them writes an
audit row; those pages have focused tests below, as has each leak the comparison found.

Not covered, by nature: what a member gives away in their own words, and timing and traffic
analysis (an anonymous post appearing while one member is known to be online).

Runs on SQLite, and on PostgreSQL + Redis with KINDRED_TEST_BACKEND=postgres (the two
worlds are built one after the other on the same emptied database).
"""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
import json
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlmodel import select
from starlette.routing import Mount, Route, WebSocketRoute
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from communities.models import CommunityModerator
from core.settings import Settings
from core.web.cookies import session_cookie_name
from forum.communities import create_community
from forum.models import REACTIONS, Notification, Post
from identity import accounts
from identity.models import Member
from kindred.app import create_app
from moderation.models import AuditEntry
from tests import backends
from tests.chat.conftest import TIMEOUT, LiveServer, next_frame, serve
from tests.conftest import make_client
from tests.helpers import PASSPHRASE

# --------------------------------------------------------------------------- who is who

OWNERS = {"X": "fern-owl", "Y": "reed-fox"}  # one of them is behind the persona
PERSONA = "P"  # posts anonymously; X in the first world, Y in the second
THIRD_PARTIES = {"A": "ash-wren", "B": "birch-lark", "C": "cedar-moth"}
SUPPORTER = {"S": "sage-heron"}  # a peer supporter who moderates nothing
MODERATOR = {"M": "river-keeper"}  # moderates the community: may look (audited), not a viewer
MEMBERS = {**OWNERS, **THIRD_PARTIES, **SUPPORTER, **MODERATOR}
VIEWERS = ("A", "B", "S", "public")  # neither owner, no moderator
AUTHORS = ("P", "X", "Y", "A", "B", "C")
ACTORS = ("A", "B", "C", "S")  # third parties: what their own actions answer is compared too
COMMUNITY = "grief"

BODIES = (
    "Some days are heavier than others, and tonight is one of them.",
    "Walking in the morning helped me a little. Thinking of you, @ash-wren.",
    "@fern-owl and @reed-fox, thank you for what you wrote last week.",
    # Crisis language: published with resources for the author, and a crisis case that
    # peer supporters see in the review queue.
    "I don't want to be alive anymore and I have a plan tonight.",
)
SEARCH_WORDS = ("heavier", "walking", "thank", "alive")


def owner(symbol: str, world: int) -> str:
    """The member acting for `symbol` in a world: the persona is X in world 1, Y in 2."""
    if symbol == PERSONA:
        return "X" if world == 1 else "Y"
    return symbol


def same_member_somewhere(a: str, b: str) -> bool:
    """True when `a` and `b` are one member in either world. What a member would be refused
    for doing to themselves (reporting or marking their own post) is skipped in both worlds:
    they would not try it, and not trying looks the same as anything else."""
    return any(owner(a, n) == owner(b, n) for n in (1, 2))


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Step:
    what: str
    actor: str = ""
    anonymous: bool = False
    pick: int = 0  # which thread or post (modulo how many there are by then)
    body: int = 0
    kind: str = ""


def _author_step(what: str) -> st.SearchStrategy[Step]:
    return st.builds(
        Step,
        what=st.just(what),
        actor=st.sampled_from(AUTHORS),
        anonymous=st.booleans(),
        pick=st.integers(0, 20),
        body=st.integers(0, len(BODIES) - 1),
        kind=st.sampled_from(("request", "discussion")),
    )


def _acting_step(what: str, actors: tuple[str, ...], kinds: tuple[str, ...] = ("",)) -> Any:
    return st.builds(
        Step,
        what=st.just(what),
        actor=st.sampled_from(actors),
        pick=st.integers(0, 20),
        kind=st.sampled_from(kinds),
    )


steps = st.one_of(
    _author_step("thread"),
    _author_step("reply"),
    _acting_step("react", ("X", "Y", *ACTORS), tuple(REACTIONS)),
    _acting_step("helped", ("",)),
    _acting_step("edit", ("",)),
    _acting_step("delete", ("",)),
    _acting_step("follow", ACTORS),
    _acting_step("check_in", ACTORS),
    _acting_step("report", ACTORS),
    _acting_step("block_alias", ACTORS),
    _acting_step("chat", ("X", "Y", "A")),
    # A moderator acts on a post's case (if it has one). Warning its author changes their
    # record, not what they can do; mutes and bans stop the member's named activity for all
    # to see, which is what sanctioning a person does (out of scope).
    _acting_step("case", ("M",), ("warn", "hide", "delete", "dismiss", "lock")),
)


@dataclass(frozen=True)
class Scenario:
    steps: tuple[Step, ...]
    owner_leaves: bool  # at the end, X deletes their account, leaving their posts in place


scenarios = st.builds(
    Scenario, steps=st.lists(steps, min_size=2, max_size=8).map(tuple), owner_leaves=st.booleans()
)

# Played first in every scenario, so that each has the attacks that matter: both owners post
# under their names and the persona anonymously (a crisis post among them); X has blocked A
# and been warned by a moderator (things about a member that must not follow them into their
# anonymous posts); A blocks X's pseudonym and B blocks the persona's label; A asks
# supporters to check on the persona, then on each owner; A and S report the persona's reply;
# a moderator warns the persona's author through the case on their crisis post, and X posts
# a named crisis reply (a case peer supporters see, with X's record beside it).
# Posts, in order: 0 X's thread, 1 Y's thread, 2 the persona's thread, 3 the persona's reply
# in X's thread, 4 Y's reply there, 5 X's crisis reply in Y's thread.
PRELUDE = (
    Step("thread", "X", kind="request", body=0),
    Step("thread", "Y", kind="discussion", body=1),
    Step("thread", PERSONA, kind="request", body=3),
    Step("reply", PERSONA, pick=0, body=0),
    Step("reply", "Y", pick=0, body=2),
    Step("block", "X", kind="A"),
    Step("warn", "M", kind="X"),
    Step("block", "A", kind="X"),
    Step("block_alias", "B", pick=3),
    Step("check_in", "A", pick=2),
    Step("check_in", "A", pick=0),
    Step("check_in", "A", pick=1),
    Step("report", "A", pick=3),
    Step("report", "S", pick=3),
    Step("case", "M", pick=2, kind="warn"),  # the persona's crisis thread: its author warned
    Step("reply", "X", pick=1, body=3),  # post 5: X's named crisis reply, a case S can see
)


# --------------------------------------------------------------------------- one world


@dataclass
class PostRef:
    id: int
    thread: int  # index into World.threads
    author: str  # a symbol: P, X, Y, A, ...
    anonymous: bool
    opening: bool
    deleted: bool = False


@dataclass
class ThreadRef:
    id: int
    author: str
    kind: str
    locked: bool = False  # a moderator locked it through a case on one of its posts


@dataclass
class World:
    number: int
    live: LiveServer
    clients: dict[str, httpx.AsyncClient]
    csrf: dict[str, str]
    member_ids: dict[str, int]
    community_id: int
    threads: list[ThreadRef] = field(default_factory=list)
    posts: list[PostRef] = field(default_factory=list)
    # What third parties' own actions answered: part of what they can see.
    answers: list[tuple[str, str]] = field(default_factory=list)

    async def send(
        self, symbol: str, method: str, path: str, body: Any = None, *, form: bool = False
    ) -> httpx.Response:
        member = owner(symbol, self.number)
        client, token = self.clients[member], self.csrf[member]
        if form:
            response = await client.request(method, path, data={"csrf_token": token, **body})
        else:
            response = await client.request(
                method, path, json=body, headers={"x-csrf-token": token}
            )
        assert response.status_code < 500, (path, response.text)
        if symbol in ACTORS:
            shown = f"{response.status_code} {response.headers.get('location', '')}\n"
            self.answers.append((f"{symbol} {method} {path}", shown + response.text))
        return response


@asynccontextmanager
async def world(number: int, settings: Settings) -> AsyncIterator[World]:
    # Many members sign up from one address in each world.
    settings = dataclasses.replace(settings, rate_limits="signup_network=1000/hour")
    async with serve(settings) as live:
        ctx = live.ctx
        admin = await accounts.sign_up(
            ctx.db, ctx.settings, "Site-Keeper", PASSPHRASE, is_admin=True
        )
        community = await create_community(
            ctx,
            admin.signed_in.member,
            slug=COMMUNITY,
            name="Grief & Loss",
            description="For anyone who has lost someone.",
            rules="1. Be kind.",
        )
        await ctx.extensions["community_created"](community)  # its chat room
        clients: dict[str, httpx.AsyncClient] = {}
        csrf: dict[str, str] = {}
        ids: dict[str, int] = {}
        transport = httpx.ASGITransport(app=live.app, client=("203.0.113.9", 5000))
        try:
            for symbol, name in MEMBERS.items():
                client = httpx.AsyncClient(transport=transport, base_url=live.url)
                clients[symbol] = client
                joined = await client.post(
                    "/api/v1/signup", json={"pseudonym": name, "passphrase": PASSPHRASE}
                )
                assert joined.status_code == 201, joined.text
                csrf[symbol] = joined.headers["x-csrf-token"]
                found = await accounts.find_member(ctx.db, name)
                assert found is not None and found.id is not None
                ids[symbol] = found.id
            async with ctx.db.transaction() as s:
                # Accounts old enough for their reports to count towards hiding a post.
                for member in await s.exec(select(Member)):
                    member.created_at -= timedelta(days=2)
                    s.add(member)
                s.add(CommunityModerator(community_id=community.id, member_id=ids["M"]))
            # X is a peer supporter: their badge must not follow them onto anonymous posts.
            await accounts.set_roles(ctx.db, OWNERS["X"], peer_supporter=True)
            await accounts.set_roles(ctx.db, SUPPORTER["S"], peer_supporter=True)
            clients["public"] = httpx.AsyncClient(transport=transport, base_url=live.url)
            assert community.id is not None
            yield World(number, live, clients, csrf, ids, community.id)
        finally:
            for client in clients.values():
                await client.aclose()


def fresh_settings(base: Settings, template: Path, where: Path, world: int) -> Settings:
    """Settings for one world: a copy of the migrated SQLite file, or the emptied PostgreSQL
    database and Redis (the worlds are built one after the other)."""
    if base.database_url:
        backends.empty_database(base.database_url)
        backends.flush_redis()
        return base
    data = where / f"world-{world}"
    data.mkdir()
    shutil.copy(template, data / "kindred.db")
    return dataclasses.replace(base, data_dir=data)


# --------------------------------------------------------------------------- playing steps


async def play(w: World, scenario: Scenario) -> None:
    for step in (*PRELUDE, *scenario.steps):
        await play_step(w, step)
    if scenario.owner_leaves:
        gone = await w.send(
            "X",
            "POST",
            "/account/delete",
            {"content": "keep", "confirm": "yes", "passphrase": PASSPHRASE},
            form=True,
        )
        assert gone.status_code == 200 and "account is deleted" in gone.text, gone.text


async def play_step(w: World, step: Step) -> None:
    live = [p for p in w.posts if not p.deleted]
    post = live[step.pick % len(live)] if live else None
    if step.what in ("thread", "reply"):
        await _write(w, step)
    elif step.what == "block":
        await w.send(
            step.actor, "POST", "/account/blocks", {"block": MEMBERS[step.kind]}, form=True
        )
    elif step.what == "chat":  # under their own names: chat has no anonymous messages
        body = {
            "body": BODIES[step.pick % 3],
            "client_id": f"00000000-0000-4000-8000-{step.pick:012d}",
        }
        await w.send(step.actor, "POST", f"/chat/{COMMUNITY}", body, form=True)
    elif step.what == "case" and post is not None:
        queue = (await w.clients["M"].get("/api/v1/moderation/queue")).json()["items"]
        case = next((c for c in queue if c["kind"] == "post" and c["target_id"] == post.id), None)
        if case is not None:
            path = f"/api/v1/moderation/cases/{case['case_id']}/actions"
            acted = await w.send("M", "POST", path, {"action": step.kind, "reason": "Be gentle."})
            assert acted.status_code == 200, acted.text
            post.deleted = post.deleted or step.kind == "delete"
            if step.kind == "lock":
                w.threads[post.thread].locked = True
    elif step.what == "warn":
        await w.send(
            step.actor,
            "POST",
            f"/api/v1/moderation/members/{w.member_ids[step.kind]}/sanctions",
            {"kind": "warn", "community_id": w.community_id, "reason": "Be gentle."},
        )
    elif post is None:
        return
    elif step.what == "react":
        await w.send(step.actor, "POST", f"/api/v1/posts/{post.id}/reactions", {"kind": step.kind})
    elif step.what == "helped":
        thread = w.threads[post.thread]
        mark = thread.kind == "request" and not post.opening
        if mark and not same_member_somewhere(thread.author, post.author):
            await w.send(thread.author, "POST", f"/api/v1/posts/{post.id}/helped")
    elif step.what == "edit":
        body = {"body": "Edited: " + BODIES[(step.pick + 1) % len(BODIES)]}
        answer = await w.send(post.author, "PATCH", f"/api/v1/posts/{post.id}", body)
        assert answer.status_code == 200, answer.text
    elif step.what == "delete":
        answer = await w.send(post.author, "DELETE", f"/api/v1/posts/{post.id}")
        assert answer.status_code == 200, answer.text
        post.deleted = True
    elif step.what == "follow":
        thread_id = w.threads[post.thread].id
        await w.send(step.actor, "POST", f"/t/{thread_id}/follow", {"follow": "yes"}, form=True)
    elif step.what == "block_alias":
        if post.anonymous and not same_member_somewhere(step.actor, post.author):
            label = await _label(w, post)
            thread_id = w.threads[post.thread].id
            await w.send(
                step.actor, "POST", f"/api/v1/threads/{thread_id}/blocks", {"label": label}
            )
    elif step.what in ("check_in", "report") and not same_member_somewhere(step.actor, post.author):
        if step.what == "check_in" and _asks(w, step.actor) < CHECK_IN_LIMIT:
            await w.send(step.actor, "POST", "/api/v1/check-ins", {"kind": "post", "id": post.id})
        elif step.what == "report":
            body = {"kind": "post", "id": post.id, "reason": "off_topic"}
            await w.send(step.actor, "POST", "/api/v1/reports", body)


CHECK_IN_LIMIT = 5  # a day: past it, the answer's "wait N minutes" depends on the clock


def _asks(w: World, actor: str) -> int:
    return sum(1 for action, _ in w.answers if action == f"{actor} POST /api/v1/check-ins")


async def _write(w: World, step: Step) -> None:
    """A thread or a reply: the persona always posts anonymously, the owners never do (their
    anonymous posts *are* the persona), third parties either way."""
    anonymous = step.actor == PERSONA or (step.actor in THIRD_PARTIES and step.anonymous)
    if step.what == "thread":
        kind = step.kind or "discussion"
        body = {
            "title": f"Thread {len(w.threads) + 1}: getting through the evenings",
            "body": BODIES[step.body],
            "kind": kind,
            "help_type": "emotional" if kind == "request" else None,
            "anonymous": anonymous,
        }
        answer = await w.send(step.actor, "POST", f"/api/v1/communities/{COMMUNITY}/threads", body)
        assert answer.status_code == 201, answer.text
        w.threads.append(ThreadRef(answer.json()["id"], step.actor, kind))
        opening = answer.json()["posts"][0]["id"]
        w.posts.append(PostRef(opening, len(w.threads) - 1, step.actor, anonymous, True))
        return
    index = step.pick % len(w.threads)
    body = {"body": BODIES[step.body], "anonymous": anonymous}
    answer = await w.send(step.actor, "POST", f"/api/v1/threads/{w.threads[index].id}/posts", body)
    if w.threads[index].locked:
        assert answer.status_code == 409, answer.text
        return
    assert answer.status_code == 201, answer.text
    w.posts.append(PostRef(answer.json()["id"], index, step.actor, anonymous, False))


async def _label(w: World, post: PostRef) -> str:
    """The label everyone sees on an anonymous post ("A" of "Anonymous member A")."""
    shown = await w.clients["public"].get(f"/api/v1/threads/{w.threads[post.thread].id}")
    author = next(p["author"] for p in shown.json()["posts"] if p["id"] == post.id)
    return author.removeprefix("Anonymous member ").strip()


# --------------------------------------------------------------------------- what viewers see


# Every path parameter of a GET route, and the values to try: a route with a parameter not
# listed here fails the test, so a new route can't slip past unvisited.
def _parameter_values(w: World) -> dict[str, list[str]]:
    return {
        "slug": [COMMUNITY],
        "thread_id": [str(t.id) for t in w.threads],
        "post_id": [str(p.id) for p in w.posts],
        # Refused alike for every id to non-moderators: the owners' ids and one other.
        "member_id": [str(w.member_ids[m]) for m in ("X", "Y", "A")],
        "id": ["1"],  # group sessions and support requests: none exist, so "not found"
        "entry_id": ["1"],  # the resource directory's entries: none exist either
        "seq": ["1"],  # a chat message to thank: no room holds one
    }


# Pages that take what they show from the query string.
def _query_surfaces(w: World) -> list[str]:
    posts = [str(p.id) for p in w.posts]
    return [
        *(f"/check-in?kind=post&id={p}" for p in posts),
        *(f"/report?kind=post&id={p}" for p in posts),
        *(f"/search?q={word}" for word in SEARCH_WORDS),
        *(f"/api/v1/search?q={word}" for word in SEARCH_WORDS),
        f"/c/{COMMUNITY}?kind=request",
        f"/api/v1/communities/{COMMUNITY}/threads?kind=request",
    ]


PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")


def get_routes(w: World) -> tuple[list[str], list[str]]:
    """Every GET path the app serves, its parameters filled in; and its WebSocket paths."""
    values = _parameter_values(w)
    paths: list[str] = []
    sockets: list[str] = []
    for route in w.live.app.routes:
        if isinstance(route, Mount) or route.path.startswith("/static/"):  # type: ignore[attr-defined]
            continue  # static files: the same bytes for everyone
        if isinstance(route, WebSocketRoute):
            sockets.extend(_expand(route.path, values))
            continue
        assert isinstance(route, Route), route
        if route.methods and "GET" in route.methods:
            paths.extend(_expand(route.path, values))
    return paths, sockets


def _expand(path: str, values: dict[str, list[str]]) -> list[str]:
    names = PARAMETER.findall(path)
    unknown = [n for n in names if n not in values]
    assert not unknown, f"{path}: give the walker values for {unknown}"
    expanded = [path]
    for name in names:
        pattern = re.compile(r"{" + name + r"(?::\w+)?}")
        expanded = [pattern.sub(v, p, count=1) for p in expanded for v in values[name]]
    return expanded


ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(\+00:00|Z)?")
SHOWN_TIME = re.compile(  # core/clock.py's words: "Mon 7 Dec, 14:05", "Tue 8 Dec 2025", "07 Dec"
    r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r"( \d{4})?(, \d\d:\d\d)?( UTC)?"
    r"|\b\d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)( \d{4})?( \d\d:\d\d)?"
    r"|\b\d\d:\d\d UTC\b"
)
SECRETS = re.compile(r"\b[0-9a-f]{64}\b|\b[A-Za-z0-9_-]{32,}\b")
# Free pseudonyms offered at sign-up are drawn at random.
SUGGESTED = re.compile(r"\b[a-z]+-[a-z]+-\d{1,3}\b")


def normalise(text: str, site: str) -> str:
    """What differs between two worlds whatever the persona: clock times, the server's port,
    CSRF tokens and other random secrets."""
    text = text.replace(site, "<site>")
    text = ISO_TIME.sub("<time>", text)
    text = SHOWN_TIME.sub("<time>", text)
    text = SUGGESTED.sub("<suggested>", text)
    return SECRETS.sub("<secret>", text)


async def snapshot(w: World) -> dict[tuple[str, str], str]:
    """Everything each viewer can fetch, normalised."""
    paths, sockets = get_routes(w)
    surfaces = [*paths, *_query_surfaces(w)]
    # A moderator reads every thread first (they see the authors, audited): a page cached
    # or keyed wrongly would then show what they saw to everyone after them.
    for thread in w.threads:
        for path in (f"/t/{thread.id}", f"/api/v1/threads/{thread.id}"):
            looked = await w.clients["M"].get(path)
            assert looked.status_code == 200, looked.text
    # Each viewer reads in order (a thread page they open changes their "new" marks), the
    # viewers at the same time; then the chat room, one viewer at a time (the room's member
    # list would otherwise depend on who else happened to be connected).
    views = await asyncio.gather(*(_pages_seen(w, viewer, surfaces) for viewer in VIEWERS))
    seen = {key: text for view in views for key, text in view.items()}
    for viewer in VIEWERS:
        for path in sockets if viewer != "public" else ():
            seen[(viewer, path)] = normalise(await socket_view(w, viewer, path), w.live.url)
    for n, (action, answer) in enumerate(w.answers):
        seen[("actions", f"{n} {action}")] = normalise(answer, w.live.url)
    return seen


async def _pages_seen(w: World, viewer: str, paths: list[str]) -> dict[tuple[str, str], str]:
    seen = {}
    for path in paths:
        response = await w.clients[viewer].get(path)
        assert response.status_code < 500, (viewer, path, response.text)
        headers = response.headers
        shown = " ".join(headers.get(h, "") for h in ("location", "cache-control", "vary"))
        # The ETag is a hash of this very body (compared below, normalised) and of the
        # viewer's own form token: it says nothing the body doesn't, but differs between
        # worlds with every time shown and every session. Its presence is compared.
        shown += " etag" if headers.get("etag", "").startswith('W/"') else ""
        shown = f"{response.status_code} {shown}\n"
        seen[(viewer, path)] = normalise(shown + response.text, w.live.url)
    return seen


async def socket_view(w: World, viewer: str, path: str) -> str:
    """The chat room as the viewer's browser sees it: hello, then a page of history."""
    cookie = w.clients[viewer].cookies.get(session_cookie_name(w.live.ctx.settings))
    url = w.live.ws_url + path
    try:
        async with connect(
            url,
            additional_headers={"cookie": f"{session_cookie_name(w.live.ctx.settings)}={cookie}"},
            open_timeout=TIMEOUT,
        ) as ws:
            hello = await next_frame(ws, "hello")
            await ws.send(json.dumps({"type": "history", "limit": 100}))
            history = await next_frame(ws, "history")
            return json.dumps([hello, history], sort_keys=True)
    except InvalidStatus as exc:  # a refused upgrade is also something the viewer sees
        return f"refused: {exc.response.status_code} {exc.response.body!r}"


# --------------------------------------------------------------------------- what is beside a post


def owner_marks(w: World, member: str) -> list[str]:
    """What would name or point at a member: their pseudonym, their moderation page, their id
    as an attribute, the peer supporter badge (X has it)."""
    marks = [MEMBERS[member], f"/moderation/members/{w.member_ids[member]}"]
    marks.append(f'"{w.member_ids[member]}"')
    if member == "X":
        marks.append("Peer supporter")
    return marks


POST_ITEM = re.compile(r'<li id="p(\d+)"(.*?)(?=<li id="p\d+"|</ol>)', re.S)
POST_BODY = re.compile(r'<div class="post-body">.*?</div>', re.S)


def check_beside_anonymous_posts(w: World, seen: dict[tuple[str, str], str]) -> None:
    """Nothing shown next to an anonymous post (outside its own words, which may mention
    anyone) names its author, links to them or carries their id."""
    anonymous = {p.id for p in w.posts if p.anonymous}
    marks = owner_marks(w, owner(PERSONA, w.number))
    checked = 0
    for (viewer, path), text in seen.items():
        beside: list[tuple[int, str]] = []
        if path.startswith("/t/"):
            beside = [(int(i), POST_BODY.sub("", item)) for i, item in POST_ITEM.findall(text)]
        elif path.startswith("/api/v1/threads/") and text.startswith("200"):
            posts = json.loads(text.split("\n", 1)[1])["posts"]
            beside = [
                (p["id"], json.dumps({k: v for k, v in p.items() if k != "html"})) for p in posts
            ]
        for post_id, shown in beside:
            if post_id in anonymous:
                checked += 1
                found = [m for m in marks if m in shown]
                assert not found, f"{viewer} {path}: {found} beside anonymous post {post_id}"
    assert checked, "no anonymous post was shown to anyone: the check above checked nothing"


def differences(first: dict, second: dict, limit: int = 3) -> list[str]:
    found = []
    for key in sorted(first.keys() | second.keys()):
        a, b = first.get(key, "<missing>"), second.get(key, "<missing>")
        if a != b:
            diff = difflib.unified_diff(
                a.splitlines(), b.splitlines(), "persona is fern-owl", "persona is reed-fox", n=1
            )
            found.append(f"--- {key}\n" + "\n".join(list(diff)[:40]))
            if len(found) >= limit:
                break
    return found


# --------------------------------------------------------------------------- the property


@given(scenario=scenarios)
@hypothesis_settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    # No shrinking: each example builds two worlds, and the report already names the viewer,
    # the path and the difference.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
async def test_nobody_can_tell_who_wrote_anonymous_posts(
    scenario: Scenario,
    migrated_sqlite: Path,
    suite_postgres: str | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    base = _base_settings(tmp_path_factory, suite_postgres)
    where = tmp_path_factory.mktemp("worlds")
    seen = {}
    for number in (1, 2):
        async with world(number, fresh_settings(base, migrated_sqlite, where, number)) as w:
            await play(w, scenario)
            seen[number] = await snapshot(w)
            check_beside_anonymous_posts(w, seen[number])
    found = differences(seen[1], seen[2])
    assert not found, "a viewer can tell who the anonymous author is:\n" + "\n".join(found)


def _base_settings(factory: pytest.TempPathFactory, postgres: str | None) -> Settings:
    data = factory.mktemp("base")
    common = {
        "data_dir": data,
        "secret_key": "test-secret-" + "k" * 40,
        "site_url": "http://testserver",
        "new_member_posts": 0,
        "link_posts": 0,
    }
    if postgres:
        return Settings(**common, database_url=postgres, redis_url=backends.REDIS_URL)  # type: ignore[arg-type]
    return Settings(**common)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- focused tests
# One for each way the property test found to tell who wrote an anonymous post, on the
# real app through httpx.


@dataclass
class Place:
    """A community allowing anonymous posts, and members acting through their own clients."""

    app: Any
    community_id: int
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    async def join(self, name: str, *, role: str = "") -> None:
        ctx = self.app.state.ctx
        client = make_client(self.app)
        joined = await client.post(
            "/api/v1/signup", json={"pseudonym": name, "passphrase": PASSPHRASE}
        )
        assert joined.status_code == 201, joined.text
        self.clients[name], self.tokens[name] = client, joined.headers["x-csrf-token"]
        async with ctx.db.transaction() as s:
            found = (await s.exec(select(Member).where(Member.pseudonym == name))).one()
            found.created_at -= timedelta(days=2)  # old enough for their reports to count
            found.is_peer_supporter = role == "supporter"
            s.add(found)
            if role == "moderator":
                s.add(CommunityModerator(community_id=self.community_id, member_id=found.id))
        assert found.id is not None
        self.ids[name] = found.id

    async def send(self, name: str, method: str, path: str, body: Any = None) -> httpx.Response:
        headers = {"x-csrf-token": self.tokens[name]}
        return await self.clients[name].request(method, path, json=body, headers=headers)

    async def post(
        self, name: str, text: str, *, anonymous: bool, thread: int | None = None
    ) -> int:
        if thread is None:
            body = {"title": "Evenings", "body": text, "anonymous": anonymous}
            made = await self.send(name, "POST", f"/api/v1/communities/{COMMUNITY}/threads", body)
            assert made.status_code == 201, made.text
            return made.json()["posts"][0]["id"]
        made = await self.send(
            name, "POST", f"/api/v1/threads/{thread}/posts", {"body": text, "anonymous": anonymous}
        )
        assert made.status_code == 201, made.text
        return made.json()["id"]

    async def ask(self, name: str, post_id: int) -> str:
        asked = await self.send(name, "POST", "/api/v1/check-ins", {"kind": "post", "id": post_id})
        assert asked.status_code == 201, asked.text
        return asked.json()["status"]

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()


@asynccontextmanager
async def _place_on(app: Any, rules: str = "") -> AsyncIterator[Place]:
    """The site admin and the community, on a running app; members join in each test."""
    ctx = app.state.ctx
    admin = await accounts.sign_up(ctx.db, ctx.settings, "Site-Keeper", PASSPHRASE, is_admin=True)
    community = await create_community(
        ctx, admin.signed_in.member, slug=COMMUNITY, name="Grief & Loss", rules=rules
    )
    assert community.id is not None
    found = Place(app, community.id)
    try:
        yield found
    finally:
        await found.close()


@pytest.fixture
async def place(app: Any) -> AsyncIterator[Place]:
    async with _place_on(app, rules="1. Be kind.") as found:
        yield found


async def _thread_of(place: Place, post_id: int) -> int:
    async with place.app.state.ctx.db.read() as s:
        return (await s.exec(select(Post.thread_id).where(Post.id == post_id))).one()


async def test_check_ins_about_anonymous_and_named_posts_never_fold_together(place: Place) -> None:
    """Asking about someone's anonymous post, then about their named one, used to answer
    "supporters already know" (and raise one card's count in the supporters' queue): the
    two were one request per member. Now each persona has its own."""
    for name in ("fern-owl", "reed-fox", "ash-wren"):
        await place.join(name)
    await place.join("sage-heron", role="supporter")
    anonymous = await place.post("fern-owl", "Some days are heavier than others.", anonymous=True)
    named = await place.post("fern-owl", "Walking helped a little.", anonymous=False)
    other = await place.post("reed-fox", "Walking helped me too.", anonymous=False)
    # fern-owl's named post is answered exactly as reed-fox's: nobody had asked about either.
    assert [await place.ask("ash-wren", p) for p in (anonymous, named, other)] == ["asked"] * 3
    assert await place.ask("ash-wren", named) == "already_known"  # the same persona again
    queue = await place.clients["sage-heron"].get("/api/v1/moderation/check-ins")
    cards = {item["content"]["author"]: item["ask_count"] for item in queue.json()["items"]}
    assert cards == {"Anonymous member A": 1, "fern-owl": 1, "reed-fox": 1}
    # A second anonymous post of the same label folds into its card, as anyone's would.
    thread = await _thread_of(place, anonymous)
    again = await place.post("fern-owl", "Still here.", anonymous=True, thread=thread)
    assert await place.ask("ash-wren", again) == "already_known"


async def test_an_anonymous_authors_block_or_leaving_changes_nothing_an_asker_sees(
    place: Place,
) -> None:
    """fern-owl blocked ash-wren and then left (keeping their posts). Asks about fern-owl's
    anonymous post must look, to ash-wren and to supporters, like asks about reed-fox's: no
    "they have left", no ask quietly withheld (their card missing from the queue)."""
    for name in ("fern-owl", "reed-fox", "ash-wren"):
        await place.join(name)
    await place.join("sage-heron", role="supporter")
    page = await place.clients["fern-owl"].post(
        "/account/blocks", data={"csrf_token": place.tokens["fern-owl"], "block": "ash-wren"}
    )
    assert page.status_code == 303, page.text
    theirs = await place.post("fern-owl", "I can't sleep again.", anonymous=True)
    named = await place.post("fern-owl", "Thank you all.", anonymous=False)
    others = await place.post("reed-fox", "I can't sleep either.", anonymous=True)
    left = await place.clients["fern-owl"].post(
        "/account/delete",
        data={
            "csrf_token": place.tokens["fern-owl"],
            "content": "keep",
            "confirm": "yes",
            "passphrase": PASSPHRASE,
        },
    )
    assert left.status_code == 200 and "account is deleted" in left.text
    asker = place.clients["ash-wren"]
    pages = [await asker.get(f"/check-in?kind=post&id={p}") for p in (theirs, others)]
    assert [p.status_code for p in pages] == [200, 200]
    shown = [re.findall(r"<h1>(.*?)</h1>|class=\"meta\">(.*?)</p>", p.text) for p in pages]
    assert shown[0] == shown[1] and "Anonymous member A" in str(shown[0]), shown
    assert (await asker.get(f"/check-in?kind=post&id={named}")).status_code == 404  # named
    assert [await place.ask("ash-wren", p) for p in (theirs, others)] == ["asked", "asked"]
    assert [await place.ask("ash-wren", p) for p in (theirs, others)] == ["already_known"] * 2
    queue = await place.clients["sage-heron"].get("/api/v1/moderation/check-ins")
    shown = sorted(item["content"]["context_url"] for item in queue.json()["items"])
    threads = [await _thread_of(place, p) for p in (theirs, others)]
    assert shown == sorted(f"/t/{t}#p{p}" for t, p in zip(threads, (theirs, others), strict=True))


async def test_who_asked_is_an_audited_look_behind_anonymous_posts(place: Place) -> None:
    """The moderators' "Who asked?" page names the member asked about beside the content:
    for anonymous posts that is a reveal, audited like the thread page's, and the author can
    see that a moderator looked (never who)."""
    for name in ("fern-owl", "ash-wren"):
        await place.join(name)
    await place.join("river-keeper", role="moderator")
    post_id = await place.post("fern-owl", "I don't know who to tell.", anonymous=True)
    assert await place.ask("ash-wren", post_id) == "asked"
    moderator = place.clients["river-keeper"]
    [item] = (await moderator.get("/api/v1/moderation/check-ins")).json()["items"]
    assert "fern-owl" not in json.dumps(item)
    looked = await moderator.post(
        f"/moderation/check-ins/{item['id']}/who-asked",
        data={"csrf_token": place.tokens["river-keeper"]},
    )
    assert looked.status_code == 200 and "fern-owl" in looked.text and "ash-wren" in looked.text
    async with place.app.state.ctx.db.read() as s:
        rows = list(
            await s.exec(select(AuditEntry).where(AuditEntry.action == "view_anonymous_author"))
        )
    assert [(r.target_kind, r.target_id, r.subject_id, r.actor_name) for r in rows] == [
        ("post", post_id, place.ids["fern-owl"], "river-keeper")
    ]
    told = (await place.clients["fern-owl"].get("/api/v1/account/reveals")).json()["reveals"]
    assert len(told) == 1 and "river-keeper" not in json.dumps(told)


async def test_an_anonymous_authors_blocks_weigh_nothing_against_reports(place: Place) -> None:
    """A report from someone the author blocked weighs nothing towards hiding the author's
    post. Applied to anonymous posts it told everyone whose they were: the same reports hid
    reed-fox's anonymous post but not fern-owl's (who had blocked the reporter)."""
    for name in ("fern-owl", "reed-fox", "ash-wren"):
        await place.join(name)
    await place.join("sage-heron", role="supporter")  # staff: a report weighing 2
    blocked = await place.clients["fern-owl"].post(
        "/account/blocks", data={"csrf_token": place.tokens["fern-owl"], "block": "ash-wren"}
    )
    assert blocked.status_code == 303
    posts = {
        "theirs": await place.post("fern-owl", "Nobody gets it.", anonymous=True),
        "others": await place.post("reed-fox", "Nobody gets it.", anonymous=True),
        "named": await place.post("fern-owl", "Nobody gets it.", anonymous=False),
    }
    for post_id in posts.values():
        for reporter in ("ash-wren", "sage-heron"):
            body = {"kind": "post", "id": post_id, "reason": "harassment"}
            reported = await place.send(reporter, "POST", "/api/v1/reports", body)
            assert reported.status_code == 201, reported.text
    shown = {}
    for key, post_id in posts.items():
        thread = await _thread_of(place, post_id)
        seen = (await place.clients["reed-fox"].get(f"/api/v1/threads/{thread}")).json()
        shown[key] = next(p["status"] for p in seen["posts"] if p["id"] == post_id)
    # Both anonymous posts alike; the named post keeps the block's protection (2 < 3).
    assert shown == {"theirs": "hidden", "others": "hidden", "named": "published"}


async def test_the_queue_shows_no_sanction_history_beside_anonymous_content(
    place: Place,
) -> None:
    """The review queue listed the author's earlier sanctions (and the next step on the
    ladder) beside anonymous content: to peer supporters who moderate nothing, and to
    moderators who hadn't asked who wrote it, a fingerprint of the member. Peer supporters
    who can't act see no sanction history at all: beside a member's named post it included
    what they were sanctioned for anonymously."""
    for name in ("fern-owl", "reed-fox"):
        await place.join(name)
    await place.join("sage-heron", role="supporter")
    await place.join("river-keeper", role="moderator")
    warned = await place.send(
        "river-keeper",
        "POST",
        f"/api/v1/moderation/members/{place.ids['fern-owl']}/sanctions",
        {"kind": "warn", "community_id": place.community_id, "reason": "Be gentle."},
    )
    assert warned.status_code == 201, warned.text
    crisis = "I don't want to be alive anymore and I have a plan tonight."
    await place.post("fern-owl", crisis, anonymous=True)
    await place.post("fern-owl", crisis, anonymous=False)
    for viewer, named_history in (("sage-heron", []), ("river-keeper", ["warn"])):
        items = (await place.clients[viewer].get("/api/v1/moderation/queue")).json()["items"]
        by_kind = {item["anonymous"]: item for item in items}
        assert by_kind[True]["prior_sanctions"] == [] and by_kind[True]["proposed_sanction"] is None
        assert [x["kind"] for x in by_kind[False]["prior_sanctions"]] == named_history
        page = (await place.clients[viewer].get("/moderation")).text
        anonymous_case = page.split("Anonymous member A", 1)[1].split("</li>", 1)[0]
        assert "Earlier:" not in anonymous_case and "Next step" not in anonymous_case


async def test_notification_ids_count_only_the_members_own(place: Place) -> None:
    """Notification ids were the table's, counting everyone's notices: the gap between two
    of a member's told them how many others were notified of an anonymous reply, so whether
    its author already followed the thread (or was the member it mentioned)."""
    for name in ("fern-owl", "reed-fox", "ash-wren"):
        await place.join(name)
    opening = await place.post("fern-owl", "Evenings are the hardest.", anonymous=False)
    thread = await _thread_of(place, opening)
    await place.post("ash-wren", "Same here.", anonymous=False, thread=thread)  # follows now
    await place.post("reed-fox", "@fern-owl me too.", anonymous=True, thread=thread)
    await place.post("fern-owl", "Thank you both.", anonymous=True, thread=thread)
    notices = (await place.clients["ash-wren"].get("/api/v1/notifications")).json()
    assert [n["id"] for n in notices["notifications"]] == [2, 1]
    async with place.app.state.ctx.db.read() as s:
        table = list(await s.exec(select(Notification.id).order_by(Notification.id)))
    assert len(table) > 2  # others were told too: the table's ids would have had gaps


@pytest.fixture
async def holding_place(settings: Settings) -> AsyncIterator[Place]:
    """As `place`, with the new-member rule on: a member's first 2 posts in a community wait
    for a moderator."""
    app = create_app(dataclasses.replace(settings, new_member_posts=2))
    async with app.router.lifespan_context(app), _place_on(app) as found:
        yield found


async def _published_twice(place: Place, name: str, *, anonymous: bool) -> None:
    """Two posts of `name`'s, held as a newcomer's and approved by the moderator."""
    for text in ("Hello, I'm new here.", "Thank you for having me."):
        made = await place.send(
            name,
            "POST",
            f"/api/v1/communities/{COMMUNITY}/threads",
            {"title": "Hello", "body": text, "anonymous": anonymous},
        )
        assert made.status_code == 202, made.text
    queue = (await place.clients["river-keeper"].get("/api/v1/moderation/queue")).json()
    assert [item["held"] for item in queue["items"]] == [True, True]  # these two, waiting
    for item in queue["items"]:
        path = f"/api/v1/moderation/cases/{item['case_id']}/actions"
        approved = await place.send("river-keeper", "POST", path, {"action": "approve"})
        assert approved.status_code == 200, approved.text


async def test_the_new_member_hold_counts_named_and_anonymous_posts_apart(
    holding_place: Place,
) -> None:
    """Whether a post waits for a moderator is seen by everyone (it appears late, out of
    order). Counting all of a member's posts told them that an anonymous post published at
    once came from a member with named posts here (and a first named post published at once,
    from a member with anonymous ones). Named and anonymous posts now count apart."""
    place = holding_place
    for name in ("fern-owl", "reed-fox", "cedar-moth"):
        await place.join(name)
    await place.join("river-keeper", role="moderator")
    await _published_twice(place, "fern-owl", anonymous=False)
    await _published_twice(place, "cedar-moth", anonymous=True)
    answers = {}
    for name, anonymous in (
        ("fern-owl", True),  # established by name, new as anonymous
        ("reed-fox", True),  # new
        ("cedar-moth", False),  # established anonymously, new by name
        ("reed-fox", False),  # new
        ("fern-owl", False),  # established by name: straight through
        ("cedar-moth", True),  # established anonymously: straight through
    ):
        body = {"title": "Evenings", "body": "Some days are heavier.", "anonymous": anonymous}
        made = await place.send(name, "POST", f"/api/v1/communities/{COMMUNITY}/threads", body)
        answers[(name, anonymous)] = made.status_code
    assert answers == {
        ("fern-owl", True): 202,
        ("reed-fox", True): 202,
        ("cedar-moth", False): 202,
        ("reed-fox", False): 202,
        ("fern-owl", False): 201,
        ("cedar-moth", True): 201,
    }
    # The preview says what posting will do, anonymously or not.
    for anonymous, decision in ((True, "hold"), (False, "publish")):
        body = {"body": "Hello again.", "community": COMMUNITY, "anonymous": anonymous}
        previewed = await place.send("fern-owl", "POST", "/api/v1/preview", body)
        assert previewed.json()["decision"] == decision, (anonymous, previewed.json())
