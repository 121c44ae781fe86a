"""Ask for help, get a reply, say thank you, mark it helped, find it, post anonymously —
two members in two browser profiles, on the real server."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import assert_accessible, screenshot

PASSPHRASE = "kettle garden morning light"


def join(page: Page, name: str) -> None:
    page.goto("/signup")
    page.get_by_label("Pseudonym").fill(name)
    page.get_by_label("Passphrase", exact=True).fill(PASSPHRASE)
    page.get_by_label("Passphrase again").fill(PASSPHRASE)
    page.get_by_role("button", name="Create my account").click()
    page.get_by_role("link", name="I've saved them — continue").click()


def test_ask_reply_thank_helped_search_anonymous(new_context) -> None:
    asker = new_context().new_page()
    helper = new_context().new_page()
    join(asker, "e2e-asker")
    join(helper, "e2e-helper")

    asker.get_by_role("link", name="Carers").click()
    assert_accessible(asker, "community")
    asker.get_by_role("link", name="Start a thread").click()
    asker.get_by_label("Asking for help").check()
    asker.get_by_label("Kind of help").select_option("practical")
    asker.get_by_label("Title").fill("How do you find respite care?")
    asker.get_by_label("Your post").fill("My dad needs care at night and I'm *exhausted*.")
    expect(asker.locator("#preview-area em")).to_have_text("exhausted")  # live preview (JS)
    assert_accessible(asker, "new thread")
    screenshot(asker, "new-thread")
    asker.get_by_role("button", name="Post thread").click()
    expect(asker.get_by_role("heading", name="How do you find respite care?")).to_be_visible()
    thread_url = asker.url.split("#")[0]

    helper.goto(thread_url)
    helper.get_by_label("Your reply").fill("Ask your council for a **carer's assessment**.")
    helper.get_by_role("button", name="Post reply").click()
    expect(helper.locator(".post-body strong")).to_have_text("carer's assessment")

    asker.goto(thread_url)
    reply = asker.locator("li.post").nth(1)
    reply.get_by_role("button", name="Thank you").click()
    expect(
        asker.locator("li.post").nth(1).get_by_role("button", name="Thank you · 1")
    ).to_be_visible()
    asker.locator("li.post").nth(1).get_by_role("button", name="This helped").click()
    expect(asker.get_by_text("Resolved — see what helped")).to_be_visible()
    assert_accessible(asker, "thread")
    screenshot(asker, "thread")

    helper.goto("/notifications")
    expect(helper.get_by_text("said your reply helped in")).to_be_visible()
    assert_accessible(helper, "notifications")

    helper.goto("/search")
    helper.get_by_label("Search posts").fill("respite")
    helper.get_by_role("button", name="Search").click()
    expect(helper.get_by_role("link", name="How do you find respite care?")).to_be_visible()
    assert_accessible(helper, "search")

    asker.goto(thread_url)
    asker.get_by_label("Your reply").fill("Thank you, I've booked one.")
    asker.get_by_label("Post anonymously").check()
    asker.get_by_role("button", name="Post reply").click()
    helper.goto(thread_url)
    expect(helper.locator("li.post").last.locator(".author")).to_have_text("Anonymous member A")
    assert "e2e-asker" not in helper.locator("li.post").last.inner_text()

    # Blocking "Anonymous member A" in this thread, on a phone in dark mode: their post
    # goes for this member only, with a way back; nobody learns who they are.
    phone = new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    reader = phone.new_page()
    join(reader, "e2e-reader")
    reader.goto(thread_url)
    reader.get_by_role("button", name="Block Anonymous member A in this thread").click()
    expect(reader.get_by_role("status")).to_contain_text(
        "You won't see Anonymous member A in this thread any more"
    )
    expect(reader.get_by_text("Thank you, I've booked one.")).to_have_count(0)
    expect(reader.get_by_role("button", name="Show Anonymous member A again")).to_be_visible()
    assert_accessible(reader, "thread after blocking an anonymous author")
    screenshot(reader, "blocked-anonymous-phone-dark")
    helper.goto(thread_url)
    expect(helper.get_by_text("Thank you, I've booked one.")).to_be_visible()
