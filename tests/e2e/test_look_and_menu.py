"""The header on a phone and a desktop: the name and one Menu on one line at 390×844, a menu
that opens with and without JavaScript (a <details>), by touch and by keyboard, whose links
all work; on a desktop the links sit in a row and there is no Menu button. A visitor who
chooses "Talk to someone" finds the helplines and how to join, not a sign-in form."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import assert_accessible, screenshot
from tests.helpers import PASSPHRASE

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
TAP = 44  # px: the smallest touch target we allow

MEMBER_LINKS = ["Chat", "Group sessions", "Talk to someone", "Search", "Notifications"]
VISITOR_LINKS = ["Chat", "Group sessions", "Talk to someone", "Search", "Sign in", "Join"]


def _member(new_context, name: str, **options: object) -> Page:
    context = new_context(**options)
    joined = context.request.post(
        "/api/v1/signup", data={"pseudonym": name, "passphrase": PASSPHRASE}
    )
    assert joined.status == 201, joined.text()
    return context.new_page()


def _box(page: Page, selector: str) -> dict[str, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not on the page"
    return box


def _header_is_one_line(page: Page) -> None:
    brand, menu = _box(page, ".site-header .brand"), _box(page, ".menu summary")
    header = _box(page, ".site-header")
    middle = lambda b: b["y"] + b["height"] / 2  # noqa: E731
    assert abs(middle(brand) - middle(menu)) < 4, (brand, menu)
    assert brand["x"] + brand["width"] < menu["x"]  # side by side, not stacked
    assert header["height"] <= 64, header
    assert menu["height"] >= TAP and menu["width"] >= TAP, menu
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _menu(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("navigation", name="Main")


def _announced(page: Page) -> tuple[str, bool]:
    """What Chromium tells a screen reader about the Menu: its role and whether it is open."""
    tree = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")
    for node in tree["nodes"]:
        if node.get("name", {}).get("value") == "Menu" and node["role"]["value"] != "StaticText":
            states = {p["name"]: p["value"].get("value") for p in node.get("properties", [])}
            return node["role"]["value"], bool(states.get("expanded"))
    raise AssertionError("no Menu control in the accessibility tree")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_phone_header_is_one_line_and_its_menu_opens(new_context, javascript: bool) -> None:
    name = f"Menu-{'js' if javascript else 'nojs'}-{secrets.token_hex(2)}"
    page = _member(new_context, name, viewport=PHONE, java_script_enabled=javascript)
    page.goto("/")
    _header_is_one_line(page)
    nav = _menu(page)
    for link in MEMBER_LINKS:
        expect(nav.get_by_role("link", name=link, exact=True)).to_be_hidden()

    # By keyboard: the Menu is a focusable control, announced as collapsed, that Enter opens.
    assert _announced(page) == ("DisclosureTriangle", False)  # "Menu, collapsed, button"
    page.locator(".menu summary").focus()
    page.keyboard.press("Enter")
    assert _announced(page) == ("DisclosureTriangle", True)
    for link in [*MEMBER_LINKS, name]:
        shown = nav.get_by_role("link", name=link, exact=True)
        expect(shown).to_be_visible()
        box = shown.bounding_box()
        assert box is not None and box["height"] >= TAP, (link, box)
    expect(nav.get_by_role("button", name="Sign out")).to_be_visible()
    page.keyboard.press("Tab")
    expect(nav.get_by_role("link", name="Chat", exact=True)).to_be_focused()
    if javascript:  # Escape closes it and gives focus back to the Menu
        page.keyboard.press("Escape")
        expect(nav.get_by_role("link", name="Chat", exact=True)).to_be_hidden()
        expect(page.locator(".menu summary")).to_be_focused()
        page.locator(".menu summary").click()
    _header_is_one_line(page)  # opening it leaves the bar as it was
    if javascript:
        screenshot(page, "menu-phone-open")

    # Its links work: each lands on its page.
    for link, path in [("Talk to someone", "/support"), ("Search", "/search")]:
        page.goto("/")
        page.locator(".menu summary").click()
        nav.get_by_role("link", name=link, exact=True).click()
        expect(page).to_have_url(re.compile(f"{path}$"))
    page.goto("/")
    page.locator(".menu summary").click()
    nav.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You're signed out.")).to_be_visible()


def test_a_visitors_menu_has_every_way_in_and_talk_to_someone_is_kind(new_context) -> None:
    page = new_context(viewport=PHONE).new_page()
    page.goto("/")
    _header_is_one_line(page)
    page.locator(".menu summary").click()
    nav = _menu(page)
    for link in VISITOR_LINKS:
        expect(nav.get_by_role("link", name=link, exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Notifications")).to_have_count(0)
    nav.get_by_role("link", name="Talk to someone").click()
    # Not a bare sign-in form: the helplines now, and how to join to talk to a peer here.
    expect(page).to_have_title("Talk to someone · Kindred")
    expect(page.locator(".helplines li").first).to_be_visible()
    expect(page.get_by_role("heading", name="Talk to a peer supporter here")).to_be_visible()
    assert_accessible(page, "support, signed out")
    page.get_by_role("link", name="Join Kindred").click()
    expect(page.get_by_role("heading", name="Join Kindred")).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_on_a_desktop_the_links_sit_in_a_row(new_context, javascript: bool) -> None:
    name = f"Wide-{'js' if javascript else 'nojs'}-{secrets.token_hex(2)}"
    page = _member(new_context, name, viewport=DESKTOP, java_script_enabled=javascript)
    page.goto("/")
    expect(page.locator(".menu summary")).to_be_hidden()
    nav = _menu(page)
    tops = set()
    for link in [*MEMBER_LINKS, name]:
        shown = nav.get_by_role("link", name=link, exact=True)
        expect(shown).to_be_visible()
        box = shown.bounding_box()
        assert box is not None
        tops.add(round(box["y"]))
    assert len(tops) == 1, tops  # one row
    assert _box(page, ".site-header")["height"] <= 64
    nav.get_by_role("link", name="Group sessions").click()
    expect(page).to_have_url(re.compile("/sessions$"))


def test_home_screenshots_in_both_themes(new_context) -> None:
    """The pictures in docs/screenshots: desktop in light, the phone in dark."""
    page = _member(new_context, f"Looker-{secrets.token_hex(2)}", viewport=DESKTOP)
    page.goto("/")
    expect(page.locator(".card .life").first).to_contain_text("active")
    screenshot(page, "home-desktop-light")
    phone = new_context(viewport=PHONE, color_scheme="dark").new_page()
    phone.goto("/")
    screenshot(phone, "home-phone-dark")
    phone.locator(".menu summary").click()
    screenshot(phone, "menu-phone-open-dark")
