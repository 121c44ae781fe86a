"""Sending the same words twice posts them once: a form resent after its answer was lost on
a flaky link, an offline outbox flushing from two tabs at once, a client retrying its JSON.
The same submission id with other words (a page the browser kept) is a new post, not lost.
"""

from __future__ import annotations

import asyncio
import re

import httpx
from sqlmodel import func, select

from forum.models import Post, Thread
from tests.forum.test_pages import start
from tests.helpers import api_post, form_token


def submission(html: str) -> str:
    found = re.search(r'name="submission_id" value="([^"]+)"', html)
    assert found, "no submission id in the form"
    return found.group(1)


async def count(app, model) -> int:
    async with app.state.ctx.db.read() as s:
        return (await s.exec(select(func.count()).select_from(model))).one()


async def a_thread(alice: httpx.AsyncClient) -> str:
    created = await start(alice)
    assert created.status_code == 303
    return created.headers["location"].split("#")[0]


async def test_a_reply_form_sent_twice_is_one_reply(app, alice, bob) -> None:
    url = await a_thread(alice)
    page = await bob.get(url)
    form = {
        "csrf_token": form_token(page.text),
        "submission_id": submission(page.text),
        "body": "Batch-cook on a good day, freeze in portions.",
        "action": "post",
    }
    before = await count(app, Post)
    first = await bob.post(f"{url}/reply", data=form)
    again = await bob.post(f"{url}/reply", data=form)  # the first answer never arrived
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert await count(app, Post) == before + 1
    shown = await bob.get(url)
    assert shown.text.count("Batch-cook on a good day") == 1


async def test_the_same_id_with_other_words_is_a_new_reply(app, alice, bob) -> None:
    """A page from the back button (or a 304) carries the id it was served with: the second
    reply written on it is the member's new words, and must not vanish as a 'resend'."""
    url = await a_thread(alice)
    page = await bob.get(url)
    token, sid = form_token(page.text), submission(page.text)
    for body in ("First thought: soup.", "And a second: ask a neighbour."):
        sent = await bob.post(
            f"{url}/reply", data={"csrf_token": token, "submission_id": sid, "body": body}
        )
        assert sent.status_code == 303
    shown = (await bob.get(url)).text
    assert "First thought: soup." in shown and "ask a neighbour." in shown


async def test_a_new_thread_sent_twice_is_one_thread(app, alice) -> None:
    page = await alice.get("/c/grief/new")
    form = {
        "csrf_token": form_token(page.text),
        "submission_id": submission(page.text),
        "kind": "request",
        "help_type": "emotional",
        "title": "First winter without him",
        "body": "The dark evenings are the hardest part.",
        "action": "post",
    }
    threads = await count(app, Thread)
    first = await alice.post("/c/grief/new", data=form)
    again = await alice.post("/c/grief/new", data=form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert await count(app, Thread) == threads + 1


async def test_two_tabs_flushing_at_once_post_once(app, alice, bob) -> None:
    """Both requests pass the look-up before either writes: the unique index decides, and
    the loser answers with the winner's post."""
    url = await a_thread(alice)
    page = await bob.get(url)
    form = {
        "csrf_token": form_token(page.text),
        "submission_id": submission(page.text),
        "body": "Written on the train, sent when the signal came back.",
    }
    before = await count(app, Post)
    answers = await asyncio.gather(*(bob.post(f"{url}/reply", data=form) for _ in range(4)))
    assert {a.status_code for a in answers} == {303}
    assert len({a.headers["location"] for a in answers}) == 1
    assert await count(app, Post) == before + 1


async def test_other_words_racing_under_one_id_are_each_posted(app, alice, bob) -> None:
    """A forged or replayed form: the same id, different words, at the same instant. The
    loser of the unique index is not the first post's resend, so it is posted on its own
    (no 500, nothing lost)."""
    url = await a_thread(alice)
    page = await bob.get(url)
    token, sid = form_token(page.text), submission(page.text)
    bodies = [f"Thought number {n}: a walk before breakfast helps." for n in range(4)]
    before = await count(app, Post)
    answers = await asyncio.gather(
        *(
            bob.post(f"{url}/reply", data={"csrf_token": token, "submission_id": sid, "body": b})
            for b in bodies
        )
    )
    assert {a.status_code for a in answers} == {303}
    assert await count(app, Post) == before + 4
    shown = (await bob.get(url)).text
    assert all(b in shown for b in bodies)


async def test_the_api_answers_a_resent_client_id_with_the_original(app, alice, bob) -> None:
    url = await a_thread(alice)
    thread_id = int(url.rsplit("/", 1)[1])
    body = {"body": "Frozen veg counts as veg.", "client_id": "outbox-7f3a"}
    first = await api_post(bob, f"/api/v1/threads/{thread_id}/posts", body)
    again = await api_post(bob, f"/api/v1/threads/{thread_id}/posts", body)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.json()["resent"] is True
    assert "resent" not in first.json()
    # Another member may use the same id: ids are the sender's own.
    theirs = await api_post(alice, f"/api/v1/threads/{thread_id}/posts", body)
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]


async def test_a_held_post_resent_is_still_held_and_says_so(app, alice, bob) -> None:
    body = {"title": "Is it normal?", "body": "Call me on 07700 900461 tonight.", "client_id": "a1"}
    first = await api_post(alice, "/api/v1/communities/grief/threads", body)
    again = await api_post(alice, "/api/v1/communities/grief/threads", body)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and again.json()["resent"] is True
    assert again.json()["reason"] == first.json()["reason"]


async def test_a_malformed_id_is_refused_with_the_words_back(alice, bob) -> None:
    url = await a_thread(alice)
    page = await bob.get(url)
    sent = await bob.post(
        f"{url}/reply",
        data={
            "csrf_token": form_token(page.text),
            "submission_id": "<not an id>",
            "body": "Keep these words.",
        },
    )
    assert sent.status_code == 400
    assert "Keep these words." in sent.text and "submission id" in sent.text
