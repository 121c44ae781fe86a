"""A new member's first posts, on a server that holds the first two: the third goes up
while those two still wait, and the review queue offers Publish or Reject for a post held
only because its author is new, proposing no sanction. Moderator at a desk, member on a
phone, and the other way round."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    Server,
    assert_accessible,
    make_admin,
    screenshot,
    start_server,
    stop_server,
)

PASSPHRASE = "kettle garden morning light"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(
        tmp_path_factory.mktemp("e2e-new-members"), {"KINDRED_NEW_MEMBER_POSTS": "2"}
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
    page.goto("/c/grief/new")
    page.get_by_label("Discussion").check()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Your post").fill(body)
    page.get_by_role("button", name="Post thread").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()


@pytest.mark.parametrize(
    ("moderator_screen", "member_screen"), [(DESKTOP, PHONE), (PHONE, DESKTOP)]
)
def test_first_posts_wait_and_the_queue_offers_publish_or_reject(
    server, new_context, moderator_screen, member_screen
) -> None:
    device = "phone" if member_screen is PHONE else "desktop"
    admin_name = f"Kindred-Admin-{device}"
    make_admin(server, admin_name, PASSPHRASE)
    admin = new_context(viewport=moderator_screen).new_page()
    sign_in(admin, admin_name)

    member = new_context(viewport=member_screen).new_page()
    join(member, f"e2e-newcomer-{device}")
    start_thread(
        member,
        f"Hello from a newcomer ({device})",
        "Hello, I'm new here and glad to have found you all.",
    )
    expect(member.get_by_text("Waiting for a moderator.")).to_be_visible()
    start_thread(member, f"A second hello ({device})", "Does anyone else here enjoy gardening?")
    expect(member.get_by_text("Waiting for a moderator.")).to_be_visible()
    # Both still waiting: the third is not held for that.
    start_thread(member, f"A third thought ({device})", "Thanks for having me, everyone.")
    expect(member.get_by_text("Waiting for a moderator.")).to_have_count(0)

    admin.goto("/moderation")
    case = admin.locator("li.case", has_text=f"Hello from a newcomer ({device})")
    expect(case.get_by_text("Waiting only because its author is new here")).to_be_visible()
    expect(case.get_by_text("Next step on the ladder")).to_have_count(0)
    expect(case.get_by_role("button", name="Publish")).to_be_visible()
    expect(case.get_by_role("button", name="Reject")).to_be_visible()
    assert_accessible(admin, f"review queue with a newcomer's post ({device})")
    screenshot(
        admin, f"review-queue-newcomer-{'desktop' if moderator_screen is DESKTOP else 'phone'}"
    )
    case.get_by_role("button", name="Publish").click()
    expect(admin.get_by_text("Done: approve.")).to_be_visible()

    second = admin.locator("li.case", has_text=f"A second hello ({device})")
    second.get_by_role("button", name="Reject").click()
    expect(admin.get_by_text("Done: delete.")).to_be_visible()
    expect(admin.locator("li.case", has_text=f"({device})")).to_have_count(0)
