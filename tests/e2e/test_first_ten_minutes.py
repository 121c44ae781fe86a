"""What a new member saw in their first ten minutes (issue 16), each on a desktop and a phone:
a thread list that says "New replies" only for replies since their last visit (never next to
a thread they never opened), community cards that show life, and session cards that start
with their title (no blank band above it)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, make_admin

PASSPHRASE = "kettle garden morning light"
SCREENS = [
    pytest.param({"width": 1280, "height": 800}, id="desktop"),
    pytest.param({"width": 390, "height": 844}, id="phone"),
]


def sign_up(page: Page, server: Server, name: str) -> None:
    answer = page.request.post(
        server.url + "/api/v1/signup", data={"pseudonym": name, "passphrase": PASSPHRASE}
    )
    assert answer.status == 201, answer.text()


@pytest.mark.parametrize("screen", SCREENS)
def test_new_replies_only_since_the_last_visit(server: Server, new_context, screen) -> None:
    tag = screen["width"]
    reader = new_context(viewport=screen).new_page()
    sign_up(reader, server, f"Reader-{tag}")
    reader.goto("/c/recovery")
    threads = reader.locator(".thread-summary")
    expect(threads.first).to_be_visible()
    # Never opened: replies there are not "new" to this member, whatever the count says.
    expect(reader.locator(".badge-new")).to_have_count(0)

    first = threads.first.locator("h2 a")
    href = first.get_attribute("href")
    assert href
    thread_id = int(href.split("/t/")[1].split("#")[0].split("?")[0])
    first.click()
    reader.go_back()
    reader.reload()
    expect(reader.locator(".badge-new")).to_have_count(0)  # read up to now

    writer = new_context().new_page()
    sign_up(writer, server, f"Writer-{tag}")
    token = writer.request.get(server.url + "/api/v1/session").json()["csrf_token"]
    replied = writer.request.post(
        f"{server.url}/api/v1/threads/{thread_id}/posts",
        data={"body": "Checking in this evening. Day three for me."},
        headers={"x-csrf-token": token},
    )
    assert replied.status == 201, replied.text()

    reader.reload()
    new = reader.locator(".thread-summary.has-new")
    expect(new).to_have_count(1)
    expect(new.locator("h2 a")).to_have_attribute("href", href)
    expect(new.locator(".badge-new")).to_have_text("New replies")


@pytest.mark.parametrize("screen", SCREENS)
def test_cards_show_life_and_start_with_their_title(server: Server, new_context, screen) -> None:
    page = new_context(viewport=screen).new_page()
    page.goto("/")
    card = page.locator(".cards .card").first
    expect(card).to_contain_text("thread")  # "3 threads · active …" or "No threads yet"

    page.goto("/sessions")
    session = page.locator(".sessions-list .card").first
    expect(session).to_be_visible()
    box = session.bounding_box()
    title = session.locator(".card-title").bounding_box()
    assert box and title
    gap = title["y"] - box["y"]
    assert gap < 28, f"a blank band of {gap:.0f}px above the session's title"


@pytest.mark.parametrize("screen", SCREENS)
def test_staff_wear_their_badge_in_the_forum_as_in_chat(
    server: Server, new_context, screen
) -> None:
    """An admin's named reply carries "Admin" beside the name, as their chat messages do;
    their anonymous reply carries nothing that would say who wrote it."""
    tag = screen["width"]
    admin_name = f"Keeper-{tag}"
    make_admin(server, admin_name, PASSPHRASE)
    admin = new_context().new_page()
    signed_in = admin.request.post(
        server.url + "/api/v1/login", data={"pseudonym": admin_name, "passphrase": PASSPHRASE}
    )
    assert signed_in.ok, signed_in.text()
    token = admin.request.get(server.url + "/api/v1/session").json()["csrf_token"]
    reader = new_context(viewport=screen).new_page()
    reader.goto("/c/recovery")
    href = reader.locator(".thread-summary h2 a").first.get_attribute("href")
    assert href
    thread_id = int(href.split("/t/")[1].split("#")[0].split("?")[0])
    for body, anonymous in (
        (f"Welcome, all. I help look after this place ({tag}).", False),
        (f"Speaking only for myself tonight ({tag}): it gets easier.", True),
    ):
        replied = admin.request.post(
            f"{server.url}/api/v1/threads/{thread_id}/posts",
            data={"body": body, "anonymous": anonymous},
            headers={"x-csrf-token": token},
        )
        assert replied.status == 201, replied.text()

    reader.goto(href)
    named = reader.locator("li.post", has_text=f"I help look after this place ({tag})")
    expect(named.locator(".author")).to_have_text(admin_name)
    expect(named.locator(".badge-ok")).to_have_text("Admin")
    hidden = reader.locator("li.post", has_text=f"Speaking only for myself tonight ({tag})")
    expect(hidden).to_be_visible()
    expect(hidden.locator(".badge-ok")).to_have_count(0)
    assert admin_name not in hidden.inner_text()
