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

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlmodel import col, update
from starlette.applications import Starlette

from core.db import utcnow
from forum import service as forum
from forum.models import Community
from identity import service as identity
from identity.models import Member
from moderation.models import CommunityModerator
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
        found = await identity.find_member(self.ctx.db, name)
        assert found is not None and found.id is not None
        return found.id

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()


@pytest.fixture
async def community(app: Starlette) -> Community:
    ctx = app.state.ctx
    admin = await identity.sign_up(ctx.db, ctx.settings, "Site-Admin", PASSPHRASE, is_admin=True)
    community = await forum.create_community(
        ctx, admin.signed_in.member, slug="recovery", name="Recovery", rules="1. Be kind."
    )
    await ctx.extensions["community_created"](community)
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
    await identity.set_roles(crowd.ctx.db, "helper-hazel", peer_supporter=True)
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
    async with crowd.ctx.db.transaction() as s:
        s.add(Sanction(member_id=await crowd.member_id("sharp-jay"), kind="warn"))
    blocked = await submit(author, "/account", "/account/blocks", {"pseudonym": "loud-crow"})
    assert blocked.status_code in (200, 303), blocked.text
    thread = await start_thread(author, "Here is my story.")
    post_id = thread["posts"][0]["id"]
    for reporter in (harasser, muted, other):
        assert (await report(reporter, post_id)).status_code == 201
    # Only plain-wren's report counts: a harasser the author blocked, and a member warned
    # in the last 90 days, can't push the author's words out of sight.
    assert await status_seen(bystander, thread["id"]) == "published"


async def test_crisis_reports_never_hide_the_words_of_someone_in_crisis(
    crowd: Crowd, community: Community
) -> None:
    author = await crowd.member("steady-oak", established=True)
    mod = await moderator(crowd, community, "keeper-one")
    bystander = await crowd.member("quiet-fern")
    thread = await start_thread(author, "Some days are harder than others.")
    post_id = thread["posts"][0]["id"]
    for n in range(4):
        worried = await crowd.member(f"worried-{n}", established=True)
        assert (await report(worried, post_id, "crisis")).status_code == 201
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
    for n in range(3):
        first = await crowd.member(f"wave-one-{n}", established=True)
        assert (await report(first, post_id)).status_code == 201
    assert await status_seen(bystander, thread["id"]) == "hidden"
    [item] = await queue_items(mod)
    restored = await api_post(
        mod, f"/api/v1/moderation/cases/{item['case_id']}/actions", {"action": "dismiss"}
    )
    assert restored.status_code == 200, restored.text
    assert await status_seen(bystander, thread["id"]) == "published"
    for n in range(3):
        second = await crowd.member(f"wave-two-{n}", established=True)
        assert (await report(second, post_id)).status_code == 201
    assert await status_seen(bystander, thread["id"]) == "published"
    [item] = await queue_items(mod)  # a new case, for a moderator to decide
    assert item["target_id"] == post_id and item["auto_hidden"] is False
    assert item["report_weight"] == 3
