"""Private thank-yous in chat: for a message in a community's open room, and for a 1:1
support conversation once it has ended (either side may thank the other)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from chat.rooms import ensure_room
from communities.models import Community
from tests.chat.people import People
from tests.chat.support.conftest import ask


async def say(client: httpx.AsyncClient, room: str, body: str) -> None:
    sent = await client.post(f"/chat/{room}", data={"body": body, "client_id": uuid.uuid4().hex})
    assert sent.status_code in (200, 303), sent.text


@pytest.fixture
async def room(people: People, community: Community) -> str:
    await ensure_room(
        people.ctx.db,
        slug="grief-room",
        name="Grief room",
        description="",
        community_id=community.id,
    )
    return "grief-room"


async def test_a_message_in_a_room_can_be_thanked_privately(people: People, room: str) -> None:
    helper, thanker = await people.member("Heron"), await people.member("Finch")
    await say(helper, room, "Breathing slowly with a hand on my chest helps me.")
    page = await thanker.get(f"/chat/{room}")
    assert f'href="/chat/{room}/messages/1/thank"' in page.text
    assert 'messages/1/thank"' not in (await helper.get(f"/chat/{room}")).text  # not their own
    sent = await thanker.post(f"/chat/{room}/messages/1/thank", data={"note": "It worked."})
    assert sent.status_code == 303 and "done=sent" in sent.headers["location"]
    mine = await helper.get("/account/thanks")
    assert "It worked." in mine.text and "Finch" in mine.text and "Grief room" in mine.text
    assert "It worked." not in (await thanker.get("/account/thanks")).text
    again = await thanker.post(f"/chat/{room}/messages/1/thank", data={"note": "Again"})
    assert again.status_code == 409 and "Again</textarea>" in again.text
    assert (await thanker.get(f"/chat/{room}/messages/99/thank")).status_code == 404


async def test_a_held_chat_thank_you_waits(people: People, room: str) -> None:
    helper, thanker = await people.member("Heron"), await people.member("Finch")
    await say(helper, room, "You're not alone in this.")
    held = await thanker.post(
        f"/chat/{room}/messages/1/thank", data={"note": "Text me on 07700 900123"}
    )
    assert held.status_code == 303 and "done=held" in held.headers["location"]
    assert "Waiting for a moderator" in (await thanker.get(held.headers["location"])).text
    assert "07700" not in (await helper.get("/account/thanks")).text


async def test_both_sides_thank_each_other_once_the_conversation_ends(
    people: People, community: Community
) -> None:
    member = await people.member("Wren")
    made = (await ask(member, "I'd like to talk about my dad")).json()
    supporter = await people.member("Oak", supporter=True, available=True)
    taken = (await supporter.post(f"/api/v1/support/requests/{made['id']}/accept")).json()
    url = f"/support/conversations/{taken['room']}/thank"
    early = await member.post(url, data={"note": "Thank you"})
    assert early.status_code == 409 and "once the conversation has ended" in early.text
    await supporter.post(f"/api/v1/support/requests/{made['id']}/end")
    page = await member.get(f"/support/conversations/{taken['room']}")
    assert f'href="{url}"' in page.text
    assert (await member.post(url, data={"note": "You really listened."})).status_code == 303
    assert (await supporter.post(url, data={"note": ""})).status_code == 303
    oak = (await supporter.get("/account/thanks")).text
    assert "You really listened." in oak and "Wren" in oak and "1:1 conversation" in oak
    wren = (await member.get("/account/thanks")).text
    assert "Oak" in wren and "You really listened." not in wren
    # Nobody else can even find it.
    stranger = await people.member("Stranger")
    assert (await stranger.get(url)).status_code == 404
