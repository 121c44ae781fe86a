"""Signed-out readers get a thread page rendered once and reused: only while everything it
shows is unchanged, and never for signed-in members."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import update
from starlette.applications import Starlette

from forum.models import Post
from tests.helpers import submit


async def _thread(alice: httpx.AsyncClient) -> str:
    data = {"kind": "discussion", "title": "Small things", "body": "What got you through today?"}
    created = await submit(alice, "/c/grief/new", "/c/grief/new", {**data, "action": "post"})
    return created.headers["location"].split("#")[0]


def _post_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<li id="p(\d+)"', html)]


def _kept(app: Starlette) -> int:
    pages = app.state.ctx.extensions.get("forum.rendered_pages")
    return len(pages) if pages is not None else 0


async def test_signed_out_page_changes_with_anything_it_shows(
    app: Starlette, client: httpx.AsyncClient, alice, bob
) -> None:
    url = await _thread(alice)
    first = await client.get(url)
    assert first.status_code == 200
    assert _kept(app) == 1
    assert (await client.get(url)).text == first.text  # reused

    await submit(bob, url, url + "/reply", {"body": "A cup of tea, honestly", "action": "post"})
    page = await client.get(url)
    assert "A cup of tea, honestly" in page.text
    reply_id = _post_ids(page.text)[-1]

    await submit(alice, url, f"/p/{reply_id}/react", {"kind": "thanks"})
    assert "Thank you · 1" in (await client.get(url)).text

    await submit(bob, f"/p/{reply_id}/edit", f"/p/{reply_id}/edit", {"body": "Tea and a walk"})
    page = await client.get(url)
    assert "Tea and a walk" in page.text and "cup of tea" not in page.text

    # A change by a writer that knows nothing of the kept page (a moderator's action, or
    # another worker process) shows on the very next request all the same.
    async with app.state.ctx.db.transaction() as s:
        await s.exec(update(Post).where(Post.id == reply_id).values(status="removed"))  # type: ignore[arg-type]
    page = await client.get(url)
    assert "This post was removed by a moderator." in page.text
    assert "Tea and a walk" not in page.text


async def test_signed_in_pages_are_never_reused(
    app: Starlette, client: httpx.AsyncClient, alice, bob
) -> None:
    url = await _thread(alice)
    anonymous = await client.get(url)
    assert "Sign out" not in anonymous.text and "csrf_token" not in anonymous.text
    kept = _kept(app)
    alice_page, bob_page = (await alice.get(url)).text, (await bob.get(url)).text
    assert "alice-fern" in alice_page and "Sign out" in alice_page
    assert '<a href="/account">bob-river</a>' in bob_page
    assert '<a href="/account">alice-fern</a>' not in bob_page
    assert _kept(app) == kept  # members' pages are not kept
    assert (await client.get(url)).text == anonymous.text


async def test_query_strings_other_than_after_are_not_served_a_kept_page(
    client: httpx.AsyncClient, alice
) -> None:
    url = await _thread(alice)
    plain = await client.get(url)
    held = await client.get(url + "?notice=crisis")
    assert plain.text != held.text
    assert "crisis-panel" in held.text and "crisis-panel" not in plain.text
