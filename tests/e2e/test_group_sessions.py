"""A peer supporter (given the role by an admin on the member's moderation page) schedules
and runs a live group session in a real browser; two members in two more browsers agree to
the ground rules, wait in the lobby, are let in and take turns with turn-taking on; the
session ends and its messages are gone from the database. The admin keeps the session open
on a second screen: the facilitator controls there follow every change without a reload."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    Server,
    assert_accessible,
    make_admin,
    member_id,
    screenshot,
    start_server,
    stop_server,
)
from tests.helpers import PASSPHRASE


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """This module's own server: messages are deleted the moment a session ends (grace 0)."""
    running = start_server(
        tmp_path_factory.mktemp("e2e-sessions"), {"KINDRED_SESSION_GRACE_MINUTES": "0"}
    )
    try:
        yield running
    finally:
        stop_server(running.process)


def _signed_in(new_context, name: str, *, signup: bool = True, **options):  # type: ignore[no-untyped-def]
    context = new_context(**options)
    path = "/api/v1/signup" if signup else "/api/v1/login"
    response = context.request.post(path, data={"pseudonym": name, "passphrase": PASSPHRASE})
    assert response.status == (201 if signup else 200), response.text()  # created, or signed in
    return context.new_page()


def _send(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Your message").fill(text)
    page.get_by_role("button", name="Send").click()


def test_a_peer_supporter_runs_a_session_with_turn_taking(server: Server, new_context) -> None:
    tag = secrets.token_hex(2)
    admin_name, lead_name = f"Admin{tag}", f"Lantern{tag}"
    wren, robin = f"Wren{tag}", f"Robin{tag}"

    # An admin makes Lantern a peer supporter, on the member's moderation page.
    make_admin(server, admin_name)
    lead = _signed_in(new_context, lead_name)
    admin = _signed_in(new_context, admin_name, signup=False)
    admin.goto(f"/moderation/members/{member_id(server, lead_name)}")
    admin.get_by_role("button", name="Make a peer supporter").click()
    expect(admin.get_by_role("button", name="Remove the peer supporter role")).to_be_visible()

    # Lantern schedules it: five minutes from now, so the lobby is already open.
    lead.goto("/sessions")
    expect(lead.get_by_role("heading", name="Group sessions", exact=True)).to_be_visible()
    assert_accessible(lead, "sessions list")
    lead.get_by_role("link", name="Schedule a session").click()
    assert_accessible(lead, "schedule form")
    start = datetime.now(UTC) + timedelta(minutes=5)
    lead.get_by_label("Community").select_option(label="Grief & Loss")
    lead.get_by_label("Title").fill("Tuesday evening circle")
    lead.get_by_label("What the session is about").fill("Talking about the hard days.")
    lead.get_by_label("Date").fill(start.strftime("%Y-%m-%d"))
    lead.get_by_label("Start time").fill(start.strftime("%H:%M"))
    lead.get_by_label("Time zone").select_option("UTC")
    lead.get_by_label("Length in minutes").fill("45")
    lead.get_by_label("Seats").fill("6")
    screenshot(lead, "group-session-schedule")
    lead.get_by_role("button", name="Schedule").click()
    expect(lead.get_by_role("heading", name="Tuesday evening circle")).to_be_visible()
    expect(lead.get_by_role("heading", name="Facilitator controls")).to_be_visible()
    session_url = lead.url
    assert_accessible(lead, "session page (facilitator)")
    # The admin (who may facilitate anywhere) follows on a second screen.
    admin.goto(session_url)
    expect(admin.get_by_role("heading", name="Facilitator controls")).to_be_visible()

    # Two members agree to the ground rules and wait in the lobby.
    members = {}
    for name, size in ((wren, None), (robin, {"width": 360, "height": 740})):  # a small phone
        page = _signed_in(new_context, name, **({"viewport": size} if size else {}))
        page.goto(session_url)
        expect(page.get_by_text("deleted from Kindred when it ends")).to_be_visible()
        page.get_by_label("I've read the ground rules and I agree to them").check()
        page.get_by_role("button", name="Go to the lobby").click()
        expect(page.locator("#chat-state")).to_contain_text("In the lobby")
        expect(page.get_by_text("You're in the lobby.")).to_be_visible()
        members[name] = page
    screenshot(members[wren], "group-session-lobby")
    assert_accessible(members[wren], "session lobby")

    # The facilitator starts the session and lets everyone in, all without a page load: the
    # controls on both facilitators' screens follow.
    lead.evaluate("window.kindredPage = 'still here'")
    lead.get_by_role("button", name="Start the session").click()
    expect(lead.locator("#session-status")).to_have_text("Live now")
    for screen in (lead, admin):
        expect(screen.get_by_role("button", name="End the session")).to_be_visible()
        expect(screen.get_by_role("button", name="Start the session")).to_be_hidden()
    lead.get_by_role("button", name="Let everyone in (2)").click()
    for page in members.values():
        expect(page.locator("#chat-state")).to_have_text("Live")
        expect(page.locator("#session-lobby")).to_be_hidden()
        expect(page.locator("#session-status")).to_have_text("Live now")
    expect(admin.locator("#panel-people li")).to_have_count(2)

    # The admin closes the session to late joiners; Lantern's button says so at once.
    admin.get_by_role("button", name="Close to late joiners").click()
    expect(lead.get_by_role("button", name="Open to late joiners")).to_be_visible()
    expect(members[wren].locator("#session-locked")).to_be_visible()

    # A pin the filters refuse: the reason is shown and the text stays in the box.
    lead.get_by_label("Pinned message (the topic of this round, say)").fill(
        "Call me on 07700 900123"
    )
    lead.get_by_role("button", name="Pin", exact=True).click()
    expect(lead.locator("#controls-error")).to_contain_text("contact details")
    pin_box = lead.get_by_label("Pinned message (the topic of this round, say)")
    expect(pin_box).to_have_value("Call me on 07700 900123")
    pin_box.fill("Round one: what helped this week?")
    lead.get_by_role("button", name="Pin", exact=True).click()
    expect(lead.locator("#controls-error")).to_be_hidden()
    expect(members[robin].locator("#session-pinned")).to_contain_text("what helped this week")
    expect(admin.get_by_label("Pinned message (the topic of this round, say)")).to_have_value(
        "Round one: what helped this week?"
    )

    # Turn-taking: without the floor a member's message is refused and kept.
    lead.get_by_role("button", name="Turn on turn-taking").click()
    expect(admin.get_by_role("button", name="Turn off turn-taking")).to_be_visible()
    expect(members[wren].locator("#session-turns")).to_be_visible()
    _send(members[wren], "Can I say something?")
    expect(members[wren].locator("#chat-error")).to_contain_text("It's not your turn yet")
    expect(members[wren].get_by_label("Your message")).to_have_value("Can I say something?")

    members[wren].get_by_role("button", name="Raise my hand").click()
    expect(members[wren].locator("#hand-place")).to_have_text("Your place in the queue: 1.")
    members[robin].get_by_role("button", name="Raise my hand").click()
    expect(members[robin].locator("#hand-place")).to_have_text("Your place in the queue: 2.")
    expect(lead.locator("#panel-hands li")).to_have_count(2)
    screenshot(lead, "group-session-facilitator")
    assert_accessible(lead, "facilitator panel with hands")

    lead.get_by_role("button", name=f"Give the floor to {wren}").click()
    expect(members[robin].locator("#session-floor")).to_have_text(f"{wren} has the floor.")
    expect(members[wren].locator("#hand-place")).to_have_text("You have the floor.")
    expect(admin.get_by_role("button", name=f"Take back the floor from {wren}")).to_be_visible()
    _send(members[wren], "This week was hard, but I got through it.")
    expect(members[robin].locator("#chat-messages")).to_contain_text("This week was hard")

    expect(lead.locator("#panel-hands li")).to_have_count(1)
    lead.get_by_role("button", name=f"Give the floor to {robin}").click()
    expect(members[wren].locator("#session-floor")).to_have_text(f"{robin} has the floor.")
    _send(members[robin], "Thank you for sharing that.")
    expect(members[wren].locator("#chat-messages")).to_contain_text("Thank you for sharing that")
    _send(members[wren], "One more thing")
    expect(members[wren].locator("#chat-error")).to_contain_text("It's not your turn yet")
    screenshot(members[wren], "group-session-turns")
    assert_accessible(members[wren], "session room (member)")
    screenshot(members[robin], "group-session-narrow")
    assert_accessible(members[robin], "session room at 360 px")
    overflow = members[robin].evaluate("document.documentElement.scrollWidth > innerWidth")
    assert not overflow, "the session page scrolls sideways on a small phone"

    # Slow mode, set on one screen, shows on the other facilitator's and on the members'.
    lead.get_by_label("Slow mode").select_option("30")
    lead.get_by_role("button", name="Set", exact=True).click()
    expect(admin.get_by_label("Slow mode")).to_have_value("30")
    expect(members[robin].locator("#session-slow")).to_be_visible()

    # The end: everyone is told, and the messages are gone from the database.
    lead.get_by_role("button", name="End the session").click()
    for page in members.values():
        expect(page.locator("#session-ended-note")).to_contain_text("The session has ended")
        expect(page.locator("#chat-form")).to_be_hidden()
        expect(page.locator("#chat-state")).to_have_text("Disconnected")
    for screen in (lead, admin):
        expect(screen.get_by_role("button", name="End the session")).to_be_hidden()
        expect(screen.get_by_label("Summary note (kept after the session)")).to_be_visible()
    assert lead.evaluate("window.kindredPage") == "still here", "a control reloaded the page"
    assert_accessible(lead, "facilitator controls after the end")
    session_id = int(session_url.rstrip("/").rsplit("/", 1)[1])
    with sqlite3.connect(server.data_dir / "kindred.db") as db:
        room_id = db.execute(
            "SELECT room_id FROM group_session WHERE id = ?", (session_id,)
        ).fetchone()[0]
        left = db.execute("SELECT count(*) FROM chat_message WHERE room_id = ?", (room_id,))
        assert left.fetchone()[0] == 0
        purged = db.execute(
            "SELECT messages_purged_at FROM group_session WHERE id = ?", (session_id,)
        ).fetchone()[0]
        assert purged is not None
        supporter = db.execute(
            "SELECT is_peer_supporter, is_admin FROM member WHERE pseudonym_key = ?",
            (lead_name.casefold(),),
        ).fetchone()
        assert supporter == (1, 0)  # the facilitator really is a peer supporter, not an admin
    members[wren].reload()
    expect(members[wren].get_by_text("This session has ended.")).to_be_visible()
    expect(members[wren].locator("#chat-messages")).to_have_count(0)
