"""A member's words survive the thread or post going while they wrote (deleted, hidden,
locked): a page that says so, with their text back to copy. Every forum refusal carries the
words back. And a reaction brings the member back to the post they answered."""

from __future__ import annotations

import html
import re

import httpx
from sqlalchemy import update
from starlette.applications import Starlette

from forum.models import Post, Thread
from tests.helpers import api_post, csrf, form_token

DRAFT = "I've been where you are & it does get lighter — here's what helped me."


async def _thread(alice: httpx.AsyncClient) -> int:
    created = await api_post(
        alice,
        "/api/v1/communities/grief/threads",
        {"title": "Tonight", "body": "Hard day.", "kind": "request", "help_type": "emotional"},
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


async def _change(app: Starlette, model: type, row_id: int, **values: object) -> None:
    """What a moderator or the author did in another tab while the member was writing."""
    async with app.state.ctx.db.transaction() as s:
        await s.exec(update(model).where(model.id == row_id).values(**values))  # type: ignore[attr-defined]


def _kept(page: httpx.Response) -> str:
    match = re.search(r'<textarea id="draft"[^>]*>(.*?)</textarea>', page.text, re.S)
    assert match, "the member's text is not on the page"
    return html.unescape(match.group(1))


async def test_a_reply_to_a_thread_that_went_comes_back(app, alice, bob) -> None:
    thread_id = await _thread(alice)
    form = await bob.get(f"/t/{thread_id}")
    await _change(app, Thread, thread_id, status="removed")
    sent = await bob.post(
        f"/t/{thread_id}/reply",
        data={"csrf_token": form_token(form.text), "body": DRAFT, "action": "post"},
    )
    assert sent.status_code == 404
    assert "isn&#39;t here any more" in sent.text and "wasn&#39;t posted" in sent.text
    assert _kept(sent) == DRAFT


async def test_a_reply_to_a_thread_locked_meanwhile_comes_back(app, alice, bob) -> None:
    thread_id = await _thread(alice)
    form = await bob.get(f"/t/{thread_id}")
    await _change(app, Thread, thread_id, locked=True)
    for action in ("post", "preview"):
        sent = await bob.post(
            f"/t/{thread_id}/reply",
            data={"csrf_token": form_token(form.text), "body": DRAFT, "action": action},
        )
        if action == "post":
            assert sent.status_code == 409 and "locked" in sent.text
            assert _kept(sent) == DRAFT
        else:  # the thread page would show no reply form: the preview can't keep it
            assert sent.status_code == 409 and _kept(sent) == DRAFT


async def test_an_edit_of_a_post_removed_meanwhile_comes_back(app, alice) -> None:
    thread_id = await _thread(alice)
    async with app.state.ctx.db.read() as s:
        post_id = (
            await s.exec(Post.__table__.select().where(Post.thread_id == thread_id))
        ).first()[0]  # type: ignore[attr-defined]
    form = await alice.get(f"/p/{post_id}/edit")
    assert form.status_code == 200
    await _change(app, Post, post_id, status="removed")
    sent = await alice.post(
        f"/p/{post_id}/edit", data={"csrf_token": form_token(form.text), "body": DRAFT}
    )
    assert sent.status_code == 404
    assert "A moderator removed this post" in sent.text and "weren&#39;t saved" in sent.text
    assert _kept(sent) == DRAFT


async def test_an_edit_of_a_post_withdrawn_meanwhile_comes_back(app, alice, bob) -> None:
    thread_id = await _thread(alice)
    reply = await api_post(bob, f"/api/v1/threads/{thread_id}/posts", {"body": "Me too."})
    post_id = reply.json()["id"]
    form = await bob.get(f"/p/{post_id}/edit")
    await _change(app, Post, post_id, status="deleted")  # withdrawn in another tab
    sent = await bob.post(
        f"/p/{post_id}/edit", data={"csrf_token": form_token(form.text), "body": DRAFT}
    )
    assert sent.status_code == 404 and "This post was deleted" in sent.text
    assert _kept(sent) == DRAFT


async def test_every_forum_refusal_carries_the_words_back(app, alice, bob) -> None:
    # Refused by a form choice, not by vetting.
    odd = await api_post(
        alice,
        "/api/v1/communities/grief/threads",
        {"title": "Tonight", "body": DRAFT, "kind": "sermon"},
    )
    assert odd.status_code == 422 and odd.json()["error"]["draft"] == f"Tonight\n\n{DRAFT}"
    # Refused by vetting (too long), on a reply and on an edit.
    thread_id = await _thread(alice)
    long = DRAFT + "x" * 20_000
    refused = await api_post(bob, f"/api/v1/threads/{thread_id}/posts", {"body": long})
    assert refused.status_code == 422 and refused.json()["error"]["draft"] == long
    reply = await api_post(bob, f"/api/v1/threads/{thread_id}/posts", {"body": "Me too."})
    edited = await bob.patch(
        f"/api/v1/posts/{reply.json()['id']}",
        json={"body": long},
        headers={"x-csrf-token": await csrf(bob)},
    )
    assert edited.status_code == 422 and edited.json()["error"]["draft"] == long
    # A thread locked while they wrote.
    await _change(app, Thread, thread_id, locked=True)
    locked = await api_post(bob, f"/api/v1/threads/{thread_id}/posts", {"body": DRAFT})
    assert locked.status_code == 409 and locked.json()["error"]["draft"] == DRAFT


async def test_a_reaction_comes_back_to_the_post_on_its_page(app, alice, bob) -> None:
    thread_id = await _thread(alice)
    app.state.ctx.rate_limits.enabled = False
    for n in range(51):
        await api_post(bob, f"/api/v1/threads/{thread_id}/posts", {"body": f"Reply {n}."})
    first_page = await alice.get(f"/t/{thread_id}")
    later = re.search(r'href="/t/\d+\?after=(\d+)" rel="next"', first_page.text)
    assert later, "the thread has a second page"
    page = await alice.get(f"/t/{thread_id}?after={later.group(1)}")
    post_id = re.findall(r'<li id="p(\d+)" tabindex="-1"', page.text)[-1]
    for path, data in ((f"/p/{post_id}/react", {"kind": "thanks"}), (f"/p/{post_id}/helped", {})):
        form = re.search(rf'action="{path}".*?</form>', page.text, re.S)
        assert form and f'name="after" value="{later.group(1)}"' in form.group(0)
        sent = await alice.post(
            path, data={"csrf_token": form_token(page.text), "after": later.group(1), **data}
        )
        assert sent.status_code == 303
        assert sent.headers["location"] == f"/t/{thread_id}?after={later.group(1)}#p{post_id}"
        back = await alice.get(sent.headers["location"])
        assert f'<li id="p{post_id}" tabindex="-1"' in back.text  # there, and focusable
