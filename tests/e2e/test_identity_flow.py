"""A new member joins, keeps their recovery codes, signs out and back in — in Chromium."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import assert_accessible, screenshot

PASSPHRASE = "lantern moss river quietly"


def test_sign_up_see_codes_log_out_log_in(page, new_context) -> None:
    page.goto("/")
    assert_accessible(page, "home")
    page.get_by_role("link", name="Join Kindred").first.click()
    page.wait_for_url("**/signup")
    assert_accessible(page, "sign-up")
    screenshot(page, "signup")

    # A suggestion fills the field (JS); without JS it is a link that pre-fills the form.
    suggestion = page.locator("a[data-fill]").first
    name = suggestion.inner_text()
    suggestion.click()
    assert page.get_by_label("Pseudonym").input_value() == name

    page.get_by_label("Passphrase", exact=True).fill(PASSPHRASE)
    page.get_by_label("Passphrase again").fill("a different one")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_text("The two passphrases are different")).to_be_visible()
    expect(page.get_by_label("Pseudonym")).to_have_value(name)  # the draft is kept
    assert_accessible(page, "sign-up with errors")

    page.get_by_label("Passphrase", exact=True).fill(PASSPHRASE)
    page.get_by_label("Passphrase again").fill(PASSPHRASE)
    page.get_by_role("button", name="Create my account").click()
    page.get_by_role("heading", name="Save these recovery codes now").wait_for()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z0-9]{4}(-[a-z0-9]{4}){3}", c) for c in codes)
    assert_accessible(page, "recovery codes")
    screenshot(page, "recovery-codes")

    page.get_by_role("link", name="I've saved them — continue").click()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You're signed out").wait_for()
    cookies = {c["name"] for c in page.context.cookies()}
    assert "kindred_session" not in cookies

    page.get_by_role("link", name="Sign in").click()
    assert_accessible(page, "sign-in")
    page.get_by_label("Pseudonym").fill(name.upper())
    page.get_by_label("Passphrase").fill("wrong passphrase here")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("That pseudonym and passphrase")
    page.get_by_label("Passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name=name).wait_for()

    page.get_by_role("link", name=name).click()
    page.get_by_role("heading", name="Where you're signed in").wait_for()
    assert_accessible(page, "account")
    screenshot(page, "account")


def test_pages_work_without_javascript(new_context) -> None:
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/signup")
    link = page.locator("a[data-fill]").first
    name = link.inner_text()
    link.click()  # a plain link: reloads the form with the name filled in
    expect(page.get_by_label("Pseudonym")).to_have_value(name)
    page.get_by_label("Passphrase", exact=True).fill(PASSPHRASE)
    page.get_by_label("Passphrase again").fill(PASSPHRASE)
    page.get_by_role("button", name="Create my account").click()
    page.get_by_role("heading", name="Save these recovery codes now").wait_for()


def test_dark_mode_is_accessible(new_context) -> None:
    page = new_context(color_scheme="dark").new_page()
    page.goto("/login")
    assert_accessible(page, "sign-in (dark)")
    screenshot(page, "login-dark")
