"""1:1 support in two real browsers: a member asks, a peer supporter (given the role by an
admin) switches on, sees the request appear and accepts it; the member's waiting page moves
on by itself, they talk privately, the supporter ends it and the member is asked, privately,
whether it helped."""

from __future__ import annotations

import asyncio
import re
import secrets
import threading

from playwright.sync_api import expect

from core.db import Database
from tests.e2e.conftest import Server, assert_accessible, make_admin, member_id, screenshot
from tests.helpers import PASSPHRASE


def _signed_in(new_context, name: str):  # type: ignore[no-untyped-def]
    context = new_context()
    response = context.request.post(
        "/api/v1/signup", data={"pseudonym": name, "passphrase": PASSPHRASE}
    )
    assert response.status == 201, response.text()
    return context


def test_a_member_asks_a_supporter_accepts_and_they_talk_privately(
    server: Server, new_context
) -> None:
    tag = secrets.token_hex(2)
    asker_name, supporter_name, admin_name = f"Wren{tag}", f"Oak{tag}", f"Admin{tag}"

    # An admin makes Oak a peer supporter, on the member's moderation page.
    make_admin(server, admin_name)
    supporter = _signed_in(new_context, supporter_name).new_page()
    admin_context = new_context()
    assert admin_context.request.post(
        "/api/v1/login", data={"pseudonym": admin_name, "passphrase": PASSPHRASE}
    ).ok
    admin = admin_context.new_page()
    admin.goto(f"/moderation/members/{member_id(server, supporter_name)}")
    admin.get_by_role("button", name="Make a peer supporter").click()
    expect(admin.get_by_role("button", name="Remove the peer supporter role")).to_be_visible()

    # Oak switches on and waits.
    supporter.goto("/support/queue")
    supporter.get_by_role("button", name="I'm available").click()
    expect(supporter.locator("#support-available")).to_have_text("available")
    expect(supporter.get_by_text("Nobody is waiting right now")).to_be_visible()
    assert_accessible(supporter, "support queue (empty)")

    # Wren asks, from the navigation.
    asker = _signed_in(new_context, asker_name).new_page()
    asker.set_viewport_size({"width": 360, "height": 740})  # a phone: narrow pages must work
    asker.goto("/")
    asker.locator(".menu summary").click()  # on a phone the links are behind the Menu
    asker.get_by_role("link", name="Talk to someone").click()
    expect(asker.get_by_role("heading", name="Talk to someone one-to-one")).to_be_visible()
    assert_accessible(asker, "ask for support")
    asker.get_by_label("Topic").select_option(index=1)
    asker.get_by_label("A short note for the supporter").fill(
        "My dad died last month and tonight is hard."
    )
    asker.get_by_role("button", name="Ask for a supporter").click()
    expect(asker.get_by_role("heading", name="Waiting for a supporter")).to_be_visible()
    assert_accessible(asker, "waiting for a supporter")
    screenshot(asker, "support-waiting")

    # Oak's queue notices the new request by itself; the pseudonym is not shown yet.
    supporter.locator("#support-queue-status a").click(timeout=20_000)
    request = supporter.locator("#support-requests li").first
    expect(request).to_contain_text("tonight is hard")
    expect(supporter.locator("#support-requests")).not_to_contain_text(asker_name)
    assert_accessible(supporter, "support queue")
    screenshot(supporter, "support-queue")
    request.get_by_role("button", name="Accept").click()

    # Both are in the private conversation: Wren's waiting page moved on by itself.
    expect(supporter.get_by_role("heading", name=f"Supporting {asker_name}")).to_be_visible()
    expect(asker).to_have_url(re.compile(r"/support/conversations/p-"), timeout=20_000)
    expect(asker.get_by_role("heading", name=f"Talking with {supporter_name}")).to_be_visible()
    for page in (asker, supporter):
        expect(page.locator("#chat-state")).to_have_text("Live")

    asker.get_by_label("Your message").fill("Thank you for answering.")
    asker.get_by_label("Your message").press("Enter")
    expect(supporter.locator("#chat-messages")).to_contain_text("Thank you for answering.")
    supporter.get_by_label("Your message").fill("I'm here. Tell me about your dad?")
    supporter.get_by_role("button", name="Send").click()
    expect(asker.locator("#chat-messages")).to_contain_text("Tell me about your dad?")
    # The supporter carries their badge, live as after a reload; the member carries none.
    answered = asker.locator("#chat-messages li.chat-message", has_text="Tell me about")
    expect(answered.locator(".chat-badge")).to_have_text("Peer supporter")
    mine = supporter.locator("#chat-messages li.chat-message", has_text="Thank you for answering")
    expect(mine.locator(".chat-badge")).to_have_count(0)
    # Live messages from the other side can be reported, like the ones the page rendered.
    expect(asker.locator("#chat-messages li.chat-message .chat-report")).to_have_count(1)
    assert_accessible(asker, "support conversation")
    assert_accessible(supporter, "support conversation (supporter)")
    screenshot(asker, "support-conversation")

    # Nobody else can read it, nor learn that it exists: the same 404 as a wrong address.
    stranger = _signed_in(new_context, f"Stranger{tag}").new_page()
    response = stranger.goto(asker.url)
    assert response is not None and response.status == 404
    expect(stranger.get_by_text("Tell me about your dad?")).to_have_count(0)

    # Oak ends it; Wren's page shows the end and asks, privately, whether it helped.
    supporter.get_by_role("button", name="End the conversation").click()
    expect(supporter.get_by_text("This conversation has ended.")).to_be_visible()
    expect(asker.get_by_text("This conversation has ended.")).to_be_visible()
    expect(asker.locator("#chat-state")).to_have_text("The conversation has ended")
    expect(asker.locator("#chat-form")).to_be_hidden()
    asker.get_by_label("Yes").check()
    asker.get_by_label("Anything you'd like the moderators to know? (optional)").fill(
        "Oak really listened."
    )
    assert_accessible(asker, "conversation ended")
    asker.locator("#support-feedback").get_by_role("button", name="Send").click()
    expect(asker.get_by_text("Thank you for telling us.")).to_be_visible()
    screenshot(asker, "support-ended")

    # The admin (a moderator everywhere) reads the feedback; the member is not named.
    admin.goto("/moderation/support")
    expect(admin.locator("table")).to_contain_text("Oak really listened.")
    expect(admin.locator("table")).to_contain_text(supporter_name)
    expect(admin.locator("table")).not_to_contain_text(asker_name)
    assert_accessible(admin, "support feedback")


def test_asking_works_without_javascript(server: Server, new_context) -> None:
    tag = secrets.token_hex(2)
    context = new_context(java_script_enabled=False)
    assert context.request.post(
        "/api/v1/signup", data={"pseudonym": f"Kit{tag}", "passphrase": PASSPHRASE}
    ).ok
    page = context.new_page()
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/support")
    page.get_by_label("Topic").select_option(index=1)
    page.get_by_label("A short note for the supporter").fill("email me kit@example.com")
    page.get_by_role("button", name="Ask for a supporter").click()
    expect(page.get_by_role("alert")).to_contain_text("contact details")
    expect(page.get_by_label("A short note for the supporter")).to_have_value(
        "email me kit@example.com"
    )
    page.get_by_label("A short note for the supporter").fill("Could someone talk with me?")
    page.get_by_role("button", name="Ask for a supporter").click()
    expect(page.get_by_role("heading", name="Waiting for a supporter")).to_be_visible()
    page.get_by_role("link", name="Check again").click()
    expect(page.get_by_role("heading", name="Waiting for a supporter")).to_be_visible()
    # (axe needs JavaScript: these pages are scanned in the test above.)
    page.get_by_role("button", name="Withdraw my request").click()
    expect(page.get_by_text("Your request was withdrawn.")).to_be_visible()


def _asked_a_day_ago(server: Server, request_id: int) -> None:
    """Move a request's asking time back a day in the running server's database; the
    server's own sweeper then finds it (within a minute) and closes it as expired."""
    from datetime import timedelta

    from sqlmodel import col, update

    from chat.support.models import SupportRequest
    from core.db import utcnow

    async def age() -> None:
        db = Database(f"sqlite+aiosqlite:///{server.data_dir / 'kindred.db'}")
        try:
            async with db.transaction() as s:
                await s.exec(
                    update(SupportRequest)
                    .where(col(SupportRequest.id) == request_id)
                    .values(created_at=utcnow() - timedelta(hours=24, minutes=1))
                )
        finally:
            await db.close()

    worker = threading.Thread(target=asyncio.run, args=(age(),))
    worker.start()
    worker.join(30)


def test_a_request_nobody_takes_expires_and_the_member_can_ask_again(
    server: Server, new_context
) -> None:
    page = _signed_in(new_context, f"Moss{secrets.token_hex(2)}").new_page()
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/support")
    page.get_by_label("Topic").select_option(index=1)
    page.get_by_label("A short note for the supporter").fill("Is anyone around tonight?")
    page.get_by_role("button", name="Ask for a supporter").click()
    expect(page.get_by_role("heading", name="Waiting for a supporter")).to_be_visible()
    request_id = int(page.url.rsplit("/", 1)[1])
    _asked_a_day_ago(server, request_id)
    # The page notices by itself (it polls; the server's sweeper runs every minute).
    expired = page.get_by_role("heading", name="Nobody was free to take your request")
    expect(expired).to_be_visible(timeout=120_000)
    expect(page.get_by_role("button", name="Withdraw my request")).to_have_count(0)
    expect(page.locator("#support-resources")).to_be_visible()
    assert_accessible(page, "expired request")
    screenshot(page, "support-expired")
    expect(page.get_by_label("Your note (you can change it)")).to_have_value(
        "Is anyone around tonight?"
    )
    page.get_by_role("button", name="Ask again").click()
    expect(page.get_by_role("heading", name="Waiting for a supporter")).to_be_visible()
    assert int(page.url.rsplit("/", 1)[1]) != request_id
    # Leave the shared server's queue as it was found.
    page.get_by_role("button", name="Withdraw my request").click()
    expect(page.get_by_text("Your request was withdrawn.")).to_be_visible()
