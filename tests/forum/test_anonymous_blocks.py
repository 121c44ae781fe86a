"""Blocking without de-anonymising: a pseudonym's block reaches only what they wrote under
it, and anonymous authors are blocked by the label everyone sees, thread by thread.

The attacker here is the blocker: if blocking "bob-river" made some "Anonymous member"
posts vanish for them alone, the blocker would learn which anonymous posts are Bob's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from communities.models import Community
from tests.conftest import make_client
from tests.helpers import api_post, form_token, join, submit


@pytest.fixture
async def carol(app: Starlette, community: Community) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as client:
        await join(client, "carol-wren")
        yield client


async def start(client: httpx.AsyncClient, title: str, body: str, **extra) -> dict:
    response = await api_post(
        client, "/api/v1/communities/grief/threads", {"title": title, "body": body, **extra}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def reply(client: httpx.AsyncClient, thread_id: int, body: str, **extra) -> int:
    response = await api_post(client, f"/api/v1/threads/{thread_id}/posts", {"body": body, **extra})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def seen_by(client: httpx.AsyncClient, thread_id: int | None = None) -> dict:
    """Everything a member can see that blocking could change, in comparable form."""
    listed = (await client.get("/api/v1/communities/grief/threads")).json()["threads"]
    seen: dict = {"threads": sorted(t["title"] for t in listed)}
    found = (await client.get("/api/v1/search?q=lantern")).json()["results"]
    seen["search"] = sorted(r["post_id"] for r in found)
    if thread_id is not None:
        thread = (await client.get(f"/api/v1/threads/{thread_id}")).json()
        seen["posts"] = [(p["author"], p["html"]) for p in thread["posts"]]
        seen["hidden"] = thread["hidden_by_block"]
    return seen


async def block(client: httpx.AsyncClient, pseudonym: str) -> None:
    done = await submit(client, "/account", "/account/blocks", {"block": pseudonym})
    assert done.status_code == 303


async def test_blocking_a_pseudonym_leaves_their_anonymous_posts_as_everyone_sees_them(
    alice, bob, carol
) -> None:
    named = await start(bob, "Bob's lantern walk", "I carried a lantern tonight.")
    anon = await start(bob, "A lantern in the window", "I leave a lantern lit.", anonymous=True)
    await reply(bob, anon["id"], "Still lit, lantern and all.", anonymous=True)
    await reply(carol, anon["id"], "Mine too, a lantern for my brother.")
    before = await seen_by(alice, anon["id"])
    await block(alice, "bob-river")
    after = await seen_by(alice, anon["id"])
    # Bob's named thread is gone for Alice; his anonymous thread and replies are exactly
    # as they were, and as Carol (who blocked no one) sees them.
    assert "Bob's lantern walk" in before["threads"]
    assert after["threads"] == [t for t in before["threads"] if t != "Bob's lantern walk"]
    assert after["posts"] == before["posts"] and after["hidden"] == 0
    named_posts = {p["id"] for p in named["posts"]}
    assert set(after["search"]) == set(before["search"]) - named_posts
    assert after["posts"] == (await seen_by(carol, anon["id"]))["posts"]


async def test_blocking_a_pseudonym_does_not_silence_their_anonymous_notices(alice, bob) -> None:
    thread = await start(alice, "Anniversary", "It's coming up next week.")
    await block(alice, "bob-river")
    await reply(bob, thread["id"], "Thinking of you @alice-fern", anonymous=True)
    await reply(bob, thread["id"], "Thinking of you too @alice-fern")
    items = (await alice.get("/api/v1/notifications")).json()["notifications"]
    # The anonymous mention reaches her like anyone's; the named one does not.
    assert [(n["kind"], n["actor"]) for n in items] == [("mention", "Anonymous member A")]


async def test_the_opening_post_of_a_blocked_members_thread_is_hidden_too(alice, bob) -> None:
    thread = await start(bob, "Something I wrote", "The opening words.")
    await block(alice, "bob-river")
    seen = (await alice.get(f"/api/v1/threads/{thread['id']}")).json()
    assert seen["posts"] == [] and seen["hidden_by_block"] == 1
    page = await alice.get(f"/t/{thread['id']}")
    assert "The opening words." not in page.text
    assert "1 post from people you've blocked is hidden" in page.text


async def test_blocking_an_anonymous_label_in_one_thread(alice, bob, carol) -> None:
    first = await start(bob, "Quiet lantern", "A lantern by the bed.", anonymous=True)
    mine = await reply(alice, first["id"], "I hope it helps.")
    await reply(carol, first["id"], "Lantern light is kind.", anonymous=True)
    other = await start(bob, "Another lantern", "Second lantern story.", anonymous=True)
    blocked = await api_post(alice, f"/api/v1/threads/{first['id']}/blocks", {"label": "A"})
    assert blocked.status_code == 201
    assert blocked.json() == {"status": "blocked", "author": "Anonymous member A"}
    seen = await seen_by(alice, first["id"])
    # Bob's anonymous opening in that thread is gone from her list, her search and the
    # page; Carol ("B") and Alice's own reply stay; Bob's other anonymous thread is a
    # different label in a different thread, and stays.
    assert seen["threads"] == ["Another lantern"]
    assert [author for author, _ in seen["posts"]] == ["alice-fern", "Anonymous member B"]
    assert seen["hidden"] == 1
    assert (await alice.get(f"/api/v1/threads/{first['id']}")).json()["blocked_labels"] == ["A"]
    assert first["posts"][0]["id"] not in seen["search"]
    assert other["posts"][0]["id"] in seen["search"]
    # No notices from "A" in that thread either; others' still arrive.
    before = len((await alice.get("/api/v1/notifications")).json()["notifications"])
    await reply(bob, first["id"], "Still here @alice-fern", anonymous=True)
    await reply(carol, first["id"], "Me too @alice-fern", anonymous=True)
    items = (await alice.get("/api/v1/notifications")).json()["notifications"]
    assert [n["actor"] for n in items[: len(items) - before]] == ["Anonymous member B"]
    # Undo brings everything back.
    undone = await alice.delete(
        f"/api/v1/threads/{first['id']}/blocks/A", headers={"X-CSRF-Token": await _csrf(alice)}
    )
    assert undone.status_code == 200
    assert "Quiet lantern" in (await seen_by(alice))["threads"]
    assert mine


async def _csrf(client: httpx.AsyncClient) -> str:
    from tests.helpers import csrf

    return await csrf(client)


async def test_anonymous_labels_that_cannot_be_blocked(alice, bob) -> None:
    thread = await start(alice, "Mine", "My own words.", anonymous=True)
    own = await api_post(alice, f"/api/v1/threads/{thread['id']}/blocks", {"label": "A"})
    assert own.status_code == 422 and "That's you" in own.json()["error"]["message"]
    nobody = await api_post(bob, f"/api/v1/threads/{thread['id']}/blocks", {"label": "Q"})
    assert nobody.status_code == 422
    missing = await api_post(bob, "/api/v1/threads/999999/blocks", {"label": "A"})
    assert missing.status_code == 404
    async with httpx.AsyncClient(transport=bob._transport, base_url="http://testserver") as out:
        token = form_token((await out.get("/login")).text)  # a signed-out page's own token
        signed_out = await out.post(
            f"/api/v1/threads/{thread['id']}/blocks",
            json={"label": "A"},
            headers={"x-csrf-token": token},
        )
    assert signed_out.status_code == 401
    assert signed_out.json()["error"]["code"] == "not_signed_in"


async def test_blocking_an_anonymous_label_from_the_thread_page(alice, bob) -> None:
    thread = await start(bob, "Night lantern", "Words from the night.", anonymous=True)
    page = await alice.get(f"/t/{thread['id']}")
    assert 'Block<span class="visually-hidden"> Anonymous member A</span> in this thread' in (
        page.text
    )
    done = await submit(
        alice, f"/t/{thread['id']}", f"/t/{thread['id']}/block-anonymous", {"label": "A"}
    )
    assert done.status_code == 303
    shown = await alice.get(done.headers["location"])
    assert "You won't see Anonymous member A in this thread any more" in shown.text
    assert "Words from the night." not in shown.text
    assert "Show Anonymous member A again" in shown.text
    # Bob's own page never offers to block himself.
    assert "block-anonymous" not in (await bob.get(f"/t/{thread['id']}")).text
    back = await submit(
        alice, f"/t/{thread['id']}", f"/t/{thread['id']}/unblock-anonymous", {"label": "A"}
    )
    assert "Words from the night." in (await alice.get(back.headers["location"])).text


async def test_search_honours_content_warning_choices(alice, bob) -> None:
    await start(bob, "Hard night", "The lantern went out.", content_warning="suicide")
    await start(bob, "Easy night", "The lantern stayed on.")
    results = (await alice.get("/api/v1/search?q=lantern")).json()["results"]
    warned = {r["title"]: (r["content_warning"], r["folded"]) for r in results}
    assert warned == {"Hard night": ("suicide", True), "Easy night": (None, False)}
    page = await alice.get("/search?q=lantern")
    assert "Content warning: suicide — open to read" in page.text
    for mode, expected in (("show", {"Hard night": ("suicide", False)}), ("hide", {})):
        # The community's warnings are "loss of a child" and "suicide", listed sorted.
        page = "/settings/content-warnings"
        saved = await submit(alice, page, page, {"mode-1": mode})
        assert saved.status_code == 303, saved.text
        results = (await alice.get("/api/v1/search?q=lantern")).json()["results"]
        got = {r["title"]: (r["content_warning"], r["folded"]) for r in results}
        got.pop("Easy night")
        assert got == expected
