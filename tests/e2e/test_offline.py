"""Reading offline, in a real browser: a member reads a thread and the session schedule, the
link drops (Playwright's set_offline), and both are still there, marked as the saved copy; a
page never read gives the offline page, which lists what can be read; a reply written offline
waits in the outbox (and one taken back returns to its form), and goes once when the link
comes back, though two tabs send it. Signing out deletes what was kept. Without JavaScript
nothing is registered and every page works as before."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, assert_accessible, screenshot

PASSPHRASE = "kettle garden morning light"
PHONE = {"width": 390, "height": 844}


def sign_up(page: Page, server: Server, name: str) -> None:
    answer = page.request.post(
        server.url + "/api/v1/signup", data={"pseudonym": name, "passphrase": PASSPHRASE}
    )
    assert answer.status == 201, answer.text()


def controlled(page: Page) -> None:
    """Wait until the service worker controls this page (it claims pages as it starts)."""
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    for _ in range(50):
        if page.evaluate("() => navigator.serviceWorker.controller !== null"):
            return
        page.wait_for_timeout(100)
    raise AssertionError("the service worker never took charge of the page")


def a_thread(page: Page) -> str:
    page.goto("/c/recovery")  # a demo community with demo threads
    link = page.locator("a[href^='/t/']").first
    href = link.get_attribute("href")
    assert href
    return href.split("#")[0]


def test_what_was_read_stays_readable_offline(server: Server, new_context) -> None:
    context = new_context(viewport=PHONE, locale="en-GB")
    page = context.new_page()
    sign_up(page, server, "Offline-Wren")
    page.goto("/")
    controlled(page)
    thread = a_thread(page)
    page.goto(thread)
    title = page.locator("h1").first.inner_text()
    page.goto("/sessions")
    expect(page.locator("h1").first).to_be_visible()

    context.set_offline(True)
    try:
        page.goto(thread)
        expect(page.locator("h1").first).to_have_text(title)
        expect(page.get_by_role("status").filter(has_text="You're offline")).to_be_visible()
        screenshot(page, "offline-thread-phone")
        page.goto("/sessions")
        expect(page.get_by_text("You're offline").first).to_be_visible()

        page.goto("/help")  # never opened, but kept from the start: the helplines
        expect(page.locator("h1").first).to_be_visible()
        expect(page.get_by_role("heading", name="You're offline")).to_have_count(0)

        page.goto("/c/never-read-here")
        expect(page.get_by_role("heading", name="You're offline")).to_be_visible()
        kept = page.locator("#kept-list a")
        expect(kept.first).to_be_visible()
        assert thread in [kept.nth(i).get_attribute("href") for i in range(kept.count())]
        expect(page.get_by_role("status").filter(has_text="saved on this device")).to_have_count(0)
        assert_accessible(page, "the offline page")
        screenshot(page, "offline-page-phone")
        kept.filter(has_text=re.compile(re.escape(title[:20]))).first.click()
        expect(page.locator("h1").first).to_have_text(title)

        # Replying with no connection: the reply waits in the outbox, on view, with a way
        # to take it back; a second one taken back returns to the form, not lost.
        reply = "Still here. Thinking of you all tonight."
        page.get_by_label("Your reply").fill(reply)
        page.get_by_role("button", name="Post reply").click()
        outbox = page.locator("section.outbox")
        expect(outbox.get_by_role("heading", name="Waiting to send")).to_be_visible()
        expect(outbox).to_contain_text(reply)
        expect(page.get_by_label("Your reply")).to_have_value("")
        second = "On second thoughts, one more thing."
        page.get_by_label("Your reply").fill(second)
        page.get_by_role("button", name="Post reply").click()
        expect(outbox.locator("li")).to_have_count(2)
        assert_accessible(page, "the outbox")
        screenshot(page, "offline-outbox-phone")
        outbox.locator("li", has_text=second).get_by_role("button", name="Don't send").click()
        expect(outbox.locator("li")).to_have_count(1)
        expect(page.get_by_label("Your reply")).to_have_value(second)
        page.get_by_label("Your reply").fill("")
        # A second tab holds the same outbox: both flush when the link is back.
        other = context.new_page()
        other.goto(thread)
        expect(other.locator("section.outbox li")).to_have_count(1)
    finally:
        context.set_offline(False)
    # Back online: it goes by itself, once, though two tabs sent it.
    expect(page.get_by_role("status").filter(has_text="Sent: Your reply")).to_be_visible()
    expect(page.locator("section.outbox")).to_have_count(0)
    expect(other.locator("section.outbox")).to_have_count(0)
    other.close()
    page.goto(thread)
    expect(page.get_by_text("You're offline")).to_have_count(0)
    expect(page.locator(".post", has_text=reply)).to_have_count(1)
    expect(page.locator(".post", has_text=second)).to_have_count(0)

    # Signing out deletes the saved pages (Clear-Site-Data) and the worker with them.
    page.goto("/account")
    page.get_by_role("button", name="Sign out").first.click()
    page.wait_for_url(re.compile(r"/\?signed_out"))
    left = page.evaluate("caches.keys().then(k => k.filter(n => n === 'kindred-pages').length)")
    assert (
        left == 0
        or page.evaluate("caches.open('kindred-pages').then(c => c.keys()).then(k => k.length)")
        == 0
    )


def test_without_javascript_nothing_is_registered(server: Server, new_context) -> None:
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/")
    expect(page.locator("h1, h2").first).to_be_visible()
    manifest = page.request.get(server.url + "/manifest.webmanifest")
    assert manifest.ok and manifest.json()["start_url"] == "/"
    worker = page.request.get(server.url + "/sw.js")
    assert worker.ok and "kindred-pages" in worker.text()
    assert worker.headers["cache-control"] == "no-cache"
