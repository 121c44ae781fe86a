"""Two members in two real browsers chat live; one loses its network and comes back, and
nothing is lost or shown twice."""

from __future__ import annotations

import asyncio
import re
import secrets
import threading

import pytest
from playwright.sync_api import expect

from chat.rooms import ensure_room
from core.db import Database
from tests.e2e.conftest import Server, assert_accessible, screenshot
from tests.helpers import PASSPHRASE


def _make_room(server: Server, slug: str) -> None:
    async def make() -> None:
        db = Database(f"sqlite+aiosqlite:///{server.data_dir / 'kindred.db'}")
        try:
            await ensure_room(
                db, slug=slug, name="Evening circle", description="Wind down together."
            )
        finally:
            await db.close()

    # Playwright's sync API owns this thread's event loop; the database call gets its own.
    worker = threading.Thread(target=asyncio.run, args=(make(),))
    worker.start()
    worker.join(30)


@pytest.fixture
def room(server: Server) -> str:
    slug = f"circle-{secrets.token_hex(3)}"
    _make_room(server, slug)
    return slug


def _member(new_context, name: str):  # type: ignore[no-untyped-def]
    context = new_context()
    response = context.request.post(
        "/api/v1/signup", data={"pseudonym": name, "passphrase": PASSPHRASE}
    )
    assert response.status == 201, response.text()
    return context


def _texts(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("#chat-messages li.chat-message:not(.pending) .chat-body").all_inner_texts()


def test_two_members_chat_live_through_a_network_outage(new_context, room: str) -> None:
    tag = secrets.token_hex(2)
    heron, wren = f"Heron{tag}", f"Wren{tag}"
    a = _member(new_context, heron).new_page()
    b = _member(new_context, wren).new_page()
    for page in (a, b):
        page.goto(f"/chat/{room}")
        expect(page.locator("#chat-state")).to_have_text("Live")
    expect(a.locator("#chat-members")).to_contain_text(wren)

    a.get_by_label("Your message").fill("Hello from the first browser")
    a.get_by_label("Your message").press("Enter")
    expect(b.locator("#chat-messages")).to_contain_text("Hello from the first browser")

    b.context.set_offline(True)
    expect(b.locator("#chat-state")).to_contain_text("Offline")
    for n in range(3):
        a.get_by_label("Your message").fill(f"While you were away {n}")
        a.get_by_label("Your message").press("Enter")
    b.get_by_label("Your message").fill("Typed with no network")
    b.get_by_role("button", name="Send").click()
    expect(b.locator("li.pending")).to_contain_text("Typed with no network")
    expect(a.locator("#chat-messages")).to_contain_text("While you were away 2")

    b.context.set_offline(False)
    expect(b.locator("#chat-state")).to_have_text("Live", timeout=15_000)
    expect(a.locator("#chat-messages")).to_contain_text("Typed with no network")
    expect(b.locator("li.pending")).to_have_count(0)

    expected = [
        "Hello from the first browser",
        *(f"While you were away {n}" for n in range(3)),
        "Typed with no network",
    ]
    for page in (a, b):
        expect(page.locator("#chat-messages li.chat-message:not(.pending)")).to_have_count(5)
        assert _texts(page) == expected  # in order, each once
        ids = [
            int(i)
            for i in page.locator("#chat-messages li[data-id]").evaluate_all(
                "items => items.map(li => li.dataset.id)"
            )
        ]
        assert ids == sorted(ids) and len(set(ids)) == 5

    b.reload()  # the server-rendered history agrees with what was shown live
    assert _texts(b) == expected
    expect(b.locator("#chat-state")).to_have_text("Live")
    assert_accessible(b, "chat room")
    screenshot(b, "chat-room")


def test_the_room_works_without_javascript(new_context, room: str) -> None:
    context = new_context(java_script_enabled=False)
    name = f"Kit{secrets.token_hex(2)}"
    response = context.request.post(
        "/api/v1/signup", data={"pseudonym": name, "passphrase": PASSPHRASE}
    )
    assert response.status == 201
    page = context.new_page()
    page.goto(f"/chat/{room}")
    page.get_by_label("Your message").fill("Posted with a plain form")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(rf"/chat/{room}#m\d+$"))
    expect(page.locator("#chat-messages")).to_contain_text("Posted with a plain form")
