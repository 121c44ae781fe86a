"""Delivery guarantees over real WebSockets: fan-out, order, resume, idempotent resends,
slow consumers."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from sqlmodel import func, select
from websockets.exceptions import ConnectionClosed

from chat.models import ChatMessage
from core.errors import Refusal
from tests.chat.conftest import (
    TIMEOUT,
    eventually,
    messages,
    next_frame,
    nothing_more,
    send,
)


@pytest.fixture
def live_settings(live_settings):
    import dataclasses

    # These tests send more than a member's burst allowance; test_limits checks the limits.
    return dataclasses.replace(live_settings, rate_limits="off")


async def test_a_message_reaches_every_connection_once_the_author_included(live) -> None:
    await live.room()
    members = [await live.member(name) for name in ("Heron", "Wren", "Kestrel")]
    connections = [live.connect(m) for m in members for _ in range(20)]  # 60 sockets
    sockets = [await c.__aenter__() for c in connections]
    try:
        for ws in sockets:
            assert (await next_frame(ws, "hello"))["last_id"] == 0
        author = sockets[0]
        for n in range(3):
            await send(author, f"message {n}", f"cid-{n}")
        for ws in sockets:
            got = await messages(ws, 3)
            assert [m["id"] for m in got] == [1, 2, 3]
            assert [m["client_id"] for m in got] == ["cid-0", "cid-1", "cid-2"]
            assert got[0]["author"] == {"pseudonym": "Heron"}
            assert got[0]["html"] == "<p>message 0</p>\n"
        await nothing_more(sockets[-1], "message")
    finally:
        for c in connections:
            await c.__aexit__(None, None, None)


async def test_concurrent_senders_are_seen_in_one_order_without_gaps(live) -> None:
    await live.room()
    senders = [await live.member(f"Sender{n}") for n in range(5)]
    watcher = await live.member("Watcher")
    async with live.connect(watcher) as watch:
        await next_frame(watch, "hello")

        async def burst(member, n: int) -> None:
            async with live.connect(member) as ws:
                await next_frame(ws, "hello")
                for i in range(n):
                    await send(ws, f"{member.pseudonym} {i}", f"{member.pseudonym}-{i}")
                mine = {f"{member.pseudonym}-{i}" for i in range(n)}
                while mine:  # stay until every one of ours has come back
                    mine.discard((await next_frame(ws, "message"))["client_id"])

        await asyncio.gather(*(burst(m, 10) for m in senders))
        got = await messages(watch, 50)
    assert [m["id"] for m in got] == list(range(1, 51))
    assert len({m["client_id"] for m in got}) == 50


async def test_resume_after_disconnect_gets_exactly_what_was_missed(live) -> None:
    await live.room()
    heron, wren = await live.member("Heron"), await live.member("Wren")
    async with live.connect(heron) as author:
        await next_frame(author, "hello")
        async with live.connect(wren) as ws:
            await next_frame(ws, "hello")
            for n in range(3):
                await send(author, f"before {n}", f"b{n}")
            last = (await messages(ws, 3))[-1]["id"]
        for n in range(4):  # while Wren is away
            await send(author, f"away {n}", f"a{n}")
        await messages(author, 7)
        async with live.connect(wren, after=last) as ws:
            hello = await next_frame(ws)
            assert hello["type"] == "hello" and hello["last_id"] == 7
            missed = await messages(ws, 4)
            assert [m["id"] for m in missed] == [4, 5, 6, 7]
            assert [m["client_id"] for m in missed] == ["a0", "a1", "a2", "a3"]
            await send(author, "back again", "c0")
            assert [m["id"] for m in await messages(ws, 1)] == [8]
            await nothing_more(ws, "message")


async def test_reconnecting_during_a_stream_loses_and_duplicates_nothing(live) -> None:
    """A member drops off and comes back again and again while others keep talking."""
    await live.room()
    heron, wren = await live.member("Heron"), await live.member("Wren")
    total = 60
    seen: list[int] = []

    async def talk() -> None:
        async with live.connect(heron) as ws:
            await next_frame(ws, "hello")
            for n in range(total):
                await send(ws, f"line {n}", f"line-{n}")
                await asyncio.sleep(0.005)
            await messages(ws, total)

    async def flaky_listener() -> None:
        last = 0
        while not seen or seen[-1] < total:
            async with live.connect(wren, after=last) as ws:
                await next_frame(ws, "hello")
                for _ in range(7):  # read a few, then drop the connection abruptly
                    frame = await next_frame(ws, "message")
                    seen.append(frame["id"])
                    last = frame["id"]
                    if last == total:
                        break

    async with asyncio.timeout(TIMEOUT * 3):
        await asyncio.gather(talk(), flaky_listener())
    assert seen == list(range(1, total + 1))


async def test_resending_a_client_id_never_makes_a_second_message(live) -> None:
    room = await live.room()
    heron, wren = await live.member("Heron"), await live.member("Wren")
    async with live.connect(heron) as author, live.connect(wren) as other:
        await next_frame(author, "hello")
        await next_frame(other, "hello")
        await send(author, "only once", "same-id")
        first = (await messages(author, 1))[0]
        await send(author, "only once", "same-id")
        again = await next_frame(author, "message")
        assert again == first  # the original, answered to the sender
        assert (await messages(other, 1))[0]["id"] == first["id"]
        await nothing_more(other, "message")
    async with live.connect(heron, after=first["id"]) as author:  # and after a reconnect
        await next_frame(author, "hello")
        await send(author, "only once", "same-id")
        assert (await next_frame(author, "message"))["id"] == first["id"]
    async with live.ctx.db.read() as s:
        count = (await s.exec(select(func.count()).where(ChatMessage.room_id == room.id))).one()
    assert count == 1


async def test_the_same_client_id_from_two_connections_at_once_is_one_message(live) -> None:
    room = await live.room()
    heron = await live.member("Heron")
    async with live.connect(heron) as a, live.connect(heron) as b:
        await next_frame(a, "hello")
        await next_frame(b, "hello")
        await asyncio.gather(send(a, "twice?", "race"), send(b, "twice?", "race"))
        ids = {(await next_frame(ws, "message"))["id"] for ws in (a, b)}
    assert ids == {1}
    async with live.ctx.db.read() as s:
        rows = list(await s.exec(select(ChatMessage).where(ChatMessage.room_id == room.id)))
    assert len(rows) == 1


def _tiny_receive_buffer(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


async def test_a_client_that_falls_behind_is_closed_with_1013_and_resumes(
    live_settings, serve_with
) -> None:
    async with serve_with(live_settings, send_buffer=8192) as live:
        await _falls_behind(live)


async def _falls_behind(live) -> None:
    room = await live.room()
    live.chat.hub.queue_size = 8
    heron, slow = await live.member("Heron"), await live.member("Snail")
    port = int(live.url.rsplit(":", 1)[1])
    async with live.connect(heron, max_queue=None) as author:
        await next_frame(author, "hello")
        sock = _tiny_receive_buffer(port)
        async with live.connect(slow, sock=sock, max_queue=1) as lagging:
            await next_frame(lagging, "hello")
            channel = live.chat.hub.rooms[room.id]
            (listener,) = [ls for ls in channel.listeners if ls.member_id == slow.id]
            big = "&" * 3900  # 20 KB of HTML a message: the buffers fill sooner
            sent = 0
            while not listener.closing.is_set():  # the lagging client reads nothing
                assert sent < 2000, "the slow client was never cut off"
                await send(author, big, f"big-{sent}")
                sent += 1
                await asyncio.sleep(0.002)
            received: list[int] = []
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    received.append((await next_frame(lagging, "message"))["id"])
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
        # The room went on without it, and it resumes from what it last saw.
        ids = [m["id"] for m in await messages(author, sent)]
        assert ids == list(range(1, sent + 1))
        last = received[-1] if received else 0
        assert received == list(range(1, last + 1))
        async with live.connect(slow, after=last) as resumed:
            await next_frame(resumed, "hello")
            rest = [m["id"] for m in await messages(resumed, sent - last)]
            assert rest == list(range(last + 1, sent + 1))
            await nothing_more(resumed, "message")


async def test_blocked_members_messages_are_hidden_from_the_blocker(live) -> None:
    from identity.accounts import find_member
    from identity.blocks import block_member

    await live.room()
    heron, wren, kit = [await live.member(n) for n in ("Heron", "Wren", "Kit")]
    blocker = await find_member(live.ctx.db, "Wren")
    await block_member(live.ctx.db, blocker, "Heron")  # type: ignore[arg-type]
    async with live.connect(heron) as h, live.connect(wren) as w, live.connect(kit) as k:
        for ws in (h, w, k):
            await next_frame(ws, "hello")
        await send(h, "from heron", "h1")
        assert [m["client_id"] for m in await messages(k, 1)] == ["h1"]
        await send(k, "from kit", "k1")
        assert [m["client_id"] for m in await messages(k, 1)] == ["k1"]
        assert [m["client_id"] for m in await messages(w, 1)] == ["k1"]
        await w.send(json.dumps({"type": "history", "limit": 10}))
        history = await next_frame(w, "history")
        assert [m["client_id"] for m in history["messages"]] == ["k1"]
    async with live.connect(wren, after=0) as w:  # nor on resume
        await next_frame(w, "hello")
        assert [m["client_id"] for m in await messages(w, 1)] == ["k1"]
        await nothing_more(w, "message")


async def test_presence_shows_who_is_here_and_hides_those_who_ask(live) -> None:
    await live.room()
    heron, wren, kit = [await live.member(n) for n in ("Heron", "Wren", "Kit")]
    async with live.connect(heron) as h:
        assert (await next_frame(h, "hello"))["members"] == [{"pseudonym": "Heron"}]
        async with live.connect(wren) as w:
            hello = await next_frame(w, "hello")
            assert sorted(m["pseudonym"] for m in hello["members"]) == ["Heron", "Wren"]
            assert await next_frame(h, "presence") == {
                "type": "presence",
                "joined": [{"pseudonym": "Wren"}],
                "left": [],
            }
            async with live.connect(kit, query="presence=hidden") as k:
                hello = await next_frame(k, "hello")
                assert hello["you"] == {"pseudonym": "Kit", "presence": "hidden"}
                joined = await next_frame(h, "presence")
                assert joined["joined"] == [{"pseudonym": None}]
            assert (await next_frame(h, "presence"))["left"] == [{"pseudonym": None}]
            async with live.connect(wren):  # a second tab: still one Wren
                await nothing_more(h, "presence")
        assert (await next_frame(h, "presence"))["left"] == [{"pseudonym": "Wren"}]


async def test_history_pages_backwards(live) -> None:
    await live.room()
    heron = await live.member("Heron")
    async with live.connect(heron) as ws:
        await next_frame(ws, "hello")
        for n in range(5):
            await send(ws, f"m{n}", f"m{n}")
        await messages(ws, 5)
        await ws.send(json.dumps({"type": "history", "before": 4, "limit": 2}))
        page = await next_frame(ws, "history")
        assert [m["id"] for m in page["messages"]] == [2, 3]
        assert page["more"] is True and page["before"] == 4
        await ws.send(json.dumps({"type": "history", "before": 2, "limit": 50}))
        page = await next_frame(ws, "history")
        assert [m["id"] for m in page["messages"]] == [1] and page["more"] is False


async def test_a_moderator_removes_a_message_everywhere(live) -> None:
    from chat import controls
    from identity.accounts import find_member, set_roles

    room = await live.room()
    heron, wren = await live.member("Heron"), await live.member("Wren")
    await set_roles(live.ctx.db, "Heron", admin=True)  # admins moderate site-wide rooms
    async with live.connect(wren) as w:
        await next_frame(w, "hello")
        await send(w, "something unkind", "u1")
        await send(w, "sorry", "u2")
        first, _ = await messages(w, 2)
        moderator = await find_member(live.ctx.db, "Heron")
        await controls.remove_message(live.ctx, moderator, room, first["id"])  # type: ignore[arg-type]
        assert await next_frame(w, "removed") == {"type": "removed", "id": first["id"]}
        with pytest.raises(Refusal):
            await controls.remove_message(live.ctx, await find_member(live.ctx.db, "Wren"), room, 2)  # type: ignore[arg-type]
    async with live.connect(heron, after=0) as h:
        await next_frame(h, "hello")
        assert [m["id"] for m in await messages(h, 1)] == [2]


async def test_the_hub_fills_a_gap_from_the_database(live) -> None:
    """Two messages are committed but only the second one's event reaches the broker (as
    when a worker dies between commit and publish, or events from two workers cross)."""
    from chat import events
    from identity.accounts import find_member
    from moderation import policy

    room = await live.room()
    heron, wren = await live.member("Heron"), await live.member("Wren")
    author = await find_member(live.ctx.db, "Heron")
    async with live.connect(wren) as ws:
        await next_frame(ws, "hello")
        decision = policy.check_text("committed", policy.ContentKind.CHAT, policy.CommunityPolicy())
        await _stored(live, room, author, "g1", decision)
        second = await _stored(live, room, author, "g2", decision)
        frame = events.message_frame(second, heron.pseudonym, room.slug)
        event = events.message_event(second.seq, heron.id, frame)  # type: ignore[arg-type]
        await live.ctx.broker.publish(events.room_channel(room.id), event)  # type: ignore[arg-type]
        got = await messages(ws, 2)
        assert [(m["id"], m["client_id"]) for m in got] == [(1, "g1"), (2, "g2")]
        await live.ctx.broker.publish(events.room_channel(room.id), event)  # type: ignore[arg-type]
        await nothing_more(ws, "message")  # a late duplicate is dropped


async def _stored(live, room, author, client_id: str, decision):  # type: ignore[no-untyped-def]
    """Commit a message the way a send does, without publishing its event."""
    from chat.models import ChatMessage
    from chat.writer import MessageWriter

    message = ChatMessage(
        room_id=room.id,
        author_id=author.id,
        client_id=client_id,
        body=decision.text,
        html=decision.html,
    )
    stored = await MessageWriter(live.ctx.db).store(
        message, community_id=None, held=False, crisis=False
    )
    assert stored is not None
    return stored


async def test_a_block_takes_effect_on_open_connections_at_once(live) -> None:
    """Blocking someone hides their messages on the blocker's open socket, no reconnect."""
    import httpx

    from tests.helpers import form_token

    await live.room()
    wren, heron = await live.member("Wren"), await live.member("Heron")
    browser = httpx.AsyncClient(
        base_url=live.url, headers={"authorization": f"Bearer {wren.token}"}
    )
    async with live.connect(wren) as w, live.connect(heron) as h:
        await next_frame(w, "hello")
        await next_frame(h, "hello")
        await send(h, "before the block", "b1")
        assert (await messages(w, 1))[0]["client_id"] == "b1"
        await messages(h, 1)
        token = form_token((await browser.get("/account")).text)
        blocked = await browser.post(
            "/account/blocks", data={"csrf_token": token, "block": "Heron"}
        )
        assert blocked.status_code == 303, blocked.text
        await eventually(lambda: _hides(live, wren.id, heron.id))
        await send(h, "after the block", "b2")
        assert (await messages(h, 1))[0]["client_id"] == "b2"  # Heron's own socket has it
        await send(w, "still talking", "w1")
        assert (await messages(w, 1))[0]["client_id"] == "w1"  # and Wren's skipped "b2"
    await browser.aclose()


def _hides(live, member_id: int, author_id: int) -> bool:
    return any(
        author_id in listener.hidden
        for channel in live.chat.hub.rooms.values()
        for listener in channel.listeners
        if listener.member_id == member_id
    )


async def test_idle_connections_are_written_to_directly(live) -> None:
    """Kindred's server (uvicorn's sans-I/O protocol) lets the hub write a frame straight to
    an idle connection (core/web/frames.py); if an upgrade of uvicorn took that away, every
    delivery would quietly go through a queue and a task switch again, so say so here."""
    await live.room()
    wren = await live.member("Wren")
    async with live.connect(wren) as ws:
        await next_frame(ws, "hello")
        [channel] = live.chat.hub.rooms.values()
        await eventually(lambda: all(x.send_now is not None for x in channel.listeners))
        await send(ws, "straight through", "d1")
        assert (await messages(ws, 1))[0]["client_id"] == "d1"
