"""The forum endpoints of PROTOCOL.md, through the real app."""

from __future__ import annotations

import httpx

from moderation.policy_cache import policy_changed
from tests.helpers import api_post, csrf, form_token


async def ask(client: httpx.AsyncClient, **overrides) -> httpx.Response:
    body = {
        "title": "How do you get through the first anniversary?",
        "body": "It's coming up next week and I'm dreading it.",
        "kind": "request",
        "help_type": "emotional",
        **overrides,
    }
    return await api_post(client, "/api/v1/communities/grief/threads", body)


async def test_communities_list(client: httpx.AsyncClient, community) -> None:
    response = await client.get("/api/v1/communities")
    assert response.status_code == 200
    [found] = response.json()["communities"]
    assert {k: found[k] for k in ("slug", "name", "description")} == {
        "slug": "grief",
        "name": "Grief & Loss",
        "description": "For anyone who has lost someone.",
    }


async def test_ask_reply_thank_and_mark_helped(alice, bob) -> None:
    asked = await ask(alice)
    assert asked.status_code == 201, asked.text
    thread = asked.json()
    assert thread["kind"] == "request" and thread["author"] == "alice-fern"
    # Rendered as written: no "smart" quotes (moderation/render.py turns the typographer off).
    assert thread["posts"][0]["html"] == "<p>It's coming up next week and I'm dreading it.</p>\n"
    replied = await api_post(
        bob, f"/api/v1/threads/{thread['id']}/posts", {"body": "Plan something small for the day."}
    )
    assert replied.status_code == 201, replied.text
    reply_id = replied.json()["id"]
    thanks = await api_post(alice, f"/api/v1/posts/{reply_id}/reactions", {"kind": "thanks"})
    assert thanks.status_code == 201
    twice = await api_post(alice, f"/api/v1/posts/{reply_id}/reactions", {"kind": "thanks"})
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "already_reacted"
    helped = await api_post(alice, f"/api/v1/posts/{reply_id}/helped")
    assert helped.json() == {"thread_id": thread["id"], "resolved_post_id": reply_id}
    seen = (await bob.get(f"/api/v1/threads/{thread['id']}")).json()
    assert seen["resolved_post_id"] == reply_id
    assert seen["posts"][1]["reactions"] == {"thanks": 1}
    not_author = await api_post(bob, f"/api/v1/posts/{reply_id}/helped")
    assert not_author.status_code == 403


async def test_thread_list_is_paginated_by_cursor(alice) -> None:
    for n in range(27):
        assert (await ask(alice, title=f"Thread {n}", kind="discussion")).status_code == 201
    first = (await alice.get("/api/v1/communities/grief/threads")).json()
    assert len(first["threads"]) == 25
    assert first["threads"][0]["title"] == "Thread 26"
    await ask(alice, title="Brand new", kind="discussion")  # must not shift the next page
    second = (
        await alice.get(f"/api/v1/communities/grief/threads?cursor={first['next_cursor']}")
    ).json()
    assert [t["title"] for t in second["threads"]] == ["Thread 1", "Thread 0"]
    assert second["next_cursor"] is None
    only_requests = (await alice.get("/api/v1/communities/grief/threads?kind=request")).json()
    assert only_requests["threads"] == []


async def test_bad_input_is_refused_clearly_and_nothing_is_stored(alice, app) -> None:
    from sqlmodel import select

    from forum.models import Post, Thread

    cases = [
        ({"title": "   "}, "empty", "title"),
        ({"body": ""}, "empty", "body"),
        ({"body": "x" * 20_001}, "too_long", "body"),
        ({"kind": "shouting"}, "invalid", "kind"),
        ({"kind": "request", "help_type": None}, "invalid", "help_type"),
        ({"content_warning": "not on the list"}, "invalid", "content_warning"),
    ]
    for overrides, code, field in cases:
        response = await ask(alice, **overrides)
        assert response.status_code == 422, (overrides, response.text)
        error = response.json()["error"]
        assert (error["code"], error["field"]) == (code, field), overrides
        assert error["message"]
    async with app.state.ctx.db.read() as s:
        assert (await s.exec(select(Thread))).all() == []
        assert (await s.exec(select(Post))).all() == []
    missing = await api_post(alice, "/api/v1/communities/nowhere/threads", {"title": "x"})
    assert missing.status_code == 404
    gone = await api_post(alice, "/api/v1/threads/999/posts", {"body": "hello"})
    assert gone.status_code == 404


async def test_posting_needs_sign_in(client: httpx.AsyncClient, community) -> None:
    path, body = "/api/v1/communities/grief/threads", {"title": "t", "body": "b"}
    # Without the CSRF token a browser's post is refused before anything else is looked at;
    # with a signed-out page's token it gets as far as asking who is posting.
    response = await client.post(path, json=body)
    assert response.status_code == 403 and response.json()["error"]["code"] == "csrf_failed"
    token = form_token((await client.get("/login")).text)
    response = await client.post(path, json=body, headers={"x-csrf-token": token})
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_signed_in"


async def test_anonymous_posts_hide_the_author(alice, bob, app) -> None:
    thread = (await ask(alice, anonymous=True)).json()
    assert thread["author"] == "Anonymous member A"
    await api_post(
        bob, f"/api/v1/threads/{thread['id']}/posts", {"body": "Me too.", "anonymous": True}
    )
    await api_post(
        alice, f"/api/v1/threads/{thread['id']}/posts", {"body": "Thanks.", "anonymous": True}
    )
    seen = (await bob.get(f"/api/v1/threads/{thread['id']}")).json()
    assert [p["author"] for p in seen["posts"]] == [
        "Anonymous member A",
        "Anonymous member B",
        "Anonymous member A",
    ]
    assert "alice-fern" not in str(seen)
    assert all("author_pseudonym" not in p for p in seen["posts"])


async def test_moderators_see_who_posted_anonymously(alice, app, community) -> None:
    from tests.conftest import make_client
    from tests.helpers import PASSPHRASE

    thread = (await ask(alice, anonymous=True)).json()
    async with make_client(app) as admin:
        await admin.post(
            "/api/v1/login", json={"pseudonym": "Site-Keeper", "passphrase": PASSPHRASE}
        )
        seen = (await admin.get(f"/api/v1/threads/{thread['id']}")).json()
    assert seen["posts"][0]["author_pseudonym"] == "alice-fern"


async def test_edit_keeps_history_and_delete_erases(alice, bob) -> None:
    thread = (await ask(alice)).json()
    post_id = thread["posts"][0]["id"]
    token = await csrf(alice)
    edited = await alice.patch(
        f"/api/v1/posts/{post_id}", json={"body": "Updated text"}, headers={"x-csrf-token": token}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["edited_at"]
    stolen = await bob.patch(
        f"/api/v1/posts/{post_id}",
        json={"body": "mine now"},
        headers={"x-csrf-token": await csrf(bob)},
    )
    assert stolen.status_code == 403
    deleted = await alice.delete(f"/api/v1/posts/{post_id}", headers={"x-csrf-token": token})
    assert deleted.status_code == 200
    seen = (await bob.get(f"/api/v1/threads/{thread['id']}")).json()
    assert seen["posts"][0]["status"] == "deleted" and seen["posts"][0]["html"] == ""


async def test_preview_runs_the_pipeline_without_storing(alice) -> None:
    response = await api_post(alice, "/api/v1/preview", {"body": "**hi** <script>x</script>"})
    assert response.status_code == 200
    body = response.json()
    assert body["decision"] == "publish"
    assert "<strong>hi</strong>" in body["html"] and "<script" not in body["html"]


async def test_watched_word_hold_is_202_and_author_is_told(alice, bob, app, community) -> None:
    from moderation.models import WatchedWordEntry

    async with app.state.ctx.db.transaction() as s:
        s.add(WatchedWordEntry(community_id=community.id, pattern="miracle cure", action="hold"))
    await policy_changed(app.state.ctx, community.id)  # as Kindred's own changes do
    response = await ask(alice, body="Try this miracle cure!")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "held" and body["reason"]["code"] == "watched_word"
    listing = (await bob.get("/api/v1/communities/grief/threads")).json()
    assert listing["threads"] == []
    mine = (await alice.get("/api/v1/communities/grief/threads")).json()
    assert mine["threads"][0]["status"] == "held"


async def test_locked_thread_refuses_replies(alice, bob, app) -> None:
    from sqlalchemy import update

    from forum.models import Thread

    thread = (await ask(alice)).json()
    async with app.state.ctx.db.transaction() as s:
        await s.exec(update(Thread).values(locked=True))
    response = await api_post(bob, f"/api/v1/threads/{thread['id']}/posts", {"body": "hello"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "locked"


async def test_notifications_for_followers_and_mentions(alice, bob) -> None:
    thread = (await ask(alice)).json()
    await api_post(
        bob, f"/api/v1/threads/{thread['id']}/posts", {"body": "Thinking of you @alice-fern"}
    )
    items = (await alice.get("/api/v1/notifications")).json()["notifications"]
    assert [(n["kind"], n["actor"]) for n in items] == [("mention", "bob-river")]
    await api_post(alice, f"/api/v1/threads/{thread['id']}/posts", {"body": "Thank you."})
    bob_items = (await bob.get("/api/v1/notifications")).json()["notifications"]
    assert [(n["kind"], n["actor"]) for n in bob_items] == [("reply", "alice-fern")]


async def test_blocked_members_cannot_notify(alice, bob) -> None:
    from tests.helpers import submit

    await submit(alice, "/account", "/account/blocks", {"block": "bob-river"})
    thread = (await ask(alice)).json()
    await api_post(bob, f"/api/v1/threads/{thread['id']}/posts", {"body": "@alice-fern hi"})
    assert (await alice.get("/api/v1/notifications")).json()["notifications"] == []
    seen = (await alice.get(f"/api/v1/threads/{thread['id']}")).json()
    assert len(seen["posts"]) == 1  # bob's reply is hidden from alice


async def test_search_finds_published_posts_only(alice, bob, app, community) -> None:
    from moderation.models import WatchedWordEntry

    await ask(alice, title="Anniversary of losing dad", body="The garden he planted still blooms.")
    async with app.state.ctx.db.transaction() as s:
        s.add(WatchedWordEntry(community_id=community.id, pattern="secretword", action="hold"))
    await policy_changed(app.state.ctx, community.id)  # as Kindred's own changes do
    await ask(alice, title="held one", body="garden secretword")
    found = (await bob.get("/api/v1/search?q=garden")).json()["results"]
    assert [r["title"] for r in found] == ["Anniversary of losing dad"]
    assert "<mark>garden</mark>" in found[0]["snippet_html"]
    assert (await bob.get("/api/v1/search?q=plant")).json()["results"]  # prefix / stemming
    assert (await bob.get('/api/v1/search?q="OR NEAR(')).status_code == 200


async def test_contact_details_are_held_with_an_explanation(alice, bob) -> None:
    response = await ask(alice, body="Text me on 07700 900123 if you want to talk")
    assert response.status_code == 202
    reason = response.json()["reason"]
    assert reason["code"] == "contact_details"
    assert "identifiable" in reason["message"]
    assert (await bob.get("/api/v1/communities/grief/threads")).json()["threads"] == []


async def test_crisis_language_is_published_with_resources(alice, bob) -> None:
    response = await api_post(
        alice,
        "/api/v1/communities/grief/threads",
        {"title": "Tonight", "body": "I want to kill myself tonight."},
    )
    # Region comes from the browser's language; none here, so the international fallback.
    assert response.status_code == 201, response.text
    notice = response.json()["notice"]
    assert notice["code"] == "crisis"
    assert notice["resources"]
    token = await csrf(alice)
    uk = await alice.post(
        f"/api/v1/threads/{response.json()['id']}/posts",
        json={"body": "I don't want to be alive anymore"},
        headers={"x-csrf-token": token, "accept-language": "en-GB,en;q=0.8"},
    )
    assert uk.status_code == 201
    assert any("116 123" in (r.get("phone") or "") for r in uk.json()["notice"]["resources"])
    # Everyone else can read it: silencing someone in crisis would be harmful.
    seen = (await bob.get(f"/api/v1/threads/{response.json()['id']}")).json()
    assert len(seen["posts"]) == 2


async def test_figures_of_speech_are_not_crisis(alice) -> None:
    response = await ask(alice, body="This commute is killing me, honestly.")
    assert response.status_code == 201
    assert "notice" not in response.json()


async def test_moderator_view_of_anonymous_author_is_audited(alice, app) -> None:
    from sqlmodel import select

    from moderation.models import AuditEntry
    from tests.conftest import make_client
    from tests.helpers import PASSPHRASE

    thread = (await ask(alice, anonymous=True)).json()
    async with make_client(app) as admin:
        await admin.post(
            "/api/v1/login", json={"pseudonym": "Site-Keeper", "passphrase": PASSPHRASE}
        )
        await admin.get(f"/t/{thread['id']}")
    async with app.state.ctx.db.read() as s:
        entries = (await s.exec(select(AuditEntry))).all()
    assert [(e.action, e.actor_name, e.target_id) for e in entries] == [
        ("view_anonymous_author", "Site-Keeper", thread["posts"][0]["id"])
    ]


async def test_previews_are_rate_limited_per_network(alice, app) -> None:
    from core.ratelimit import RateLimits

    ctx = app.state.ctx
    ctx.rate_limits = RateLimits("preview=3/minute")
    for _ in range(3):
        assert (await api_post(alice, "/api/v1/preview", {"body": "draft"})).status_code == 200
    blocked = await api_post(alice, "/api/v1/preview", {"body": "draft"})
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "rate_limited"
    assert int(blocked.headers["retry-after"]) > 0
