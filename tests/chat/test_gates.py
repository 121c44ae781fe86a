"""Rooms behind a gate (chat/gates.py), with a small gate of the test's own: a member list
that may post, a lobby for the rest, and a refusal for one name.

Group sessions and support conversations test their own gates; this pins down what chat
promises every gate: refusals before the upgrade, lobby sockets that receive state frames but
no messages, sends refused per gate, and member events that close one member's sockets in one
room with a code.
"""

from __future__ import annotations

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chat.events import publish_state, tell_member
from chat.gates import CLOSE_GONE, CLOSE_RECONNECT, Admission, register_gate
from chat.models import Room
from chat.rooms import list_rooms
from core.db import Database
from core.errors import Refusal
from identity.models import Member
from moderation import api as moderation
from tests.chat.conftest import LiveServer, messages, next_frame, nothing_more, send


class ListGate:
    surface = moderation.CHAT_ROOM  # words here are vetted as a community room's

    def __init__(self) -> None:
        self.admitted: set[str] = set()
        self.refused: set[str] = set()
        self.room_id = 0

    async def admit(self, db: Database, room: Room, member: Member) -> Admission:
        if member.pseudonym in self.refused:
            raise Refusal("not_invited", "You're not part of this room.", status=403)
        if member.pseudonym in self.admitted:
            return Admission(hello={"gate": "admitted"})
        return Admission(lobby=True, hello={"gate": "lobby"})

    async def check_send(self, s: AsyncSession, room: Room, member: Member) -> None:
        if member.pseudonym not in self.admitted:
            raise Refusal("not_admitted", "Wait to be let in; your text is kept.")

    def page_url(self, room: Room) -> str:
        return f"/gated/{room.slug}"


@pytest.fixture
async def gated(live: LiveServer) -> ListGate:
    gate = ListGate()
    register_gate(live.ctx, "private", gate)
    room = await live.room("gated", kind="private", members_only=True)
    gate.room_id = room.id  # type: ignore[assignment]
    return gate


async def test_a_refused_member_is_answered_before_the_upgrade(
    live: LiveServer, gated: ListGate
) -> None:
    stranger = await live.member("stranger")
    gated.refused.add("stranger")
    with pytest.raises(InvalidStatus) as refused:
        async with live.connect(stranger, "gated"):
            pass
    assert refused.value.response.status_code == 403
    assert b"not_invited" in refused.value.response.body


async def test_the_lobby_gets_state_but_no_messages_until_let_in(
    live: LiveServer, gated: ListGate
) -> None:
    host, guest = await live.member("host"), await live.member("guest")
    gated.admitted.add("host")
    async with live.connect(host, "gated") as h, live.connect(guest, "gated") as g:
        hello = await next_frame(g, "hello")
        assert hello["lobby"] is True and hello["members"] == [] and hello["gate"] == "lobby"
        assert (await next_frame(h, "hello"))["gate"] == "admitted"

        await send(g, "can I come in?", "c1")
        refused = await next_frame(g, "error")
        assert refused["code"] == "in_lobby" and refused["client_id"] == "c1"

        await send(h, "welcome, everyone", "h1")
        assert (await messages(h, 1))[0]["client_id"] == "h1"
        await publish_state(live.ctx.broker, gated.room_id, {"type": "state-x"})
        assert (await next_frame(g, "state-x", "message"))["type"] == "state-x"  # not the message

        # Let in: the lobby socket is closed with "reconnect now"; back in, it is a member.
        gated.admitted.add("guest")
        await tell_member(
            live.ctx.broker, guest.id, None, room_id=gated.room_id, close=CLOSE_RECONNECT
        )
        with pytest.raises(ConnectionClosed) as closed:
            await nothing_more(g, wait=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_RECONNECT
    async with live.connect(guest, "gated", after=0) as g:
        assert "lobby" not in await next_frame(g, "hello")
        assert "welcome, everyone" in (await messages(g, 1))[0]["html"]


async def test_the_gate_is_asked_on_every_send(live: LiveServer, gated: ListGate) -> None:
    member = await live.member("member")
    gated.admitted.add("member")
    async with live.connect(member, "gated") as ws:
        await next_frame(ws, "hello")
        await send(ws, "first", "a")
        await messages(ws, 1)
        gated.admitted.discard("member")  # say, the floor passed to someone else
        await send(ws, "second", "b")
        error = await next_frame(ws, "error")
        assert error["code"] == "not_admitted" and "kept" in error["message"]


async def test_closing_one_members_sockets_leaves_the_others(
    live: LiveServer, gated: ListGate
) -> None:
    stays, goes = await live.member("stays"), await live.member("goes")
    gated.admitted |= {"stays", "goes"}
    async with live.connect(stays, "gated") as s, live.connect(goes, "gated") as g:
        await next_frame(s, "hello")
        await next_frame(g, "hello")
        frame = {"type": "error", "code": "removed", "message": "You were removed."}
        await tell_member(live.ctx.broker, goes.id, frame, room_id=gated.room_id, close=CLOSE_GONE)
        assert (await next_frame(g, "error"))["code"] == "removed"  # told why, then closed
        with pytest.raises(ConnectionClosed) as closed:
            await nothing_more(g, wait=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_GONE
        await send(s, "still here", "s1")
        assert (await messages(s, 1))[0]["client_id"] == "s1"


async def test_gated_rooms_are_not_listed_and_their_address_leads_to_their_page(
    live: LiveServer, gated: ListGate
) -> None:
    await live.room("open-room")
    rooms = await list_rooms(live.ctx.db, None)
    assert [room.slug for room in rooms] == ["open-room"]
    member = await live.member("visitor")
    headers = {"authorization": f"Bearer {member.token}"}
    async with httpx.AsyncClient(base_url=live.url, headers=headers) as client:
        response = await client.get("/chat/gated")
    assert response.status_code == 303 and response.headers["location"] == "/gated/gated"
