"""The waiting page and the supporters' queue are told, not asking: server-sent events on a
real uvicorn (httpx streams them over TCP, as a browser's EventSource reads them)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from chat.support import live as support_live
from communities.models import Community
from tests.chat.conftest import LiveServer
from tests.chat.people import People, make_community
from tests.chat.support.conftest import ask

WITHIN = 5.0  # seconds: a bound for correctness only; the events come at once


@pytest.fixture
async def community(live: LiveServer) -> Community:
    return await make_community(live.ctx)


@pytest.fixture
async def people(live: LiveServer) -> AsyncIterator[People]:
    def client(headers: dict[str, str]) -> httpx.AsyncClient:  # as EventSource asks
        return httpx.AsyncClient(
            base_url=live.url, headers={**headers, "accept": "text/event-stream"}
        )

    found = People(live.ctx, client)
    yield found
    await found.close()


async def events(response: httpx.Response) -> AsyncIterator[tuple[str, dict]]:
    """(name, data) for each event on the stream; comments (keep-alives) skipped."""
    name, data = "message", ""
    async for line in response.aiter_lines():
        if line.startswith(":"):
            continue
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            data = line[len("data: ") :]
        elif line == "" and data:
            yield name, json.loads(data)
            name, data = "message", ""


async def next_event(stream: AsyncIterator[tuple[str, dict]]) -> tuple[str, dict]:
    return await asyncio.wait_for(anext(stream), WITHIN)


@pytest.mark.usefixtures("community")
async def test_the_waiting_page_hears_acceptance_and_the_queue_hears_arrivals(
    people: People,
) -> None:
    oak = await people.member("Oak", supporter=True, available=True)
    wren = await people.member("Wren")
    async with oak.stream("GET", "/support/queue/events") as queue:
        assert queue.headers["content-type"].startswith("text/event-stream")
        assert queue.headers["cache-control"] == "no-store"
        heard = events(queue)
        assert await next_event(heard) == (
            "queue",
            {"available": True, "paused": None, "count": 0, "requests": []},
        )
        made = (await ask(wren, "Could someone talk with me about my mum?")).json()
        name, now = await next_event(heard)  # arrived: told, not found on the next poll
        assert name == "queue" and now["count"] == 1 and now["requests"][0]["id"] == made["id"]
        assert "note" not in json.dumps(now) and "Wren" not in json.dumps(now)

        async with wren.stream("GET", f"/support/requests/{made['id']}/events") as waiting:
            told = events(waiting)
            name, status = await next_event(told)
            assert (name, status["status"], status["timed_out"]) == ("status", "open", False)
            taken = await oak.post(f"/api/v1/support/requests/{made['id']}/accept")
            assert taken.status_code == 200
            name, status = await next_event(told)
            assert status["status"] == "accepted" and status["final"] is True
            assert status["url"] == taken.json()["url"]
            with pytest.raises(StopAsyncIteration):  # it ends: nothing more will change
                await next_event(told)
        name, now = await next_event(heard)
        assert now["count"] == 0  # taken: gone from every supporter's queue


@pytest.mark.usefixtures("community")
async def test_only_the_asker_hears_their_request_and_only_supporters_the_queue(
    people: People,
) -> None:
    wren = await people.member("Wren")
    rook = await people.member("Rook")
    made = (await ask(wren, "I'd like to talk tonight")).json()
    other = await rook.get(f"/support/requests/{made['id']}/events")
    assert other.status_code == 404
    not_supporter = await rook.get("/support/queue/events")
    assert not_supporter.status_code == 403


@pytest.mark.usefixtures("community")
async def test_a_withdrawn_request_ends_the_stream_with_its_state(
    people: People, live: LiveServer
) -> None:
    wren = await people.member("Wren")
    made = (await ask(wren, "Someone to talk with, please")).json()
    async with wren.stream("GET", f"/support/requests/{made['id']}/events") as waiting:
        told = events(waiting)
        await next_event(told)
        withdrawn = await wren.post(f"/api/v1/support/requests/{made['id']}/cancel")
        assert withdrawn.status_code == 200
        _, status = await next_event(told)
        assert (status["status"], status["final"]) == ("cancelled", True)


@pytest.mark.usefixtures("community")
async def test_without_asking_for_a_stream_the_state_comes_once(people: People) -> None:
    oak = await people.member("Oak", supporter=True, available=True)
    once = await oak.get("/support/queue/events", headers={"accept": "*/*"})
    assert once.status_code == 200
    assert (
        once.text
        == 'event: queue\ndata: {"available":true,"paused":null,"count":0,"requests":[]}\n\n'
    )


async def test_a_lost_nudge_costs_at_most_a_recheck(
    people: People, live: LiveServer, community: Community, monkeypatch
) -> None:
    """With the broker's nudge lost, the stream still re-reads on its own."""
    monkeypatch.setattr(support_live, "RECHECK", 0.3)

    async def lost(broker, request_id) -> None:  # the broker was away
        return None

    monkeypatch.setattr("chat.support.supporters.request_changed", lost)
    oak = await people.member("Oak", supporter=True, available=True)
    wren = await people.member("Wren")
    made = (await ask(wren, "Could we talk?")).json()
    async with wren.stream("GET", f"/support/requests/{made['id']}/events") as waiting:
        told = events(waiting)
        assert (await next_event(told))[1]["status"] == "open"
        await oak.post(f"/api/v1/support/requests/{made['id']}/accept")
        while (status := (await next_event(told))[1])["status"] == "open":
            pass  # the page hears "still waiting" at each re-read, until it changes
        assert status["status"] == "accepted"
