"""The sessions pages without JavaScript: plain forms for scheduling, RSVP, the ground rules,
the facilitator's controls and the summary note; errors keep what was typed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from chat.groups.models import GroupSession
from identity.accounts import set_roles
from tests.chat.groups.conftest import scheduled
from tests.helpers import form_token, join


async def _signed_in(client, name: str, *, supporter: bool = False) -> None:  # type: ignore[no-untyped-def]
    await join(client, name)
    if supporter:
        await set_roles(client._transport.app.state.ctx.db, name, peer_supporter=True)


async def test_scheduling_from_the_form_and_errors_keep_the_values(app, community, client):
    await _signed_in(client, "Lantern", supporter=True)
    page = await client.get("/sessions/new?community=grief")
    assert page.status_code == 200 and 'name="ground_rules"' in page.text
    token = form_token(page.text)
    start = datetime.now(UTC) + timedelta(days=2)
    fields = {
        "csrf_token": token,
        "community": "grief",
        "title": "Sunday circle",
        "description": "Gentle talk.",
        "date": (start - timedelta(days=5)).strftime("%Y-%m-%d"),
        "time": "19:00",
        "timezone": "Europe/London",
        "duration_minutes": "60",
        "capacity": "10",
        "ground_rules": "Be kind.",
    }
    past = await client.post("/sessions/new", data=fields)
    assert past.status_code == 422
    assert "already passed" in past.text and 'value="Sunday circle"' in past.text
    made = await client.post("/sessions/new", data={**fields, "date": start.strftime("%Y-%m-%d")})
    assert made.status_code == 303
    session_page = await client.get(made.headers["location"])
    assert "Sunday circle" in session_page.text and "Facilitator controls" in session_page.text
    listing = await client.get("/c/grief/sessions")
    assert "Sunday circle" in listing.text and "0 of 10 seats taken" in listing.text
    assert "Sunday circle" in (await client.get("/sessions?community=grief")).text
    assert (await client.get("/c/nowhere/sessions")).status_code == 404


async def test_a_member_rsvps_agrees_and_waits_in_the_lobby_with_plain_forms(
    app, community, people, client
):
    lead = await people.member("Lantern", supporter=True)
    session_id = await scheduled(lead, after=timedelta(minutes=10))
    await join(client, "Wren")
    page = await client.get(f"/sessions/{session_id}")
    assert "RSVP: keep me a seat" in page.text and "deleted from Kindred when it ends" in page.text
    token = form_token(page.text)
    answer = await client.post(f"/sessions/{session_id}/rsvp", data={"csrf_token": token})
    assert answer.status_code == 303
    page = await client.get(f"/sessions/{session_id}")
    assert "You have a seat" in page.text and "1 of 8 seats taken" in page.text
    unagreed = await client.post(f"/sessions/{session_id}/join", data={"csrf_token": token})
    assert unagreed.status_code == 422 and "tick “I agree”" in unagreed.text
    agreed = await client.post(
        f"/sessions/{session_id}/join", data={"csrf_token": token, "agree": "yes"}
    )
    assert agreed.status_code == 303
    lobby = await client.get(f"/sessions/{session_id}")
    assert "You're in the lobby" in lobby.text and 'id="chat"' in lobby.text
    assert 'data-live="yes"' in lobby.text
    # Posting before it starts (from the lobby): refused, the text kept in the box.
    sent = await client.post(
        f"/sessions/{session_id}/send", data={"csrf_token": token, "body": "hello all"}
    )
    assert sent.status_code == 409 and ">hello all</textarea>" in sent.text
    assert "The session hasn&#39;t started yet" in sent.text


async def test_the_facilitator_runs_it_from_plain_forms(app, community, people, client):
    await _signed_in(client, "Lantern", supporter=True)
    wren = await people.member("Wren")
    page = await client.get("/sessions/new")
    start = datetime.now(UTC) + timedelta(minutes=10)
    made = await client.post(
        "/sessions/new",
        data={
            "csrf_token": form_token(page.text),
            "community": "grief",
            "title": "Quick circle",
            "date": start.strftime("%Y-%m-%d"),
            "time": start.strftime("%H:%M"),
            "timezone": "UTC",
            "duration_minutes": "30",
            "capacity": "4",
            "ground_rules": "Be kind.",
        },
    )
    session_id = int(made.headers["location"].rsplit("/", 1)[1])
    await wren.post(f"/api/v1/sessions/{session_id}/join", json={"agree": True})
    page = await client.get(f"/sessions/{session_id}")
    token = form_token(page.text)
    assert "Wren" in page.text and "Let everyone in (1)" in page.text
    for action, data in (
        ("start", {}),
        ("admit", {"member": "Wren"}),
        ("turn-taking", {"on": "yes"}),
        ("pin", {"text": "Round one"}),
    ):
        answer = await client.post(
            f"/sessions/{session_id}/{action}", data={"csrf_token": token, **data}
        )
        assert answer.status_code == 303, (action, answer.text)
    page = await client.get(f"/sessions/{session_id}")
    assert "Round one" in page.text and "Turn-taking is on." in page.text
    sent = await client.post(
        f"/sessions/{session_id}/send", data={"csrf_token": token, "body": "Welcome"}
    )
    assert sent.status_code == 303
    assert "Welcome" in (await client.get(f"/sessions/{session_id}")).text
    # The summary names nobody and holds no contact details; the text is kept on refusal.
    named = await client.post(
        f"/sessions/{session_id}/summary",
        data={"csrf_token": token, "text": "Wren spoke about her mother."},
    )
    assert named.status_code == 422 and "must name nobody" in named.text
    assert "Wren spoke about her mother.</textarea>" in named.text
    contact = await client.post(
        f"/sessions/{session_id}/summary",
        data={"csrf_token": token, "text": "Someone shared call 07700 900123"},
    )
    assert contact.status_code == 422 and "contact details" in contact.text
    fine = await client.post(
        f"/sessions/{session_id}/summary",
        data={"csrf_token": token, "text": "Themes: anniversaries; what helped was walking."},
    )
    assert fine.status_code == 303
    assert (
        await client.post(f"/sessions/{session_id}/end", data={"csrf_token": token})
    ).status_code == 303
    async with app.state.ctx.db.read() as s:
        row = (await s.exec(select(GroupSession).where(GroupSession.id == session_id))).one()
    assert row.status == "ended" and row.summary_note.startswith("Themes")
    over = await client.get(f"/sessions/{session_id}")
    assert "This session has ended" in over.text and 'id="chat"' not in over.text


async def test_a_session_rooms_chat_address_leads_to_the_session_page(
    app, community, people, client
):
    lead = await people.member("Lantern", supporter=True)
    session_id = await scheduled(lead)
    await join(client, "Wren")
    async with app.state.ctx.db.read() as s:
        from chat.models import Room

        row = await s.get(GroupSession, session_id)
        slug = (await s.get(Room, row.room_id)).slug
    first = await client.get(f"/chat/{slug}")
    assert first.status_code == 303
    second = await client.get(first.headers["location"])
    assert second.status_code == 303 and second.headers["location"] == f"/sessions/{session_id}"


async def test_sessions_of_members_only_communities_stay_hidden_from_visitors(
    app, community, people, client
):
    from communities.models import Community

    lead = await people.member("Lantern", supporter=True)
    session_id = await scheduled(lead, title="Private circle")
    async with app.state.ctx.db.transaction() as s:
        row = await s.get(Community, community.id)
        row.visibility = "members"
        s.add(row)
    assert "Private circle" not in (await client.get("/sessions")).text
    assert (await client.get("/api/v1/sessions")).json()["sessions"] == []
    assert (await client.get(f"/api/v1/sessions/{session_id}")).status_code == 404
    page = await client.get(f"/sessions/{session_id}")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert (await client.get(f"/sessions/{session_id}.ics")).status_code == 303
    assert "Private circle" in (await lead.get("/sessions")).text  # members see it


async def test_the_controls_page_renders_every_control_in_its_current_state(app, community, people):
    """Without JS the forms show what applies now; sessions.js flips the same elements from the
    state frames, so every control is in the page (hidden when it doesn't apply)."""
    import re

    lead = await people.member("Lantern", supporter=True)
    session_id = await scheduled(lead, after=timedelta(minutes=10))

    def shown(html: str, form_id: str) -> bool:
        tag = re.search(rf'<form [^>]*id="{form_id}"[^>]*>', html)
        assert tag is not None, form_id
        return " hidden" not in tag.group(0)

    before = (await lead.get(f"/sessions/{session_id}")).text
    assert shown(before, "start-form") and shown(before, "cancel-form")
    assert not shown(before, "end-form") and not shown(before, "summary-form")
    assert 'id="controls-error" hidden' in before and 'role="alert"' in before
    assert "Close to late joiners" in before and not shown(before, "floor-back")
    assert "js/sessions-facilitator" in before  # the controls' script, for facilitators only
    wren = await people.member("Wren")
    assert "js/sessions-facilitator" not in (await wren.get(f"/sessions/{session_id}")).text

    for action, data in (("start", {}), ("lock", {"locked": True}), ("turn-taking", {"on": True})):
        answer = await lead.post(f"/api/v1/sessions/{session_id}/{action}", json=data)
        assert answer.status_code == 200, (action, answer.text)
    refused = await lead.post(
        f"/api/v1/sessions/{session_id}/pin", json={"text": "Call me on 07700 900123"}
    )
    assert refused.status_code == 422
    assert "Your text is kept" in refused.json()["error"]["message"]
    pinned = await lead.post(f"/api/v1/sessions/{session_id}/pin", json={"text": " Round one "})
    view = pinned.json()
    assert view["panel"]["pinned_text"] == "Round one"  # a second facilitator's pin box
    assert view["session"]["locked"] and view["session"]["turn_taking"]

    during = (await lead.get(f"/sessions/{session_id}")).text
    assert not shown(during, "start-form") and not shown(during, "cancel-form")
    assert shown(during, "end-form") and shown(during, "summary-form")
    assert "Open to late joiners" in during and "Turn off turn-taking" in during
    assert 'data-saved="Round one"' in during

    assert (await lead.post(f"/api/v1/sessions/{session_id}/end")).status_code == 200
    after = (await lead.get(f"/sessions/{session_id}")).text
    assert re.search(r'<div id="controls-live" hidden>', after)
    assert shown(after, "summary-form")
