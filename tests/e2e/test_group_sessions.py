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
    lead = _signed_in(new_context, lead_name, timezone_id="Europe/London")
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
    expect(lead.get_by_label("Time zone")).to_have_value("Europe/London")  # the browser's
    lead.get_by_label("Time zone").fill("UTC")
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
    expect(members[wren].locator("#hand-place")).to_have_text("You have the floor. Go ahead.")
    expect(members[wren].locator("#hand-button")).to_be_hidden()  # never beside "the floor"
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
    expect(members[robin].locator("#session-slow")).to_have_text(
        "Slow mode: one message every 30 seconds."
    )  # live, as the page words it after a reload

    # The end: everyone is told, and the messages are gone from the database.
    lead.get_by_role("button", name="End the session").click()
    for page in members.values():
        expect(page.locator("#session-ended-note")).to_contain_text("The session has ended")
        expect(page.locator("#chat-form")).to_be_hidden()
        expect(page.locator("#hand-form")).to_be_hidden()
        expect(page.locator("#chat-side")).to_be_hidden()  # "Here now" goes with the session
        expect(page.locator("#chat-state")).to_be_hidden()  # no stray "Disconnected"
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


# --------------------------------------------------------------------------- each state

SCREENS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# The parts of a session's room (chat/groups/session_view.py room_parts): each is shown by
# the elements that carry its name in data-part (the messages, the message box, …).
ROOM = (
    "connection",
    "lobby",
    "not-started",
    "ended",
    "state",
    "conversation",
    "composer",
    "muted",
    "hand",
    "hand-button",
    "here-now",
)


def _account(new_context, name: str, *, signup: bool = True, **options):  # type: ignore[no-untyped-def]
    """A browser signed in as `name`, and the CSRF token its API calls carry."""
    context = new_context(**options)
    path = "/api/v1/signup" if signup else "/api/v1/login"
    response = context.request.post(path, data={"pseudonym": name, "passphrase": PASSPHRASE})
    assert response.ok, response.text()
    return context.new_page(), response.headers["x-csrf-token"]


def _only(page, *shown: str) -> None:  # type: ignore[no-untyped-def]
    """The room shows these parts and none of the others (an empty list of messages has no
    box of its own: "No messages yet." shows the conversation then)."""
    for part in ROOM:
        seen = page.locator(f'[data-part="{part}"]:visible')
        if part in shown:
            expect(seen.first, part).to_be_visible()
        else:
            expect(seen, part).to_have_count(0)


def _accessible_in_both_themes(page, label: str) -> None:  # type: ignore[no-untyped-def]
    for scheme in ("dark", "light"):
        page.emulate_media(color_scheme=scheme)
        assert_accessible(page, f"{label} ({scheme})")


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_the_room_shows_only_what_each_state_allows(server: Server, new_context, screen) -> None:
    tag = secrets.token_hex(2)
    lead_name, name = f"Host{tag}", f"Ash{tag}"
    make_admin(server, lead_name)
    lead, lead_token = _account(new_context, lead_name, signup=False)

    def act(action: str, **body: object) -> None:
        path = f"/api/v1/sessions/{session_id}/{action}"
        answer = lead.request.post(path, data=body, headers={"x-csrf-token": lead_token})
        assert answer.ok, (action, answer.text())

    start = datetime.now(UTC) + timedelta(minutes=5)  # the lobby is open
    made = lead.request.post(
        "/api/v1/sessions",
        data={
            "community": "grief",
            "title": f"Quiet hour {tag}",
            "ground_rules": "1. What's said here stays here.",
            "date": start.strftime("%Y-%m-%d"),
            "time": start.strftime("%H:%M"),
            "timezone": "UTC",
            "duration_minutes": 45,
            "capacity": 6,
        },
        headers={"x-csrf-token": lead_token},
    )
    assert made.status == 201, made.text()
    session_id = made.json()["sessions"][0]["id"]
    url = f"/sessions/{session_id}"
    member, _ = _account(new_context, name, viewport=SCREENS[screen])
    # The same member in a browser without JavaScript: what the server renders must be right.
    plain, _ = _account(
        new_context, name, signup=False, viewport=SCREENS[screen], java_script_enabled=False
    )

    member.goto(url)
    expect(member.locator("#chat")).to_have_count(0)  # before joining: no room at all
    member.get_by_label("I've read the ground rules and I agree to them").check()
    member.get_by_role("button", name="Go to the lobby").click()

    # The lobby: waiting, nothing to write or raise yet.
    expect(member.locator("#chat-state")).to_have_text("In the lobby — waiting to be let in")
    _only(member, "connection", "lobby")
    heading = member.locator("#room-title")
    expect(heading).to_have_text("The conversation")
    top, status = heading.bounding_box(), member.locator("#chat-state").bounding_box()
    assert status["y"] >= top["y"] + top["height"] - 1, "the status runs into the heading"
    plain.goto(url)
    _only(plain, "connection", "lobby")
    screenshot(member, f"group-session-room-lobby-{screen}")
    _accessible_in_both_themes(member, "session lobby")

    expect(member.locator("#chat-rules")).to_have_attribute("open", "")  # agreed to, in view

    # Let in before the start: in, but nothing to write until it starts.
    act("admit", member=name)
    _only(member, "connection", "not-started", "conversation", "here-now")
    # The ground rules fold (a tap opens them); the connection's line is by the box, never
    # beside the session's "Scheduled" badge.
    expect(member.locator("#chat-rules")).not_to_have_attribute("open", "")
    expect(member.locator(".chat-head #chat-state")).to_have_count(0)
    plain.reload()
    _only(plain, "connection", "not-started", "conversation")

    # Live: the message box; with turn-taking, a hand to raise; with the floor, no hand.
    act("start")
    expect(member.locator("#chat-state")).to_have_text("Live")
    _only(member, "connection", "conversation", "composer", "here-now")
    act("turn-taking", on=True)
    act("pin", text="Round one: one good thing from this week")
    turns = ("connection", "state", "conversation", "composer", "hand", "hand-button", "here-now")
    _only(member, *turns)
    member.get_by_role("button", name="Raise my hand").click()
    expect(member.locator("#hand-place")).to_have_text("Your place in the queue: 1.")
    act("floor", member=name)
    expect(member.locator("#hand-place")).to_have_text("You have the floor. Go ahead.")
    with_floor = tuple(p for p in turns if p != "hand-button")
    _only(member, *with_floor)
    _send(member, "Walking by the sea helped me this week.")
    expect(member.locator("#chat-messages")).to_contain_text("Walking by the sea")
    plain.reload()
    _only(plain, *(p for p in with_floor if p != "here-now"))
    expect(plain.locator("#hand-place")).to_have_text("You have the floor. Go ahead.")
    screenshot(member, f"group-session-room-live-{screen}")
    _accessible_in_both_themes(member, "session room with the floor")
    member.emulate_media(color_scheme="dark")
    screenshot(member, f"group-session-room-live-{screen}-dark")
    member.emulate_media(color_scheme="light")

    # Muted: reading only.
    act("mute", member=name, muted=True)
    _only(member, "connection", "state", "conversation", "muted", "here-now")
    expect(member.locator("#chat-error")).to_be_hidden()  # the room says it, once
    act("mute", member=name, muted=False)
    _only(member, *with_floor)

    # The end: thanks, and nothing left to press.
    act("end")
    expect(member.locator("#session-ended-note")).to_contain_text("The session has ended")
    _only(member, "ended", "conversation")
    expect(member.locator("#session-calendar")).to_be_hidden()
    expect(member.locator("#chat-error")).to_be_hidden()
    screenshot(member, f"group-session-room-ended-{screen}")
    _accessible_in_both_themes(member, "session room after the end")
    plain.reload()
    expect(plain.get_by_text("This session has ended.")).to_be_visible()
    expect(plain.locator("#chat")).to_have_count(0)


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_times_read_the_same_with_and_without_javascript(server: Server, new_context, screen):
    from chat.groups import clock

    page = new_context(viewport=SCREENS[screen], timezone_id="America/New_York").new_page()
    page.goto("/sessions")
    first = page.locator(".sessions-list time").first
    moment = datetime.fromisoformat(first.get_attribute("datetime").replace("Z", "+00:00"))
    in_new_york = clock.on_clock(moment, "America/New_York")
    expect(first).to_have_text(in_new_york)  # the browser's zone, in the server's words

    # The picker: one short line, on the browser's zone; every zone once it's used.
    picker = page.get_by_label("Show times in")
    expect(picker).to_have_value("America/New_York")
    button = page.get_by_role("button", name="Set", exact=True)
    box, press = picker.bounding_box(), button.bounding_box()
    assert abs(box["y"] - press["y"]) < 4 and press["x"] > box["x"] + box["width"] - 1
    # A card starts with its title: no blank band above it.
    card = page.locator(".sessions-list .card").first
    title = card.locator(".card-title")
    assert title.bounding_box()["y"] - card.bounding_box()["y"] < 24
    screenshot(page, f"group-sessions-list-{screen}")
    options = page.locator("#zone-choice-list option")
    expect(options).to_have_count(len(clock.COMMON_ZONES))
    picker.focus()
    expect(options).to_have_count(len(clock.listed_zones()))
    _accessible_in_both_themes(page, "sessions list")

    picker.fill("Tokyo")
    button.click()
    expect(page.locator(".sessions-list time").first).to_have_text(
        clock.on_clock(moment, "Asia/Tokyo")
    )
    expect(page.locator("time[data-local]")).to_have_count(0)  # the server's own, kept

    # Without JavaScript: UTC until a zone is chosen, then word for word what the script wrote.
    plain = new_context(viewport=SCREENS[screen], java_script_enabled=False).new_page()
    plain.goto("/sessions")
    expect(plain.locator(".sessions-list time").first).to_have_text(clock.on_clock(moment, None))
    plain.get_by_label("Show times in").fill("new york")
    plain.get_by_role("button", name="Set", exact=True).click()
    expect(plain.locator(".sessions-list time").first).to_have_text(in_new_york)
    expect(plain.get_by_label("Show times in")).to_have_value("America/New_York")
