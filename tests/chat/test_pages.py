"""The room pages work with no JavaScript: read the history, post with a plain form."""

from __future__ import annotations

import re

import httpx
from starlette.applications import Starlette

from chat.rooms import ensure_room
from identity.accounts import set_roles
from tests.helpers import form_token, join, submit


async def _room(app: Starlette, slug: str = "lobby", **options: object):
    return await ensure_room(
        app.state.ctx.db, slug=slug, name=slug.title(), description="Come in", **options
    )


async def test_rooms_are_listed_and_members_only_ones_hidden_from_visitors(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    await _room(app)
    await _room(app, "inner-circle", members_only=True)
    page = await client.get("/chat")
    assert page.status_code == 200
    assert "/chat/lobby" in page.text and "inner-circle" not in page.text
    assert (await client.get("/chat/lobby")).status_code == 200
    hidden = await client.get("/chat/inner-circle")
    assert hidden.status_code == 303 and hidden.headers["location"].startswith("/login")
    await join(client, "Heron")
    assert "/chat/inner-circle" in (await client.get("/chat")).text
    assert (await client.get("/chat/no-such-room")).status_code == 404


async def test_a_plain_form_posts_once_and_the_page_shows_it(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    await _room(app)
    await join(client, "Heron")
    page = await client.get("/chat/lobby")
    client_id = re.search(r'name="client_id" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    data = {"csrf_token": form_token(page.text), "client_id": client_id, "body": "Hello *all*"}
    posted = await client.post("/chat/lobby", data=data)
    assert posted.status_code == 303 and posted.headers["location"] == "/chat/lobby#m1"
    again = await client.post("/chat/lobby", data=data)  # a double-click or a resubmit
    assert again.headers["location"] == "/chat/lobby#m1"
    page = await client.get("/chat/lobby")
    assert page.text.count("<em>all</em>") == 1
    assert 'id="m1"' in page.text and 'data-last-id="1"' in page.text
    assert 'src="/static/js/chat.js' in page.text
    visitor = await httpx.AsyncClient(transport=client._transport, base_url=client.base_url).get(
        "/chat/lobby"
    )
    assert "<em>all</em>" in visitor.text and "Sign in to join" in visitor.text


async def test_a_refused_message_comes_back_with_the_draft(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    await _room(app)
    await join(client, "Heron")
    refused = await submit(client, "/chat/lobby", "/chat/lobby", {"body": "z" * 4001})
    assert refused.status_code == 422
    assert "z" * 4001 in refused.text and 'role="alert"' in refused.text
    # No maxlength on the box: it would cut a long paste without a word.
    assert "4,001 characters long" in refused.text and "maxlength" not in refused.text
    assert 'aria-invalid="true"' in refused.text
    held = await submit(
        client, "/chat/lobby", "/chat/lobby", {"body": "call me on 07700 900123 tonight"}
    )
    assert held.status_code == 202 and "Waiting for a moderator" in held.text


async def test_admins_add_rooms_and_moderators_set_slow_mode(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    await join(client, "Heron")
    assert (await client.get("/chat/new")).status_code == 403
    await set_roles(app.state.ctx.db, "Heron", admin=True)
    bad = await submit(client, "/chat/new", "/chat/new", {"slug": "Not OK!", "name": "x"})
    assert bad.status_code == 422 and "lowercase" in bad.text
    made = await submit(
        client,
        "/chat/new",
        "/chat/new",
        {"slug": "evening-circle", "name": "Evening circle", "description": "Wind down"},
    )
    assert made.status_code == 303 and made.headers["location"] == "/chat/evening-circle"
    slowed = await submit(
        client, "/chat/evening-circle", "/chat/evening-circle/slow-mode", {"seconds": "30"}
    )
    assert slowed.status_code == 303
    page = await client.get("/chat/evening-circle")
    assert "one message every 30 seconds" in page.text


async def test_a_members_export_includes_their_chat_messages(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    from chat.lifecycle import erase_messages, export_messages

    await _room(app)
    await join(client, "Heron")
    await submit(client, "/chat/lobby", "/chat/lobby", {"body": "mine"})
    db = app.state.ctx.db
    async with db.read() as s:
        exported = await export_messages(s, 1)
    assert [m["body"] for m in exported["chat_messages"]] == ["mine"]
    async with db.transaction() as s:
        await erase_messages(s, 1)
    assert "mine" not in (await client.get("/chat/lobby")).text


async def test_your_held_messages_are_shown_to_you_alone_as_waiting(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    """Stored, not published: the page shows it to its author as waiting for a moderator,
    where it was when they sent it (by its client_id, as chat.js shows it live), and to
    nobody else."""
    await _room(app)
    await join(client, "Heron")
    page = await client.get("/chat/lobby")
    client_id = re.search(r'name="client_id" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    body = "call me on 07700 900123 tonight"
    data = {"csrf_token": form_token(page.text), "client_id": client_id, "body": body}
    held = await client.post("/chat/lobby", data=data)
    assert held.status_code == 202 and "Waiting for a moderator" in held.text
    page = await client.get("/chat/lobby")
    item = re.search(
        rf'<li id="held-{client_id}" class="chat-message held">(.*?)</li>', page.text, re.S
    )
    assert item is not None, page.text
    assert "Waiting for a moderator" in item.group(1) and "07700 900123" in item.group(1)
    assert "Only you can see this" in item.group(1)
    assert "No messages yet" not in page.text
    async with httpx.AsyncClient(transport=client._transport, base_url=client.base_url) as other:
        assert "07700 900123" not in (await other.get("/chat/lobby")).text  # a visitor
        await join(other, "Wren")
        assert "07700 900123" not in (await other.get("/chat/lobby")).text  # another member
