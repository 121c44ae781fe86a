"""Boundaries in a real browser: contact details held with an explanation, crisis language
met with resources while moderators see it first, three reports from established members
hide a post, and the audit log shows every step."""

from __future__ import annotations

import sqlite3

from playwright.sync_api import Page, expect

from tests.e2e.conftest import assert_accessible, make_admin, member_id, screenshot

PASSPHRASE = "kettle garden morning light"


def join(page: Page, name: str) -> None:
    page.goto("/signup")
    page.get_by_label("Pseudonym").fill(name)
    page.get_by_label("Passphrase", exact=True).fill(PASSPHRASE)
    page.get_by_label("Passphrase again").fill(PASSPHRASE)
    page.get_by_role("button", name="Create my account").click()
    page.get_by_role("link", name="I've saved them — continue").click()


def start_thread(page: Page, title: str, body: str) -> None:
    page.goto("/c/recovery/new")
    page.get_by_label("Discussion").check()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Your post").fill(body)
    page.get_by_role("button", name="Post thread").click()


def establish(server, pseudonym: str) -> None:
    """Make an account two days old: reports from accounts under a day old don't hide
    anything (moderation/trust.py), and the test can't wait a day."""
    with sqlite3.connect(server.data_dir / "kindred.db") as db:
        db.execute(
            "UPDATE member SET created_at = "
            "strftime('%Y-%m-%d %H:%M:%S', created_at, '-2 days') || '.000000' "
            "WHERE pseudonym_key = ?",
            (pseudonym.casefold(),),
        )


def test_boundaries_reports_and_audit(server, new_context) -> None:
    make_admin(server, "Kindred-Admin", PASSPHRASE)
    admin = new_context().new_page()
    admin.goto("/login")
    admin.get_by_label("Pseudonym").fill("Kindred-Admin")
    admin.get_by_label("Passphrase").fill(PASSPHRASE)
    admin.get_by_role("button", name="Sign in").click()

    sharer = new_context().new_page()
    join(sharer, "e2e-sharer")
    start_thread(sharer, "Anyone want to talk?", "Text me on 07700 900123 any time.")
    expect(sharer.get_by_text("Waiting for a moderator.")).to_be_visible()
    expect(sharer.get_by_text("identifiable")).to_be_visible()
    assert_accessible(sharer, "held post")
    screenshot(sharer, "held-contact-details")

    struggling = new_context(locale="en-GB").new_page()
    join(struggling, "e2e-struggling")
    start_thread(struggling, "Tonight", "I can't go on anymore. I want to end my life.")
    expect(struggling.get_by_role("heading", name="You're not alone")).to_be_visible()
    expect(struggling.get_by_text("116 123").first).to_be_visible()
    assert_accessible(struggling, "crisis panel")
    screenshot(struggling, "crisis-resources")

    admin.goto("/moderation")
    # Crisis first: the struggling member's post, with its badge (the "why" line under a
    # model's flag says "crisis" too, hence exact).
    first_case = admin.locator("li.case").first
    expect(first_case.get_by_text("Crisis", exact=True)).to_be_visible()
    expect(first_case.get_by_text("Tonight")).to_be_visible()
    expect(admin.locator("li.case").nth(1).get_by_text("Held")).to_be_visible()
    assert_accessible(admin, "review queue")
    screenshot(admin, "review-queue")

    troll = new_context().new_page()
    join(troll, "e2e-troll")
    start_thread(troll, "Opinions", "Everyone here is pathetic.")
    thread_url = troll.url.split("#")[0]
    for name in ("e2e-rep-one", "e2e-rep-two", "e2e-rep-three"):
        reporter = new_context().new_page()
        join(reporter, name)
        establish(server, name)
        reporter.goto(thread_url)
        reporter.get_by_role("link", name="Report this post").click()
        reporter.get_by_label("Harassment or bullying").check()
        assert_accessible(reporter, "report form")
        reporter.get_by_role("button", name="Send report").click()
        expect(reporter.get_by_role("heading", name="Thank you")).to_be_visible()
    bystander = new_context().new_page()
    bystander.goto(thread_url)
    expect(bystander.get_by_text("hidden while a moderator reviews it")).to_be_visible()
    expect(bystander.get_by_text("Everyone here is pathetic.")).to_have_count(0)

    admin.goto("/moderation/audit")
    expect(admin.get_by_role("cell", name="auto hide")).to_be_visible()
    assert_accessible(admin, "audit log")
    admin.goto("/moderation/dashboard")
    assert_accessible(admin, "dashboard")


def test_a_moderator_mutes_a_member_connected_to_chat(server, new_context) -> None:
    make_admin(server, "Kindred-Admin", PASSPHRASE)
    admin = new_context().new_page()
    admin.goto("/login")
    admin.get_by_label("Pseudonym").fill("Kindred-Admin")
    admin.get_by_label("Passphrase").fill(PASSPHRASE)
    admin.get_by_role("button", name="Sign in").click()

    chatty = new_context().new_page()
    join(chatty, "e2e-chatty")
    chatty.goto("/chat/recovery")  # every demo community has a room
    expect(chatty.locator("#chat-state")).to_have_text("Live")
    expect(chatty.get_by_text("Rules of this community")).to_be_visible()
    chatty.get_by_label("Your message").fill("Hello everyone")
    chatty.get_by_label("Your message").press("Enter")
    expect(chatty.locator("#chat-messages")).to_contain_text("Hello everyone")

    admin.goto(f"/moderation/members/{member_id(server, 'e2e-chatty')}")
    assert_accessible(admin, "member record")
    admin.get_by_label("Sanction").select_option("mute")
    admin.get_by_label("For", exact=True).select_option("24")
    admin.get_by_label("Where").select_option(label="Recovery")
    admin.get_by_label("Reason", exact=True).fill("please take a break")
    admin.get_by_role("button", name="Apply").click()
    expect(admin.get_by_text("please take a break")).to_be_visible()

    # Pushed to the open connection at once, without a reload…
    expect(chatty.locator("#chat-error")).to_contain_text("please take a break")
    # …and the next message is refused live, with the text kept for the member.
    chatty.get_by_label("Your message").fill("Can I still talk?")
    chatty.get_by_label("Your message").press("Enter")
    expect(chatty.locator("#chat-error")).to_contain_text("muted in chat")
    expect(chatty.get_by_label("Your message")).to_have_value("Can I still talk?")
    screenshot(chatty, "muted-in-chat")

    admin.goto("/moderation/audit")
    expect(admin.get_by_role("cell", name="mute", exact=True)).to_be_visible()


def test_a_community_tunes_its_crisis_filter(server, new_context) -> None:
    """A moderator adds a crisis phrase the filter can't know and sets how readily wording
    counts; a member who uses the phrase is met with resources, and peer supporters are told
    why it was flagged."""
    make_admin(server, "Tuning-Admin", PASSPHRASE)
    admin = new_context().new_page()
    admin.goto("/login")
    admin.get_by_label("Pseudonym").fill("Tuning-Admin")
    admin.get_by_label("Passphrase").fill(PASSPHRASE)
    admin.get_by_role("button", name="Sign in").click()

    admin.goto("/moderation/communities/recovery")
    admin.get_by_label("Word or phrase").fill("orange day")
    admin.get_by_label("Action").select_option("crisis")
    admin.get_by_role("button", name="Add", exact=True).click()
    expect(admin.get_by_role("code").filter(has_text="orange day")).to_be_visible()
    admin.get_by_label("How readily wording is read as a crisis").select_option("more")
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_text("Saved.")).to_be_visible()
    expect(admin.get_by_label("How readily wording is read as a crisis")).to_have_value("more")
    assert_accessible(admin, "community settings")
    screenshot(admin, "community-crisis-settings")

    member = new_context(locale="en-GB").new_page()
    join(member, "e2e-orange")
    start_thread(member, "Today", "Having an orange day again.")
    expect(member.get_by_role("heading", name="You're not alone")).to_be_visible()

    admin.goto("/moderation")
    case = admin.locator("li.case").filter(has_text="community's crisis phrase")
    expect(case.get_by_text("Crisis", exact=True)).to_be_visible()
    expect(case.get_by_text("Having an orange day again.")).to_be_visible()
