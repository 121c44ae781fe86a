"""Moderation reaches chat at once: a mute is pushed to the member's open connection and
their next message is refused; a reported message removed from the queue is withdrawn from
every connected client; held and crisis messages reach the queue."""

from __future__ import annotations

import dataclasses

import httpx

from identity import accounts
from moderation.audit import audit_entries
from tests.chat.conftest import messages, next_frame, send
from tests.helpers import PASSPHRASE


async def moderator_client(live) -> httpx.AsyncClient:
    ctx = live.ctx
    await accounts.sign_up(ctx.db, ctx.settings, "Chat-Admin", PASSPHRASE, is_admin=True)
    client = httpx.AsyncClient(base_url=live.url)
    response = await client.post(
        "/api/v1/login", json={"pseudonym": "Chat-Admin", "passphrase": PASSPHRASE, "token": True}
    )
    client.headers["authorization"] = f"Bearer {response.json()['token']}"
    return client


async def test_mute_is_live_and_the_next_message_is_refused(live) -> None:
    await live.room()
    noisy = await live.member("Noisy")
    admin = await moderator_client(live)
    async with live.connect(noisy) as ws:
        await next_frame(ws, "hello")
        await send(ws, "first", "c1")
        assert (await messages(ws, 1))[0]["client_id"] == "c1"
        muted = await admin.post(
            f"/api/v1/moderation/members/{noisy.id}/sanctions",
            json={"kind": "mute", "hours": 24, "reason": "flooding the room"},
        )
        assert muted.status_code == 201, muted.text
        pushed = await next_frame(ws, "error")
        assert pushed["code"] == "muted" and "flooding the room" in pushed["message"]
        await send(ws, "second", "c2")
        refused = await next_frame(ws, "error")
        assert (refused["code"], refused["client_id"]) == ("muted", "c2")
    await admin.aclose()
    async with live.ctx.db.read() as s:
        entries = await audit_entries(s)
    assert [(e.action, e.actor_name) for e in entries] == [("mute", "Chat-Admin")]


async def test_reported_message_removed_from_the_queue_is_withdrawn(live) -> None:
    await live.room()
    author = await live.member("Author")
    reader = await live.member("Reader")
    admin = await moderator_client(live)
    async with live.connect(author) as a, live.connect(reader) as r:
        await next_frame(a, "hello")
        await next_frame(r, "hello")
        await send(a, "something unkind", "k1")
        [message] = await messages(r, 1)
        report = await httpx.AsyncClient(
            base_url=live.url, headers={"authorization": f"Bearer {reader.token}"}
        ).post(
            "/api/v1/reports",
            json={
                "kind": "chat_message",
                "room": "lobby",
                "id": message["id"],
                "reason": "harassment",
            },
        )
        assert report.status_code == 201, report.text
        [item] = (await admin.get("/api/v1/moderation/queue")).json()["items"]
        assert item["kind"] == "chat_message"
        done = await admin.post(
            f"/api/v1/moderation/cases/{item['case_id']}/actions",
            json={"action": "delete", "reason": "be kind"},
        )
        assert done.status_code == 200
        assert (await next_frame(r, "removed")) == {"type": "removed", "id": message["id"]}
        assert (await next_frame(a, "removed"))["id"] == message["id"]
    await admin.aclose()


async def test_crisis_chat_message_goes_to_the_top_of_the_queue(live) -> None:
    await live.room()
    member = await live.member("Struggling")
    admin = await moderator_client(live)
    async with live.connect(member) as ws:
        await next_frame(ws, "hello")
        await send(ws, "I want to kill myself tonight", "x1")
        notice = await next_frame(ws, "notice")
        assert notice["code"] == "crisis" and notice["resources"]
    [item] = (await admin.get("/api/v1/moderation/queue")).json()["items"]
    assert item["crisis"] is True and item["kind"] == "chat_message"
    await admin.aclose()


async def test_lock_clear_and_slow_mode_are_audited(live) -> None:
    await live.room()
    talker = await live.member("Talker")
    admin = await moderator_client(live)
    room = await live.room()
    ctx = live.ctx
    from chat import controls
    from identity.accounts import find_member

    moderator = await find_member(ctx.db, "Chat-Admin")
    async with live.connect(talker) as ws:
        await next_frame(ws, "hello")
        for n in range(3):
            await send(ws, f"message {n}", f"m{n}")
        sent = await messages(ws, 3)
        assert await controls.clear_member_messages(ctx, moderator, room, "talker") == 3
        withdrawn = {(await next_frame(ws, "removed"))["id"] for _ in range(3)}
        assert withdrawn == {m["id"] for m in sent}
        await controls.set_locked(ctx, moderator, room, True)
        await send(ws, "still here?", "m9")
        refused = await next_frame(ws, "error")
        assert (refused["code"], refused["client_id"]) == ("locked", "m9")
        await controls.set_locked(ctx, moderator, room, False)
        await controls.set_slow_mode(ctx, moderator, room, 86400)  # the longest preset: a day
        await send(ws, "again", "s1")  # the member spoke minutes ago
        assert (await next_frame(ws, "error"))["code"] == "slow_mode"
    async with ctx.db.read() as s:
        actions = [e.action for e in await audit_entries(s)]
    assert actions == ["slow_mode", "unlock_room", "lock_room", "clear_chat_messages"]
    await admin.aclose()


async def test_a_moderators_edit_reaches_connected_clients_at_once(live) -> None:
    await live.room()
    author, reader = await live.member("Author"), await live.member("Reader")
    admin = await moderator_client(live)
    as_reader = httpx.AsyncClient(
        base_url=live.url, headers={"authorization": f"Bearer {reader.token}"}
    )
    async with live.connect(author) as a, live.connect(reader) as r:
        await next_frame(a, "hello")
        await next_frame(r, "hello")
        await send(a, "that was a stupid thing to say", "e1")
        [message] = await messages(r, 1)
        report = await as_reader.post(
            "/api/v1/reports",
            json={"kind": "chat_message", "room": "lobby", "id": message["id"], "reason": "spam"},
        )
        assert report.status_code == 201, report.text
        [item] = (await admin.get("/api/v1/moderation/queue")).json()["items"]
        edited = await admin.post(
            f"/api/v1/moderation/cases/{item['case_id']}/actions",
            json={"action": "edit", "text": "that was a thing to say", "reason": "kinder words"},
        )
        assert edited.status_code == 200, edited.text
        for ws in (r, a):
            update = await next_frame(ws, "updated")
            assert update["message"]["id"] == message["id"]
            assert "stupid" not in update["message"]["html"]
            assert "that was a thing to say" in update["message"]["html"]
    await as_reader.aclose()
    await admin.aclose()


async def test_a_new_members_first_messages_wait_for_a_moderator_and_links_are_refused(
    live_settings, serve_with
) -> None:
    # The forum's new-member rules hold in chat too (one vetting call for every surface):
    # the message is stored held, its author told so, and it reaches the review queue.
    from tests.chat.people import make_community

    settings = dataclasses.replace(live_settings, new_member_posts=2, link_posts=3)
    async with serve_with(settings) as live:
        community = await make_community(live.ctx)
        await live.room(community_id=community.id)
        newcomer = await live.member("Newcomer")
        reader = await live.member("Reader")
        admin = await moderator_client(live)
        async with live.connect(newcomer) as ws, live.connect(reader) as r:
            await next_frame(ws, "hello")
            await next_frame(r, "hello")
            await send(ws, "Hello everyone, first time here", "n1")
            held = await next_frame(ws, "error")
            assert (held["code"], held["client_id"]) == ("held", "n1")
            assert "first messages" in held["message"]
            await send(ws, "see https://example.org/offer", "n2")
            refused = await next_frame(ws, "error")
            assert (refused["code"], refused["client_id"]) == ("links_not_allowed", "n2")
        [item] = (await admin.get("/api/v1/moderation/queue")).json()["items"]
        assert item["kind"] == "chat_message" and item["held"] is True
        await admin.aclose()
