"""The private conversation: real WebSocket clients against a live uvicorn.

Who gets in (the member, the supporter, a moderator only after a logged opening on a
report), ending it (both sides closed for good with 4003, sends refused afterwards), the
member's private feedback, and that a private room is reachable by no other path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlmodel import select
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chat.gates import CLOSE_GONE
from chat.support.models import PrivateRoomAccess, SupportRequest
from communities.models import Community
from moderation.models import AuditEntry
from tests.chat.conftest import LiveServer, Member, messages, next_frame, send
from tests.chat.people import People, make_community
from tests.chat.support.conftest import ask


@dataclass
class Conversation:
    id: int
    slug: str
    url: str
    member: httpx.AsyncClient
    supporter: httpx.AsyncClient


def as_ws(client: httpx.AsyncClient, name: str) -> Member:
    return Member(name, client.token, 0)  # type: ignore[attr-defined]


@pytest.fixture
async def community(live: LiveServer) -> Community:
    return await make_community(live.ctx)


@pytest.fixture
async def people(live: LiveServer) -> AsyncIterator[People]:
    found = People(live.ctx, lambda headers: httpx.AsyncClient(base_url=live.url, headers=headers))
    yield found
    await found.close()


@pytest.fixture
async def talk(people: People, community: Community) -> Conversation:
    member = await people.member("Wren")
    made = (await ask(member, "I'd like to talk about my dad")).json()
    supporter = await people.member("Oak", supporter=True, available=True)
    taken = (await supporter.post(f"/api/v1/support/requests/{made['id']}/accept")).json()
    return Conversation(made["id"], taken["room"], taken["url"], member, supporter)


async def test_the_two_of_them_talk_privately(live: LiveServer, talk: Conversation) -> None:
    async with (
        live.connect(as_ws(talk.member, "Wren"), talk.slug) as m,
        live.connect(as_ws(talk.supporter, "Oak"), talk.slug) as s,
    ):
        hello = await next_frame(m, "hello")
        assert hello["support"] == {"status": "accepted", "role": "member"}
        assert (await next_frame(s, "hello"))["support"]["role"] == "supporter"
        await send(m, "hi, thanks for taking this", "c1")
        [seen] = await messages(s, 1)
        assert seen["author"]["pseudonym"] == "Wren" and "thanks for taking" in seen["html"]
        assert seen["author"] == {"pseudonym": "Wren"}  # a member: no badge
        await send(s, "I'm glad you asked. What's on your mind?", "c2")
        answer = (await messages(m, 2))[1]
        assert "glad you asked" in answer["html"]
        assert answer["author"] == {"pseudonym": "Oak", "badge": "peer_supporter"}
    # Both pages name the other side and carry what chat.js needs.
    page = await talk.member.get(talk.url)
    assert page.status_code == 200 and "Talking with Oak" in page.text
    assert 'data-live="yes"' in page.text and 'id="chat-form"' in page.text
    assert "glad you asked" in page.text
    badge = '<span class="author">Oak</span> <span class="badge badge-ok chat-badge">'
    assert page.text.count(badge + "Peer supporter</span>") == 1
    page = await talk.supporter.get(talk.url)
    assert "Supporting Wren" in page.text
    # The waiting page moves the member on to the conversation.
    waiting = await talk.member.get(f"/support/requests/{talk.id}", follow_redirects=False)
    assert waiting.status_code == 303 and waiting.headers["location"] == talk.url


async def test_nobody_else_gets_in(
    live: LiveServer, people: People, talk: Conversation, community: Community
) -> None:
    stranger = await people.member("Stranger")
    moderator = await people.moderator("River", community)
    # The community's moderator is told how to get in (from a report); anyone else is not
    # even told that it exists (tests/security/test_access_matrix.py has every route).
    for client, name, status in ((stranger, "Stranger", 404), (moderator, "River", 403)):
        with pytest.raises(InvalidStatus) as refused:
            async with live.connect(as_ws(client, name), talk.slug):
                pass
        assert refused.value.response.status_code == status
        said = b"private conversation" if status == 403 else b"no conversation"
        assert said in refused.value.response.body
        assert (await client.get(talk.url)).status_code == status
        chat_page = await client.get(f"/chat/{talk.slug}", follow_redirects=False)
        posted = await client.post(f"/chat/{talk.slug}", data={"body": "hello?"})
        if status == 403:
            # Chat's own room address sends them to the conversation page, which refuses too.
            assert chat_page.headers["location"] == talk.url
            assert posted.status_code == 409 and "hello?" in posted.text
        else:
            assert chat_page.status_code == posted.status_code == 404
        assert (await client.post(talk.url, data={"body": "hi"})).status_code == status
    # Private rooms are never listed.
    assert talk.slug not in (await stranger.get("/chat")).text


async def _report(live: LiveServer, talk: Conversation) -> None:
    async with live.connect(as_ws(talk.supporter, "Oak"), talk.slug) as s:
        await next_frame(s, "hello")
        await send(s, "something that should not be said", "bad")
        [message] = await messages(s, 1)
    filed = await talk.member.post(
        "/api/v1/reports",
        json={
            "kind": "chat_message",
            "room": talk.slug,
            "id": message["id"],
            "reason": "harassment",
        },
    )
    assert filed.status_code == 201, filed.text


async def test_a_moderator_opens_it_only_by_a_logged_action_on_a_report(
    live: LiveServer, people: People, talk: Conversation, community: Community
) -> None:
    moderator = await people.moderator("River", community)
    open_url = f"{talk.url}/open"
    # No report yet: nothing to open it with.
    page = await moderator.get(open_url)
    assert page.status_code == 403 and "stays private" in page.text
    refused = await moderator.post(open_url, data={"case": "1"})
    assert refused.status_code == 403 and "only from a report" in refused.text
    # A member who is no moderator cannot even ask, nor learn that it exists.
    stranger = await people.member("Stranger")
    assert (await stranger.get(open_url)).status_code == 404

    await _report(live, talk)
    page = await moderator.get(open_url)
    assert page.status_code == 200 and "Open the conversation (logged)" in page.text
    case = page.text.split('name="case" value="')[1].split('"')[0]
    opened = await moderator.post(open_url, data={"case": case}, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == talk.url
    async with people.ctx.db.read() as s:
        entry = (
            await s.exec(select(AuditEntry).where(AuditEntry.action == "open_private_conversation"))
        ).one()
        grant = (await s.exec(select(PrivateRoomAccess))).one()
    assert entry.actor_name == "River" and entry.reason == f"case {case}"
    assert grant.case_id == int(case)
    # Now the moderator reads it (read only), on the page and live.
    page = await moderator.get(talk.url)
    assert page.status_code == 200 and "read only" in page.text
    assert "should not be said" in page.text and 'id="chat-form"' not in page.text
    async with live.connect(as_ws(moderator, "River"), talk.slug) as ws:
        assert (await next_frame(ws, "hello"))["support"]["role"] == "moderator"
        await send(ws, "moderator here", "m1")
        error = await next_frame(ws, "error")
        assert error["code"] == "read_only" and "Your text is kept" in error["message"]
    # The case links to the confirmation page, not to a room nobody may enter.
    queue = (await moderator.get("/api/v1/moderation/queue")).json()["items"]
    assert [item["content"]["context_url"] for item in queue] == [open_url]
    assert f'href="{open_url}"' in (await moderator.get("/moderation")).text


async def test_either_side_ends_it_and_both_are_closed_for_good(
    live: LiveServer, people: People, talk: Conversation
) -> None:
    async with (
        live.connect(as_ws(talk.member, "Wren"), talk.slug) as m,
        live.connect(as_ws(talk.supporter, "Oak"), talk.slug) as s,
    ):
        await next_frame(m, "hello")
        await next_frame(s, "hello")
        ended = await talk.supporter.post(f"/api/v1/support/requests/{talk.id}/end")
        assert ended.status_code == 200
        for ws in (m, s):
            frame = await next_frame(ws, "support")
            assert frame == {"type": "support", "status": "ended", "ended_by": "supporter"}
            with pytest.raises(ConnectionClosed) as closed:
                await next_frame(ws)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_GONE
    # Ending twice says so; sends afterwards are refused with the text kept.
    again = await talk.member.post(f"/api/v1/support/requests/{talk.id}/end")
    assert again.status_code == 409
    posted = await talk.member.post(talk.url, data={"body": "one more thing"})
    assert posted.status_code == 409
    assert "has ended" in posted.text and "one more thing</textarea>" in posted.text
    async with live.connect(as_ws(talk.member, "Wren"), talk.slug) as m:
        assert (await next_frame(m, "hello"))["support"]["status"] == "ended"
        await send(m, "are you there?", "late")
        assert (await next_frame(m, "error"))["code"] == "ended"
    # The member's page shows the question; the supporter's does not.
    page = await talk.member.get(talk.url)
    assert "Did this conversation help?" in page.text and 'id="chat-form"' not in page.text
    assert 'id="support-feedback" hidden' not in page.text
    assert 'id="support-feedback"' not in (await talk.supporter.get(talk.url)).text


async def test_feedback_is_private_to_the_moderators(
    people: People, talk: Conversation, community: Community
) -> None:
    early = await talk.member.post(f"{talk.url}/feedback", data={"helped": "yes"})
    assert early.status_code == 422 and "once the conversation has ended" in early.text
    await talk.member.post(f"{talk.url}/end")
    # The supporter can't answer for the member.
    assert (
        await talk.supporter.post(f"{talk.url}/feedback", data={"helped": "yes"})
    ).status_code == 404
    contact = await talk.member.post(
        f"{talk.url}/feedback", data={"helped": "yes", "note": "mail me at wren@example.com"}
    )
    assert contact.status_code == 422 and "wren@example.com</textarea>" in contact.text
    given = await talk.member.post(
        f"{talk.url}/feedback",
        data={"helped": "yes", "note": "Oak really listened"},
        follow_redirects=False,
    )
    assert given.status_code == 303
    async with people.ctx.db.read() as s:
        found = await s.get(SupportRequest, talk.id)
    assert found is not None and found.helped is True and found.feedback == "Oak really listened"
    twice = await talk.member.post(
        f"{talk.url}/feedback", data={"helped": "no"}, follow_redirects=True
    )
    assert twice.status_code == 200 and "Thank you for telling us" in twice.text
    moderator = await people.moderator("River", community)
    page = await moderator.get("/moderation/support")
    assert page.status_code == 200 and "Oak really listened" in page.text
    assert "Wren" not in page.text  # the member who answered is not named
    for client in (talk.member, talk.supporter):
        assert (await client.get("/moderation/support")).status_code == 403
    # A moderator of another community does not see it.
    elsewhere = await make_community(people.ctx, "caring", "Caring")
    other = await people.moderator("Fern", elsewhere)
    assert "Oak really listened" not in (await other.get("/moderation/support")).text


async def test_the_member_may_end_it_too(live: LiveServer, talk: Conversation) -> None:
    async with live.connect(as_ws(talk.supporter, "Oak"), talk.slug) as s:
        await next_frame(s, "hello")
        ended = await talk.member.post(f"{talk.url}/end", follow_redirects=False)
        assert ended.status_code == 303
        assert (await next_frame(s, "support"))["ended_by"] == "member"
        with pytest.raises(ConnectionClosed) as closed:
            await next_frame(s)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_GONE
    async with live.ctx.db.read() as db:
        found = await db.get(SupportRequest, talk.id)
    assert found is not None and found.status == "ended" and found.ended_at is not None


async def test_reporting_a_private_message_on_the_report_page_opens_a_case(
    live: LiveServer, people: People, talk: Conversation, community: Community
) -> None:
    async with live.connect(as_ws(talk.supporter, "Oak"), talk.slug) as s:
        await next_frame(s, "hello")
        await send(s, "give me your number", "n1")
        [message] = await messages(s, 1)
    # Someone outside the conversation can't read (or report) it by its address.
    stranger = await people.member("Nosy")
    public_id = f"{talk.slug}:{message['id']}"
    peek = await stranger.get(f"/report?kind=chat_message&id={public_id}")
    assert peek.status_code == 404 and "give me your number" not in peek.text
    api = await stranger.post(
        "/api/v1/reports",
        json={"kind": "chat_message", "room": talk.slug, "id": message["id"], "reason": "spam"},
    )
    assert api.status_code == 404, api.text
    page = await talk.member.get(talk.url)
    report_url = f"/report?kind=chat_message&amp;id={talk.slug}:{message['id']}"
    assert report_url in page.text  # each message from the other side has its Report link
    form = await talk.member.get(report_url.replace("&amp;", "&"))
    assert form.status_code == 200 and "give me your number" in form.text
    filed = await talk.member.post(
        "/report",
        data={"kind": "chat_message", "id": f"{talk.slug}:{message['id']}", "reason": "harassment"},
    )
    assert filed.status_code == 200
    back = f"/support/conversations/{talk.slug}/open"
    assert back in filed.text
    # For the member, that link leads back into the conversation.
    again = await talk.member.get(back, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == talk.url
    # The community's moderators now see a case, and can open the conversation from it.
    moderator = await people.moderator("River", community)
    [item] = (await moderator.get("/api/v1/moderation/queue")).json()["items"]
    assert item["kind"] == "chat_message"
    assert "Open the conversation (logged)" in (await moderator.get(back)).text


async def test_a_private_message_cannot_be_sent_to_every_supporters_check_in_queue(
    live: LiveServer, talk: Conversation
) -> None:
    async with live.connect(as_ws(talk.supporter, "Oak"), talk.slug) as s:
        await next_frame(s, "hello")
        await send(s, "I'm here with you.", "p1")
        [said] = await messages(s, 1)
    refused = await talk.member.post(
        "/api/v1/check-ins",
        json={"kind": "chat_message", "room": talk.slug, "id": said["id"]},
        headers={"x-csrf-token": (await talk.member.get("/api/v1/session")).json()["csrf_token"]},
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "private"
    assert "report the message" in refused.json()["error"]["message"]
