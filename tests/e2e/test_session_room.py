"""A group session's room and a 1:1 conversation read like the community rooms (a messaging
app: the messages scroll on their own, the box stays on screen), and a member's words are
never lost on the way: a refused pin, summary or message comes back into its own box; what
waits to be sent when the room ends stays on screen as "not sent", to copy; chat works with
storage blocked; two tabs of a room keep each other's waiting messages; and a page whose
socket never opened sends through the plain form (static/js/chat.js, chat-app.js,
sessions.js, support.js)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Server, assert_accessible, make_admin, screenshot
from tests.e2e.test_chat import _make_room
from tests.helpers import PASSPHRASE

SCREENS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# A browser where storage is blocked (a privacy setting): even reading localStorage throws.
BLOCK_STORAGE = """Object.defineProperty(window, "localStorage", {
  get() { throw new DOMException("The operation is insecure.", "SecurityError"); }
});"""
# A network where WebSockets never get through (a proxy that drops them).
NO_SOCKETS = """window.WebSocket = function () {
  var ws = this;
  setTimeout(function () { if (ws.onclose) ws.onclose({ code: 1006 }); }, 50);
};
window.WebSocket.prototype.send = function () {};
window.WebSocket.prototype.close = function () {};"""


def _account(new_context, name: str, *, signup: bool = True, **options):  # type: ignore[no-untyped-def]
    """A browser profile signed in as `name`, and the CSRF token its API calls carry."""
    context = new_context(**options)
    path = "/api/v1/signup" if signup else "/api/v1/login"
    response = context.request.post(path, data={"pseudonym": name, "passphrase": PASSPHRASE})
    assert response.ok, response.text()
    return context, response.headers["x-csrf-token"]


def _post(context, token: str, path: str, **body: object):  # type: ignore[no-untyped-def]
    answer = context.request.post(path, data=body, headers={"x-csrf-token": token})
    assert answer.ok, (path, answer.text())
    return answer.json()


class LiveSession:
    """A live session run by an admin (who may facilitate anywhere), one member let in."""

    def __init__(self, server: Server, new_context, **member_options: object) -> None:  # type: ignore[no-untyped-def]
        tag = secrets.token_hex(2)
        self.lead_name, self.name = f"Host{tag}", f"Ash{tag}"
        make_admin(server, self.lead_name)
        self.lead, self.lead_token = _account(new_context, self.lead_name, signup=False)
        start = datetime.now(UTC) + timedelta(minutes=5)  # the lobby is open
        made = _post(
            self.lead,
            self.lead_token,
            "/api/v1/sessions",
            community="grief",
            title=f"Evening circle {tag}",
            ground_rules="1. What's said here stays here.\n2. Use no names.",
            date=start.strftime("%Y-%m-%d"),
            time=start.strftime("%H:%M"),
            timezone="UTC",
            duration_minutes=45,
            capacity=6,
        )
        self.id = made["sessions"][0]["id"]
        self.url = f"/sessions/{self.id}"
        self.member, token = _account(new_context, self.name, **member_options)
        _post(self.member, token, f"/api/v1/sessions/{self.id}/join", agree=True)
        self.act("admit", member=self.name)
        self.act("start")

    def act(self, action: str, **body: object) -> None:
        _post(self.lead, self.lead_token, f"/api/v1/sessions/{self.id}/{action}", **body)


def _send(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Your message").fill(text)
    page.get_by_role("button", name="Send").click()


def _delivered(page, text: str):  # type: ignore[no-untyped-def]
    """The messages in the room with this text (sent: they have the server's id)."""
    return page.locator("#chat-messages li[data-id] .chat-body", has_text=text)


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_the_session_room_is_a_messaging_app(server: Server, new_context, screen) -> None:
    session = LiveSession(server, new_context, viewport=SCREENS[screen])
    session.act("pin", text="Round one: one good thing from this week")
    page = session.member.new_page()
    page.goto(session.url)
    expect(page.locator("#chat-state")).to_have_text("Live")
    # Let in, the ground rules are folded (agreed to before the lobby; a tap opens them).
    expect(page.locator("#chat-rules")).not_to_have_attribute("open", "")
    lines = [f"Note {n}: tea with my sister helped today, and the garden too." for n in range(9)]
    for line in lines:
        _send(page, line)
        expect(_delivered(page, line)).to_have_count(1)

    # The box is on screen, the newest message just above it; the list scrolls, not the page.
    height = SCREENS[screen]["height"]
    box = page.locator("#chat-body").bounding_box()
    assert box["y"] > 0 and box["y"] + box["height"] <= height, box
    scroller = page.locator("#chat-scroll")
    assert scroller.evaluate("e => e.scrollHeight > e.clientHeight + 20"), "the list doesn't scroll"
    page.wait_for_function(  # the newest in view at the end of the list, once it has settled
        """() => {
            const area = document.getElementById("chat-scroll").getBoundingClientRect();
            const last = [...document.querySelectorAll("#chat-messages li[data-id]")].pop()
                .getBoundingClientRect();
            return area.top <= last.top && last.bottom <= area.bottom + 2;
        }""",
        timeout=3000,
    )
    # The room fits the screen (on a phone the site's footer comes after it, a scroll away).
    assert page.evaluate(
        "document.querySelector('main').getBoundingClientRect().bottom <= innerHeight + 1"
    )
    assert page.evaluate("document.querySelector('main').scrollTop") == 0
    scroller.evaluate("e => { e.scrollTop = 0; }")
    expect(page.locator("#chat-messages li[data-id]").first).to_be_in_viewport()
    expect(page.locator("#chat-body")).to_be_in_viewport()
    scroller.evaluate("e => { e.scrollTop = e.scrollHeight; }")
    assert not page.evaluate("document.documentElement.scrollWidth > innerWidth")

    # The ground rules stay folded, after a reload too.
    expect(page.locator("#chat-rules")).not_to_have_attribute("open", "")
    page.reload()
    expect(page.locator("#chat-state")).to_have_text("Live")
    expect(page.locator("#chat-rules")).not_to_have_attribute("open", "")
    expect(page.locator("#session-pinned")).to_contain_text("one good thing")
    expect(page.locator("#chat-side")).to_be_visible()
    screenshot(page, f"group-session-room-{screen}")
    page.emulate_media(color_scheme="dark")
    screenshot(page, f"group-session-room-{screen}-dark")
    for scheme in ("dark", "light"):
        page.emulate_media(color_scheme=scheme)
        assert_accessible(page, f"session room, {screen} ({scheme})")

    # The facilitator's panel: beside the messages on a wide screen, above them on a phone,
    # and the box still on screen.
    lead = session.lead.new_page()
    lead.set_viewport_size(SCREENS[screen])
    lead.goto(session.url)
    expect(lead.locator("#chat-state")).to_have_text("Live")
    expect(lead.get_by_role("heading", name="Facilitator controls")).to_be_visible()
    box = lead.locator("#chat-body").bounding_box()
    assert box["y"] + box["height"] <= height, box
    if screen == "phone":  # folded to one line: the box stays on screen; a tap opens it
        expect(lead.get_by_role("button", name="End the session")).to_be_hidden()
        lead.get_by_role("heading", name="Facilitator controls").click()
    expect(lead.get_by_role("button", name="End the session")).to_be_visible()
    box = lead.locator("#chat-body").bounding_box()
    assert box["y"] + box["height"] <= height, box
    screenshot(lead, f"group-session-room-facilitator-{screen}")
    assert_accessible(lead, f"session room, facilitator, {screen}")


def test_a_refused_pin_summary_or_message_comes_back_into_its_own_box(
    server: Server, new_context
) -> None:
    """Without JavaScript: each refusal is said beside the form it came from, with the text."""
    session = LiveSession(server, new_context, java_script_enabled=False)
    plain, _ = _account(new_context, session.lead_name, signup=False, java_script_enabled=False)
    lead = plain.new_page()
    lead.goto(session.url)
    pin = lead.get_by_label("Pinned message (the topic of this round, say)")
    pin.fill("Call me on 07700 900123")
    lead.get_by_role("button", name="Pin", exact=True).click()
    expect(lead.locator("#controls-error")).to_contain_text("contact details")
    expect(pin).to_have_value("Call me on 07700 900123")
    expect(lead.get_by_label("Your message")).to_have_value("")  # never in another box
    expect(lead.locator("#chat-error")).to_be_hidden()

    summary = lead.get_by_label("Summary note (kept after the session)")
    summary.fill(f"{session.name} talked about the first winter.")
    lead.get_by_role("button", name="Save the summary").click()
    expect(lead.locator("#controls-error")).to_contain_text("must name nobody")
    expect(summary).to_have_value(f"{session.name} talked about the first winter.")
    expect(pin).to_have_value("")
    expect(lead.get_by_label("Your message")).to_have_value("")

    # A member's message refused (not their turn): back in the message box, with why.
    session.act("turn-taking", on=True)
    member = session.member.new_page()
    member.goto(session.url)
    _send(member, "Can I say something?")
    expect(member.locator("#chat-error")).to_contain_text("not your turn")
    expect(member.get_by_label("Your message")).to_have_value("Can I say something?")


def test_messages_waiting_when_the_session_ends_stay_as_not_sent(
    server: Server, new_context
) -> None:
    session = LiveSession(server, new_context)
    page = session.member.new_page()
    page.goto(session.url)
    expect(page.locator("#chat-state")).to_have_text("Live")
    session.member.set_offline(True)
    expect(page.locator("#chat-state")).to_contain_text("Offline")
    waiting = "Thank you all for tonight. It helped more than I can say."
    _send(page, waiting)
    expect(page.locator("li.pending .chat-body")).to_have_text(waiting)
    page.get_by_label("Your message").fill("And one more thing")  # written, not sent yet
    session.act("end")  # while this member is away
    session.member.set_offline(False)

    unsent = page.locator("#chat-messages li.unsent")
    expect(unsent).to_have_count(2, timeout=15_000)
    expect(unsent.first.locator(".chat-body")).to_have_text(waiting)
    expect(unsent.first).to_contain_text("Not sent")
    expect(unsent.last.locator(".chat-body")).to_have_text("And one more thing")
    expect(page.locator("#session-ended-note")).to_contain_text("The session has ended")
    expect(page.locator("#chat-form")).to_be_hidden()
    expect(page.locator("li.pending")).to_have_count(0)
    unsent.first.get_by_role("button", name="Copy the text").click()
    assert page.evaluate("getSelection().toString()") == waiting  # selected, to copy
    screenshot(page, "group-session-not-sent")
    assert_accessible(page, "session ended with a message not sent")


def test_a_message_waiting_when_a_conversation_ends_stays_as_not_sent(
    server: Server, new_context
) -> None:
    tag = secrets.token_hex(2)
    supporter_name = f"Oak{tag}"
    make_admin(server, supporter_name)
    supporter, supporter_token = _account(new_context, supporter_name, signup=False)
    _post(supporter, supporter_token, "/api/v1/support/availability", available=True)
    asker, asker_token = _account(new_context, f"Wren{tag}", viewport=SCREENS["phone"])
    asked = _post(
        asker, asker_token, "/api/v1/support/requests", community="grief", note="A hard night."
    )
    accepted = _post(supporter, supporter_token, f"/api/v1/support/requests/{asked['id']}/accept")
    page = asker.new_page()
    page.goto(f"/support/conversations/{accepted['room']}")
    expect(page.locator("#chat-state")).to_have_text("Live")

    asker.set_offline(True)
    expect(page.locator("#chat-state")).to_contain_text("Offline")
    waiting = "Thank you for staying with me tonight."
    _send(page, waiting)
    expect(page.locator("li.pending .chat-body")).to_have_text(waiting)
    _post(supporter, supporter_token, f"/api/v1/support/requests/{asked['id']}/end")
    asker.set_offline(False)
    unsent = page.locator("#chat-messages li.unsent")
    expect(unsent).to_have_count(1, timeout=15_000)
    expect(unsent.locator(".chat-body")).to_have_text(waiting)
    expect(page.locator("#support-ended")).to_be_visible()
    expect(page.locator("#chat-form")).to_be_hidden()
    screenshot(page, "support-not-sent-phone")
    assert_accessible(page, "conversation ended with a message not sent")


def _room_member(server: Server, new_context, name: str, **options: object):  # type: ignore[no-untyped-def]
    context, _ = _account(new_context, name, **options)
    return context


def test_chat_works_with_storage_blocked(server: Server, new_context) -> None:
    tag = secrets.token_hex(2)
    room = f"blocked-{tag}"
    _make_room(server, room)
    context = _room_member(server, new_context, f"Heron{tag}")
    context.add_init_script(BLOCK_STORAGE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"/chat/{room}")
    assert page.evaluate(
        "(() => { try { localStorage; return false; } catch (e) { return true; } })()"
    )
    expect(page.locator("#chat-state")).to_have_text("Live")
    _send(page, "Hello from a careful browser.")
    expect(_delivered(page, "Hello from a careful browser.")).to_have_count(1)
    context.set_offline(True)
    expect(page.locator("#chat-state")).to_contain_text("Offline")
    _send(page, "Written while away.")
    expect(page.locator("li.pending .chat-body")).to_have_text("Written while away.")
    context.set_offline(False)
    expect(_delivered(page, "Written while away.")).to_have_count(1, timeout=15_000)
    assert errors == []


def test_two_tabs_of_a_room_keep_each_others_waiting_messages(server: Server, new_context) -> None:
    tag = secrets.token_hex(2)
    room = f"tabs-{tag}"
    _make_room(server, room)
    context = _room_member(server, new_context, f"Heron{tag}")
    first, second = context.new_page(), context.new_page()
    observer = _room_member(server, new_context, f"Wren{tag}").new_page()
    for page in (first, second, observer):
        page.goto(f"/chat/{room}")
        expect(page.locator("#chat-state")).to_have_text("Live")

    context.set_offline(True)
    for page, text in ((first, "From the first tab."), (second, "From the second tab.")):
        expect(page.locator("#chat-state")).to_contain_text("Offline")
        _send(page, text)
        expect(page.locator("li.pending .chat-body")).to_have_text(text)
    kept = first.evaluate(
        """Object.keys(localStorage).filter(k => k.startsWith("kindred.chat.outbox."))
             .map(k => JSON.parse(localStorage.getItem(k)).items.map(i => i.body)).flat().sort()"""
    )
    assert kept == ["From the first tab.", "From the second tab."]  # neither overwrote the other
    # A tab closed with a message still waiting: the next page of the room takes it over.
    _send(first, "Written just before closing the tab.")
    first.close()
    context.set_offline(False)
    third = context.new_page()
    third.goto(f"/chat/{room}")
    for text in ("From the first tab.", "From the second tab.", "Written just before closing"):
        expect(_delivered(observer, text)).to_have_count(1, timeout=20_000)
    expect(third.locator("li.pending")).to_have_count(0, timeout=20_000)
    expect(second.locator("li.pending")).to_have_count(0)
    observer.reload()  # never twice, in the room itself
    for text in ("From the first tab.", "From the second tab.", "Written just before closing"):
        expect(_delivered(observer, text)).to_have_count(1)


def test_a_page_whose_socket_never_opened_sends_through_the_plain_form(
    server: Server, new_context
) -> None:
    tag = secrets.token_hex(2)
    room = f"nosocket-{tag}"
    _make_room(server, room)
    context = _room_member(server, new_context, f"Heron{tag}")
    context.add_init_script(NO_SOCKETS)
    page = context.new_page()
    page.goto(f"/chat/{room}")
    expect(page.locator("#chat-state")).to_contain_text("reconnecting")
    page.get_by_label("Your message").fill("Is anyone there tonight?")
    page.get_by_label("Your message").press("Enter")
    expect(_delivered(page, "Is anyone there tonight?")).to_have_count(1)
    expect(page.get_by_label("Your message")).to_have_value("")
    _send(page, "Still here.")  # the button too
    expect(_delivered(page, "Still here.")).to_have_count(1)
    expect(_delivered(page, "Is anyone there tonight?")).to_have_count(1)
