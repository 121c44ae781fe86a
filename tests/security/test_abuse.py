"""Abuse, as an attacker would try it: the tools meant to protect members turned against them.

- Report flooding: sock-puppet accounts, one member reporting again and again, "crisis"
  reports, a blocked harasser and a second wave after review can't hide a post by themselves;
  the case reaches the review queue instead.
- Check-in requests: a flood against one member makes one request a day, tells them nothing
  (no notification, nobody named), and moderators see who asked.
- 1:1 support: asking is throttled, a block keeps the blocked member's requests away from the
  supporter, and nothing tells the member that they were blocked.
- Sign-up, sign-in and recovery guessing: limited per network and per account, concurrency
  included, with X-Forwarded-For believed only from the configured proxies, and no address
  kept anywhere.
- Pseudonyms: homoglyphs, mixed scripts, invisible characters and ASCII look-alikes can't pass
  for staff, for Kindred's own labels or for another member.

Everything goes through the real app (httpx on ASGI), on SQLite by default and on PostgreSQL
and Redis with KINDRED_TEST_BACKEND=postgres.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlmodel import col, update
from starlette.applications import Starlette

from communities.models import Community, CommunityModerator
from core.db import utcnow
from core.settings import Settings
from identity import accounts
from identity.models import Member
from identity.names import PseudonymError
from kindred.app import create_app
from tests.chat.people import make_community
from tests.conftest import SITE
from tests.helpers import PASSPHRASE, api_post, submit

# --------------------------------------------------------------------------- helpers


def client_at(app: Starlette, address: str, **kwargs: object) -> httpx.AsyncClient:
    """A client whose connection comes from `address`, as the app sees the peer."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 5000)),
        base_url=SITE,
        **kwargs,  # type: ignore[arg-type]
    )


class Crowd:
    """Members of one app, each signing up from their own address (so that making many of
    them is not itself stopped by the sign-up limit, as it would not be for an attacker
    with many networks)."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.ctx = app.state.ctx
        self.clients: list[httpx.AsyncClient] = []
        self._next = 0

    def address(self) -> str:
        self._next += 1
        return f"198.51.{self._next // 250}.{self._next % 250 + 1}"

    async def member(self, name: str, *, established: bool = False) -> httpx.AsyncClient:
        client = client_at(self.app, self.address())
        self.clients.append(client)
        joined = await client.post(
            "/api/v1/signup", json={"pseudonym": name, "passphrase": PASSPHRASE}
        )
        assert joined.status_code == 201, joined.text
        if established:
            await self.age(name, timedelta(days=2))
        return client

    async def age(self, name: str, by: timedelta) -> None:
        """Make an account older than it is (the test can't wait a day)."""
        async with self.ctx.db.transaction() as s:
            await s.exec(
                update(Member).where(col(Member.pseudonym) == name).values(created_at=utcnow() - by)
            )

    async def member_id(self, name: str) -> int:
        found = await accounts.find_member(self.ctx.db, name)
        assert found is not None and found.id is not None
        return found.id

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()


@pytest.fixture
async def community(app: Starlette) -> Community:
    community = await make_community(app.state.ctx, slug="recovery", name="Recovery")
    await app.state.ctx.extensions["community_created"](community)  # its chat room
    return community


@pytest.fixture
async def crowd(app: Starlette, community: Community) -> AsyncIterator[Crowd]:
    people = Crowd(app)
    yield people
    await people.close()


async def moderator(crowd: Crowd, community: Community, name: str) -> httpx.AsyncClient:
    client = await crowd.member(name, established=True)
    async with crowd.ctx.db.transaction() as s:
        s.add(CommunityModerator(community_id=community.id, member_id=await crowd.member_id(name)))
    return client


async def block(client: httpx.AsyncClient, pseudonym: str) -> None:
    blocked = await submit(client, "/account", "/account/blocks", {"block": pseudonym})
    assert blocked.status_code == 303, blocked.text


async def start_thread(client: httpx.AsyncClient, body: str) -> dict:
    made = await api_post(
        client, "/api/v1/communities/recovery/threads", {"title": "Today", "body": body}
    )
    assert made.status_code == 201, made.text
    return made.json()


async def report(client: httpx.AsyncClient, post_id: int, reason: str = "harassment"):
    return await api_post(
        client, "/api/v1/reports", {"kind": "post", "id": post_id, "reason": reason}
    )


async def reported_by_many(
    crowd: Crowd, post_id: int, prefix: str, count: int, reason: str = "harassment"
) -> None:
    """`count` new established members (prefix-0, prefix-1, …) each report the post once."""
    for n in range(count):
        reporter = await crowd.member(f"{prefix}-{n}", established=True)
        assert (await report(reporter, post_id, reason)).status_code == 201


async def status_seen(client: httpx.AsyncClient, thread_id: int) -> str:
    """The opening post's status as another member sees it."""
    seen = await client.get(f"/api/v1/threads/{thread_id}")
    assert seen.status_code == 200, seen.text
    return seen.json()["posts"][0]["status"]


async def queue_items(client: httpx.AsyncClient) -> list[dict]:
    answer = await client.get("/api/v1/moderation/queue")
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


# --------------------------------------------------------------------------- report flooding


async def test_sock_puppets_cannot_hide_a_post_and_the_case_reaches_the_queue(
    crowd: Crowd, community: Community
) -> None:
    author = await crowd.member("steady-oak", established=True)
    mod = await moderator(crowd, community, "keeper-one")
    bystander = await crowd.member("quiet-fern", established=True)
    thread = await start_thread(author, "Ninety days sober today.")
    post_id = thread["posts"][0]["id"]
    puppets = [await crowd.member(f"puppet-{n:02d}") for n in range(12)]
    for puppet in puppets:
        assert (await report(puppet, post_id)).status_code == 201
        # One report per member per post, however often they try.
        again = await report(puppet, post_id, "spam")
        assert again.status_code == 409 and again.json()["error"]["code"] == "already_reported"
    assert await status_seen(bystander, thread["id"]) == "published"
    [item] = await queue_items(mod)
    assert item["target_id"] == post_id and item["auto_hidden"] is False
    assert len(item["reports"]) == 12  # every report is there for the moderator to read
    assert item["report_weight"] == 0  # ... and none of them hid anything


async def test_established_members_still_hide_a_post_together_but_never_one_alone(
    crowd: Crowd, community: Community
) -> None:
    author = await crowd.member("steady-oak", established=True)
    bystander = await crowd.member("quiet-fern")
    reporters = [await crowd.member(f"reader-{n}", established=True) for n in range(3)]
    staff = await crowd.member("helper-hazel", established=True)
    await accounts.set_roles(crowd.ctx.db, "helper-hazel", peer_supporter=True)
    thread = await start_thread(author, "You are all idiots.")
    post_id = thread["posts"][0]["id"]
    # The heaviest single report (a peer supporter's, weight 2) is not enough alone.
    assert (await report(staff, post_id)).status_code == 201
    assert await status_seen(bystander, thread["id"]) == "published"
    # A second established member, distinct from the first, makes 3: hidden for review.
    assert (await report(reporters[0], post_id)).status_code == 201
    assert await status_seen(bystander, thread["id"]) == "hidden"
    # And three established members, without staff, also reach the threshold.
    other = await start_thread(author, "Still think so.")
    for reporter in reporters:
        assert (await report(reporter, other["posts"][0]["id"])).status_code == 201
    assert await status_seen(bystander, other["id"]) == "hidden"


async def test_sanctioned_and_blocked_reporters_weigh_nothing(
    crowd: Crowd, community: Community
) -> None:
    from moderation.models import Sanction

    author = await crowd.member("steady-oak", established=True)
    bystander = await crowd.member("quiet-fern")
    harasser = await crowd.member("loud-crow", established=True)
    muted = await crowd.member("sharp-jay", established=True)
    other = await crowd.member("plain-wren", established=True)
    another = await crowd.member("pale-moth", established=True)
    async with crowd.ctx.db.transaction() as s:
        s.add(Sanction(member_id=await crowd.member_id("sharp-jay"), kind="warn"))
    await block(author, "loud-crow")
    thread = await start_thread(author, "Here is my story.")
    post_id = thread["posts"][0]["id"]
    for reporter in (harasser, muted, other, another):
        assert (await report(reporter, post_id)).status_code == 201
    # Only plain-wren's and pale-moth's reports count (2 of 3): a harasser the author
    # blocked and a member warned in the last 90 days can't push the author's words out of
    # sight (either of them counted would make 3).
    assert await status_seen(bystander, thread["id"]) == "published"


async def test_crisis_reports_never_hide_the_words_of_someone_in_crisis(
    crowd: Crowd, community: Community
) -> None:
    author = await crowd.member("steady-oak", established=True)
    mod = await moderator(crowd, community, "keeper-one")
    bystander = await crowd.member("quiet-fern")
    thread = await start_thread(author, "Some days are harder than others.")
    post_id = thread["posts"][0]["id"]
    await reported_by_many(crowd, post_id, "worried", 4, "crisis")
    assert await status_seen(bystander, thread["id"]) == "published"
    [item] = await queue_items(mod)
    assert item["crisis"] is True and item["auto_hidden"] is False


async def test_a_second_wave_after_review_goes_to_the_queue_not_out_of_sight(
    crowd: Crowd, community: Community
) -> None:
    author = await crowd.member("steady-oak", established=True)
    mod = await moderator(crowd, community, "keeper-one")
    bystander = await crowd.member("quiet-fern")
    thread = await start_thread(author, "An unpopular opinion, kindly put.")
    post_id = thread["posts"][0]["id"]
    await reported_by_many(crowd, post_id, "wave-one", 3)
    assert await status_seen(bystander, thread["id"]) == "hidden"
    [item] = await queue_items(mod)
    restored = await api_post(
        mod, f"/api/v1/moderation/cases/{item['case_id']}/actions", {"action": "dismiss"}
    )
    assert restored.status_code == 200, restored.text
    assert await status_seen(bystander, thread["id"]) == "published"
    await reported_by_many(crowd, post_id, "wave-two", 3)
    assert await status_seen(bystander, thread["id"]) == "published"
    [item] = await queue_items(mod)  # a new case, for a moderator to decide
    assert item["target_id"] == post_id and item["auto_hidden"] is False
    assert item["report_weight"] == 3


# --------------------------------------------------------------------------- guessing limits

LIMITS = (
    "login_member=4/15minutes;login_network=6/15minutes;signup_network=3/hour;"
    "recover_network=4/hour;recover_member=3/hour"
)
PROXIES = ("10.0.0.0/8",)


@pytest.fixture
async def limited(settings: Settings) -> AsyncIterator[Callable[..., Awaitable[Starlette]]]:
    """Apps with small limits (and, when asked, a trusted proxy), on the test's database."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(**overrides: object) -> Starlette:
            app = create_app(dataclasses.replace(settings, rate_limits=LIMITS, **overrides))
            await stack.enter_async_context(app.router.lifespan_context(app))
            return app

        yield make


async def sign_up(client: httpx.AsyncClient, name: str, **headers: str) -> int:
    answer = await client.post(
        "/api/v1/signup", json={"pseudonym": name, "passphrase": PASSPHRASE}, headers=headers
    )
    return answer.status_code


async def log_in(app: Starlette, address: str, name: str, passphrase: str) -> int:
    async with client_at(app, address) as client:
        answer = await client.post(
            "/api/v1/login", json={"pseudonym": name, "passphrase": passphrase}
        )
    return answer.status_code


async def recover(app: Starlette, address: str, name: str, code: str) -> int:
    async with client_at(app, address) as client:
        answer = await submit(
            client,
            "/recover",
            "/recover",
            {
                "pseudonym": name,
                "recovery_code": code,
                "new_passphrase": "a brand new passphrase",
                "new_passphrase_confirm": "a brand new passphrase",
            },
        )
    return answer.status_code


async def test_sign_up_is_limited_per_network_whatever_x_forwarded_for_claims(limited) -> None:
    app = await limited()  # no trusted proxy: the header is the client's own word
    async with client_at(app, "203.0.113.20") as attacker:
        made = [
            await sign_up(attacker, f"sprout-{n}", **{"x-forwarded-for": f"192.0.2.{n}"})
            for n in range(5)
        ]
    assert made == [201, 201, 201, 429, 429]
    async with client_at(app, "203.0.113.21") as neighbour:
        assert await sign_up(neighbour, "other-sprout") == 201


async def test_behind_a_trusted_proxy_only_the_hop_it_saw_counts(limited) -> None:
    app = await limited(trusted_proxies=PROXIES)
    async with client_at(app, "10.0.0.2") as proxy:
        # The proxy appends the address it saw (203.0.113.30) to whatever the client sent,
        # forged addresses and trusted-looking hops included.
        forged = ["192.0.2.1", "10.9.9.9", "192.0.2.3, 10.1.1.1", "", "192.0.2.5"]
        made = []
        for n, claim in enumerate(forged):
            chain = f"{claim}, 203.0.113.30" if claim else "203.0.113.30"
            made.append(await sign_up(proxy, f"seedling-{n}", **{"x-forwarded-for": chain}))
        assert made == [201, 201, 201, 429, 429]
        # Someone else behind the same proxy has their own allowance.
        assert await sign_up(proxy, "elsewhere", **{"x-forwarded-for": "203.0.113.31"}) == 201


async def test_ipv4_clients_on_a_dual_stack_listener_are_not_one_network(limited) -> None:
    """Seen as ::ffff:a.b.c.d, every IPv4 client fell in the same IPv6 /64: one sign-up
    limit for the whole IPv4 internet, and an IPv4 proxy never recognised."""
    app = await limited()
    async with client_at(app, "::ffff:203.0.113.50") as first:
        assert [await sign_up(first, f"dual-{n}") for n in range(4)] == [201, 201, 201, 429]
    async with client_at(app, "::ffff:198.51.100.60") as second:
        assert await sign_up(second, "dual-other") == 201
    proxied = await limited(trusted_proxies=PROXIES)
    async with client_at(proxied, "::ffff:10.0.0.2") as proxy:
        chains = ["203.0.113.80", "203.0.113.81", "203.0.113.82", "203.0.113.83"]
        made = [
            await sign_up(proxy, f"proxied-{n}", **{"x-forwarded-for": chain})
            for n, chain in enumerate(chains)
        ]
    assert made == [201, 201, 201, 201]  # four clients, not one proxy


async def test_junk_bytes_in_x_forwarded_for_are_not_a_server_error(limited) -> None:
    app = await limited(trusted_proxies=PROXIES)
    async with client_at(app, "10.0.0.2") as proxy:
        answer = await proxy.post(
            "/api/v1/signup",
            json={"pseudonym": "odd-bytes", "passphrase": PASSPHRASE},
            headers={"x-forwarded-for": b"\xff\xfe\x00junk, 203.0.113.90"},
        )
    assert answer.status_code == 201, answer.text


async def test_sign_in_guessing_is_stopped_per_network_and_per_account(limited) -> None:
    app = await limited()
    victims = [f"victim-{n}" for n in range(5)]
    for n, name in enumerate(victims):
        async with client_at(app, f"198.18.0.{n + 1}") as client:
            assert await sign_up(client, name) == 201
    # One network against many accounts (2 guesses each, under the per-account limit).
    spread = [
        await log_in(app, "203.0.113.40", victims[n // 2], f"guess number {n}") for n in range(8)
    ]
    assert spread == [401] * 6 + [429] * 2
    # Many networks against one account.
    focused = [
        await log_in(app, f"198.19.{n}.1", victims[4], f"guess number {n}") for n in range(6)
    ]
    assert focused == [401] * 4 + [429] * 2


async def test_guesses_sent_at_once_are_all_counted(limited) -> None:
    app = await limited()
    async with client_at(app, "198.18.1.1") as client:
        assert await sign_up(client, "target-member") == 201
    answers = await asyncio.gather(
        *(log_in(app, f"198.20.{n}.1", "target-member", f"guess {n}") for n in range(12))
    )
    assert sorted(answers) == [401] * 4 + [429] * 8


async def test_recovery_code_guessing_is_stopped_per_network_and_per_account(limited) -> None:
    app = await limited()
    for n in range(3):
        async with client_at(app, f"198.18.2.{n + 1}") as client:
            assert await sign_up(client, f"forgetful-{n}") == 201
    code = "k7mq-x3vd-9fpn-2hcw"  # well formed, and nobody's
    focused = [await recover(app, f"198.21.{n}.1", "forgetful-0", code) for n in range(5)]
    assert focused == [401] * 3 + [429] * 2
    spread = [await recover(app, "203.0.113.41", f"forgetful-{1 + n % 2}", code) for n in range(6)]
    assert spread == [401] * 4 + [429] * 2


async def test_limits_keep_no_address(limited, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    app = await limited(trusted_proxies=PROXIES)
    addresses = ["203.0.113.77", "198.51.100.77", "2001:db8:77::1"]
    for n, address in enumerate(addresses):
        async with client_at(app, "10.0.0.2") as proxy:
            for attempt in range(2):
                headers = {"x-forwarded-for": address}
                await sign_up(proxy, f"keeper-{n}-{attempt}", **headers)
                await proxy.post(
                    "/api/v1/login",
                    json={"pseudonym": f"keeper-{n}-0", "passphrase": "not it at all"},
                    headers=headers,
                )
    logged = "\n".join(record.getMessage() for record in caplog.records)
    stored = logged
    redis_url = app.state.ctx.settings.redis_url
    if redis_url:  # PostgreSQL and Redis (KINDRED_TEST_BACKEND=postgres): the shared counters
        import redis.asyncio as redis

        client = redis.Redis.from_url(redis_url)
        try:
            keys = [key.decode("latin-1") async for key in client.scan_iter("*")]
        finally:
            await client.aclose()
        assert keys, "the limits were counted in Redis"
        stored += "\n".join(keys)
    for address in [*addresses, "2001:db8:77::", "2001:db8:77:0:", "10.0.0.2"]:
        assert address not in stored


# --------------------------------------------------------------------------- check-in requests


async def ask_check_in(client: httpx.AsyncClient, post_id: int) -> httpx.Response:
    return await api_post(client, "/api/v1/check-ins", {"kind": "post", "id": post_id})


async def test_a_check_in_flood_makes_one_request_tells_the_member_nothing_and_shows_moderators(
    crowd: Crowd, community: Community
) -> None:
    from sqlmodel import select

    from moderation.models import AuditEntry, CheckInAsk, CheckInRequest

    target = await crowd.member("steady-oak")
    mod = await moderator(crowd, community, "keeper-one")
    supporter = await crowd.member("helper-hazel")
    await accounts.set_roles(crowd.ctx.db, "helper-hazel", peer_supporter=True)
    posts = [
        (await start_thread(target, f"Day {n} of trying again."))["posts"][0]["id"]
        for n in range(3)
    ]
    answers = []
    for n in range(15):
        puppet = await crowd.member(f"asker-{n:02d}")
        answers.append(await ask_check_in(puppet, posts[n % 3]))
    assert {a.status_code for a in answers} == {201}
    # The first is told supporters will check in; everyone after, that they already know.
    assert [a.json()["status"] for a in answers] == ["asked"] + ["already_known"] * 14
    async with crowd.ctx.db.read() as s:
        requests = list(await s.exec(select(CheckInRequest)))
        asks = list(await s.exec(select(CheckInAsk)))
    assert len(requests) == 1 and requests[0].ask_count == 15 and len(asks) == 15
    # The member asked about gets no notification at all, and no page of theirs says so.
    notes = (await target.get("/api/v1/notifications")).json()["notifications"]
    assert notes == []
    for post_id in posts:
        page = (await target.get(f"/t/{posts.index(post_id) + 1}")).text
        assert "asker-" not in page and "check in" not in page.lower()
    # Supporters see one request, "15 members asked", and no names.
    items = (await supporter.get("/api/v1/moderation/check-ins")).json()["items"]
    assert [i["ask_count"] for i in items] == [15] and "asker-" not in str(items)
    # Moderators see who asked, each of them, in an audited look.
    who = await submit(mod, "/moderation", f"/moderation/check-ins/{requests[0].id}/who-asked", {})
    assert who.status_code == 200, who.text
    assert all(f"asker-{n:02d}" in who.text for n in range(15))
    async with crowd.ctx.db.read() as s:
        looks = list(
            await s.exec(select(AuditEntry).where(AuditEntry.action == "reveal_check_in_askers"))
        )
    assert len(looks) == 1 and looks[0].actor_name == "keeper-one"


async def test_one_member_asking_again_and_again_is_limited_and_counted_once(
    crowd: Crowd, community: Community
) -> None:
    from sqlmodel import select

    from moderation.models import CheckInRequest

    target = await crowd.member("steady-oak")
    pest = await crowd.member("loud-crow")
    thread = await start_thread(target, "Bad week.")
    post_id = thread["posts"][0]["id"]
    codes = [(await ask_check_in(pest, post_id)).status_code for _ in range(7)]
    assert codes == [201] * 5 + [429] * 2  # check_in: 5 a day per member
    async with crowd.ctx.db.read() as s:
        [request] = list(await s.exec(select(CheckInRequest)))
    assert request.ask_count == 1


async def test_one_request_a_day_per_member_however_it_is_closed(
    crowd: Crowd, community: Community
) -> None:
    from sqlmodel import select

    from moderation.models import CheckInAsk, CheckInRequest

    target = await crowd.member("steady-oak")
    supporter = await crowd.member("helper-hazel")
    await accounts.set_roles(crowd.ctx.db, "helper-hazel", peer_supporter=True)
    thread = await start_thread(target, "Bad week.")
    post_id = thread["posts"][0]["id"]
    first = await crowd.member("asker-a")
    assert (await ask_check_in(first, post_id)).json()["status"] == "asked"
    [request] = (await supporter.get("/api/v1/moderation/check-ins")).json()["items"]
    closed = await submit(
        supporter, "/moderation", f"/moderation/check-ins/{request['id']}/close",
        {"resolution": "checked_in"},
    )  # fmt: skip
    assert closed.status_code == 303, closed.text
    assert closed.headers["location"] == "/moderation?done=check-in#check-ins"
    # Closed an hour ago: a new ask the same day folds into it, reaching no supporter.
    second = await crowd.member("asker-b")
    assert (await ask_check_in(second, post_id)).json()["status"] == "already_known"
    assert (await supporter.get("/api/v1/moderation/check-ins")).json()["items"] == []
    # A day later, a new request may open.
    day_ago = utcnow() - timedelta(days=1, hours=1)
    async with crowd.ctx.db.transaction() as s:
        await s.exec(update(CheckInRequest).values(opened_at=day_ago))
        await s.exec(update(CheckInAsk).values(created_at=day_ago))
    third = await crowd.member("asker-c")
    assert (await ask_check_in(third, post_id)).json()["status"] == "asked"
    async with crowd.ctx.db.read() as s:
        assert len(list(await s.exec(select(CheckInRequest)))) == 2


async def test_a_blocked_asker_reaches_nobody_and_is_told_the_same(
    crowd: Crowd, community: Community
) -> None:
    from sqlmodel import select

    from moderation.models import CheckInAsk

    target = await crowd.member("steady-oak")
    stalker = await crowd.member("loud-crow")
    stranger = await crowd.member("plain-wren")
    supporter = await crowd.member("helper-hazel")
    await accounts.set_roles(crowd.ctx.db, "helper-hazel", peer_supporter=True)
    await block(target, "loud-crow")
    thread = await start_thread(target, "Bad week.")
    post_id = thread["posts"][0]["id"]
    withheld = await ask_check_in(stalker, post_id)
    other = await start_thread(stranger, "Me too.")
    normal = await ask_check_in(stalker, other["posts"][0]["id"])
    # Word for word what an ask that went through says: nothing reveals the block.
    assert withheld.status_code == normal.status_code == 201
    assert withheld.json() == normal.json()
    items = (await supporter.get("/api/v1/moderation/check-ins")).json()["items"]
    assert [i["content"]["context_url"] for i in items] == [
        f"/t/{other['id']}#p{other['posts'][0]['id']}"
    ]
    async with crowd.ctx.db.read() as s:
        kept = list(await s.exec(select(CheckInAsk).where(CheckInAsk.withheld)))
    assert len(kept) == 1 and kept[0].request_id is None  # kept for moderators, sent nowhere


# --------------------------------------------------------------------------- 1:1 support requests


async def ask_support(client: httpx.AsyncClient, note: str) -> httpx.Response:
    return await api_post(
        client, "/api/v1/support/requests", {"community": "recovery", "note": note}
    )


async def available_supporter(crowd: Crowd, name: str) -> httpx.AsyncClient:
    client = await crowd.member(name)
    await accounts.set_roles(crowd.ctx.db, name, peer_supporter=True)
    on = await api_post(client, "/api/v1/support/availability", {"available": True})
    assert on.status_code == 200, on.text
    return client


async def queued(supporter: httpx.AsyncClient) -> list[int]:
    answer = await supporter.get("/api/v1/support/queue")
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["requests"]]


async def test_a_supporter_who_blocks_a_member_never_gets_their_requests_and_nobody_is_told(
    crowd: Crowd, community: Community
) -> None:
    pest = await crowd.member("loud-crow")
    oak = await available_supporter(crowd, "oak-listens")
    elm = await available_supporter(crowd, "elm-listens")
    first = await ask_support(pest, "Can we talk again?")
    assert first.status_code == 201, first.text
    taken = await api_post(oak, f"/api/v1/support/requests/{first.json()['id']}/accept")
    assert taken.status_code == 200, taken.text
    ended = await api_post(oak, f"/api/v1/support/requests/{first.json()['id']}/end")
    assert ended.status_code == 200, ended.text
    await block(oak, "loud-crow")  # the pseudonym oak learned by accepting
    again = await ask_support(pest, "It's me again, pick up.")
    # Asked as usual: same status and fields as any request, nothing about a block.
    assert again.status_code == 201
    assert again.json()["status"] == "open" and set(again.json()) == set(first.json())
    request_id = again.json()["id"]
    assert await queued(oak) == [] and await queued(elm) == [request_id]
    # Reaching for it by id answers as a request that isn't there.
    by_id = await api_post(oak, f"/api/v1/support/requests/{request_id}/accept")
    missing = await api_post(oak, "/api/v1/support/requests/999999/accept")
    assert by_id.status_code == missing.status_code == 404
    assert by_id.json() == missing.json()


async def test_a_member_who_blocks_a_supporter_is_never_matched_with_them_unseen(
    crowd: Crowd, community: Community
) -> None:
    member = await crowd.member("quiet-fern")
    oak = await available_supporter(crowd, "oak-listens")
    await block(member, "oak-listens")
    asked = await ask_support(member, "I'd like to talk about my brother.")
    assert asked.status_code == 201, asked.text
    assert await queued(oak) == []
    by_id = await api_post(oak, f"/api/v1/support/requests/{asked.json()['id']}/accept")
    missing = await api_post(oak, "/api/v1/support/requests/999999/accept")
    assert by_id.status_code == 404 and by_id.json() == missing.json()
    assert "block" not in by_id.text


async def test_asking_again_and_again_is_one_at_a_time_and_throttled(
    crowd: Crowd, community: Community
) -> None:
    pest = await crowd.member("loud-crow")
    oak = await available_supporter(crowd, "oak-listens")
    made = await ask_support(pest, "Talk to me.")
    assert made.status_code == 201
    twice = await ask_support(pest, "Talk to me now.")
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_asked"
    codes = []
    for n in range(5):
        cancel = await api_post(pest, f"/api/v1/support/requests/{made.json()['id']}/cancel")
        assert cancel.status_code == 200, cancel.text  # each ask made was still waiting
        made = await ask_support(pest, f"Talk to me ({n}).")
        codes.append(made.status_code)
    assert codes == [201, 201, 201, 201, 429]  # support_request: 5 made an hour
    assert made.json()["error"]["code"] == "rate_limited"
    assert await queued(oak) == []  # the last one was withdrawn and the refused ask made none


# --------------------------------------------------------------------------- pseudonyms

DATA = Path(__file__).parent / "data"


def _homoglyphs() -> dict[str, list[str]]:
    """ASCII letter -> the Latin, Greek and Cyrillic letters Unicode lists as reading like it."""
    table: dict[str, list[str]] = {}
    for line in (DATA / "homoglyphs.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            _cp, char, prototype, _name = line.split("\t")
            table.setdefault(prototype.lower(), []).append(char)
    return table


HOMOGLYPHS = _homoglyphs()
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e"]
COMBINING = ["\u0301", "\u0308", "\u0336", "\u0338", "\u034f", "\u0323"]
# Spellings a reader takes for the letter (the inverse of identity.names.skeleton's map, and
# UTS #39's m -> rn and w -> vv).
ASCII_DISGUISES = {
    "o": ["0", "O"],
    "l": ["1", "I"],
    "i": ["1", "l", "I"],
    "e": ["3", "E"],
    "a": ["4", "A"],
    "s": ["5", "S"],
    "t": ["7", "T"],
    "b": ["8", "B"],
    "g": ["9", "G"],
    "m": ["rn", "M"],
    "w": ["vv", "W"],
}
NAME = st.text(alphabet="abcdefghjkmnpqrstuvwxyz", min_size=4, max_size=12)


def _reserved_terms() -> list[str]:
    from identity.names import LABEL_TERMS, STAFF_TERMS, WHOLE_TOKEN_STAFF_TERMS

    return [t for t in (*STAFF_TERMS, *LABEL_TERMS) if t not in WHOLE_TOKEN_STAFF_TERMS]


@st.composite
def unicode_disguise(draw: st.DrawFn, name: str) -> str:
    """`name` with one to three letters swapped for look-alikes from other scripts or full-width
    forms, or with invisible characters or combining marks slipped in."""
    chars = list(name)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(chars) - 1))
        how = draw(st.sampled_from(["homoglyph", "fullwidth", "invisible", "combining"]))
        letter = chars[at]
        if how == "homoglyph" and letter.lower() in HOMOGLYPHS:
            chars[at] = draw(st.sampled_from(HOMOGLYPHS[letter.lower()]))
        elif how == "fullwidth" and letter.isascii() and letter.isalnum():
            chars[at] = chr(ord(letter) - 0x21 + 0xFF01)
        elif how == "combining":
            chars[at] = letter + draw(st.sampled_from(COMBINING))
        else:
            chars[at] = letter + draw(st.sampled_from(INVISIBLE))
    return "".join(chars)


@st.composite
def ascii_disguise(draw: st.DrawFn, term: str, *, separators: bool = True) -> str:
    """`term` as someone dodging a word filter would write it in plain ASCII."""
    out = []
    for letter in term.replace("-", ""):
        spelled = letter
        if draw(st.booleans()):
            spelled = draw(
                st.sampled_from([letter, *ASCII_DISGUISES.get(letter, [letter.upper()])])
            )
        if draw(st.integers(0, 5)) == 0:
            spelled *= 2  # "admmin"
        out.append(spelled)
        if separators and draw(st.integers(0, 4)) == 0:
            out.append(draw(st.sampled_from(["-", "_"])))
    return "".join(out).strip("-_")


@settings(max_examples=300, deadline=None, derandomize=True)
@given(data=st.data(), name=NAME)
def test_names_in_other_scripts_or_with_hidden_characters_are_refused(data, name) -> None:
    from identity.names import PSEUDONYM_MAX, PseudonymError, check_pseudonym

    disguised = data.draw(unicode_disguise(name))
    assume(disguised != name)
    with pytest.raises(PseudonymError) as refused:
        check_pseudonym(disguised)
    # Length is checked first: a disguise that adds characters may make it too long.
    long = len(disguised.strip()) > PSEUDONYM_MAX
    assert refused.value.code == ("too_long" if long else "bad_characters")


@settings(max_examples=250, deadline=None, derandomize=True)
@given(data=st.data(), term=st.sampled_from(_reserved_terms()))
def test_staff_words_and_kindreds_labels_are_refused_in_any_disguise(data, term) -> None:
    from identity.names import SUGGESTION_ADJECTIVES, SUGGESTION_NOUNS, check_pseudonym

    words = st.sampled_from(SUGGESTION_ADJECTIVES + SUGGESTION_NOUNS)
    before = data.draw(st.one_of(st.just(""), words.map(lambda w: w + "-")))
    after = data.draw(st.one_of(st.just(""), words.map("-".__add__), st.integers(1, 99).map(str)))
    name = before + data.draw(ascii_disguise(term)) + after
    assume(3 <= len(name) <= 32)
    with pytest.raises(PseudonymError) as refused:
        check_pseudonym(name)
    assert refused.value.code == "reserved", name


@settings(max_examples=200, deadline=None, derandomize=True)
@given(data=st.data(), term=st.sampled_from(["mod", "mods", "root"]))
def test_short_staff_words_are_refused_as_a_word_of_the_name(data, term) -> None:
    from identity.names import SUGGESTION_ADJECTIVES, check_pseudonym

    adjective = data.draw(st.sampled_from(SUGGESTION_ADJECTIVES))
    name = f"{adjective}-{data.draw(ascii_disguise(term, separators=False))}"
    assume(len(name) <= 32)
    with pytest.raises(PseudonymError) as refused:
        check_pseudonym(name)
    assert refused.value.code == "reserved", name


@st.composite
def lookalike_of(draw: st.DrawFn, name: str) -> str:
    """`name` with only the changes UTS #39 (within our alphabet), capitals and separators
    make: what one member would try in order to pass for another."""
    swaps = {"o": ["0"], "l": ["1", "I"], "i": ["1", "I", "l"], "m": ["rn"], "w": ["vv"]}
    out = []
    for letter in name:
        spelled = letter
        if letter in swaps and draw(st.booleans()):
            spelled = draw(st.sampled_from(swaps[letter]))
        elif draw(st.booleans()):
            spelled = letter.upper()
        out.append(spelled)
        if draw(st.integers(0, 5)) == 0:
            out.append(draw(st.sampled_from(["-", "_"])))
    return "".join(out)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(data=st.data(), name=st.text(alphabet="abcdeilmnorstuvw", min_size=3, max_size=16))
def test_a_look_alike_of_a_name_has_the_same_key(data, name) -> None:
    from identity.names import lookalike_key

    assert lookalike_key(data.draw(lookalike_of(name))) == lookalike_key(name)


def test_look_alike_keys_keep_different_people_apart() -> None:
    from identity.names import lookalike_key

    for one, other in [
        ("heron-1", "heron-11"),
        ("Ana", "Anna"),
        ("rowan", "rowan2"),
        ("sam", "san"),
    ]:
        assert lookalike_key(one) != lookalike_key(other)


async def test_members_cannot_sign_up_as_a_look_alike_of_each_other(
    crowd: Crowd, community: Community
) -> None:
    await crowd.member("Rowan-Fern")
    await crowd.member("Kim-Lane")
    for lookalike in ["R0wan-Fern", "rowan_fern", "ROWANFERN", "Rovvan-Fern", "R0VVAN__FERN",
                      "Kirn-Lane", "Kim-1ane", "KIM-LANE"]:  # fmt: skip
        async with client_at(crowd.app, crowd.address()) as client:
            refused = await client.post(
                "/api/v1/signup", json={"pseudonym": lookalike, "passphrase": PASSPHRASE}
            )
        assert refused.status_code == 409, (lookalike, refused.text)
        error = refused.json()["error"]
        assert error["code"] == "pseudonym_taken" and "look-alikes" in error["message"]
        # The suggestions offered instead are free in the same sense.
        from identity.names import lookalike_key

        taken = {lookalike_key("Rowan-Fern"), lookalike_key("Kim-Lane")}
        assert error["suggestions"] and not taken & {lookalike_key(s) for s in error["suggestions"]}
    for different in ["Rowan-Fern-2", "Rowan-Ferns", "Kim-Lake"]:
        await crowd.member(different)


async def test_staff_and_labels_cannot_be_worn_through_the_sign_up_form(
    crowd: Crowd, community: Community
) -> None:
    await crowd.member("Hazel-Grove")
    await accounts.set_roles(crowd.ctx.db, "Hazel-Grove", peer_supporter=True)
    attempts = {
        "Haze1-Grove_": "impersonation",
        "HAZEL_GR0VE-7": "impersonation",
        "Anonymous-member-A": "reserved",
        "AnonymousMemberB": "reserved",
        "deleted_member": "reserved",
        "Kindred-Team": "reserved",
        "m0derat0r": "reserved",
        "Facilitator-Sam": "reserved",
        "b_admin_ton": "reserved",
        "Hаzel-Grove": "bad_characters",  # Cyrillic а
        "Hazel\u200b-Grove": "bad_characters",
        "Ｈazel-Grove": "bad_characters",  # full-width H
    }
    for name, code in attempts.items():
        async with client_at(crowd.app, crowd.address()) as client:
            refused = await client.post(
                "/api/v1/signup", json={"pseudonym": name, "passphrase": PASSPHRASE}
            )
        assert refused.status_code == 422, (name, refused.text)  # 409 is for a taken name
        assert refused.json()["error"]["code"] == code, name


def test_the_migration_gives_existing_members_their_look_alike_key(tmp_path: Path) -> None:
    """SQLite only: the backfill is plain SQL either way, and the PostgreSQL suite migrates a
    database with no members in it."""
    import sqlite3

    from identity.names import lookalike_key
    from kindred.migrate import upgrade

    path = tmp_path / "old.db"
    upgrade(f"sqlite+aiosqlite:///{path}", "0014")
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO member (pseudonym, pseudonym_key, is_admin, is_peer_supporter, "
            "created_at, deleted_at) VALUES (?, ?, 0, 0, '2026-01-01 00:00:00.000000', ?)",
            [
                ("R0wan-Fern", "r0wan-fern", None),
                ("[deleted member]", "~deleted~2", "2026-02-01 00:00:00.000000"),
            ],
        )
    upgrade(f"sqlite+aiosqlite:///{path}", "0015")
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT pseudonym_skeleton FROM member ORDER BY id").fetchall()
    assert rows == [(lookalike_key("Rowan-Fern"),), (None,)]
