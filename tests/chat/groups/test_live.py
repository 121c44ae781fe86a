"""A live session over real WebSockets (uvicorn + the websockets client): the lobby,
admission, turn-taking, mutes, removal, lock, pin, slow mode, and the end."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import func, select
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chat.gates import CLOSE_GONE, CLOSE_RECONNECT
from chat.groups import lifecycle
from chat.groups.models import GroupSession
from chat.models import ChatMessage, Room
from core.db import utcnow
from tests.chat.conftest import LiveServer, next_frame, nothing_more, send
from tests.chat.groups.conftest import schedule
from tests.chat.people import make_community


class Person:
    """A member on the live server: an HTTP client (bearer token) and their WebSockets."""

    def __init__(self, live: LiveServer, member) -> None:  # type: ignore[no-untyped-def]
        self.live, self.member = live, member
        self.http = httpx.AsyncClient(
            base_url=live.url, headers={"authorization": f"Bearer {member.token}"}
        )

    async def act(self, session_id: int, action: str, **body: object) -> httpx.Response:
        return await self.http.post(f"/api/v1/sessions/{session_id}/{action}", json=body)

    def connect(self, slug: str):  # type: ignore[no-untyped-def]
        return self.live.connect(self.member, slug)


@pytest.fixture
async def world(live: LiveServer):  # type: ignore[no-untyped-def]
    """A community, a facilitator, three members and a session starting in five minutes."""
    from identity.accounts import set_roles

    await make_community(live.ctx)
    people = {}
    for name in ("Lantern", "Wren", "Robin", "Finch"):
        people[name] = Person(live, await live.member(name))
    await set_roles(live.ctx.db, "Lantern", peer_supporter=True)
    answer = await schedule(people["Lantern"].http, after=timedelta(minutes=5))
    assert answer.status_code == 201, answer.text
    session_id = answer.json()["sessions"][0]["id"]
    async with live.ctx.db.read() as s:
        session = await s.get(GroupSession, session_id)
        slug = (await s.get(Room, session.room_id)).slug
    yield live, people, session_id, slug
    for person in people.values():
        await person.http.aclose()


async def _in_lobby(person: Person, session_id: int) -> None:
    answer = await person.act(session_id, "join", agree=True)
    assert answer.status_code == 200, answer.text


async def _admitted(lead: Person, person: Person, session_id: int) -> None:
    await _in_lobby(person, session_id)
    answer = await lead.act(session_id, "admit", member=person.member.pseudonym)
    assert answer.status_code == 200, answer.text


async def _state(ws, **expected: object) -> dict:  # type: ignore[no-untyped-def]
    """The next session state frame that shows `expected`."""
    while True:
        frame = await next_frame(ws, "session")
        if all(frame["state"].get(k) == v for k, v in expected.items()):
            return frame["state"]


async def test_members_must_agree_to_the_rules_before_connecting(world) -> None:
    _live, people, _session_id, slug = world
    with pytest.raises(InvalidStatus) as refused:
        async with people["Wren"].connect(slug):
            pass
    assert refused.value.response.status_code == 403
    assert b"session_join_first" in refused.value.response.body


async def test_the_lobby_gets_no_messages_until_let_in(world) -> None:
    _live, people, session_id, slug = world
    lead, wren = people["Lantern"], people["Wren"]
    await _in_lobby(wren, session_id)
    async with lead.connect(slug) as lead_ws, wren.connect(slug) as lobby_ws:
        hello = await next_frame(lead_ws, "hello")
        assert hello["session"]["status"] == "scheduled"
        assert hello["session_you"]["panel"]["lobby"] == ["Wren"]
        waiting = await next_frame(lobby_ws, "hello")
        assert waiting["lobby"] is True and waiting["members"] == []
        assert waiting["session"]["lobby_count"] == 1
        assert "Wren" not in str(waiting["session"])  # counts, never lobby names
        assert (await lead.act(session_id, "start")).status_code == 200
        assert (await _state(lobby_ws, status="live"))["status"] == "live"
        await send(lead_ws, "Welcome, everyone.", "c1")
        await next_frame(lead_ws, "message")
        await nothing_more(lobby_ws, "message")
        await send(lobby_ws, "Can I come in?", "c2")
        refused = await next_frame(lobby_ws, "error")
        assert refused["code"] == "in_lobby" and "text is kept" in refused["message"]
        assert (await lead.act(session_id, "admit", member="Wren")).status_code == 200
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await next_frame(lobby_ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_RECONNECT
    async with wren.connect(slug) as inside, lead.connect(slug) as lead_ws:
        hello = await next_frame(inside, "hello")
        assert "lobby" not in hello and hello["session_you"]["status"] == "admitted"
        await next_frame(lead_ws, "hello")
        await send(lead_ws, "Let's begin.", "c3")
        message = await next_frame(inside, "message")
        assert message["author"]["pseudonym"] == "Lantern"
    admit_all = await people["Robin"].act(session_id, "join", agree=True)
    assert admit_all.status_code == 200
    await _in_lobby(people["Finch"], session_id)
    answer = await lead.act(session_id, "admit-all")
    assert answer.json()["session"]["admitted_count"] == 3
    assert answer.json()["panel"]["lobby"] == []


async def test_turn_taking_only_the_floor_holder_and_facilitators_post(world) -> None:
    _live, people, session_id, slug = world
    lead, wren, robin = people["Lantern"], people["Wren"], people["Robin"]
    for person in (wren, robin):
        await _admitted(lead, person, session_id)
    await lead.act(session_id, "start")
    async with (
        lead.connect(slug) as lead_ws,
        wren.connect(slug) as wren_ws,
        robin.connect(slug) as robin_ws,
    ):
        for ws in (lead_ws, wren_ws, robin_ws):
            await next_frame(ws, "hello")
        assert (await lead.act(session_id, "turn-taking", on=True)).status_code == 200
        await _state(wren_ws, turn_taking=True)
        await send(wren_ws, "Me first?", "w1")
        refused = await next_frame(wren_ws, "error")
        assert refused["code"] == "not_your_turn" and "raise your hand" in refused["message"]
        assert refused["client_id"] == "w1"
        await send(lead_ws, "Hands up to speak.", "l1")
        assert (await next_frame(wren_ws, "message"))["client_id"] == "l1"
        # Hands: first come, first in the queue; the facilitator sees names, members their place.
        assert (await wren.act(session_id, "hand", up=True)).json()["you"]["hand_place"] == 1
        mine = await robin.act(session_id, "hand", up=True)
        assert mine.json()["you"]["hand_place"] == 2 and "panel" not in mine.json()
        await _state(robin_ws, hands_count=2)
        panel = (await lead.http.get(f"/api/v1/sessions/{session_id}")).json()["panel"]
        assert panel["hands"] == ["Wren", "Robin"]
        assert (await lead.act(session_id, "floor", member="Wren")).status_code == 200
        state = await _state(robin_ws, floor="Wren")
        assert state["hands_count"] == 1
        await send(wren_ws, "Thank you for having me.", "w2")
        assert (await next_frame(robin_ws, "message"))["client_id"] == "w2"
        await send(robin_ws, "And me?", "r1")
        assert (await next_frame(robin_ws, "error"))["code"] == "not_your_turn"
        assert (await lead.act(session_id, "floor", member="Robin")).status_code == 200
        await _state(wren_ws, floor="Robin")
        await send(robin_ws, "My turn now.", "r2")
        assert (await next_frame(wren_ws, "message"))["client_id"] == "r2"
        await send(wren_ws, "One more thing", "w3")
        assert (await next_frame(wren_ws, "error"))["code"] == "not_your_turn"
        assert (await lead.act(session_id, "turn-taking", on=False)).status_code == 200
        state = await _state(wren_ws, turn_taking=False)
        assert state["floor"] is None and state["hands_count"] == 0
        await send(wren_ws, "Open floor again.", "w4")
        while (await next_frame(robin_ws, "message"))["client_id"] != "w4":
            pass  # robin's own r2 came first
    wrong = await lead.act(session_id, "floor", member="Finch")
    assert wrong.status_code == 409  # turn-taking is off


async def test_mute_and_remove_for_the_session(world) -> None:
    live, people, session_id, slug = world
    lead, wren, robin = people["Lantern"], people["Wren"], people["Robin"]
    for person in (wren, robin):
        await _admitted(lead, person, session_id)
    await lead.act(session_id, "start")
    async with wren.connect(slug) as wren_ws, robin.connect(slug) as robin_ws:
        await next_frame(wren_ws, "hello")
        await next_frame(robin_ws, "hello")
        assert (await lead.act(session_id, "mute", member="Robin", muted=True)).status_code == 200
        told = await next_frame(robin_ws, "error")
        assert told["code"] == "session_muted"
        await send(robin_ws, "Hello?", "r1")
        refused = await next_frame(robin_ws, "error")
        assert refused["code"] == "session_muted" and refused["client_id"] == "r1"
        panel = (await lead.http.get(f"/api/v1/sessions/{session_id}")).json()["panel"]
        assert {"pseudonym": "Robin", "status": "admitted", "muted": True} in panel["participants"]
        await lead.act(session_id, "mute", member="Robin", muted=False)
        await send(robin_ws, "Back again.", "r2")
        assert (await next_frame(wren_ws, "message"))["client_id"] == "r2"
        assert (await lead.act(session_id, "remove", member="Robin")).status_code == 200
        gone = await next_frame(robin_ws, "error")
        assert gone["code"] == "removed"
        with pytest.raises(ConnectionClosed) as closed:
            await next_frame(robin_ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_GONE
        state = await _state(wren_ws, admitted_count=1)
        assert state["seats_taken"] == 1  # the seat came free
    with pytest.raises(InvalidStatus) as refused_again:
        async with robin.connect(slug):
            pass
    assert refused_again.value.response.status_code == 403
    rejoin = await robin.act(session_id, "join", agree=True)
    assert rejoin.status_code == 403 and rejoin.json()["error"]["code"] == "removed"
    from moderation.models import AuditEntry

    async with live.ctx.db.read() as s:
        actions = list(await s.exec(select(AuditEntry.action)))
    assert {"session_mute", "session_unmute", "session_remove"} <= set(actions)


async def test_lock_pin_and_slow_mode_reach_everyone_as_state(world) -> None:
    _live, people, session_id, slug = world
    lead, wren = people["Lantern"], people["Wren"]
    await _admitted(lead, wren, session_id)
    await lead.act(session_id, "start")
    async with wren.connect(slug) as wren_ws:
        await next_frame(wren_ws, "hello")
        await lead.act(session_id, "lock", locked=True)
        assert (await _state(wren_ws, locked=True))["locked"] is True
        late = await people["Finch"].act(session_id, "join", agree=True)
        assert late.status_code == 409 and late.json()["error"]["code"] == "session_locked"
        await lead.act(session_id, "pin", text="Round one: **what helped** this week?")
        state = await _state(wren_ws, locked=True)
        while "what helped" not in state["pinned_html"]:
            state = await _state(wren_ws)
        assert "<strong>what helped</strong>" in state["pinned_html"]
        refused_pin = await lead.act(session_id, "pin", text="Call me on 07700 900123")
        assert (
            refused_pin.status_code == 422
            and "text is kept" in refused_pin.json()["error"]["message"]
        )
        await lead.act(session_id, "slow-mode", seconds=30)
        await _state(wren_ws, slow_mode_seconds=30)
        await send(wren_ws, "First thought.", "w1")
        await next_frame(wren_ws, "message")
        await send(wren_ws, "Second thought.", "w2")
        slowed = await next_frame(wren_ws, "error")
        assert slowed["code"] == "slow_mode" and slowed["retry_after"] > 0
        bad = await lead.act(session_id, "slow-mode", seconds=7)
        assert bad.status_code == 422


async def _count_messages(live: LiveServer, slug: str) -> int:
    async with live.ctx.db.read() as s:
        room = (await s.exec(select(Room).where(Room.slug == slug))).one()
        return (await s.exec(select(func.count()).where(ChatMessage.room_id == room.id))).one()


async def test_ending_tells_everyone_and_messages_go_after_the_grace_period(world) -> None:
    live, people, session_id, slug = world
    lead, wren = people["Lantern"], people["Wren"]
    await _admitted(lead, wren, session_id)
    await _in_lobby(people["Robin"], session_id)
    await lead.act(session_id, "start")
    async with (
        lead.connect(slug) as lead_ws,
        wren.connect(slug) as wren_ws,
        people["Robin"].connect(slug) as lobby_ws,
    ):
        for ws in (lead_ws, wren_ws, lobby_ws):
            await next_frame(ws, "hello")
        await send(wren_ws, "Thank you all.", "w1")
        await next_frame(lead_ws, "message")
        assert (await lead.act(session_id, "end")).status_code == 200
        for ws in (lead_ws, wren_ws, lobby_ws):
            assert (await _state(ws, status="ended"))["status"] == "ended"
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await next_frame(ws)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_GONE
    with pytest.raises(InvalidStatus) as refused:
        async with wren.connect(slug):
            pass
    assert b"session_ended" in refused.value.response.body
    # Grace period (10 minutes by default): still there; once it has passed, gone.
    assert await _count_messages(live, slug) == 1
    await lifecycle.sweep(live.ctx)
    assert await _count_messages(live, slug) == 1
    async with live.ctx.db.transaction() as s:
        await s.exec(
            update(GroupSession)
            .where(GroupSession.id == session_id)
            .values(ended_at=utcnow() - timedelta(minutes=11))
        )
    await lifecycle.sweep(live.ctx)
    assert await _count_messages(live, slug) == 0
    async with live.ctx.db.read() as s:
        assert (await s.get(GroupSession, session_id)).messages_purged_at is not None


async def test_with_no_grace_period_messages_go_the_moment_it_ends(
    live_settings, serve_with
) -> None:
    async with serve_with(dataclasses.replace(live_settings, session_grace_minutes=0)) as live:
        await make_community(live.ctx)
        from identity.accounts import set_roles

        lead = Person(live, await live.member("Lantern"))
        await set_roles(live.ctx.db, "Lantern", peer_supporter=True)
        session_id = (await schedule(lead.http, after=timedelta(minutes=5))).json()["sessions"][0][
            "id"
        ]
        async with live.ctx.db.read() as s:
            slug = (await s.get(Room, (await s.get(GroupSession, session_id)).room_id)).slug
        await lead.act(session_id, "start")
        async with lead.connect(slug) as ws:
            await next_frame(ws, "hello")
            await send(ws, "Only for now.", "l1")
            await next_frame(ws, "message")
            assert await _count_messages(live, slug) == 1
            await lead.act(session_id, "end")
        assert await _count_messages(live, slug) == 0
        await lead.http.aclose()


async def test_the_sweeper_ends_sessions_nobody_ended(world) -> None:
    live, people, session_id, _slug = world
    await people["Lantern"].act(session_id, "start")
    async with live.ctx.db.transaction() as s:
        await s.exec(
            update(GroupSession)
            .where(GroupSession.id == session_id)
            .values(starts_at=utcnow() - timedelta(hours=3))
        )
    await lifecycle.sweep(live.ctx)
    async with live.ctx.db.read() as s:
        session = await s.get(GroupSession, session_id)
    assert session.status == "ended" and session.ended_at is not None


async def test_a_message_under_an_open_case_outlives_the_session_until_the_case_closes(
    world,
) -> None:
    from moderation.models import ModerationCase

    live, people, session_id, slug = world
    lead, wren = people["Lantern"], people["Wren"]
    await _admitted(lead, wren, session_id)
    await lead.act(session_id, "start")
    async with lead.connect(slug) as lead_ws, wren.connect(slug) as wren_ws:
        await next_frame(lead_ws, "hello")
        await next_frame(wren_ws, "hello")
        await send(wren_ws, "Thanks for listening tonight.", "w1")
        await next_frame(lead_ws, "message")
        await send(wren_ws, "Honestly I want to kill myself.", "w2")  # crisis: a case opens
        await next_frame(lead_ws, "message")
    assert (await lead.act(session_id, "end")).status_code == 200
    async with live.ctx.db.transaction() as s:
        await s.exec(
            update(GroupSession)
            .where(GroupSession.id == session_id)
            .values(ended_at=utcnow() - timedelta(minutes=11))
        )
    await lifecycle.sweep(live.ctx)
    async with live.ctx.db.read() as s:
        left = list(await s.exec(select(ChatMessage.client_id)))
        assert left == ["w2"]  # the moderator deciding the case can still read it
        assert (await s.get(GroupSession, session_id)).messages_purged_at is None
    async with live.ctx.db.transaction() as s:  # a moderator closes the case
        await s.exec(update(ModerationCase).values(closed_at=utcnow()))
    await lifecycle.sweep(live.ctx)
    assert await _count_messages(live, slug) == 0
    async with live.ctx.db.read() as s:
        assert (await s.get(GroupSession, session_id)).messages_purged_at is not None
