"""A member sends a chat message while the database can't store anything: the page tells them
gently, keeps the message (shown as waiting), and sends it by itself once the database takes
writes again, delivered once (static/js/chat.js's outbox and the `unavailable` error frame).

The real `kindred serve` runs on SQLite. Another process (this test, as a backup or the CLI
would) takes the database's one write lock and holds it past the server's busy timeout
(5 s), so the server's write fails with "database is locked" and the send is answered with
`unavailable` and `retry_after`. SQLite only, by nature (the browser tests run on it).

And a server stopped with SIGTERM (a deploy) is shown as a restart, not a lost connection.
"""

from __future__ import annotations

import os
import secrets
import signal
import sqlite3

from playwright.sync_api import expect

from tests.e2e.conftest import (
    Server,
    assert_accessible,
    screenshot,
    start_server,
    stop_server,
)
from tests.e2e.test_chat import _make_room, _texts
from tests.helpers import PASSPHRASE

PHONE = {"width": 390, "height": 844}
BUSY_TIMEOUT = 5  # seconds the server waits for the lock (core/db.py)
RETRY_AFTER = 10  # seconds chat.js waits before sending again (chat/ws.py UNAVAILABLE_RETRY)


def _member(new_context, name: str, **options: object):  # type: ignore[no-untyped-def]
    context = new_context(**options)
    response = context.request.post(
        "/api/v1/signup", data={"pseudonym": name, "passphrase": PASSPHRASE}
    )
    assert response.status == 201, response.text()
    return context.new_page()


def test_a_message_sent_while_the_database_refuses_writes_is_kept_and_sent_once(
    new_context, server: Server
) -> None:
    tag = secrets.token_hex(2)
    room = f"evening-{tag}"
    _make_room(server, room)
    a = _member(new_context, f"Heron{tag}", viewport=PHONE)  # on a phone
    b = _member(new_context, f"Wren{tag}")
    for page in (a, b):
        page.goto(f"/chat/{room}")
        expect(page.locator("#chat-state")).to_have_text("Live")

    text = "Rough evening. Is anyone around to talk for a bit?"
    lock = sqlite3.connect(server.data_dir / "kindred.db", isolation_level=None, timeout=10)
    try:
        lock.execute("BEGIN IMMEDIATE")  # the server's writes wait, then fail: "locked"
        a.get_by_label("Your message").fill(text)
        a.get_by_label("Your message").press("Enter")
        notice = a.locator("#chat-error")
        expect(notice).to_be_visible(timeout=(BUSY_TIMEOUT + 10) * 1000)
        expect(notice).to_have_text(
            "We couldn't save your message just now. "
            "It's kept here and will be sent by itself in a few seconds."
        )
        expect(notice).to_have_class("notice notice-important")  # not an error: nothing lost
        pending = a.locator("li.pending")
        expect(pending).to_have_count(1)
        expect(pending.locator(".chat-body")).to_have_text(text)
        expect(pending.locator(".chat-pending-state")).to_have_text(f"Will send in {RETRY_AFTER} s")
        expect(a.get_by_label("Your message")).to_have_value("")  # it is in the outbox
        screenshot(a, "chat-message-kept-phone")  # docs/members.md: nothing to type again
        assert_accessible(a, "chat room, message kept while the database refuses writes")
        assert _texts(b) == []  # nothing reached the room
    finally:
        lock.execute("ROLLBACK")
        lock.close()

    # Writes go through again; the outbox sends the message by itself after retry_after.
    delivered = "#chat-messages li.chat-message:not(.pending)"
    for page in (a, b):
        expect(page.locator(delivered)).to_have_count(1, timeout=(RETRY_AFTER + 10) * 1000)
        assert _texts(page) == [text]
    expect(a.locator("li.pending")).to_have_count(0)
    expect(a.locator("#chat-error")).to_be_hidden()  # the notice goes once it is sent
    with sqlite3.connect(server.data_dir / "kindred.db") as db:
        (count,) = db.execute(
            "SELECT count(*) FROM chat_message WHERE body = ?", (text,)
        ).fetchone()
    assert count == 1


def test_a_restart_is_told_as_a_restart(browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # SIGTERM (a deploy, `systemctl restart`) closes chat sockets with 1012, "service
    # restart" (its reason is checked in tests/security/test_faults.py): the page says it is
    # a restart, not a lost connection, and reconnects.
    server = start_server(tmp_path)
    try:
        _make_room(server, "restart")
        context = browser.new_context(base_url=server.url, viewport=PHONE)
        try:
            context.set_default_timeout(10_000)
            assert context.request.post(
                "/api/v1/signup", data={"pseudonym": "Kestrel", "passphrase": PASSPHRASE}
            ).ok
            page = context.new_page()
            page.goto("/chat/restart")
            expect(page.locator("#chat-state")).to_have_text("Live")
            os.killpg(server.process.pid, signal.SIGTERM)
            expect(page.locator("#chat-state")).to_contain_text("Kindred is restarting")
            assert server.process.wait(15) in (0, -signal.SIGTERM)
        finally:
            context.close()
    finally:
        stop_server(server.process)
