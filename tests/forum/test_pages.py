"""Forum pages as a browser without JavaScript uses them; drafts survive every error."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import event

from tests.helpers import api_post, form_token, submit


async def start(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    data = {
        "kind": "request",
        "help_type": "practical",
        "title": "Meals when you can't face cooking?",
        "body": "Everything feels like too much this week.",
        "action": "post",
        **fields,
    }
    return await submit(client, "/c/grief/new", "/c/grief/new", data)


async def test_community_page_and_rules(client: httpx.AsyncClient, community) -> None:
    page = await client.get("/c/grief")
    assert page.status_code == 200
    assert "Grief &amp; Loss" in page.text
    assert "Sign in to post" in page.text
    rules = await client.get("/c/grief/rules")
    assert "<p>Be kind.</p>" in rules.text
    assert (await client.get("/c/nowhere")).status_code == 404
    home = await client.get("/")
    assert 'href="/c/grief"' in home.text


async def test_start_thread_reply_and_see_it(alice, bob) -> None:
    created = await start(alice)
    assert created.status_code == 303
    thread_url = created.headers["location"].split("#")[0]
    reply = await submit(
        bob, thread_url, thread_url + "/reply", {"body": "I batch-cook soup.", "action": "post"}
    )
    assert reply.status_code == 303
    page = await alice.get(thread_url)
    assert "Meals when you can&#39;t face cooking?" in page.text
    assert "<p>I batch-cook soup.</p>" in page.text
    assert "This helped" in page.text  # the asker can mark the reply


async def test_errors_keep_the_draft(alice) -> None:
    draft = "A long heartfelt draft that must not be lost."
    response = await start(alice, title="", body=draft)
    assert response.status_code == 422
    assert draft in response.text
    assert 'aria-invalid="true"' in response.text
    preview = await start(alice, body="**bold** idea", action="preview")
    assert preview.status_code == 200
    assert "<strong>bold</strong>" in preview.text
    assert "**bold** idea</textarea>" in preview.text


async def test_reply_errors_keep_the_draft(alice, bob) -> None:
    url = (await start(alice)).headers["location"].split("#")[0]
    long = "word " * 5000
    response = await submit(bob, url, url + "/reply", {"body": long, "action": "post"})
    assert response.status_code == 422
    assert "limit here is 20,000" in response.text
    assert long.strip()[:100] in response.text


async def test_reactions_and_helped_by_form(alice, bob) -> None:
    url = (await start(alice)).headers["location"].split("#")[0]
    await submit(bob, url, url + "/reply", {"body": "Soup!", "action": "post"})
    page = await alice.get(url)
    reply_id = re.findall(r'id="p(\d+)"', page.text)[-1]
    thanked = await submit(alice, url, f"/p/{reply_id}/react", {"kind": "thanks"})
    assert thanked.status_code == 303
    again = await submit(alice, url, f"/p/{reply_id}/react", {"kind": "thanks"})
    assert again.status_code == 409
    assert "already sent" in again.text
    await submit(alice, url, f"/p/{reply_id}/helped", {})
    page = await bob.get(url)
    assert "Thank you · 1" in page.text
    assert "Resolved" in page.text

    # One form for a post's reactions; a chosen one's button takes it back.
    page = await alice.get(url)
    assert page.text.count(f'action="/p/{reply_id}/react"') == 1
    assert 'name="remove" value="thanks"' in page.text
    taken_back = await submit(alice, url, f"/p/{reply_id}/react", {"remove": "thanks"})
    assert taken_back.status_code == 303
    assert "Thank you · 1" not in (await bob.get(url)).text
    assert 'name="kind" value="thanks"' in (await alice.get(url)).text


async def test_content_warning_collapses_until_opened(alice, bob) -> None:
    url = (
        (await start(alice, content_warning="loss of a child", body="Our son died in spring."))
        .headers["location"]
        .split("#")[0]
    )
    page = await bob.get(url)
    assert '<details class="cw">' in page.text
    assert "Content warning: loss of a child" in page.text
    await submit(
        bob, "/settings/content-warnings", "/settings/content-warnings", {"mode-0": "show"}
    )
    page = await bob.get(url)
    assert '<details class="cw">' not in page.text
    await submit(
        bob, "/settings/content-warnings", "/settings/content-warnings", {"mode-0": "hide"}
    )
    listing = await bob.get("/c/grief")
    assert url not in listing.text


async def test_new_since_last_visit(alice, bob) -> None:
    url = (await start(alice)).headers["location"].split("#")[0]
    # Never opened, no replies: nothing is "new replies" (it showed next to "0 replies").
    assert "New replies" not in (await bob.get("/c/grief")).text
    await alice.get(url)
    await submit(bob, url, url + "/reply", {"body": "New reply", "action": "post"})
    listing = await alice.get("/c/grief")
    assert "New replies" in listing.text
    page = await alice.get(url)
    assert "is-new" in page.text
    assert "New replies" not in (await alice.get("/c/grief")).text


async def test_your_own_reply_is_never_new_to_you(alice, bob) -> None:
    url = (await start(alice)).headers["location"].split("#")[0]
    await alice.get(url)  # a visit: replies after it are "new" to alice...
    await submit(bob, url, url + "/reply", {"body": "Bob's reply", "action": "post"})
    await bob.get(url)
    thread_id = url.rsplit("/", 1)[1]
    # Through the API: a form's page would be a visit of its own before she posts.
    posted = await api_post(alice, f"/api/v1/threads/{thread_id}/posts", {"body": "Alice's answer"})
    assert posted.status_code == 201
    page = await alice.get(url)
    new = re.findall(r'<li id="p\d+" tabindex="-1" class="post[^"]*is-new', page.text)
    assert len(new) == 1  # ...bob's, not her own just-posted one
    assert page.text.count('<span class="badge badge-new">') == 1
    mine = page.text.split("Alice's answer")[0].rsplit('<li id="p', 1)[1]
    assert "is-new" not in mine.split(">", 1)[0]
    # And bob, who saw the thread before alice answered, sees hers as new (not his own).
    theirs = await bob.get(url)
    assert theirs.text.count('<span class="badge badge-new">') == 1


async def test_thread_page_query_count_is_fixed(alice, bob, app) -> None:
    """The 50-post thread page costs the same few queries as a 2-post one (no N+1)."""
    created = await api_post(
        alice, "/api/v1/communities/grief/threads", {"title": "Counting", "body": "first"}
    )
    thread_id = created.json()["id"]

    async def queries_for_page() -> int:
        statements: list[str] = []

        def count(conn, cursor, statement, *args) -> None:
            statements.append(statement)

        engine = app.state.ctx.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            response = await bob.get(f"/t/{thread_id}")
            assert response.status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    await api_post(bob, f"/api/v1/threads/{thread_id}/posts", {"body": "reply 0"})
    await bob.get(f"/t/{thread_id}")  # first visit writes the visit row
    small = await queries_for_page()
    for n in range(1, 49):
        author = alice if n % 2 else bob
        await api_post(
            author, f"/api/v1/threads/{thread_id}/posts", {"body": f"reply {n} @bob-river"}
        )
    page = await bob.get(f"/t/{thread_id}")
    assert page.text.count('class="post') >= 50
    large = await queries_for_page()
    assert large == small
    assert large <= 12


async def test_notifications_page_and_search_page(alice, bob) -> None:
    url = (await start(alice, title="Garden of memory")).headers["location"].split("#")[0]
    await submit(bob, url, url + "/reply", {"body": "Lovely @alice-fern", "action": "post"})
    page = await alice.get("/notifications")
    assert "bob-river mentioned you in" in page.text
    await submit(alice, "/notifications", "/notifications", {})
    assert "badge-new" not in (await alice.get("/notifications")).text
    found = await bob.get("/search?q=memory")
    assert "Garden of memory" in found.text


async def test_admin_creates_a_community(app, client: httpx.AsyncClient, community) -> None:
    from tests.helpers import PASSPHRASE

    await submit(client, "/login", "/login", {"pseudonym": "Site-Keeper", "passphrase": PASSPHRASE})
    created = await submit(
        client,
        "/admin/communities/new",
        "/admin/communities/new",
        {
            "name": "Carers",
            "slug": "carers",
            "description": "Looking after someone",
            "visibility": "members",
        },
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/c/carers"
    taken = await submit(
        client,
        "/admin/communities/new",
        "/admin/communities/new",
        {"name": "Again", "slug": "carers"},
    )
    assert taken.status_code == 422
    assert "already uses that address" in taken.text


async def test_members_only_community_needs_sign_in(app, client: httpx.AsyncClient, alice) -> None:
    from sqlalchemy import update

    from communities.models import Community

    async with app.state.ctx.db.transaction() as s:
        await s.exec(update(Community).values(visibility="members"))
    assert (await client.get("/c/grief")).status_code == 303
    assert (await client.get("/api/v1/communities/grief/threads")).status_code == 401
    assert (await alice.get("/c/grief")).status_code == 200


async def test_member_cannot_reach_admin_page(alice) -> None:
    assert (await alice.get("/admin/communities/new")).status_code == 403


async def test_crisis_panel_shows_resources_after_posting(alice) -> None:
    response = await start(alice, body="I can't go on anymore, I want to end my life")
    assert response.status_code == 303
    assert "notice=crisis" in response.headers["location"]
    assert response.headers["location"].endswith("#crisis")  # the card, not the post below it
    page = await alice.get(response.headers["location"], headers={"accept-language": "en-US"})
    assert "You're not alone" in page.text
    assert "988" in page.text and "Helplines for the United States." in page.text
    assert "Your post is up" in page.text and "waiting" not in page.text


async def test_a_reply_sent_after_the_session_ended_keeps_the_text(alice, bob, app) -> None:
    from sqlalchemy import delete

    from identity.models import MemberSession

    url = (await start(alice)).headers["location"].split("#")[0]
    page = await bob.get(url)
    async with app.state.ctx.db.transaction() as s:
        await s.exec(delete(MemberSession))  # the session ends while bob is writing
    draft = "A long, careful reply that took twenty minutes to write."
    response = await bob.post(
        url + "/reply", data={"csrf_token": form_token(page.text), "body": draft, "action": "post"}
    )
    assert response.status_code == 401
    assert "Your session has ended" in response.text
    assert draft in response.text
    assert 'href="/login"' in response.text


async def test_an_expired_form_keeps_the_text_but_never_a_passphrase(alice) -> None:
    url = (await start(alice)).headers["location"].split("#")[0]
    draft = "Words I do not want to lose, & more."
    stale = await alice.post(
        url + "/reply", data={"csrf_token": "stale", "body": draft, "action": "post"}
    )
    assert stale.status_code == 403
    assert "Words I do not want to lose, &amp; more." in stale.text
    login = await alice.post(
        "/login", data={"csrf_token": "stale", "pseudonym": "x", "passphrase": "secret words here"}
    )
    assert login.status_code == 403
    assert "secret words here" not in login.text


async def test_a_post_past_the_first_page_can_be_edited(alice, bob, app) -> None:
    created = await api_post(
        alice, "/api/v1/communities/grief/threads", {"title": "Long", "body": "first"}
    )
    thread_id = created.json()["id"]
    app.state.ctx.rate_limits.enabled = False
    for n in range(50):
        await api_post(bob, f"/api/v1/threads/{thread_id}/posts", {"body": f"reply {n}"})
    last = (await api_post(alice, f"/api/v1/threads/{thread_id}/posts", {"body": "late"})).json()
    page = await alice.get(f"/p/{last['id']}/edit")
    assert page.status_code == 200
    assert "late</textarea>" in page.text
    edited = await submit(
        alice, f"/p/{last['id']}/edit", f"/p/{last['id']}/edit", {"body": "late, edited"}
    )
    assert edited.status_code == 303
    assert (await bob.get(f"/p/{last['id']}/edit")).status_code == 403


async def test_the_new_thread_form_posts_as_it_opens(alice) -> None:
    # It opened on "asking for help" with "not needed for a discussion" chosen, so writing a
    # title and a body and pressing Post was refused: never make someone fix a form detail.
    form = await alice.get("/c/grief/new")
    assert '<option value="emotional" selected>' in form.text
    posted = await submit(
        alice,
        "/c/grief/new",
        "/c/grief/new",
        {"title": "Tonight", "body": "Hard day.", "kind": "request", "help_type": "emotional"},
    )
    assert posted.status_code == 303
