"""Care for the carers in real browsers, on a desktop and on a phone: a peer supporter sets
their limits, the queue honours them and a waiting member is told honestly nobody is free;
after a crisis conversation the supporter is offered a break and asks for a debrief, which
an admin takes and marks done; a facilitator names a co-facilitator, who takes the live
session over and everyone in the room is told."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Server, assert_accessible, make_admin, start_server, stop_server
from tests.helpers import PASSPHRASE

SHOTS = Path("/tmp/shots/care")
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# Many members join from 127.0.0.1 in this module; the per-network sign-up limit would stop that.
MANY_SIGNUPS = {"KINDRED_RATE_LIMITS": "signup_network=1000/hour"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("e2e-care"), MANY_SIGNUPS)
    try:
        yield running
    finally:
        stop_server(running.process)


def _signed_in(new_context, name: str, size: str, **options: object):  # type: ignore[no-untyped-def]
    context = new_context(viewport=SIZES[size], **options)
    response = context.request.post(
        "/api/v1/signup", data={"pseudonym": name, "passphrase": PASSPHRASE}
    )
    assert response.status == 201, response.text()
    return context


def _make_supporter(server: Server, name: str) -> None:
    """The role an admin gives (tested in test_support_requests.py), set directly here."""
    with sqlite3.connect(server.data_dir / "kindred.db") as db:
        db.execute("UPDATE member SET is_peer_supporter = 1 WHERE pseudonym = ?", (name,))


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _ask(page, note: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/support")
    page.get_by_label("Topic").select_option(index=1)
    page.get_by_label("A short note for the supporter").fill(note)
    page.get_by_role("button", name="Ask for a supporter").click()
    expect(page.get_by_role("heading", name="Waiting for a supporter")).to_be_visible()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_limits_a_break_and_a_debrief(server: Server, new_context, size: str) -> None:
    tag = secrets.token_hex(2)
    oak_name, admin_name = f"Oak{tag}", f"Admin{tag}"
    oak = _signed_in(new_context, oak_name, size).new_page()
    _make_supporter(server, oak_name)

    # Oak chooses one conversation at a time, from the queue.
    oak.goto("/support/queue")
    oak.get_by_role("link", name="Your limits").click()
    expect(oak.get_by_role("heading", name="Your limits")).to_be_visible()
    oak.get_by_label("Conversations at once").select_option("1")
    oak.get_by_role("button", name="Save my limits").click()
    expect(oak.get_by_text("Your limits are saved.")).to_be_visible()
    assert_accessible(oak, "your limits")
    _shot(oak, f"limits-{size}")
    oak.goto("/support/queue")
    expect(oak.locator("#your-limits")).to_contain_text("Up to 1 conversation at once")
    oak.get_by_role("button", name="I'm available").click()

    # Wren asks (crisis words); the waiting page says honestly that one supporter is free.
    wren = _signed_in(new_context, f"Wren{tag}", size).new_page()
    _ask(wren, "I want to kill myself, I can't do this any more")
    expect(wren.locator("#support-free")).to_have_text(
        "One peer supporter is free for this topic right now."
    )
    oak.goto("/support/queue")
    oak.locator("#support-requests li").first.get_by_role("button", name="Accept").click()
    expect(oak.get_by_role("heading", name=f"Supporting Wren{tag}")).to_be_visible()
    conversation = oak.url

    # Oak is at the limit: Robin is told nobody is free, Oak's queue says why.
    robin = _signed_in(new_context, f"Robin{tag}", size).new_page()
    _ask(robin, "Could someone talk with me tonight?")
    expect(robin.locator("#support-free")).to_contain_text("No peer supporter is free")
    assert_accessible(robin, "waiting, nobody free")
    oak.goto("/support/queue")
    expect(oak.locator("#support-paused")).to_contain_text("the most you chose to take at once")
    expect(oak.get_by_text("Could someone talk with me tonight?")).to_have_count(0)
    assert_accessible(oak, "queue at the limit")
    _shot(oak, f"queue-paused-{size}")

    # The conversation ends: a heavy one. Oak is offered a break and a debrief.
    oak.goto(conversation)
    oak.get_by_role("button", name="End the conversation").click()
    expect(oak.locator("#break-note")).to_contain_text("That was a heavy conversation")
    expect(oak.get_by_role("heading", name="Talk it through with a moderator")).to_be_visible()
    assert_accessible(oak, "conversation ended (supporter)")
    _shot(oak, f"break-and-debrief-{size}")
    oak.locator("#debrief").scroll_into_view_if_needed()
    _shot(oak, f"debrief-form-{size}")
    oak.get_by_label("Anything you'd like them to know first? (optional)").fill(
        "That one shook me a bit."
    )
    oak.get_by_role("button", name="Ask for a debrief").click()
    expect(oak.locator("#debrief")).to_contain_text("You asked for a debrief")
    oak.locator("#break-note").get_by_role("button", name="Dismiss").click()
    expect(oak.locator("#break-note")).to_have_count(0)

    # An admin (a moderator everywhere) takes it and marks it done.
    make_admin(server, admin_name)
    admin_context = new_context(viewport=SIZES[size])
    assert admin_context.request.post(
        "/api/v1/login", data={"pseudonym": admin_name, "passphrase": PASSPHRASE}
    ).ok
    admin = admin_context.new_page()
    admin.goto("/moderation/dashboard")
    admin.get_by_role("link", name="Debrief requests from peer supporters").click()
    item = admin.locator(".debrief-list li", has_text=oak_name)
    expect(item).to_contain_text("That one shook me a bit.")
    expect(item).not_to_contain_text("kill myself")
    assert_accessible(admin, "debrief requests")
    _shot(admin, f"debriefs-{size}")
    item.get_by_role("button", name="Take it").click()
    item = admin.locator(".debrief-list li", has_text=oak_name)
    expect(item).to_contain_text("Taken by you")
    oak.reload()
    expect(oak.locator("#debrief")).to_contain_text(f"{admin_name}, a moderator, has taken")
    item.get_by_role("button", name="Mark done").click()
    expect(admin.locator(".debrief-list li", has_text=oak_name)).to_contain_text("Done")
    # Oak steps back for the night (the next run counts who is free from scratch).
    oak.goto("/support/queue")
    oak.get_by_role("button", name="Stop taking requests").click()
    expect(oak.locator("#support-available")).to_have_text("not available")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_co_facilitator_takes_over_a_live_session(server: Server, new_context, size: str) -> None:
    tag = secrets.token_hex(2)
    lead_name, birch_name, wren_name = f"Lantern{tag}", f"Birch{tag}", f"Wren{tag}"
    lead_context = _signed_in(new_context, lead_name, size)
    _make_supporter(server, lead_name)
    birch_context = _signed_in(new_context, birch_name, size)
    _make_supporter(server, birch_name)
    wren_context = _signed_in(new_context, wren_name, size)

    token = lead_context.request.get("/api/v1/session").json()["csrf_token"]
    start = datetime.now(UTC) + timedelta(minutes=5)
    made = lead_context.request.post(
        "/api/v1/sessions",
        headers={"X-CSRF-Token": token},
        data={
            "community": _first_community(server),
            "title": f"Evening circle {tag}",
            "description": "A gentle hour together.",
            "ground_rules": "1. What's said here stays here.",
            "duration_minutes": 60,
            "capacity": 8,
            "date": start.strftime("%Y-%m-%d"),
            "time": start.strftime("%H:%M"),
            "timezone": "UTC",
        },
    )
    assert made.status == 201, made.text()
    session_id = made.json()["sessions"][0]["id"]
    url = f"/sessions/{session_id}"

    # Lantern names Birch, from the facilitator's controls.
    lead = lead_context.new_page()
    lead.goto(url)
    _open_controls(lead)
    lead.get_by_label("Their pseudonym").fill(birch_name)
    lead.locator("#panel-cofacilitator").get_by_role("button", name="Name").click()
    expect(lead.locator("#panel-cofacilitator")).to_contain_text(
        f"{birch_name} can take over if you can't go on."
    )
    assert_accessible(lead, "facilitator controls with a co-facilitator")
    _open_controls(lead)
    lead.get_by_role("button", name="Start the session").click()
    expect(lead.locator("#session-status")).to_have_text("Live now")

    # Wren joins and is let in; Birch joins too.
    wren = wren_context.new_page()
    for page, name in ((wren, wren_name), (birch_context.new_page(), birch_name)):
        page.goto(url)
        page.get_by_label("I've read the ground rules and I agree to them").check()
        page.get_by_role("button", name="Go to the lobby").click()
        lead.goto(url)
        _open_controls(lead)
        lead.get_by_role("button", name=f"Let in {name}").click()
    birch = birch_context.pages[-1]
    birch.goto(url)
    expect(birch.locator("#takeover")).to_contain_text("You're this session's co-facilitator")
    assert_accessible(birch, "co-facilitator, before taking over")
    _shot(birch, f"cofacilitator-{size}")
    wren.goto(url)
    expect(wren.get_by_text("Take over facilitating")).to_have_count(0)

    # Birch takes over: the room is told, live, and Birch has the controls.
    birch.get_by_role("button", name="Take over facilitating").click()
    expect(birch.get_by_role("heading", name="Facilitator controls")).to_be_visible()
    expect(wren.locator("#session-handover")).to_have_text(
        f"{birch_name} has taken over facilitating this session.", timeout=20_000
    )
    assert_accessible(wren, "session after a handover")
    _shot(wren, f"handover-{size}")


def _open_controls(page) -> None:  # type: ignore[no-untyped-def]
    """On a phone the facilitator's controls fold away under their heading: open them."""
    if not page.locator("#controls").evaluate("d => d.open"):
        page.locator("#controls > summary").click()


def _first_community(server: Server) -> str:
    with sqlite3.connect(server.data_dir / "kindred.db") as db:
        (slug,) = db.execute("SELECT slug FROM community ORDER BY id LIMIT 1").fetchone()
    return slug


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_new_pages_in_both_themes(server: Server, new_context, scheme: str) -> None:
    """Screenshots of the supporter's limits page in each theme, on a phone and a desktop."""
    for size in SIZES:
        name = f"Ash{secrets.token_hex(2)}"
        page = _signed_in(new_context, name, size, color_scheme=scheme).new_page()
        _make_supporter(server, name)
        page.goto("/support/limits")
        page.get_by_label("Only during my hours, below").check()
        page.get_by_role("checkbox", name="Monday", exact=True).check()
        assert_accessible(page, f"your limits ({scheme})")
        _shot(page, f"limits-{scheme}-{size}")
