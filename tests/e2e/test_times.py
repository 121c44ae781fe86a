"""Times read the same everywhere, with and without JavaScript: a forum thread, on a phone and a
desktop, for a member whose clock is chosen (on the sessions page, as for group sessions) and
for visitors who have chosen none (UTC without JavaScript, the browser's clock with it).
tests/e2e/test_group_sessions.py checks the same for the sessions list."""

from __future__ import annotations

import secrets
from datetime import datetime

import pytest
from playwright.sync_api import expect

from core.clock import on_clock
from tests.e2e.conftest import Server
from tests.helpers import PASSPHRASE

SCREENS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
CHOSEN = "America/New_York"
DEVICE = "Asia/Kolkata"  # the browser's own zone: never the member's, never whole hours from UTC


def _member(new_context, name: str, *, signup: bool, **options):  # type: ignore[no-untyped-def]
    context = new_context(**options)
    path = "/api/v1/signup" if signup else "/api/v1/login"
    answer = context.request.post(path, data={"pseudonym": name, "passphrase": PASSPHRASE})
    assert answer.status == (201 if signup else 200), answer.text()
    page = context.new_page()
    page.goto("/sessions")  # where a member chooses their clock, with or without JavaScript
    page.get_by_label("Show times in").fill("new york")
    page.get_by_role("button", name="Set", exact=True).click()
    expect(page.get_by_label("Show times in")).to_have_value(CHOSEN)
    return page


def _first_thread(page) -> str:  # type: ignore[no-untyped-def]
    page.goto("/c/grief")
    page.locator("ul.threads h2 a").first.click()
    return page.url.split("#")[0]


def _post_time(page):  # type: ignore[no-untyped-def]
    time = page.locator("li.post .post-meta time").first
    moment = datetime.fromisoformat(time.get_attribute("datetime").replace("Z", "+00:00"))
    return time, moment


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_a_thread_reads_the_same_with_and_without_javascript(
    server: Server, new_context, screen: str
) -> None:
    name = f"Clock{secrets.token_hex(3)}"
    viewport = SCREENS[screen]

    # The member's chosen clock wins over the browser's, and the script leaves it as written.
    scripted = _member(new_context, name, signup=True, viewport=viewport, timezone_id=DEVICE)
    url = _first_thread(scripted)
    time, moment = _post_time(scripted)
    words = on_clock(moment, CHOSEN)
    expect(time).to_have_text(words)
    expect(scripted.locator("time[data-local]")).to_have_count(0)
    # Live chat messages are written by the same function (chat.js), in the same words.
    iso = time.get_attribute("datetime")
    live = scripted.evaluate("iso => window.kindredClock.words(iso)", iso)
    assert live == words

    # The same member on a browser without JavaScript: word for word the same.
    plain = _member(new_context, name, signup=False, viewport=viewport, java_script_enabled=False)
    plain.goto(url)
    expect(_post_time(plain)[0]).to_have_text(words)

    # Visitors: UTC, labelled, without JavaScript; the browser's clock, in the same words, with.
    visitor = new_context(viewport=viewport, java_script_enabled=False).new_page()
    visitor.goto(url)
    expect(_post_time(visitor)[0]).to_have_text(on_clock(moment, None))
    browsing = new_context(viewport=viewport, timezone_id=DEVICE).new_page()
    browsing.goto(url)
    expect(_post_time(browsing)[0]).to_have_text(on_clock(moment, DEVICE))
