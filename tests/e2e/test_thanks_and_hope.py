"""Gratitude that reaches the helper, and stories of hope: an asker thanks the member who
replied (a private note), the helper finds it on their own page; a member shares a story
of hope, a moderator puts it on the community's shelf, and the asker of an unanswered
request and the crisis resources both lead there. At a desk and on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import assert_accessible, make_admin

PASSPHRASE = "kettle garden morning light"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


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


def start(page: Page, kind: str, title: str, body: str) -> str:
    page.goto("/c/grief/new")
    page.get_by_label(kind).check()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Your post").fill(body)
    page.get_by_role("button", name="Post thread").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    return page.url.split("#")[0].split("?")[0]


@pytest.mark.parametrize("screen", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_thank_you_reaches_the_helper_and_a_story_reaches_the_shelf(
    server, new_context, screen
) -> None:
    device = "phone" if screen is PHONE else "desktop"
    asker = new_context(viewport=screen).new_page()
    helper = new_context(viewport=screen).new_page()
    join(asker, f"e2e-thankful-{device}")
    join(helper, f"e2e-listener-{device}")

    # An unanswered request: its asker is shown the shelf, quietly, while they wait.
    thread_url = start(
        asker, "Asking for help", f"First winter without her ({device})", "How do I get through?"
    )
    expect(asker.get_by_role("link", name="stories from members who came through")).to_be_visible()

    helper.goto(thread_url)
    helper.get_by_label("Your reply").fill("Small routines carried me: a walk at nine each day.")
    helper.get_by_role("button", name="Post reply").click()
    expect(helper.locator("li.post").nth(1)).to_contain_text("a walk at nine")
    # Your own reply has no thank-you link.
    expect(
        helper.locator("li.post").nth(1).get_by_role("link", name="Say thank you")
    ).to_have_count(0)

    asker.goto(thread_url)
    asker.locator("li.post").nth(1).get_by_role("link", name="Say thank you").click()
    expect(asker.get_by_role("heading", name="Say thank you")).to_be_visible()
    assert_accessible(asker, "say thank you")
    asker.get_by_label("A few words (optional)").fill("I walked this morning. Thank you.")
    asker.get_by_role("button", name="Send thank you").click()
    expect(asker.get_by_role("status")).to_contain_text("Your thank-you is on its way")
    assert_accessible(asker, "thank-you sent")

    helper.goto("/account")
    helper.get_by_role("link", name="Thanks you've received").click()
    expect(helper.get_by_role("heading", name="Thanks you've received")).to_be_visible()
    expect(helper.get_by_text("I walked this morning. Thank you.")).to_be_visible()
    expect(helper.get_by_text("1 person has")).to_be_visible()
    assert_accessible(helper, "thanks received")
    # The asker's own page has none of it.
    asker.goto("/account/thanks")
    expect(asker.get_by_text("I walked this morning.")).to_have_count(0)

    # A story of hope, shelved by a moderator (a site admin moderates every community).
    story_title = f"Two years on, and spring again ({device})"
    story_url = start(helper, "Story of hope", story_title, "What helped me was small routines.")
    admin_name = f"Shelf-Keeper-{device}"
    make_admin(server, admin_name, PASSPHRASE)
    keeper = new_context(viewport=screen).new_page()
    sign_in(keeper, admin_name)
    keeper.goto(story_url)
    keeper.get_by_role("button", name="Put on the shelf of stories").click()
    expect(keeper.get_by_role("status")).to_contain_text("on the shelf of stories of hope")
    expect(keeper.get_by_role("button", name="Take off the shelf of stories")).to_be_visible()
    assert_accessible(keeper, "story thread, moderator")

    # From the crisis resources, one quiet link, after the helplines.
    asker.goto("/help")
    asker.get_by_role("link", name="Stories from members who came through").click()
    expect(asker.get_by_role("link", name=story_title)).to_be_visible()
    assert_accessible(asker, "all shelves")
    asker.goto("/c/grief/hope")  # the community's own shelf (the request's link, earlier)
    expect(
        asker.get_by_role("heading", name="Stories from members who came through")
    ).to_be_visible()
    expect(asker.get_by_role("link", name=story_title)).to_be_visible()
    assert_accessible(asker, "community shelf")
