"""The sweeper: messages of ended conversations deleted after ``support_keep_days`` (never
while a moderation case about one of them is open), and requests nobody took closed as
expired after a day. Each test runs one real round (lifecycle.sweep) against the real app,
after moving the clock-bearing columns back rather than waiting."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlmodel import col, select, update
from starlette.applications import Starlette

from chat.models import ChatMessage
from chat.support import lifecycle
from chat.support.models import SupportRequest
from communities.models import Community
from core.db import utcnow
from core.settings import Settings
from tests.chat.people import People
from tests.chat.support.conftest import ask
from tests.conftest import make_client

pytestmark = pytest.mark.usefixtures("community")


async def _talk(people: People) -> tuple[int, str, httpx.AsyncClient, httpx.AsyncClient]:
    member = await people.member("Wren")
    made = (await ask(member, "I'd like to talk about my dad")).json()
    oak = await people.member("Oak", supporter=True, available=True)
    taken = await oak.post(f"/api/v1/support/requests/{made['id']}/accept")
    assert taken.status_code == 200, taken.text
    url = taken.json()["url"]
    for client, body in ((member, "hello, thank you"), (oak, "I'm here. How are you?")):
        sent = await client.post(url, data={"body": body}, follow_redirects=False)
        assert sent.status_code == 303, sent.text
    return made["id"], url, member, oak


async def _messages(people: People, request_id: int) -> int:
    async with people.ctx.db.read() as s:
        found = await s.get(SupportRequest, request_id)
        assert found is not None
        rows = await s.exec(select(ChatMessage).where(ChatMessage.room_id == found.room_id))
        return len(list(rows))


async def _age(people: People, request_id: int, **back: timedelta) -> None:
    async with people.ctx.db.transaction() as s:
        found = await s.get(SupportRequest, request_id)
        assert found is not None
        values = {name: getattr(found, name) - delta for name, delta in back.items()}
        await s.exec(
            update(SupportRequest).where(col(SupportRequest.id) == request_id).values(**values)
        )


async def test_messages_go_after_the_keep_days_and_members_are_told(people: People) -> None:
    request_id, url, member, oak = await _talk(people)
    days = people.ctx.settings.support_keep_days
    assert days == 30  # the default
    page = await member.get(url)
    assert "kept for 30 days after it ends" in page.text
    await lifecycle.sweep(people.ctx)
    assert await _messages(people, request_id) == 2  # still going on: nothing is touched
    await member.post(f"{url}/end")
    page = await member.get(url)
    assert "until <time" in page.text and "then deleted for good" in page.text
    await _age(people, request_id, ended_at=timedelta(days=days - 1))
    await lifecycle.sweep(people.ctx)
    assert await _messages(people, request_id) == 2  # not yet
    await _age(people, request_id, ended_at=timedelta(days=1, seconds=1))
    await lifecycle.sweep(people.ctx)
    assert await _messages(people, request_id) == 0
    # The conversation's page still opens, for both, with the request's record intact.
    for client in (member, oak):
        page = await client.get(url)
        assert page.status_code == 200 and "hello, thank you" not in page.text
    async with people.ctx.db.read() as s:
        found = await s.get(SupportRequest, request_id)
    assert found is not None and found.status == "ended" and found.note


async def test_an_open_case_keeps_the_conversation_until_it_is_closed(
    people: People, community: Community
) -> None:
    request_id, url, member, _oak = await _talk(people)
    async with people.ctx.db.read() as s:
        found = await s.get(SupportRequest, request_id)
        assert found is not None
        room_id = found.room_id
        theirs = (
            await s.exec(
                select(ChatMessage).where(
                    ChatMessage.room_id == room_id, ChatMessage.body.startswith("I'm here")
                )
            )
        ).one()
    slug = url.rsplit("/", 1)[1]
    filed = await member.post(
        "/api/v1/reports",
        json={"kind": "chat_message", "room": slug, "id": theirs.seq, "reason": "harassment"},
    )
    assert filed.status_code == 201, filed.text
    await member.post(f"{url}/end")
    await _age(people, request_id, ended_at=timedelta(days=31))
    await lifecycle.sweep(people.ctx)
    assert await _messages(people, request_id) == 2  # a moderator may still need them
    moderator = await people.moderator("River", community)
    [item] = (await moderator.get("/api/v1/moderation/queue")).json()["items"]
    closed = await moderator.post(
        f"/api/v1/moderation/cases/{item['case_id']}/actions", json={"action": "dismiss"}
    )
    assert closed.status_code == 200, closed.text
    await lifecycle.sweep(people.ctx)
    assert await _messages(people, request_id) == 0


@pytest.fixture
async def at_once(settings: Settings, community: Community) -> AsyncIterator[People]:
    """The same database (and its community), served by an app kept for no days."""
    from kindred.app import create_app

    app: Starlette = create_app(dataclasses.replace(settings, support_keep_days=0))
    async with app.router.lifespan_context(app):
        found = People(app.state.ctx, lambda headers: make_client(app, headers=headers))
        yield found
        await found.close()


async def test_with_zero_keep_days_messages_go_when_it_ends(at_once: People) -> None:
    request_id, url, member, _oak = await _talk(at_once)
    page = await member.get(url)
    assert "deleted as soon as it ends" in page.text
    await member.post(f"{url}/end")
    assert await _messages(at_once, request_id) == 0
    page = await member.get(url)
    assert page.status_code == 200 and "Did this conversation help?" in page.text


async def test_a_request_nobody_took_in_a_day_expires_and_can_be_asked_again(
    people: People,
) -> None:
    member = await people.member("Wren")
    made = (await ask(member, "I'd like to talk about my dad")).json()
    oak = await people.member("Oak", supporter=True, available=True)
    await _age(people, made["id"], created_at=timedelta(hours=23))
    await lifecycle.sweep(people.ctx)
    assert (await member.get(f"/api/v1/support/requests/{made['id']}")).json()["status"] == "open"
    await _age(people, made["id"], created_at=timedelta(hours=1, seconds=1))
    await lifecycle.sweep(people.ctx)
    status = (await member.get(f"/api/v1/support/requests/{made['id']}")).json()
    assert status == {"id": made["id"], "status": "expired", "url": made["url"]}
    # The waiting page says so kindly, with other help and a way to ask again (note kept).
    page = await member.get(made["url"])
    assert page.status_code == 200 and 'id="support-expired"' in page.text
    assert "Withdraw my request" not in page.text and 'id="support-resources"' in page.text
    assert 'action="/support"' in page.text and "I&#39;d like to talk about my dad" in page.text
    # Out of the queue; a late accept is told why.
    assert (await oak.get("/api/v1/support/queue")).json()["count"] == 0
    late = await oak.post(f"/api/v1/support/requests/{made['id']}/accept")
    assert late.status_code == 409 and late.json()["error"]["code"] == "expired"
    # Asking again works (an expired request doesn't count as the one open request).
    again = await member.post(
        "/support",
        data={"community": str(made_community_id(page.text)), "note": "Still hoping to talk"},
        follow_redirects=False,
    )
    assert again.status_code == 303 and again.headers["location"] != made["url"]
    assert (await oak.get("/api/v1/support/queue")).json()["count"] == 1


def made_community_id(page: str) -> int:
    return int(page.split('name="community" value="')[1].split('"')[0])


async def test_leavers_who_kept_their_content_are_taken_out_by_the_sweeper(
    people: People,
) -> None:
    from tests.helpers import PASSPHRASE

    request_id, url, member, oak = await _talk(people)
    left = await oak.post(
        "/account/delete", data={"content": "keep", "passphrase": PASSPHRASE, "confirm": "yes"}
    )
    assert left.status_code == 200
    waiting = await people.member("Fern")
    made = (await ask(waiting, "Anyone around?")).json()
    gone = await waiting.post(
        "/account/delete", data={"content": "keep", "passphrase": PASSPHRASE, "confirm": "yes"}
    )
    assert gone.status_code == 200
    await lifecycle.sweep(people.ctx)
    async with people.ctx.db.read() as s:
        talk = await s.get(SupportRequest, request_id)
        asked = await s.get(SupportRequest, made["id"])
    assert talk is not None and talk.status == "ended" and talk.ended_by_id == talk.supporter_id
    assert asked is not None and asked.status == "cancelled"
    page = await member.get(url)
    assert (
        "Talking with [deleted member]" in page.text and "Did this conversation help?" in page.text
    )
    assert utcnow() - talk.ended_at < timedelta(hours=1)  # type: ignore[operator]
