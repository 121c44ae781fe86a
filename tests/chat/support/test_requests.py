"""Asking for 1:1 support, the supporters' queue, and accepting: through the real app.

Run on PostgreSQL too: KINDRED_TEST_BACKEND=postgres (the race test matters most there).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import col, select, update

from chat.models import Room
from chat.support.models import SupportRequest
from communities.models import Community
from core.db import utcnow
from tests.chat.people import People
from tests.chat.support.conftest import ask

pytestmark = pytest.mark.usefixtures("community")


async def _request(people: People, request_id: int) -> SupportRequest:
    async with people.ctx.db.read() as s:
        found = await s.get(SupportRequest, request_id)
    assert found is not None
    return found


async def test_a_note_must_be_there_short_and_about_a_topic(people: People) -> None:
    member = await people.member("Wren")
    empty = await ask(member, "   ")
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "empty"
    long = await ask(member, "x" * 501)
    assert long.status_code == 422 and long.json()["error"]["code"] == "too_long"
    assert "500 characters" in long.json()["error"]["message"]
    nowhere = await ask(member, "I could use a chat", community="no-such-place")
    assert nowhere.status_code == 422 and nowhere.json()["error"]["field"] == "community"
    async with people.ctx.db.read() as s:
        assert list(await s.exec(select(SupportRequest))) == []


async def test_one_open_request_at_a_time_points_back_to_the_first(people: People) -> None:
    member = await people.member("Wren")
    first = await ask(member, "I'd like to talk about my dad")
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "open"
    url = first.json()["url"]
    again = await ask(member, "and something else too")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_asked"
    assert again.json()["error"]["url"] == url
    # The page says the same, keeps the text, and links to the first request.
    page = await member.post("/support", data={"community": "1", "note": "and something else"})
    assert page.status_code == 409
    assert "and something else" in page.text and f'href="{url}"' in page.text
    # Withdrawn, a new one can be made.
    cancelled = await member.post(f"/api/v1/support/requests/{first.json()['id']}/cancel")
    assert cancelled.status_code == 200
    assert (await ask(member, "something else")).status_code == 201


async def test_contact_details_are_refused_with_the_reason(people: People) -> None:
    member = await people.member("Wren")
    refused = await ask(member, "please text me on 07700 900123 or mail wren@example.com")
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "contact_details" and "contact details" in error["message"]
    assert "your text is kept" in error["message"].lower()
    page = await member.post("/support", data={"community": "1", "note": "mail wren@example.com"})
    assert page.status_code == 422
    assert "wren@example.com</textarea>" in page.text and "contact details" in page.text
    supporter = await people.member("Oak", supporter=True, available=True)
    assert (await supporter.get("/api/v1/support/queue")).json()["count"] == 0


async def test_crisis_is_still_asked_shown_resources_and_put_first(people: People) -> None:
    calm = await people.member("Calm")
    assert (await ask(calm, "Rough week, would like to talk")).status_code == 201
    struggling = await people.member("Struggling")
    urgent = await ask(struggling, "I want to kill myself tonight")
    assert urgent.status_code == 201, urgent.text
    assert urgent.json()["notice"]["code"] == "crisis"
    assert urgent.json()["notice"]["resources"]
    waiting = await struggling.get(urgent.json()["url"])
    assert waiting.status_code == 200 and 'id="support-resources"' in waiting.text
    supporter = await people.member("Oak", supporter=True, available=True)
    queue = (await supporter.get("/api/v1/support/queue")).json()
    assert [r["crisis"] for r in queue["requests"]] == [True, False]
    page = await supporter.get("/support/queue")
    assert page.text.index("I want to kill myself") < page.text.index("Rough week")
    assert "Urgent" in page.text


async def test_only_available_peer_supporters_see_the_queue(people: People) -> None:
    member = await people.member("Wren")
    made = await ask(member, "I'd like to talk")
    # A member who is not a peer supporter has no queue.
    assert (await member.get("/support/queue")).status_code == 403
    assert (await member.get("/api/v1/support/queue")).status_code == 403
    assert (
        await member.post("/api/v1/support/availability", json={"available": True})
    ).status_code == 403
    # A supporter who is not available sees the prompt, not the requests.
    oak = await people.member("Oak", supporter=True)
    queue = (await oak.get("/api/v1/support/queue")).json()
    assert queue == {"available": False, "paused": None, "count": 0, "requests": []}
    page = await oak.get("/support/queue")
    assert "like to talk" not in page.text and "I'm available" in page.text
    accept = await oak.post(f"/api/v1/support/requests/{made.json()['id']}/accept")
    assert accept.status_code == 409 and accept.json()["error"]["code"] == "not_available"
    # Switched on (through the page's plain form), the request shows, without the pseudonym.
    switched = await oak.post("/support/availability", data={"available": "yes"})
    assert switched.status_code == 303
    page = await oak.get("/support/queue")
    assert "<p>I'd like to talk</p>" in page.text  # the note's stored HTML, as written
    assert "Wren" not in page.text
    assert (await oak.get("/api/v1/support/queue")).json()["count"] == 1


async def test_a_supporter_never_sees_or_takes_their_own_request(people: People) -> None:
    oak = await people.member("Oak", supporter=True, available=True)
    made = await ask(oak, "Supporters need support too")
    assert (await oak.get("/api/v1/support/queue")).json()["count"] == 0
    taken = await oak.post(f"/api/v1/support/requests/{made.json()['id']}/accept")
    assert taken.status_code == 403 and taken.json()["error"]["code"] == "own_request"
    assert (await _request(people, made.json()["id"])).status == "open"


async def test_topics_narrow_the_queue(people: People, community: Community) -> None:
    from tests.chat.people import make_community

    other = await make_community(people.ctx, "caring", "Caring")
    member = await people.member("Wren")
    await ask(member, "about caring", community="caring")
    oak = await people.member("Oak", supporter=True, available=True)
    assert (await oak.get("/api/v1/support/queue")).json()["count"] == 1
    await oak.post("/support/topics", data={"community": str(community.id)})
    assert (await oak.get("/api/v1/support/queue")).json()["count"] == 0
    await oak.post("/support/topics", data={"community": str(other.id)})
    assert (await oak.get("/api/v1/support/queue")).json()["count"] == 1


async def test_two_supporters_accept_at_once_and_exactly_one_wins(people: People) -> None:
    member = await people.member("Wren")
    made = (await ask(member, "I'd like to talk")).json()
    oak = await people.member("Oak", supporter=True, available=True)
    ash = await people.member("Ash", supporter=True, available=True)
    url = f"/api/v1/support/requests/{made['id']}/accept"
    answers = await asyncio.gather(oak.post(url), ash.post(url))
    assert sorted(a.status_code for a in answers) == [200, 409]
    lost = next(a for a in answers if a.status_code == 409).json()["error"]
    assert lost["code"] == "already_accepted"
    assert "Another supporter has just accepted this request" in lost["message"]
    won = next(a for a in answers if a.status_code == 200).json()
    found = await _request(people, made["id"])
    winner = "Oak" if answers[0].status_code == 200 else "Ash"
    async with people.ctx.db.read() as s:
        rooms = list(await s.exec(select(Room).where(Room.kind == "private")))
        from identity.accounts import find_member

    assert [r.slug for r in rooms] == [won["room"]]  # the loser's room was rolled back
    assert found.status == "accepted" and found.room_id == rooms[0].id
    assert found.supporter_id == (await find_member(people.ctx.db, winner)).id  # type: ignore[union-attr]
    # The member's status call now points at the conversation.
    status = (await member.get(f"/api/v1/support/requests/{made['id']}")).json()
    assert status == {"id": made["id"], "status": "accepted", "url": won["url"]}
    # And the queue no longer shows it; a third try is told why.
    assert (await oak.get("/api/v1/support/queue")).json()["count"] == 0
    late = await oak.post("/support/requests/{}/accept".format(made["id"]))
    assert late.status_code == 409 and "Another supporter has just accepted" in late.text


async def test_withdrawn_and_taken_requests_say_so(people: People) -> None:
    member = await people.member("Wren")
    made = (await ask(member, "I'd like to talk")).json()
    oak = await people.member("Oak", supporter=True, available=True)
    assert (await member.post(f"/api/v1/support/requests/{made['id']}/cancel")).status_code == 200
    gone = await oak.post(f"/api/v1/support/requests/{made['id']}/accept")
    assert gone.status_code == 409 and gone.json()["error"]["code"] == "cancelled"
    again = (await ask(member, "Actually, yes please")).json()
    assert (await oak.post(f"/api/v1/support/requests/{again['id']}/accept")).status_code == 200
    late = await member.post(f"/api/v1/support/requests/{again['id']}/cancel")
    assert late.status_code == 409 and late.json()["error"]["code"] == "already_accepted"
    missing = await oak.post("/api/v1/support/requests/999999/accept")
    assert missing.status_code == 404
    # Someone else's request is not theirs to read or withdraw.
    stranger = await people.member("Stranger")
    assert (await stranger.get(f"/api/v1/support/requests/{again['id']}")).status_code == 404
    assert (
        await stranger.post(f"/api/v1/support/requests/{again['id']}/cancel")
    ).status_code == 404


async def test_after_the_wait_the_member_is_shown_sessions_and_resources(people: People) -> None:
    member = await people.member("Wren")
    made = (await ask(member, "I'd like to talk")).json()
    page = await member.get(made["url"])
    assert "Waiting for a supporter" in page.text and "support-more-help" not in page.text
    assert (await member.get(f"/api/v1/support/requests/{made['id']}")).json()["timed_out"] is False
    minutes = people.ctx.settings.support_wait_minutes
    asked_at = (await _request(people, made["id"])).created_at
    async with people.ctx.db.transaction() as s:
        await s.exec(
            update(SupportRequest)
            .where(col(SupportRequest.id) == made["id"])
            .values(created_at=asked_at - timedelta(minutes=minutes, seconds=1))
        )
    status = (await member.get(f"/api/v1/support/requests/{made['id']}")).json()
    assert status["timed_out"] is True and status["status"] == "open"
    page = await member.get(made["url"])
    assert 'id="support-more-help"' in page.text and 'href="/sessions"' in page.text
    assert 'id="support-resources"' in page.text and "Withdraw my request" in page.text
    # With a group session coming up, the page names it.
    oak = await people.member("Oak", supporter=True, available=True)
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    scheduled = await oak.post(
        "/api/v1/sessions",
        json={
            "community": "grief", "title": "Evening circle", "ground_rules": "Be kind.",
            "date": tomorrow, "time": "19:00", "timezone": "UTC",
            "duration_minutes": 60, "capacity": 8,
        },
    )  # fmt: skip
    assert scheduled.status_code == 201, scheduled.text
    page = await member.get(made["url"])
    assert "Evening circle" in page.text and scheduled.json()["sessions"][0]["url"] in page.text
    # The request stays open: a supporter can still take it.
    assert (await oak.post(f"/api/v1/support/requests/{made['id']}/accept")).status_code == 200
    assert (await member.get(made["url"], follow_redirects=False)).status_code == 303


async def test_pages_need_a_signed_in_member_and_forms_need_the_csrf_token(app) -> None:
    from tests.conftest import make_client
    from tests.helpers import join, submit

    async with make_client(app) as visitor:
        # Asking needs an account; the page tells a visitor where help is now and how to join.
        page = await visitor.get("/support", follow_redirects=False)
        assert page.status_code == 200 and 'class="helplines"' in page.text
        assert 'href="/signup"' in page.text and 'href="/login?next=/support"' in page.text
        refused = await visitor.post("/support", data={"community": "1", "note": "hi"})
        assert refused.status_code in (401, 403)  # no session (and no CSRF token)
        assert (await visitor.get("/api/v1/support/requests/1")).status_code == 401
    async with make_client(app) as browser:
        await join(browser, "Cookie-Member")
        refused = await browser.post("/support", data={"community": "1", "note": "hi"})
        assert refused.status_code == 403  # no CSRF token
        asked = await submit(browser, "/support", "/support", {"community": "1", "note": "hi"})
        assert asked.status_code == 303 and asked.headers["location"].startswith(
            "/support/requests/"
        )


async def test_a_suspended_member_is_told_why_and_still_shown_where_to_find_help(
    people: People, community: Community
) -> None:
    from identity.accounts import find_member
    from moderation.models import Sanction

    member = await people.member("Wren")
    found = await find_member(people.ctx.db, "Wren")
    async with people.ctx.db.transaction() as s:
        s.add(Sanction(member_id=found.id, kind="suspend", confirmed=True))  # type: ignore[union-attr]
    refused = await ask(member, "I'd like to talk")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "suspended"
    assert refused.json()["error"]["notice"]["resources"]
    page = await member.post("/support", data={"community": str(community.id), "note": "hi"})
    assert page.status_code == 403 and 'id="support-resources"' in page.text


async def test_members_who_blocked_each_other_are_never_matched(people: People) -> None:
    from identity.accounts import find_member
    from identity.models import MemberBlock

    member = await people.member("Wren")
    made = (await ask(member, "I'd like to talk")).json()
    oak = await people.member("Oak", supporter=True, available=True)
    wren = await find_member(people.ctx.db, "Wren")
    supporter = await find_member(people.ctx.db, "Oak")
    assert wren is not None and supporter is not None
    async with people.ctx.db.transaction() as s:
        s.add(MemberBlock(blocker_id=wren.id, blocked_id=supporter.id))
    assert (await oak.get("/api/v1/support/queue")).json()["count"] == 0
    taken = await oak.post(f"/api/v1/support/requests/{made['id']}/accept")
    # Answered as a request that isn't there: "blocked" would tell the supporter who asked.
    assert taken.status_code == 404 and taken.json()["error"]["code"] == "not_found"
    assert (await _request(people, made["id"])).status == "open"


async def test_asking_has_its_own_limit_and_only_requests_made_count(people: People) -> None:
    from core.settings import DEFAULT_LIMITS

    assert DEFAULT_LIMITS["support_request"] == "5/hour"
    member = await people.member("Wren")
    for n in range(5):
        # A note sent back for changes doesn't use up the allowance.
        refused = await ask(member, "mail me at wren@example.com")
        assert refused.status_code == 422, refused.text
        made = await ask(member, f"I'd like to talk ({n})")
        assert made.status_code == 201, made.text
        withdrawn = await member.post(f"/api/v1/support/requests/{made.json()['id']}/cancel")
        assert withdrawn.status_code == 200
    sixth = await ask(member, "Please, one more time")
    assert sixth.status_code == 429 and sixth.headers["retry-after"]
    error = sixth.json()["error"]
    assert error["code"] == "rate_limited" and "your text is kept" in error["message"]
    assert error["notice"]["resources"]  # where to find someone right now, all the same
    page = await member.post("/support", data={"community": "1", "note": "Please, one more"})
    assert page.status_code == 429
    assert "Please, one more</textarea>" in page.text and 'id="support-resources"' in page.text
    # Another member's allowance is their own, and forum posting is not touched by it.
    assert (await ask(await people.member("Fern"), "I'd like to talk")).status_code == 201
