"""A member's life on Kindred up to the moment they delete their account: everything
docs/members.md makes a promise about when they leave (tests/security/test_privacy_at_rest.py).

Wren posts under their pseudonym and anonymously, edits, reacts, is notified, mentions and is
mentioned, follows, blocks a member and an anonymous author, hides a content warning, chooses
a country for helplines, chats (keeping a WebSocket open), asks a peer supporter to check on
someone and is asked about, and has 1:1 support: one conversation over with feedback given,
and then either a conversation going on or a request still waiting.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx

from communities.models import Community
from forum.communities import create_community
from identity import accounts
from tests.chat.conftest import LiveServer, Member, next_frame, send
from tests.helpers import PASSPHRASE

WARNING = "suicide"
REPORT_NOTE = "This reads as unkind to me."  # wren's, but a report: it stays (see the guide)


@dataclass
class Someone:
    member: Member
    http: httpx.AsyncClient  # bearer token

    @property
    def name(self) -> str:
        return self.member.pseudonym

    async def post(self, path: str, body: dict[str, Any], expect: int = 201) -> dict[str, Any]:
        answer = await self.http.post(path, json=body)
        assert answer.status_code == expect, f"{path}: {answer.status_code} {answer.text}"
        return answer.json()


@dataclass
class Life:
    server: LiveServer
    community: Community
    wren: Someone
    rowan: Someone
    ash: Someone
    oak: Someone  # a peer supporter
    browser: httpx.AsyncClient  # wren signed in with a cookie, as a browser
    words: list[str] = field(default_factory=list)  # every word wren wrote
    ids: dict[str, int] = field(default_factory=dict)  # posts, threads, requests by name
    room: str = ""  # the support conversation going on, if any

    def say(self, what: str) -> str:
        word = what + "".join(secrets.choice("bcdfghjkmnpqrstvwxz") for _ in range(8))
        self.words.append(word)
        return word

    def word(self, what: str) -> str:
        """The first word wren wrote as `what` ("named", "anon", "title", "chat", …)."""
        return next(w for w in self.words if w.startswith(what))

    async def close(self) -> None:
        for client in (self.browser, *(p.http for p in self.people)):
            await client.aclose()

    @property
    def people(self) -> list[Someone]:
        return [self.wren, self.rowan, self.ash, self.oak]


async def someone(server: LiveServer, name: str) -> Someone:
    member = await server.member(name)
    http = httpx.AsyncClient(
        base_url=server.url, headers={"authorization": f"Bearer {member.token}"}, timeout=10
    )
    return Someone(member, http)


async def browser_session(server: LiveServer, name: str) -> httpx.AsyncClient:
    http = httpx.AsyncClient(base_url=server.url, headers={"origin": server.url}, timeout=10)
    answer = await http.post("/api/v1/login", json={"pseudonym": name, "passphrase": PASSPHRASE})
    assert answer.status_code == 200, answer.text
    return http


async def form(http: httpx.AsyncClient, page: str, action: str, data: dict[str, str]) -> Any:
    loaded = await http.get(page)
    assert loaded.status_code == 200, loaded.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', loaded.text)
    assert token, page
    return await http.post(action, data={"csrf_token": token.group(1), **data})


async def live(server: LiveServer, *, support: str) -> Life:
    """Everything up to the deletion. `support`: "going_on" (a conversation is open when wren
    leaves) or "waiting" (a request nobody has taken yet)."""
    ctx = server.ctx
    admin = (
        await accounts.sign_up(ctx.db, ctx.settings, "Site-Admin", PASSPHRASE, is_admin=True)
    ).signed_in.member
    community = await create_community(
        ctx, admin, slug="grief", name="Grief", rules="1. Be kind.", content_warnings=WARNING
    )
    await ctx.extensions["community_created"](community)  # its chat room, as the page does
    life = Life(
        server,
        community,
        await someone(server, "wren"),
        await someone(server, "rowan"),
        await someone(server, "ash"),
        await someone(server, "oak"),
        await browser_session(server, "wren"),
    )
    await accounts.set_roles(ctx.db, "oak", peer_supporter=True)
    await _forum(life)
    await _settings(life)
    await _chat(life)
    await _check_ins(life)
    await _support(life, support)
    return life


async def _forum(life: Life) -> None:
    wren, rowan, ash = life.wren, life.rowan, life.ash
    threads = "/api/v1/communities/grief/threads"
    asked = await rowan.post(
        threads,
        {
            "title": "Lost my dad",
            "body": "How do you get through the first year?",
            "kind": "request",
            "help_type": "emotional",
        },
    )
    life.ids |= {"rowan_thread": asked["id"], "rowan_opening": asked["posts"][0]["id"]}
    reply = f"/api/v1/threads/{asked['id']}/posts"
    named = await wren.post(reply, {"body": f"@rowan it gets {life.say('named')} slowly."})
    quiet = await wren.post(reply, {"body": f"I {life.say('anon')} too.", "anonymous": True})
    life.ids |= {"wren_named": named["id"], "wren_anonymous": quiet["id"]}
    await rowan.post(f"/api/v1/posts/{named['id']}/helped", {}, expect=200)
    await rowan.post(f"/api/v1/posts/{named['id']}/reactions", {"kind": "thanks"})
    await wren.post(f"/api/v1/posts/{asked['posts'][0]['id']}/reactions", {"kind": "strength"})

    own = await wren.post(
        threads,
        {
            "title": f"Anniversaries {life.say('title')}",
            "body": f"Mum's {life.say('opening')}.",
            "content_warning": WARNING,
        },
    )
    life.ids |= {"wren_thread": own["id"], "wren_opening": own["posts"][0]["id"]}
    edited = await wren.http.patch(
        f"/api/v1/posts/{own['posts'][0]['id']}", json={"body": f"Mum's {life.say('edit')}."}
    )
    assert edited.status_code == 200, edited.text
    answer = await rowan.post(f"/api/v1/threads/{own['id']}/posts", {"body": "Thinking of you."})
    hidden = await ash.post(
        f"/api/v1/threads/{own['id']}/posts", {"body": "Same here.", "anonymous": True}
    )
    life.ids |= {"rowan_in_wren_thread": answer["id"], "ash_anonymous": hidden["id"]}
    await wren.post(f"/api/v1/threads/{own['id']}/blocks", {"label": "A"})
    report = {"kind": "post", "id": hidden["id"], "reason": "other", "note": REPORT_NOTE}
    await wren.post("/api/v1/reports", report)
    seen = await wren.http.get(f"/t/{asked['id']}")  # a visit: "new since you last looked"
    assert seen.status_code == 200, seen.text


async def _settings(life: Life) -> None:
    done = await form(life.browser, "/account", "/account/country", {"country": "GB"})
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/account?done=country"
    done = await form(life.browser, "/account", "/account/blocks", {"block": "ash"})
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/account?done=blocked"
    done = await form(
        life.browser,
        "/settings/content-warnings",
        "/settings/content-warnings",
        {"mode-0": "hide"},
    )
    assert done.status_code == 303, done.text


async def _chat(life: Life) -> None:
    async with (
        life.server.connect(life.wren.member, "grief") as wren,
        life.server.connect(life.rowan.member, "grief") as rowan,
    ):
        await next_frame(wren, "hello")
        await next_frame(rowan, "hello")
        await send(wren, f"Evening {life.say('chat')}", "w1")
        mine = await next_frame(wren, "message")
        await send(rowan, "Evening all.", "r1")
        await next_frame(rowan, "message")
    life.ids["wren_chat"] = mine["id"]


async def _check_ins(life: Life) -> None:
    await life.rowan.post("/api/v1/check-ins", {"kind": "post", "id": life.ids["wren_named"]})
    await life.wren.post("/api/v1/check-ins", {"kind": "post", "id": life.ids["rowan_opening"]})


async def _support(life: Life, support: str) -> None:
    wren, oak = life.wren, life.oak
    await oak.post("/api/v1/support/availability", {"available": True}, expect=200)
    first = await wren.post(
        "/api/v1/support/requests", {"community": "grief", "note": f"Bad {life.say('note')}"}
    )
    taken = await oak.post(f"/api/v1/support/requests/{first['id']}/accept", {}, expect=200)
    async with life.server.connect(wren.member, taken["room"]) as ws:
        await next_frame(ws, "hello")
        await send(ws, f"Thanks for {life.say('private')}", "p1")
        await next_frame(ws, "message")
    await wren.post(f"/api/v1/support/requests/{first['id']}/end", {}, expect=200)
    feedback = await wren.http.post(
        f"{taken['url']}/feedback", data={"helped": "yes", "note": f"Kind {life.say('feedback')}"}
    )
    assert feedback.status_code == 303, feedback.text
    second = await wren.post(
        "/api/v1/support/requests", {"community": "grief", "note": f"Again {life.say('note')}"}
    )
    life.ids |= {"first_request": first["id"], "second_request": second["id"]}
    if support == "going_on":
        again = await oak.post(f"/api/v1/support/requests/{second['id']}/accept", {}, expect=200)
        life.room = again["room"]
