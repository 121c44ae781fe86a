"""A scripted day of use on a running Kindred, through its JSON API, its pages and real chat
WebSockets, by members who come from known documentation-range addresses with known
passphrases, recovery codes and session tokens: everything the privacy scans afterwards must
not find (tests/security/test_privacy_at_rest.py).

The day: five people join or sign in from eight addresses (IPv4 and IPv6, behind a trusted
proxy), one mistypes a passphrase, someone guesses at another's, and one forgets theirs and
uses a recovery code; members post threads and replies under their pseudonyms and
anonymously, mention, react, edit, mark a reply as helped; they talk in a chat room over
WebSockets (with `?token=`, and with the cookie as a browser does); a member reports an
anonymous reply and asks a peer supporter to check on an anonymous author; a moderator opens
the thread (revealing its anonymous authors) and reveals the reported reply's author from the
review queue (both audited; the author is told); a member asks for 1:1 support, a peer
supporter takes it and they talk; two members download their data; one deletes their
account, erasing what they wrote.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

TIMEOUT = 10

# Documentation ranges only (RFC 5737, RFC 3849): addresses no real member has.
ADDRESSES = {
    "alderwick": ["203.0.113.57", "2001:db8::57"],
    "birchmoor": ["2001:db8:85a3::8a2e:370:7334"],
    "cedarvale": ["198.51.100.23", "2001:db8:4:5::1f"],
    "hazelgrove": ["192.0.2.146"],
    "admin": ["203.0.113.201"],
}
COMMUNITY = "recovery"  # a demo community: anonymous posting allowed, a chat room of its own


def marker(what: str) -> str:
    """A word that appears nowhere but where this member put it."""
    letters = "".join(secrets.choice("bcdfghjkmnpqrstvwxz") for _ in range(8))
    return f"{what}{letters}"


@dataclass
class Person:
    name: str
    passphrase: str
    address: str
    http: httpx.AsyncClient
    browser: bool  # the session is a cookie (a browser) rather than a bearer token
    token: str = ""
    recovery_codes: list[str] = field(default_factory=list)
    member_id: int = 0

    def at(self, address: str) -> None:
        """From now on this person comes from another address (a phone on another network)."""
        self.address = address
        self.http.headers["x-forwarded-for"] = address

    async def csrf(self) -> dict[str, str]:
        if not self.browser:
            return {}
        answer = await self.http.get("/api/v1/session")
        assert answer.status_code == 200, answer.text
        return {"x-csrf-token": answer.json()["csrf_token"]}

    async def post(self, path: str, body: dict[str, Any], expect: int = 201) -> dict[str, Any]:
        answer = await self.http.post(path, json=body, headers=await self.csrf())
        assert answer.status_code == expect, f"{path}: {answer.status_code} {answer.text}"
        return answer.json()

    async def get(self, path: str) -> dict[str, Any]:
        answer = await self.http.get(path)
        assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text}"
        return answer.json()

    async def form(self, page: str, action: str, data: dict[str, str]) -> httpx.Response:
        """Load a page and submit its form as a browser would (CSRF token from the page)."""
        loaded = await self.http.get(page)
        assert loaded.status_code == 200, loaded.text
        found = re.search(r'name="csrf_token" value="([^"]+)"', loaded.text)
        fields = {"csrf_token": found.group(1)} if found else {}
        return await self.http.post(action, data={**fields, **data})

    def socket(self, ws_url: str, room: str) -> Any:
        if self.browser:
            cookies = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
            return connect(
                f"{ws_url}/ws/rooms/{room}",
                origin=str(self.http.base_url).rstrip("/"),  # type: ignore[arg-type]
                additional_headers={"cookie": cookies, "x-forwarded-for": self.address},
                open_timeout=TIMEOUT,
            )
        return connect(
            f"{ws_url}/ws/rooms/{room}?token={self.token}",
            additional_headers={"x-forwarded-for": self.address},
            open_timeout=TIMEOUT,
        )


@dataclass
class Anonymous:
    """One anonymous post, with who wrote it: what must stay unlinkable."""

    post_id: int
    thread_id: int
    author: str
    opening: bool


@dataclass
class Day:
    """What happened: the people, and every secret and link the scans look for."""

    base_url: str
    people: dict[str, Person] = field(default_factory=dict)
    passphrases: set[str] = field(default_factory=set)
    recovery_codes: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)  # session tokens and cookie values
    anonymous: list[Anonymous] = field(default_factory=list)
    named: set[tuple[str, int]] = field(default_factory=set)  # (who, thread) posted by name
    words: dict[str, list[str]] = field(default_factory=dict)  # each person's marker words
    erased: str = ""  # who deleted their account, erasing what they wrote
    exports: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://", 1)

    @property
    def addresses(self) -> list[str]:
        return [a for found in ADDRESSES.values() for a in found]

    def words_of(self, name: str, what: str) -> str:
        word = marker(what)
        self.words.setdefault(name, []).append(word)
        return word

    def keep_secrets(self, person: Person) -> None:
        self.passphrases.add(person.passphrase)
        self.recovery_codes.update(person.recovery_codes)
        if person.token:
            self.tokens.add(person.token)
        self.tokens.update(v for v in person.http.cookies.values())

    async def close(self) -> None:
        for person in self.people.values():
            self.keep_secrets(person)
            await person.http.aclose()


def new_passphrase() -> str:
    words = ("lantern", "orchard", "velvet", "harbour", "meadow", "thistle", "copper", "willow")
    picked = [secrets.choice(words) for _ in range(3)]
    return " ".join([*picked, secrets.token_hex(3)])


async def join(day: Day, name: str, *, browser: bool) -> Person:
    address = ADDRESSES[name][0]
    http = httpx.AsyncClient(
        base_url=day.base_url,
        headers={"x-forwarded-for": address, "user-agent": "Mozilla/5.0 (Android) Firefox/120"},
        timeout=TIMEOUT,
    )
    person = Person(name, new_passphrase(), address, http, browser)
    body = {"pseudonym": name, "passphrase": person.passphrase}
    if browser:
        http.headers["origin"] = day.base_url
    else:
        body["token"] = True
    joined = await http.post("/api/v1/signup", json=body)
    assert joined.status_code == 201, joined.text
    answer = joined.json()
    person.recovery_codes = answer["recovery_codes"]
    if not browser:
        person.token = answer["token"]
        http.headers["authorization"] = f"Bearer {person.token}"
    day.people[name] = person
    day.keep_secrets(person)
    return person


async def sign_in(day: Day, person: Person, address: str) -> None:
    """A fresh sign-in from another address (the old session stays, as on a second phone)."""
    day.keep_secrets(person)
    person.at(address)
    body: dict[str, Any] = {"pseudonym": person.name, "passphrase": person.passphrase}
    if not person.browser:
        body["token"] = True
    answer = await person.http.post("/api/v1/login", json=body)
    assert answer.status_code == 200, answer.text
    if not person.browser:
        person.token = answer.json()["token"]
        person.http.headers["authorization"] = f"Bearer {person.token}"
    day.keep_secrets(person)


async def admin(day: Day, passphrase: str) -> Person:
    """The site admin (made by `kindred create-admin`) signs in with a bearer token."""
    address = ADDRESSES["admin"][0]
    http = httpx.AsyncClient(
        base_url=day.base_url, headers={"x-forwarded-for": address}, timeout=TIMEOUT
    )
    person = Person("Site-Admin", passphrase, address, http, browser=False)
    answer = await http.post(
        "/api/v1/login", json={"pseudonym": person.name, "passphrase": passphrase, "token": True}
    )
    assert answer.status_code == 200, answer.text
    person.token = answer.json()["token"]
    http.headers["authorization"] = f"Bearer {person.token}"
    day.people["admin"] = person
    day.keep_secrets(person)
    return person


# --------------------------------------------------------------------------- chat


async def frame(ws: ClientConnection, *types: str) -> dict[str, Any]:
    async with asyncio.timeout(TIMEOUT):
        while True:
            found = json.loads(await ws.recv())
            if not types or found["type"] in types:
                return found


async def say(ws: ClientConnection, body: str) -> dict[str, Any]:
    client_id = str(uuid.uuid4())
    await ws.send(json.dumps({"type": "send", "body": body, "client_id": client_id}))
    while True:
        found = await frame(ws, "message", "error")
        assert found["type"] == "message", found
        if found.get("client_id") == client_id:
            return found


@asynccontextmanager
async def in_room(day: Day, person: Person, room: str) -> AsyncIterator[ClientConnection]:
    async with person.socket(day.ws_url, room) as ws:
        assert (await frame(ws, "hello"))["type"] == "hello"
        yield ws


# --------------------------------------------------------------------------- the day


async def live_a_day(day: Day, admin_passphrase: str, member_id: Any) -> None:
    """Run the whole day. `member_id(name)` reads a member's id (the admin's member page is
    addressed by id, as a moderator reaches it from the queue)."""
    steward = await admin(day, admin_passphrase)
    alder = await join(day, "alderwick", browser=True)
    birch = await join(day, "birchmoor", browser=False)
    cedar = await join(day, "cedarvale", browser=False)
    hazel = await join(day, "hazelgrove", browser=False)

    # Alder mistypes their passphrase once, then signs in again from their phone's network.
    wrong = await alder.http.post(
        "/api/v1/login", json={"pseudonym": "alderwick", "passphrase": "not the right one at all"}
    )
    assert wrong.status_code == 401, wrong.text
    await sign_in(day, alder, ADDRESSES["alderwick"][1])
    # Someone tries hazelgrove's account with a wrong passphrase (and gets no further).
    guess = {"pseudonym": "hazelgrove", "passphrase": "a guess at hazel's passphrase"}
    assert (await cedar.http.post("/api/v1/login", json=guess)).status_code == 401
    # Cedar signs in on a second device, then forgets the passphrase: a wrong recovery code,
    # then a right one, and a new passphrase.
    await sign_in(day, cedar, ADDRESSES["cedarvale"][1])
    new = new_passphrase()
    for code, expect in (("0000-0000-0000-0000", 401), (cedar.recovery_codes[0], 303)):
        answer = await cedar.form(
            "/recover",
            "/recover",
            {
                "pseudonym": "cedarvale",
                "recovery_code": code,
                "new_passphrase": new,
                "new_passphrase_confirm": new,
            },
        )
        assert answer.status_code == expect, answer.text
    # A new passphrase ends every session: cedar signs in again with it.
    day.keep_secrets(cedar)
    cedar.passphrase = new
    await sign_in(day, cedar, ADDRESSES["cedarvale"][1])

    await _forum(day, steward, alder, birch, cedar)
    await _chat(day, alder, birch, cedar)
    hazel.member_id = await member_id("hazelgrove")
    role = await steward.http.post(
        f"/moderation/members/{hazel.member_id}/role", data={"peer_supporter": "yes"}
    )
    assert role.status_code == 303, role.text
    await _support(day, birch, hazel)

    for person in day.people.values():
        person.member_id = person.member_id or await member_id(person.name)
    for person in (alder, birch):
        day.exports[person.name] = await person.get("/api/v1/account/export")
    gone = await alder.form(
        "/account/delete",
        "/account/delete",
        {"content": "erase", "confirm": "yes", "passphrase": alder.passphrase},
    )
    assert gone.status_code == 200, gone.text
    day.erased = "alderwick"
    await day.close()


async def _forum(day: Day, steward: Person, alder: Person, birch: Person, cedar: Person) -> None:
    c = f"/api/v1/communities/{COMMUNITY}/threads"
    # Birch asks for help anonymously; alder answers under their name and anonymously.
    asked = await birch.post(
        c,
        {
            "title": f"Struggling {day.words_of('birchmoor', 'title')}",
            "body": f"Three weeks sober and {day.words_of('birchmoor', 'anon')} is hard.",
            "kind": "request",
            "help_type": "emotional",
            "anonymous": True,
        },
    )
    day.anonymous.append(Anonymous(asked["posts"][0]["id"], asked["id"], "birchmoor", True))
    named = await alder.post(
        f"/api/v1/threads/{asked['id']}/posts",
        {"body": f"You are not alone, {day.words_of('alderwick', 'named')} helps me."},
    )
    day.named.add(("alderwick", asked["id"]))
    changed = await alder.http.patch(
        f"/api/v1/posts/{named['id']}",
        json={"body": f"You are not alone: {day.words_of('alderwick', 'edit')} helps me."},
        headers=await alder.csrf(),
    )
    assert changed.status_code == 200, changed.text
    quiet = await alder.post(
        f"/api/v1/threads/{asked['id']}/posts",
        {
            "body": f"Me too, @cedarvale knows {day.words_of('alderwick', 'anon')}.",
            "anonymous": True,
        },
    )
    day.anonymous.append(Anonymous(quiet["id"], asked["id"], "alderwick", False))
    # Alder also starts an anonymous thread of their own; cedar one under their name.
    own = await alder.post(
        c,
        {
            "title": f"Nights {day.words_of('alderwick', 'title')}",
            "body": f"Nights are long {day.words_of('alderwick', 'anon')}.",
            "anonymous": True,
        },
    )
    day.anonymous.append(Anonymous(own["posts"][0]["id"], own["id"], "alderwick", True))
    open_thread = await cedar.post(
        c, {"title": "Small wins today", "body": f"Walked {day.words_of('cedarvale', 'named')}."}
    )
    day.named.add(("cedarvale", open_thread["id"]))
    reply = await birch.post(
        f"/api/v1/threads/{open_thread['id']}/posts",
        {"body": f"Well done {day.words_of('birchmoor', 'anon')}.", "anonymous": True},
    )
    day.anonymous.append(Anonymous(reply["id"], open_thread["id"], "birchmoor", False))
    edited = await birch.http.patch(
        f"/api/v1/posts/{reply['id']}",
        json={"body": f"Well done, truly {day.words_of('birchmoor', 'anon')}."},
    )
    assert edited.status_code == 200, edited.text
    await birch.post(
        f"/api/v1/threads/{open_thread['id']}/posts",
        {"body": f"And under my name {day.words_of('birchmoor', 'named')}."},
    )
    day.named.add(("birchmoor", open_thread["id"]))
    # Reactions, "this helped", a report and a check-in: each about an anonymous post.
    await cedar.post(f"/api/v1/posts/{asked['posts'][0]['id']}/reactions", {"kind": "strength"})
    await birch.post(f"/api/v1/posts/{named['id']}/helped", {}, expect=200)
    await cedar.post(
        "/api/v1/reports",
        {"kind": "post", "id": quiet["id"], "reason": "other", "note": "Seems off-topic here."},
    )
    await cedar.post("/api/v1/check-ins", {"kind": "post", "id": asked["posts"][0]["id"]})
    found = await cedar.get(f"/api/v1/search?q={day.words['birchmoor'][1]}")
    assert found["results"], found
    # A moderator opens the thread and the queue: the anonymous authors are revealed to them,
    # and each reveal is audited.
    seen = await steward.get(f"/api/v1/threads/{asked['id']}")
    assert any(p.get("author_pseudonym") == "birchmoor" for p in seen["posts"]), seen
    queue = await steward.get("/api/v1/moderation/queue")
    [case] = [i for i in queue["items"] if i["kind"] == "post" and i["target_id"] == quiet["id"]]
    revealed = await steward.post(f"/api/v1/moderation/cases/{case['case_id']}/reveal", {}, 200)
    assert revealed["author"] == "alderwick", revealed
    told = await alder.get("/api/v1/account/reveals")  # the author sees it happened
    assert told["reveals"], told
    for person in (alder, birch, cedar):
        await person.get("/api/v1/notifications")


async def _chat(day: Day, alder: Person, birch: Person, cedar: Person) -> None:
    async with in_room(day, alder, COMMUNITY) as a, in_room(day, birch, COMMUNITY) as b:
        await say(a, f"Evening all {day.words_of('alderwick', 'chat')}")
        sent = await say(b, f"Hello from {day.words_of('birchmoor', 'chat')}")
        await say(a, "Glad you're here.")
    await cedar.post(
        "/api/v1/reports",
        {"kind": "chat_message", "room": COMMUNITY, "id": sent["id"], "reason": "spam"},
    )


async def _support(day: Day, birch: Person, hazel: Person) -> None:
    available = await hazel.post("/api/v1/support/availability", {"available": True}, 200)
    assert available["available"] is True, available
    asked = await birch.post(
        "/api/v1/support/requests",
        {"community": COMMUNITY, "note": f"Need to talk {day.words_of('birchmoor', 'note')}"},
    )
    taken = await hazel.post(f"/api/v1/support/requests/{asked['id']}/accept", {}, 200)
    room = taken["room"]
    async with in_room(day, birch, room) as b, in_room(day, hazel, room) as h:
        await say(b, f"Thank you for taking this {day.words_of('birchmoor', 'support')}")
        await say(h, "I'm here. Take your time.")
    await birch.post(f"/api/v1/support/requests/{asked['id']}/end", {}, 200)
    thanks = await birch.http.post(
        f"{taken['url']}/feedback",
        data={"helped": "yes", "note": f"They listened {day.words_of('birchmoor', 'feedback')}"},
    )
    assert thanks.status_code == 303, thanks.text
