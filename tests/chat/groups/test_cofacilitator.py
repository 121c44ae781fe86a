"""A session's co-facilitator, over the real app and real WebSockets: who may be named, that
naming and taking over are facilitators' business and audited, and that taking over a live
session gives the facilitator's controls and is announced to everyone in the room."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlmodel import col, select
from websockets.exceptions import ConnectionClosed

from chat.gates import CLOSE_RECONNECT
from chat.groups.models import GroupSession, GroupSessionCofacilitator
from chat.models import Room
from communities.models import CommunityModerator
from identity.accounts import find_member, set_roles
from moderation.models import AuditEntry
from tests.chat.conftest import LiveServer, next_frame
from tests.chat.groups.conftest import schedule
from tests.chat.people import make_community


class Person:
    def __init__(self, live: LiveServer, member) -> None:  # type: ignore[no-untyped-def]
        self.live, self.member = live, member
        self.http = httpx.AsyncClient(
            base_url=live.url, headers={"authorization": f"Bearer {member.token}"}
        )

    async def act(self, session_id: int, action: str, **body: object) -> httpx.Response:
        return await self.http.post(f"/api/v1/sessions/{session_id}/{action}", json=body)

    async def form(self, session_id: int, action: str, **data: str) -> httpx.Response:
        return await self.http.post(f"/sessions/{session_id}/{action}", data=data)

    def connect(self, slug: str):  # type: ignore[no-untyped-def]
        return self.live.connect(self.member, slug)


@pytest.fixture
async def world(live: LiveServer):  # type: ignore[no-untyped-def]
    await make_community(live.ctx)
    people = {}
    for name in ("Lantern", "Birch", "Wren", "Robin"):
        people[name] = Person(live, await live.member(name))
    await set_roles(live.ctx.db, "Lantern", peer_supporter=True)
    await set_roles(live.ctx.db, "Birch", peer_supporter=True)
    answer = await schedule(people["Lantern"].http, after=timedelta(minutes=5))
    assert answer.status_code == 201, answer.text
    session_id = answer.json()["sessions"][0]["id"]
    async with live.ctx.db.read() as s:
        session = await s.get(GroupSession, session_id)
        slug = (await s.get(Room, session.room_id)).slug  # type: ignore[union-attr]
    yield live, people, session_id, slug
    for person in people.values():
        await person.http.aclose()


async def _audit(live: LiveServer) -> list[tuple[str, str]]:
    async with live.ctx.db.read() as s:
        rows = await s.exec(
            select(AuditEntry.action, AuditEntry.actor_name).where(
                col(AuditEntry.target_kind) == "group_session"
            )
        )
        return list(rows)


async def test_only_a_facilitator_names_and_only_someone_who_may_run_sessions(world) -> None:
    live, people, session_id, _slug = world
    lead, birch, wren = people["Lantern"], people["Birch"], people["Wren"]
    # A member can't name anyone.
    refused = await wren.form(session_id, "cofacilitator", member="Birch")
    assert refused.status_code == 403
    # A plain member can't be named.
    plain = await lead.form(session_id, "cofacilitator", member="Wren")
    assert plain.status_code == 422 and "co-facilitators are peer supporters" in plain.text
    nobody = await lead.form(session_id, "cofacilitator", member="Nobody-Here")
    assert nobody.status_code == 422 and "no member called" in nobody.text
    themselves = await lead.form(session_id, "cofacilitator", member="Lantern")
    assert themselves.status_code == 422 and "already facilitates" in themselves.text
    # The community's moderators run its sessions already: nothing to name them for.
    robin = await find_member(live.ctx.db, "Robin")
    async with live.ctx.db.transaction() as s:
        s.add(CommunityModerator(community_id=1, member_id=robin.id))  # type: ignore[union-attr]
    moderator = await lead.form(session_id, "cofacilitator", member="Robin")
    assert moderator.status_code == 422 and "Robin already facilitates" in moderator.text
    await set_roles(live.ctx.db, "Wren", peer_supporter=True)
    assert (await lead.form(session_id, "cofacilitator", member="Wren")).status_code == 303
    await set_roles(live.ctx.db, "Wren", peer_supporter=False)
    # Naming someone else replaces them.
    named = await lead.form(session_id, "cofacilitator", member="birch")
    assert named.status_code == 303
    page = await lead.http.get(f"/sessions/{session_id}")
    assert "Birch can take over if you can't go on" in page.text
    async with live.ctx.db.read() as s:
        rows = list(await s.exec(select(GroupSessionCofacilitator)))
    assert [r.member_id for r in rows] == [birch.member.id]
    # Birch sees the way to take over; Wren doesn't.
    assert "Take over facilitating" in (await birch.http.get(f"/sessions/{session_id}")).text
    assert "Take over facilitating" not in (await wren.http.get(f"/sessions/{session_id}")).text
    assert ("session_cofacilitator", "Lantern") in await _audit(live)


async def test_a_blocked_or_sanctioned_member_cant_be_named(world) -> None:
    live, people, session_id, _slug = world
    from identity.blocks import block_member

    birch = await find_member(live.ctx.db, "Birch")
    await block_member(live.ctx.db, birch, "Lantern")  # type: ignore[arg-type]
    refused = await people["Lantern"].form(session_id, "cofacilitator", member="Birch")
    assert refused.status_code == 422
    assert "be named co-facilitator of this session" in refused.text
    assert "block" not in refused.text.lower()  # not theirs to know


async def test_only_the_named_co_facilitator_can_take_over(world) -> None:
    _live, people, session_id, _slug = world
    assert (await people["Wren"].act(session_id, "take-over")).status_code == 403
    await people["Lantern"].form(session_id, "cofacilitator", member="Birch")
    assert (await people["Robin"].act(session_id, "take-over")).status_code == 403


async def test_taking_over_a_live_session_is_announced_and_gives_the_controls(world) -> None:
    live, people, session_id, slug = world
    lead, birch, wren = people["Lantern"], people["Birch"], people["Wren"]
    assert (await lead.form(session_id, "cofacilitator", member="Birch")).status_code == 303
    for person in (wren, birch):
        assert (await person.act(session_id, "join", agree=True)).status_code == 200
        admitted = await lead.act(session_id, "admit", member=person.member.pseudonym)
        assert admitted.status_code == 200, admitted.text
    assert (await lead.act(session_id, "start")).status_code == 200
    # Before taking over, Birch has no controls.
    assert (await birch.act(session_id, "lock", locked=True)).status_code == 403

    async with wren.connect(slug) as wren_ws, birch.connect(slug) as birch_ws:
        hello = await next_frame(wren_ws, "hello")
        assert "handover" not in hello["session"]
        birch_hello = await next_frame(birch_ws, "hello")
        assert "panel" not in birch_hello["session_you"]
        assert birch_hello["session_you"]["cofacilitator"] is True

        took = await birch.form(session_id, "take-over")
        assert took.status_code == 303
        while True:  # everyone in the room is told
            frame = await next_frame(wren_ws, "session")
            if frame["state"].get("handover"):
                break
        assert frame["state"]["handover"] == "Birch has taken over facilitating this session."
        with pytest.raises(ConnectionClosed) as closed:  # Birch comes back in as facilitator
            while True:
                await birch_ws.recv()
        assert closed.value.rcvd.code == CLOSE_RECONNECT  # type: ignore[union-attr]

    async with birch.connect(slug) as again:
        hello = await next_frame(again, "hello")
        assert hello["session_you"]["role"] == "facilitator"
        assert "panel" in hello["session_you"]
    assert (await birch.act(session_id, "lock", locked=True)).status_code == 200
    page = await wren.http.get(f"/sessions/{session_id}")
    assert "Birch has taken over facilitating this session." in page.text
    assert "Facilitator controls" in (await birch.http.get(f"/sessions/{session_id}")).text
    # Pressing again changes nothing; the original facilitator keeps their controls too.
    assert (await birch.form(session_id, "take-over")).status_code == 303
    assert (await lead.act(session_id, "lock", locked=False)).status_code == 200
    assert ("session_take_over", "Birch") in await _audit(live)


async def test_a_series_gets_one_co_facilitator_for_every_session_to_come(live: LiveServer) -> None:
    await make_community(live.ctx)
    lead = Person(live, await live.member("Lantern"))
    await live.member("Birch")
    await set_roles(live.ctx.db, "Lantern", peer_supporter=True)
    await set_roles(live.ctx.db, "Birch", peer_supporter=True)
    answer = await schedule(lead.http, repeat="weekly", weeks=3)
    assert answer.status_code == 201, answer.text
    ids = [s["id"] for s in answer.json()["sessions"]]
    assert len(ids) == 3
    named = await lead.form(ids[0], "cofacilitator", member="Birch", series="yes")
    assert named.status_code == 303
    async with live.ctx.db.read() as s:
        rows = list(await s.exec(select(GroupSessionCofacilitator.session_id)))
    assert sorted(rows) == ids
    # Just one session: the others keep theirs.
    removed = await lead.form(ids[1], "cofacilitator", member="")
    assert removed.status_code == 303
    async with live.ctx.db.read() as s:
        rows = list(await s.exec(select(GroupSessionCofacilitator.session_id)))
    assert sorted(rows) == [ids[0], ids[2]]
    await lead.http.aclose()
