"""Seats: RSVPs (a count, never names), capacity taken atomically under concurrency, and
joining: the ground rules, the lobby's opening, full, locked and ended sessions."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from chat.groups.models import GroupSession, GroupSessionParticipant
from tests.chat.groups.conftest import scheduled


async def _state(client, session_id: int) -> dict:
    answer = await client.get(f"/api/v1/sessions/{session_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_rsvps_are_counted_but_never_named(app, community, people, client):
    lead = await people.member("Lantern", supporter=True)
    session_id = await scheduled(lead)
    for name in ("Wren", "Robin"):
        member = await people.member(name)
        answer = await member.post(f"/api/v1/sessions/{session_id}/rsvp")
        assert answer.status_code == 200, answer.text
        assert answer.json()["you"]["status"] == "rsvp"
    again = await people.clients[-1].post(f"/api/v1/sessions/{session_id}/rsvp")
    assert again.json()["session"]["seats_taken"] == 2  # a second RSVP takes no second seat
    page = await client.get(f"/sessions/{session_id}")
    assert "2 of 8 seats taken" in page.text
    seen_by_member = await _state(people.clients[-1], session_id)
    for body in (page.text, str(seen_by_member)):
        assert "Wren" not in body and "Robin" not in body
    assert "panel" not in seen_by_member  # names are for the facilitators alone …
    # … and even they see RSVPs only once people are waiting in the lobby.
    assert (await _state(lead, session_id))["panel"]["lobby"] == []


async def test_cancelling_an_rsvp_gives_the_seat_back(app, community, people):
    lead = await people.member("Lantern", supporter=True)
    session_id = await scheduled(lead, capacity=2)
    wren, robin, finch = [await people.member(n) for n in ("Wren", "Robin", "Finch")]
    for member in (wren, robin):
        assert (await member.post(f"/api/v1/sessions/{session_id}/rsvp")).status_code == 200
    full = await finch.post(f"/api/v1/sessions/{session_id}/rsvp")
    assert full.status_code == 409 and full.json()["error"]["code"] == "session_full"
    assert "every seat is taken" in full.json()["error"]["message"]
    assert (await wren.post(f"/api/v1/sessions/{session_id}/cancel-rsvp")).status_code == 200
    taken = await finch.post(f"/api/v1/sessions/{session_id}/rsvp")
    assert taken.status_code == 200 and taken.json()["session"]["seats_taken"] == 2
    nothing = await wren.post(f"/api/v1/sessions/{session_id}/cancel-rsvp")
    assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "no_rsvp"
    mine = await lead.post(f"/api/v1/sessions/{session_id}/rsvp")
    assert mine.status_code == 409 and mine.json()["error"]["code"] == "facilitating"


async def test_two_members_cannot_both_take_the_last_seat(app, community, people):
    """Ten members ask at once for the one free seat: exactly one gets it."""
    lead = await people.member("Lantern", supporter=True)
    session_id = await scheduled(lead, capacity=2)
    first = await people.member("First")
    assert (await first.post(f"/api/v1/sessions/{session_id}/rsvp")).status_code == 200
    members = [await people.member(f"Racer-{i}") for i in range(10)]
    answers = await asyncio.gather(
        *(m.post(f"/api/v1/sessions/{session_id}/rsvp") for m in members)
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] + [409] * 9, [a.text for a in answers]
    assert all(a.json()["error"]["code"] == "session_full" for a in answers if a.status_code == 409)
    async with app.state.ctx.db.read() as s:
        row = await s.get(GroupSession, session_id)
        seats = list(
            await s.exec(
                select(GroupSessionParticipant).where(
                    GroupSessionParticipant.session_id == session_id,
                    GroupSessionParticipant.seat_held == True,  # noqa: E712
                )
            )
        )
    assert row.seats_taken == 2 == len(seats)


async def test_the_same_member_asking_twice_at_once_takes_one_seat(app, community, people):
    lead = await people.member("Lantern", supporter=True)
    session_id = await scheduled(lead, capacity=5)
    wren = await people.member("Wren")
    answers = await asyncio.gather(
        *(wren.post(f"/api/v1/sessions/{session_id}/rsvp") for _ in range(5))
    )
    assert {a.status_code for a in answers} == {200}
    assert (await _state(lead, session_id))["session"]["seats_taken"] == 1


async def test_joining_needs_the_ground_rules_agreed_and_the_lobby_open(app, community, people):
    lead = await people.member("Lantern", supporter=True)
    later = await scheduled(lead, after=timedelta(hours=3))
    soon = await scheduled(lead, after=timedelta(minutes=10))
    wren = await people.member("Wren")
    early = await wren.post(f"/api/v1/sessions/{later}/join", json={"agree": True})
    assert early.status_code == 409 and early.json()["error"]["code"] == "lobby_not_open"
    assert "opens 15 minutes before the start" in early.json()["error"]["message"]
    unagreed = await wren.post(f"/api/v1/sessions/{soon}/join", json={"agree": False})
    assert unagreed.status_code == 422
    assert unagreed.json()["error"]["code"] == "rules_not_agreed"
    joined = await wren.post(f"/api/v1/sessions/{soon}/join", json={"agree": True})
    assert joined.status_code == 200, joined.text
    you = joined.json()["you"]
    assert you["status"] == "lobby" and you["rules_agreed"] is True
    assert joined.json()["session"]["seats_taken"] == 1  # no RSVP first: a seat is taken now
    assert joined.json()["session"]["lobby_count"] == 1
    assert (await _state(lead, soon))["panel"]["lobby"] == ["Wren"]


async def test_full_locked_ended_and_cancelled_sessions_refuse_joiners(app, community, people):
    lead = await people.member("Lantern", supporter=True)
    session_id = await scheduled(lead, after=timedelta(minutes=10), capacity=2)
    a, b, c = [await people.member(n) for n in ("Wren", "Robin", "Finch")]
    for member in (a, b):
        assert (
            await member.post(f"/api/v1/sessions/{session_id}/join", json={"agree": True})
        ).status_code == 200
    full = await c.post(f"/api/v1/sessions/{session_id}/join", json={"agree": True})
    assert full.status_code == 409 and full.json()["error"]["code"] == "session_full"
    await b.post(f"/api/v1/sessions/{session_id}/cancel-rsvp")
    assert (
        await lead.post(f"/api/v1/sessions/{session_id}/lock", json={"locked": True})
    ).status_code == 200
    locked = await c.post(f"/api/v1/sessions/{session_id}/join", json={"agree": True})
    assert locked.status_code == 409 and locked.json()["error"]["code"] == "session_locked"
    assert (await c.post(f"/api/v1/sessions/{session_id}/rsvp")).status_code == 409
    # Who already waits in the lobby keeps their place.
    assert (
        await a.post(f"/api/v1/sessions/{session_id}/join", json={"agree": True})
    ).status_code == 200
    assert (await lead.post(f"/api/v1/sessions/{session_id}/start")).status_code == 200
    assert (await lead.post(f"/api/v1/sessions/{session_id}/end")).status_code == 200
    ended = await c.post(f"/api/v1/sessions/{session_id}/join", json={"agree": True})
    assert ended.status_code == 409 and ended.json()["error"]["code"] == "session_ended"
    assert (await c.post(f"/api/v1/sessions/{session_id}/rsvp")).json()["error"][
        "code"
    ] == "session_ended"
    other = await scheduled(lead, after=timedelta(days=5))
    assert (await lead.post(f"/api/v1/sessions/{other}/cancel")).status_code == 200
    cancelled = await c.post(f"/api/v1/sessions/{other}/rsvp")
    assert cancelled.status_code == 409 and cancelled.json()["error"]["code"] == "session_cancelled"


async def test_only_facilitators_run_the_session(app, community, people):
    lead = await people.member("Lantern", supporter=True)
    session_id = await scheduled(lead)
    wren = await people.member("Wren")
    for action in ("start", "end", "admit-all", "lock", "turn-taking"):
        answer = await wren.post(f"/api/v1/sessions/{session_id}/{action}", json={})
        assert answer.status_code == 403, action
        assert "facilitators" in answer.json()["error"]["message"]
    moderator = await people.moderator("Keeper", community)  # moderators may step in
    assert (await moderator.post(f"/api/v1/sessions/{session_id}/start")).status_code == 200
    unknown = await lead.post(f"/api/v1/sessions/{session_id}/dance")
    assert unknown.status_code == 404


async def test_the_same_member_joining_twice_at_once_takes_one_seat(app, community, people):
    lead = await people.member("Lantern", supporter=True)
    session_id = await scheduled(lead, after=timedelta(minutes=10), capacity=5)
    wren = await people.member("Wren")
    answers = await asyncio.gather(
        *(wren.post(f"/api/v1/sessions/{session_id}/join", json={"agree": True}) for _ in range(4))
    )
    assert {a.status_code for a in answers} == {200}, [a.text for a in answers]
    state = (await _state(lead, session_id))["session"]
    assert state["seats_taken"] == 1 and state["lobby_count"] == 1
