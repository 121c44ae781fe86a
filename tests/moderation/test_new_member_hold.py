"""The new-member hold counts what a member has submitted in a community (published or
still waiting; not what a moderator rejected), on the forum and in chat alike; and a post
held only because its author is new is offered to moderators as publish or reject, with no
sanction proposed."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from sqlmodel import select
from starlette.applications import Starlette

from chat.models import ChatMessage, Room
from communities.models import Community
from forum.models import Post
from identity import accounts
from moderation.api import CHAT_ROOM, Place, vet
from tests.helpers import PASSPHRASE, api_post, form_token

CONTACT = "Text me on 07700 900123 any time."


@pytest.fixture
def settings(settings):
    # The link rule off, so "past the posting rules" (the per-app settled cache) turns on
    # the hold alone.
    return dataclasses.replace(settings, new_member_posts=2, link_posts=0)


async def _thread(author: httpx.AsyncClient, body: str) -> httpx.Response:
    return await api_post(
        author, "/api/v1/communities/recovery/threads", {"title": "Hello", "body": body}
    )


async def _queue(moderator: httpx.AsyncClient) -> list[dict]:
    return (await moderator.get("/api/v1/moderation/queue")).json()["items"]


async def _decide(moderator: httpx.AsyncClient, post_id: int, action: str) -> None:
    [case] = [i for i in await _queue(moderator) if i["target_id"] == post_id]
    done = await api_post(
        moderator, f"/api/v1/moderation/cases/{case['case_id']}/actions", {"action": action}
    )
    assert done.status_code == 200, done.text


async def test_only_the_first_two_submitted_are_held_while_they_wait(members, moderator) -> None:
    author = members["the-author"]
    first, second = await _thread(author, "First time here."), await _thread(author, "Again.")
    assert (first.status_code, second.status_code) == (202, 202)
    # Both still wait for a moderator: the third is not held for that.
    third = await _thread(author, "Thanks for the welcome, everyone.")
    assert third.status_code == 201, third.text
    assert sorted(i["target_id"] for i in await _queue(moderator)) == sorted(
        [first.json()["id"], second.json()["id"]]
    )


async def test_a_rejected_post_does_not_count_and_the_cache_keeps_up(members, moderator) -> None:
    author = members["the-author"]
    held = [await _thread(author, f"Post {n}.") for n in (1, 2)]
    assert [r.status_code for r in held] == [202, 202]
    assert (await _thread(author, "Thanks for the welcome, everyone.")).status_code == 201
    # The moderator rejects both waiting posts: only one post of theirs is left here, so
    # their next one waits again (nothing remembered them as past the hold).
    for response in held:
        await _decide(moderator, response.json()["id"], "delete")
    again = await _thread(author, "Glad to be here with you all.")
    assert again.status_code == 202 and again.json()["reason"]["code"] == "new_member"
    assert (await _thread(author, "Thanks for the welcome, everyone.")).status_code == 201


async def _chat(app: Starlette, community: Community, pseudonym: str, statuses: list[str]):
    ctx = app.state.ctx
    member = (await accounts.sign_up(ctx.db, ctx.settings, pseudonym, PASSPHRASE)).signed_in.member
    async with ctx.db.transaction() as s:
        room = (await s.exec(select(Room).where(Room.community_id == community.id))).first()
        if room is None:
            room = Room(community_id=community.id, slug="recovery-room", name="Recovery")
            s.add(room)
            await s.flush()
        for status in statuses:
            s.add(
                ChatMessage(
                    room_id=room.id, author_id=member.id, body="hi", html="<p>hi</p>", status=status
                )
            )
    return member


async def test_chat_counts_messages_still_waiting_but_not_rejected_ones(
    app: Starlette, community: Community
) -> None:
    ctx = app.state.ctx
    place = Place(CHAT_ROOM, community.id)
    waiting = await _chat(app, community, "Waiting-Wren", ["held", "held"])
    assert (await vet(ctx, waiting, place, "Hello all")).published
    rejected = await _chat(app, community, "Turned-Back", ["held", "removed"])
    verdict = await vet(ctx, rejected, place, "Hello all")
    assert verdict.held and verdict.reason and verdict.reason.code == "new_member"


async def test_a_post_held_only_for_being_new_proposes_no_sanction(
    app: Starlette, members, moderator
) -> None:
    author = members["the-author"]
    innocent = await _thread(author, "Hi, I'm new and a bit nervous.")
    flagged = await _thread(author, CONTACT)
    assert flagged.json()["reason"]["code"] == "contact_details"  # not masked by "new"
    by_post = {i["target_id"]: i for i in await _queue(moderator)}
    calm = by_post[innocent.json()["id"]]
    assert calm["held_only_as_new"] is True and calm["proposed_sanction"] is None
    contact = by_post[flagged.json()["id"]]
    assert contact["held_only_as_new"] is False and contact["proposed_sanction"] == "warn"

    page = await moderator.get("/moderation")
    case = page.text[page.text.index(f'id="case-{calm["case_id"]}"') :]
    case = case[: case.index("</li>")]
    assert "Next step on the ladder" not in case
    assert 'value="approve">Publish</button>' in case and 'value="delete"' in case
    other = page.text[page.text.index(f'id="case-{contact["case_id"]}"') :]
    assert "Next step on the ladder: <strong>warn</strong>" in other[: other.index("</li>")]

    # Publish, from the page, as a moderator presses it.
    published = await moderator.post(
        f"/moderation/cases/{calm['case_id']}",
        data={"csrf_token": form_token(page.text), "action": "approve"},
    )
    assert published.status_code == 303
    async with app.state.ctx.db.read() as s:
        post = await s.get(Post, innocent.json()["id"])
    assert post is not None and post.status == "published"


async def test_a_crisis_post_proposes_no_sanction_even_with_contact_details(
    members, moderator
) -> None:
    """Someone who writes that they can't go on, and leaves a number, is not escalated."""
    author = members["the-author"]
    cry = await _thread(author, "I can't go on anymore, I want to die. Text me on 07700 900123.")
    assert cry.status_code == 202, cry.text
    [item] = [i for i in await _queue(moderator) if i["target_id"] == cry.json()["id"]]
    assert item["proposed_sanction"] is None
    page = await moderator.get("/moderation")
    case = page.text[page.text.index(f'id="case-{item["case_id"]}"') :]
    assert "Next step on the ladder" not in case[: case.index("</li>")]


async def test_crisis_words_held_for_being_new_are_not_greeted(members, moderator) -> None:
    """Someone new who writes that they can't go on is not told "Welcome!": their post waits
    as crisis words do, with the helplines and first in the queue, and nothing else changes
    (the case is still one held for being new: no sanction proposed)."""
    cry = await _thread(members["the-author"], "I can't go on anymore, I want to die.")
    assert cry.status_code == 202, cry.text
    answer = cry.json()
    assert answer["reason"]["code"] == "new_member"
    assert "Welcome" not in answer["reason"]["message"]
    assert "passed to a peer supporter" in answer["reason"]["message"]
    assert answer["notice"]["code"] == "crisis"
    assert "Your post is waiting" in answer["notice"]["message"]
    [item] = [i for i in await _queue(moderator) if i["target_id"] == answer["id"]]
    assert item["proposed_sanction"] is None

    calm = await _thread(members["the-author"], "Hi, I'm new and a bit nervous.")
    assert calm.json()["reason"]["message"].startswith("Welcome!")  # greeted as before
