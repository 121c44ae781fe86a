"""Care for the carers over a real conversation (live uvicorn, real WebSockets): crisis words
said in the conversation itself, not in the note, make it a heavy one — the supporter is
offered a break and a debrief once it ends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from communities.models import Community
from tests.chat.conftest import LiveServer, Member, next_frame, send
from tests.chat.people import People, make_community
from tests.chat.support.conftest import ask


@pytest.fixture
async def community(live: LiveServer) -> Community:
    return await make_community(live.ctx)


@pytest.fixture
async def people(live: LiveServer) -> AsyncIterator[People]:
    found = People(live.ctx, lambda headers: httpx.AsyncClient(base_url=live.url, headers=headers))
    yield found
    await found.close()


async def test_crisis_words_in_the_conversation_make_it_heavy(
    live: LiveServer, people: People, community: Community
) -> None:
    member = await people.member("Wren")
    made = (await ask(member, "I'd like to talk about my dad")).json()
    oak = await people.member("Oak", supporter=True, available=True)
    taken = (await oak.post(f"/api/v1/support/requests/{made['id']}/accept")).json()
    wren = Member("Wren", member.token, 0)  # type: ignore[attr-defined]
    async with live.connect(wren, taken["room"]) as ws:
        await next_frame(ws, "hello")
        await send(ws, "Honestly I want to kill myself tonight", "c1")
        await next_frame(ws, "message")
    ended = await oak.post(f"/api/v1/support/requests/{made['id']}/end")
    assert ended.status_code == 200
    page = await oak.get(taken["url"])
    assert "That was a heavy conversation" in page.text
    assert "Ask for a debrief" in page.text
    asked = await oak.post(f"/support/conversations/{taken['room']}/debrief", data={"note": ""})
    assert asked.status_code == 303
    assert "You asked for a debrief" in (await oak.get(taken["url"])).text
