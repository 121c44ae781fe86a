"""A community's resource directory in a real browser: a member suggests a resource (it
waits, and they are told so), a moderator checks and adds it, and the member finds it in
the directory filtered to their own country, its link plain, with rel="noopener
noreferrer". At a desk and on a phone; every page passes axe."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import assert_accessible, make_admin

PASSPHRASE = "kettle garden morning light"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Set KINDRED_SHOTS to a folder to keep screenshots of each page (never docs/screenshots).
SHOTS = os.environ.get("KINDRED_SHOTS")


def shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


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


@pytest.mark.parametrize("screen", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_suggestion_is_checked_then_found_by_country(server, new_context, screen) -> None:
    device = "phone" if screen is PHONE else "desktop"
    name = f"Ireland Grief Line ({device})"
    member = new_context(viewport=screen).new_page()
    join(member, f"e2e-suggester-{device}")
    # The member's country, as for crisis helplines.
    member.goto("/account")
    member.get_by_label("Your country, for helplines").select_option("IE")
    member.get_by_role("button", name="Save country").click()

    member.goto("/c/grief")
    member.get_by_role("link", name="Resources", exact=True).click()
    expect(member.get_by_role("heading", name="Resources", level=1)).to_be_visible()
    member.get_by_role("link", name="Suggest a resource").click()
    assert_accessible(member, "suggest form")
    member.get_by_label("Name").fill(name)
    member.get_by_label("Helpline").check()
    member.get_by_label("What it offers").fill("Someone to talk to after a death, every evening.")
    member.get_by_label("Web address").fill("javascript:alert(1)")
    member.get_by_label("Emotional support").check()
    member.get_by_label("Where it helps").select_option("IE")
    member.get_by_role("button", name="Send to the moderators").click()
    # A hostile address is refused, beside its field, with every word kept.
    expect(member.get_by_text("must start with https://")).to_be_visible()
    expect(member.get_by_label("Name")).to_have_value(name)
    shot(member, f"resources-suggest-refused-{device}")
    member.get_by_label("Web address").fill("https://grief-line.example.org/ireland")
    member.get_by_role("button", name="Send to the moderators").click()
    expect(member.get_by_text("Your suggestion is waiting for a moderator.")).to_be_visible()
    expect(member.locator("#mine")).to_contain_text(name)
    assert_accessible(member, "directory after suggesting")
    shot(member, f"resources-suggested-{device}")

    admin_name = f"Resource-Keeper-{device}"
    make_admin(server, admin_name, PASSPHRASE)
    moderator = new_context(viewport=screen).new_page()
    sign_in(moderator, admin_name)
    moderator.goto("/c/grief/resources")
    moderator.get_by_role("link", name="Review suggestions and checks").click()
    assert_accessible(moderator, "review page")
    shot(moderator, f"resources-review-{device}")
    waiting = moderator.locator(".directory-entry", has_text=name)
    waiting.get_by_role("link", name="Check this suggestion").click()
    assert_accessible(moderator, "check a suggestion")
    shot(moderator, f"resources-approve-{device}")
    moderator.get_by_role("button", name="Add to the directory").click()
    expect(moderator.get_by_text("The suggestion is in the directory now.")).to_be_visible()

    # The member's directory opens on their country: Ireland's and anywhere's entries,
    # not the demo's UK or US ones.
    member.goto("/c/grief/resources")
    expect(member.get_by_label("Country")).to_have_value("IE")
    entry = member.locator(".directory-entry", has_text=name)
    expect(entry).to_contain_text("Last checked by a moderator")
    expect(member.get_by_role("heading", name="Cruse Bereavement Support")).to_have_count(0)
    expect(member.get_by_role("heading", name="988 Suicide & Crisis Lifeline")).to_have_count(0)
    link = entry.get_by_role("link", name="grief-line.example.org")
    expect(link).to_have_attribute("href", "https://grief-line.example.org/ireland")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(member.locator("#mine")).to_have_count(0)  # theirs no more: the community's
    assert_accessible(member, "directory filtered by country")
    shot(member, f"resources-ireland-{device}")

    # Filters work as a plain GET form: every country, financial help only.
    member.get_by_label("Country").select_option("all")
    member.get_by_label("Kind of help").select_option("financial")
    member.get_by_role("button", name="Show").click()
    expect(member).to_have_url(re.compile(r"/c/grief/resources\?help_type=financial&country=all$"))
    expect(member.get_by_role("heading", name="MoneyHelper")).to_be_visible()
    expect(member.get_by_role("heading", name=name)).to_have_count(0)
