"""Support requests in a member's export and erasure, through the real account pages, with
real WebSocket clients for the side that stays."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from chat.gates import CLOSE_GONE
from chat.support.models import SupporterAvailability, SupportRequest
from communities.models import Community
from tests.chat.conftest import LiveServer, next_frame, send
from tests.chat.people import People
from tests.chat.support import test_conversations as live_talk
from tests.chat.support.conftest import ask
from tests.chat.support.test_conversations import Conversation, as_ws
from tests.helpers import PASSPHRASE

# The live server's fixtures, as the conversation tests define them.
community, people, talk = live_talk.community, live_talk.people, live_talk.talk


async def _delete(client: httpx.AsyncClient, content: str) -> None:
    answer = await client.post(
        "/account/delete",
        data={"content": content, "passphrase": PASSPHRASE, "confirm": "yes"},
    )
    assert answer.status_code == 200, answer.text
    assert "Your account is deleted" in answer.text


async def _request(people: People, request_id: int) -> SupportRequest:
    async with people.ctx.db.read() as s:
        found = await s.get(SupportRequest, request_id)
    assert found is not None
    return found


async def test_the_export_has_the_members_requests_as_they_saw_them(
    live: LiveServer, people: People, talk: Conversation
) -> None:
    await talk.member.post(f"{talk.url}/end")
    given = await talk.member.post(
        f"{talk.url}/feedback", data={"helped": "yes", "note": "Oak really listened"}
    )
    assert given.status_code == 303 and given.headers["location"] == f"{talk.url}?thanks=1"
    data = (await talk.member.get("/api/v1/account/export")).json()
    [mine] = data["content"]["support"]["support_requests"]
    assert mine == {
        "id": talk.id,
        "topic": "Grief",
        "note": "I'd like to talk about my dad",
        "status": "ended",
        "asked_at": mine["asked_at"],
        "accepted_at": mine["accepted_at"],
        "ended_at": mine["ended_at"],
        "ended_by": "you",
        "supporter": "Oak",  # the pseudonym the member was shown, and nothing else of theirs
        "conversation": talk.slug,
        "helped": True,
        "feedback": "Oak really listened",
        "feedback_at": mine["feedback_at"],
    }
    assert all(mine[k] for k in ("asked_at", "accepted_at", "ended_at", "feedback_at"))
    assert data["content"]["support"]["support_conversations_taken"] == []
    # The supporter's export has the conversation they took, but not who asked or what.
    theirs = (await talk.supporter.get("/api/v1/account/export")).json()["content"]["support"]
    assert theirs["support_requests"] == []
    assert [c["conversation"] for c in theirs["support_conversations_taken"]] == [talk.slug]
    assert theirs["supporter_settings"] == {
        "available": True,
        "topics": [],
        "max_conversations": 2,  # the defaults: their limits were never changed
        "hours": {},
        "timezone": "UTC",
    }
    assert theirs["support_debriefs_asked"] == []
    text = json.dumps(theirs)
    assert "Wren" not in text and "my dad" not in text and "really listened" not in text


async def test_erasing_withdraws_a_waiting_request_and_blanks_the_note(
    live: LiveServer, people: People, community: Community
) -> None:
    member = await people.member("Wren")
    made = (await ask(member, "I'd like to talk about my dad")).json()
    oak = await people.member("Oak", supporter=True, available=True)
    assert (await oak.get("/api/v1/support/queue")).json()["count"] == 1
    await _delete(member, "erase")
    found = await _request(people, made["id"])
    assert found.status == "cancelled" and found.ended_at is not None
    assert found.note == "" and found.note_html == ""
    assert (await oak.get("/api/v1/support/queue")).json()["count"] == 0
    taken = await oak.post(f"/api/v1/support/requests/{made['id']}/accept")
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "cancelled"


async def test_a_member_who_leaves_keeping_content_is_taken_out_of_the_queue(
    live: LiveServer, people: People, community: Community
) -> None:
    member = await people.member("Wren")
    made = (await ask(member, "I'd like to talk")).json()
    oak = await people.member("Oak", supporter=True, available=True)
    await _delete(member, "keep")
    assert (await oak.get("/api/v1/support/queue")).json()["count"] == 0
    taken = await oak.post(f"/api/v1/support/requests/{made['id']}/accept")
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "member_left"
    assert (await _request(people, made["id"])).status == "open"  # kept, but offered to nobody


async def test_a_member_erasing_mid_conversation_ends_it_for_the_supporter(
    live: LiveServer, people: People, talk: Conversation
) -> None:
    async with live.connect(as_ws(talk.supporter, "Oak"), talk.slug) as s:
        await next_frame(s, "hello")
        await _delete(talk.member, "erase")
        frame = await next_frame(s, "support")
        assert frame == {"type": "support", "status": "ended", "ended_by": "member"}
        with pytest.raises(ConnectionClosed) as closed:
            await next_frame(s)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_GONE
    found = await _request(people, talk.id)
    assert found.status == "ended" and found.note == "" and found.feedback is None
    page = await talk.supporter.get(talk.url)
    assert page.status_code == 200 and "Supporting [deleted member]" in page.text
    assert "my dad" not in page.text and "has ended" in page.text


async def test_a_supporter_leaving_does_not_break_the_members_conversation(
    live: LiveServer, people: People, talk: Conversation, community: Community
) -> None:
    async with live.connect(as_ws(talk.member, "Wren"), talk.slug) as m:
        await next_frame(m, "hello")
        await send(m, "thank you for listening", "c1")
        await next_frame(m, "message")
        await _delete(talk.supporter, "erase")
        assert (await next_frame(m, "support"))["ended_by"] == "supporter"
        with pytest.raises(ConnectionClosed) as closed:
            await next_frame(m)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_GONE
    page = await talk.member.get(talk.url)
    assert page.status_code == 200 and "Talking with [deleted member]" in page.text
    assert "thank you for listening" in page.text  # the member's own words stay
    assert "Did this conversation help?" in page.text
    given = await talk.member.post(
        f"{talk.url}/feedback", data={"helped": "no", "note": "They had to go"}
    )
    assert given.status_code == 303 and given.headers["location"] == f"{talk.url}?thanks=1"
    moderator = await people.moderator("River", community)
    feedback = await moderator.get("/moderation/support")
    assert "They had to go" in feedback.text and "[deleted member]" in feedback.text
    async with people.ctx.db.read() as s:
        oak = await s.get(SupportRequest, talk.id)
        assert oak is not None
        assert await s.get(SupporterAvailability, oak.supporter_id) is None


async def test_erasing_removes_feedback_from_the_moderators_page(
    live: LiveServer, people: People, talk: Conversation, community: Community
) -> None:
    await talk.member.post(f"{talk.url}/end")
    await talk.member.post(f"{talk.url}/feedback", data={"helped": "yes", "note": "Kind words"})
    moderator = await people.moderator("River", community)
    assert "Kind words" in (await moderator.get("/moderation/support")).text
    await _delete(talk.member, "erase")
    assert "Kind words" not in (await moderator.get("/moderation/support")).text
    found = await _request(people, talk.id)
    assert (found.helped, found.feedback, found.feedback_at) == (None, None, None)
    # The supporter's page still opens.
    assert (await talk.supporter.get(talk.url)).status_code == 200
