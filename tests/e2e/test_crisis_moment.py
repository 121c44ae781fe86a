"""The crisis moment, in a real browser: a new member writes "I can't go on anymore, I want
to die". The page that opens shows the crisis card first, wholly on screen and focused, on a
desktop and on a phone, with JavaScript and without: helplines for their country (a British
browser gets UK lines), a way to talk to someone here, and the truth about their post
(waiting, first in the queue; or up, for an established member).

The screenshots are of the screen the member sees (not the whole page): that is the point."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    SCREENSHOTS,
    Server,
    assert_accessible,
    make_admin,
    start_server,
    stop_server,
)

PASSPHRASE = "kettle garden morning light"
CRISIS = "I can't go on anymore, I want to die"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # The site's defaults: a member's first two posts in a community wait for a moderator.
    running = start_server(
        tmp_path_factory.mktemp("e2e-crisis"),
        {"KINDRED_NEW_MEMBER_POSTS": "2", "KINDRED_LINK_POSTS": "3"},
    )
    try:
        yield running
    finally:
        stop_server(running.process)


def join(page: Page, name: str) -> None:
    page.goto("/signup")
    page.get_by_label("Pseudonym").fill(name)
    page.get_by_label("Passphrase", exact=True).fill(PASSPHRASE)
    page.get_by_label("Passphrase again").fill(PASSPHRASE)
    page.get_by_role("button", name="Create my account").click()
    page.get_by_role("link", name="I've saved them — continue").click()


def sign_in(page: Page, name: str) -> None:
    page.goto("/login")
    page.get_by_label("Pseudonym").fill(name)
    page.get_by_label("Passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Sign in").click()


def start_thread(page: Page, title: str, body: str) -> None:
    page.goto("/c/recovery/new")
    page.get_by_label("Discussion").check()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Your post").fill(body)
    page.get_by_role("button", name="Post thread").click()


def reply(page: Page, thread_url: str, body: str) -> None:
    page.goto(thread_url)
    page.get_by_label("Your reply").fill(body)
    page.get_by_role("button", name="Post reply").click()


def screen_shot(page: Page, name: str) -> None:
    """What is on the member's screen (the viewport), which is what this test is about."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def assert_help_comes_first(page: Page, size: dict[str, int]) -> None:
    """The card is wholly on screen and has focus, the instant the page opens."""
    card = page.locator("#crisis")
    expect(card).to_be_focused()
    assert page.url.endswith("#crisis")
    box = card.bounding_box()
    assert box is not None
    top, bottom = box["y"], box["y"] + box["height"]
    assert top >= -1 and bottom <= size["height"] + 1, (top, bottom, size)
    # The helplines for a British browser, the way to talk to someone here, no US lines.
    expect(card.get_by_role("link", name="Call 116 123")).to_be_visible()
    expect(card).to_contain_text("Samaritans")
    expect(card).to_contain_text("Helplines for the United Kingdom.")
    expect(card).not_to_contain_text("988")
    expect(card.get_by_role("link", name="Talk to a peer supporter here")).to_have_attribute(
        "href", "/support"
    )
    expect(card).not_to_contain_text("Your post is here")


@pytest.fixture(scope="module")
def thread_url(server: Server, browser) -> str:  # type: ignore[no-untyped-def]
    """A published thread with a few replies, started by the site's admin."""
    make_admin(server, "Crisis-Admin", PASSPHRASE)
    context = browser.new_context(base_url=server.url)
    try:
        admin = context.new_page()
        sign_in(admin, "Crisis-Admin")
        start_thread(admin, "How is everyone this week?", "Tell us how you are doing.")
        url = admin.url.split("#")[0]
        for n in range(1, 4):
            reply(admin, url, f"Checking in again, day {n}.\n\nAnything at all, big or small.")
        return url
    finally:
        context.close()


@pytest.mark.parametrize(
    ("size", "scheme"), [(DESKTOP, "light"), (PHONE, "dark")], ids=["desktop", "phone"]
)
def test_a_new_members_crisis_thread_opens_on_help(
    new_context, thread_url: str, size, scheme
) -> None:
    # thread_url's admin is someone who reads crisis posts: the card may say "within a few
    # hours" (with nobody to read them it says so: tests/crisis/test_crisis_moment.py).
    device = "desktop" if size is DESKTOP else "phone"
    page = new_context(viewport=size, color_scheme=scheme, locale="en-GB").new_page()
    join(page, f"e2e-tonight-{device}")
    start_thread(page, "Tonight", CRISIS)
    assert_help_comes_first(page, size)
    card = page.locator("#crisis")
    expect(card).to_contain_text("Your post is waiting to be read.")
    expect(card).to_contain_text("front of the queue")
    expect(card).to_contain_text("You don't have to wait to get help")
    assert_accessible(page, f"crisis card, {device}, {scheme}")
    screen_shot(page, f"crisis-thread-{device}-{scheme}")


@pytest.mark.parametrize(
    ("size", "scheme"), [(DESKTOP, "dark"), (PHONE, "light")], ids=["desktop", "phone"]
)
def test_a_new_members_crisis_reply_opens_on_help(
    new_context, thread_url: str, size, scheme
) -> None:
    device = "desktop" if size is DESKTOP else "phone"
    page = new_context(viewport=size, color_scheme=scheme, locale="en-GB").new_page()
    join(page, f"e2e-replier-{device}")
    reply(page, thread_url, CRISIS)
    assert_help_comes_first(page, size)
    expect(page.locator("#crisis")).to_contain_text("Your post is waiting to be read.")
    assert_accessible(page, f"crisis card after a reply, {device}, {scheme}")
    screen_shot(page, f"crisis-reply-{device}-{scheme}")


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_without_javascript_the_card_is_on_screen_and_focused(
    new_context, thread_url: str, size
) -> None:
    """The redirect's #crisis does it all: the browser scrolls to the card and focuses it."""
    device = "desktop" if size is DESKTOP else "phone"
    page = new_context(viewport=size, locale="en-GB", java_script_enabled=False).new_page()
    join(page, f"e2e-nojs-{device}")
    start_thread(page, "Tonight", CRISIS)
    assert_help_comes_first(page, size)
    reply(page, thread_url, CRISIS)
    assert_help_comes_first(page, size)
    expect(page.locator("#crisis")).to_contain_text("Your post is waiting to be read.")


def test_an_established_members_crisis_post_is_up(server: Server, new_context) -> None:
    """A member whose first two posts a moderator approved posts straight away: the card
    says their post is up, and helplines still come first."""
    member = new_context(viewport=PHONE, locale="en-GB").new_page()
    join(member, "e2e-settled")
    for day in ("Monday", "Tuesday"):
        start_thread(member, f"{day} check-in", f"Checking in on {day}.")
        expect(member.get_by_text("Waiting for a moderator.")).to_be_visible()
    admin = new_context().new_page()
    make_admin(server, "Settled-Admin", PASSPHRASE)
    sign_in(admin, "Settled-Admin")
    for day in ("Monday", "Tuesday"):
        admin.goto("/moderation")
        case = admin.locator("li.case").filter(has_text=f"Checking in on {day}.")
        # Held only for being new: the queue offers Publish or Reject, no sanction.
        case.get_by_role("button", name="Publish").click()
        expect(admin.get_by_text("Done:")).to_be_visible()
    start_thread(member, "Tonight", CRISIS)
    assert_help_comes_first(member, PHONE)
    card = member.locator("#crisis")
    expect(card).to_contain_text("Your post is up")
    expect(card).not_to_contain_text("waiting")
    assert_accessible(member, "crisis card, post up")
    screen_shot(member, "crisis-published-phone-light")
