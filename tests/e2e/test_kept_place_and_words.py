"""A member keeps their place and their words on a thread, on a desktop and on a phone: a
reaction or "this helped" keeps focus on the button pressed (with JavaScript) or comes back
focused on the post (without); a reply to a thread locked while they wrote comes back to
them on a page that says so."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import assert_accessible, screenshot

PASSPHRASE = "kettle garden morning light"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


JOINED: set[str] = set()  # signing up is limited per network: join once, then sign in


def join(page: Page, name: str) -> None:
    if name in JOINED:
        page.goto("/login")
        page.get_by_label("Pseudonym").fill(name)
        page.get_by_label("Passphrase").fill(PASSPHRASE)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign in")).to_have_count(0)
        return
    page.goto("/signup")
    page.get_by_label("Pseudonym").fill(name)
    page.get_by_label("Passphrase", exact=True).fill(PASSPHRASE)
    page.get_by_label("Passphrase again").fill(PASSPHRASE)
    page.get_by_role("button", name="Create my account").click()
    page.get_by_role("link", name="I've saved them — continue").click()
    JOINED.add(name)


def api(page: Page, path: str, body: dict) -> dict:
    """Post as the page's member through the JSON API (quicker than typing every reply)."""
    token = page.request.get("/api/v1/session").json()["csrf_token"]
    response = page.request.post(path, data=body, headers={"X-CSRF-Token": token})
    assert response.ok, response.text()
    return response.json()


def long_thread(asker: Page, helper: Page, title: str) -> tuple[str, int]:
    """A request for help with enough replies that the last one is well down the page."""
    thread = api(
        asker,
        "/api/v1/communities/carers/threads",
        {
            "title": title,
            "body": "Nights are the hardest.",
            "kind": "request",
            "help_type": "emotional",
        },
    )
    words = "Some nights I sit with a cup of tea and write down three small things. " * 6
    reply = {}
    for n in range(4):
        reply = api(
            helper, f"/api/v1/threads/{thread['id']}/posts", {"body": f"Reply {n}: {words}"}
        )
    return f"/t/{thread['id']}", reply["id"]


def focused_id(page: Page) -> str:
    return page.evaluate("document.activeElement.closest('li.post')?.id || ''")


@pytest.mark.parametrize("device", VIEWPORTS)
def test_a_reaction_keeps_focus_on_the_button(new_context, device: str) -> None:
    viewport = VIEWPORTS[device]
    asker = new_context(viewport=viewport).new_page()
    helper = new_context(viewport=viewport).new_page()
    join(asker, "e2e-kept-asker")
    join(helper, "e2e-kept-helper")
    url, reply_id = long_thread(asker, helper, f"Getting through the nights ({device})")

    asker.goto(url)
    post = asker.locator(f"#p{reply_id}")
    thanks = post.get_by_role("button", name="Thank you")
    thanks.focus()
    asker.keyboard.press("Enter")
    expect(post.get_by_role("button", name="Thank you · 1")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(asker.locator("#post-status")).to_have_text("Sent “Thank you”.")
    assert asker.evaluate("document.activeElement.textContent") == "Thank you · 1"
    assert focused_id(asker) == f"p{reply_id}"
    assert asker.evaluate("window.scrollY") > 0  # still down at the post, not at the top

    # Pressed again, it is taken back, still in place.
    asker.keyboard.press("Enter")
    expect(post.get_by_role("button", name="Thank you", exact=True)).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(asker.locator("#post-status")).to_have_text("Took back “Thank you”.")

    post.get_by_role("button", name="This helped").click()
    expect(asker.get_by_text("Resolved — see what helped")).to_be_visible()
    expect(asker.locator("#post-status")).to_contain_text("Marked as the reply that helped")
    assert asker.evaluate("document.activeElement.textContent") == "Marked as what helped"
    assert focused_id(asker) == f"p{reply_id}"
    assert_accessible(asker, f"thread after a reaction ({device})")
    screenshot(asker, f"thread-reacted-{device}")


@pytest.mark.parametrize("device", VIEWPORTS)
def test_without_javascript_a_reaction_comes_back_to_the_post(new_context, device: str) -> None:
    viewport = VIEWPORTS[device]
    asker = new_context(viewport=viewport, java_script_enabled=False).new_page()
    helper = new_context(viewport=viewport).new_page()
    join(asker, "e2e-kept-asker")
    join(helper, "e2e-kept-helper")
    url, reply_id = long_thread(asker, helper, f"Plain pages, long nights ({device})")

    asker.goto(url)
    asker.locator(f"#p{reply_id}").get_by_role("button", name="Me too").click()
    asker.wait_for_url(f"**{url}#p{reply_id}")
    expect(asker.locator(f"#p{reply_id}").get_by_role("button", name="Me too · 1")).to_be_visible()
    assert asker.evaluate("document.activeElement.id") == f"p{reply_id}"
    assert asker.locator(f"#p{reply_id}").evaluate(
        "el => el.getBoundingClientRect().top < window.innerHeight"
        " && el.getBoundingClientRect().bottom > 0"
    )
    assert asker.evaluate("window.scrollY") > 0

    asker.locator(f"#p{reply_id}").get_by_role("button", name="This helped").click()
    asker.wait_for_url(f"**{url}#p{reply_id}")
    expect(asker.get_by_text("Resolved — see what helped")).to_be_visible()
    assert asker.evaluate("document.activeElement.id") == f"p{reply_id}"


@pytest.mark.parametrize("device", VIEWPORTS)
def test_a_reply_to_a_thread_locked_meanwhile_comes_back(server, new_context, device) -> None:
    viewport = VIEWPORTS[device]
    asker = new_context(viewport=viewport).new_page()
    helper = new_context(viewport=viewport).new_page()
    join(asker, "e2e-kept-asker")
    join(helper, "e2e-kept-helper")
    thread = api(
        asker,
        "/api/v1/communities/carers/threads",
        {"title": f"Is it always this hard? ({device})", "body": "Some days are long."},
    )
    helper.goto(f"/t/{thread['id']}")
    draft = "Yes, some days are — and you're doing better than you think."
    helper.get_by_label("Your reply").fill(draft)
    # A moderator locks the thread while the helper is still writing.
    with sqlite3.connect(server.data_dir / "kindred.db") as db:
        db.execute("UPDATE thread SET locked = 1 WHERE id = ?", (thread["id"],))
    helper.get_by_role("button", name="Post reply").click()
    expect(helper.get_by_text("This thread is locked")).to_be_visible()
    expect(helper.get_by_text("Your reply wasn't posted")).to_be_visible()
    expect(helper.get_by_label("Your text, kept for you to copy")).to_have_value(draft)
    assert_accessible(helper, f"reply kept ({device})")
    screenshot(helper, f"reply-kept-{device}")
