"""Who may connect, what the server does with bad input, and the limits: always an error
frame or the documented close code, never a crashed handler or a silently lost message."""

from __future__ import annotations

import dataclasses
import json

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chat.controls import set_slow_mode
from chat.runtime import TRANSPORT_MAX_BYTES
from tests.chat.conftest import eventually, messages, next_frame, nothing_more, send


async def test_other_sites_are_refused_before_the_upgrade(live) -> None:
    await live.room()
    heron = await live.member("Heron")
    with pytest.raises(InvalidStatus) as refused:
        async with live.connect(heron, origin="https://evil.example"):
            pass
    assert refused.value.response.status_code == 403
    assert json.loads(refused.value.response.body)["error"]["code"] == "cross_site"
    async with live.connect(heron, origin=live.url) as ws:  # our own pages are fine
        assert (await next_frame(ws))["type"] == "hello"


async def test_signed_out_and_unknown_are_refused_before_the_upgrade(live) -> None:
    await live.room()
    await live.room("members", members_only=True)
    heron = await live.member("Heron")
    for who, room, status in (
        (None, "lobby", 403),
        (dataclasses.replace(heron, token="not-a-token"), "lobby", 403),
        (heron, "no-such-room", 404),
    ):
        with pytest.raises(InvalidStatus) as refused:
            async with live.connect(who, room):
                pass
        assert refused.value.response.status_code == status
    async with live.connect(heron, "members") as ws:
        assert (await next_frame(ws))["room"]["members_only"] is True


async def test_a_session_cookie_is_accepted_like_a_token(live) -> None:
    await live.room()
    heron = await live.member("Heron")
    from core.web.cookies import session_cookie_name

    cookie = f"{session_cookie_name(live.ctx.settings)}={heron.token}"
    url = f"{live.ws_url}/ws/rooms/lobby"
    from websockets.asyncio.client import connect

    async with connect(url, origin=live.url, additional_headers={"Cookie": cookie}) as ws:  # type: ignore[arg-type]
        assert (await next_frame(ws))["you"]["pseudonym"] == "Heron"


async def test_bad_frames_get_error_frames_and_the_connection_stays(live) -> None:
    await live.room()
    await live.room("elsewhere")
    heron = await live.member("Heron")
    cases = [
        ("not json at all", "bad_json", None),
        (b"\x00\x01binary", "bad_frame", None),
        ("[1, 2, 3]", "bad_frame", None),
        ('{"no": "type"}', "unknown_type", None),
        ('{"type": "dance", "client_id": "c1"}', "unknown_type", "c1"),
        ('{"type": "send", "client_id": "c2"}', "invalid", "c2"),
        ('{"type": "send", "body": 42, "client_id": "c3"}', "invalid", "c3"),
        ('{"type": "send", "body": "   ", "client_id": "c4"}', "invalid", "c4"),
        ('{"type": "send", "body": "hi", "client_id": 7}', "invalid", 7),
        ('{"type": "send", "body": "hi", "client_id": "has spaces"}', "invalid", "has spaces"),
        ('{"type": "history", "before": "yesterday"}', "invalid", None),
        ('{"type": "history", "limit": 1000}', "invalid", None),
        ('{"type": "history", "limit": true}', "invalid", None),
        ('{"type": "history", "room": "elsewhere"}', "not_found", None),
    ]
    async with live.connect(heron) as ws:
        await next_frame(ws, "hello")
        for raw, code, client_id in cases:
            await ws.send(raw)
            error = await next_frame(ws, "error")
            assert (error["code"], error["client_id"]) == (code, client_id), raw
            assert error["message"]
        await ws.send('{"type": "ping"}')
        assert await next_frame(ws) == {"type": "pong"}
        await send(ws, "still here", "ok")
        assert (await messages(ws, 1))[0]["client_id"] == "ok"


async def test_an_oversized_frame_is_explained_then_closed_with_1009(live) -> None:
    await live.room()
    heron = await live.member("Heron")
    async with live.connect(heron) as ws:
        await next_frame(ws, "hello")
        await send(ws, "x" * (200 * 1024), "huge")  # a 200 KB paste from a client that sends it
        error = await next_frame(ws)
        with pytest.raises(ConnectionClosed) as closed:
            await next_frame(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    # Said first, in words and numbers, for the frame it answers: the text goes back to its
    # author, who can shorten it.
    assert (error["type"], error["code"], error["client_id"]) == ("error", "too_long", "huge")
    assert error["limits"] == {"max_chars": 4000, "max_frame_bytes": 16384}
    assert "up to 4,000 characters" in error["message"]
    async with live.connect(heron) as ws:  # the server carries on, and stored nothing
        hello = await next_frame(ws, "hello")
        assert hello["last_id"] == 0


async def test_a_frame_past_what_the_transport_reads_is_closed_with_1009(live) -> None:
    await live.room()
    heron = await live.member("Heron")
    async with live.connect(heron) as ws:
        await next_frame(ws, "hello")
        await send(ws, "x" * TRANSPORT_MAX_BYTES, "enormous")
        with pytest.raises(ConnectionClosed) as closed:
            await next_frame(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_a_flood_of_frames_is_refused_then_closed_with_1008(live) -> None:
    await live.room()
    heron = await live.member("Heron")
    async with live.connect(heron) as ws:
        await next_frame(ws, "hello")
        for _ in range(live.chat.flood_close + 5):
            await ws.send('{"type": "ping"}')
        codes = []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                frame = await next_frame(ws)
                codes.append(frame.get("code", frame["type"]))
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert codes.count("pong") == live.chat.flood_frames
    assert "rate_limited" in codes


async def test_a_member_over_the_send_rate_is_told_to_wait(live_settings, serve_with) -> None:
    limited = dataclasses.replace(
        live_settings, rate_limits="signup_network=1000/hour;chat_send=3/30seconds"
    )
    async with serve_with(limited) as live:
        await live.room()
        heron = await live.member("Heron")
        async with live.connect(heron) as ws:
            await next_frame(ws, "hello")
            for n in range(4):
                await send(ws, f"message {n}", f"c{n}")
            await messages(ws, 3)
            error = await next_frame(ws, "error")
            assert (error["code"], error["client_id"]) == ("rate_limited", "c3")
            assert 0 < error["retry_after"] <= 30
            await nothing_more(ws, "message")


async def test_the_content_pipeline_decides(live) -> None:
    room = await live.room()
    heron = await live.member("Heron")
    async with live.connect(heron) as ws:
        await next_frame(ws, "hello")
        await send(ws, "**bold** <script>alert(1)</script>", "safe")
        (published,) = await messages(ws, 1)
        assert "<strong>bold</strong>" in published["html"]
        assert "<script" not in published["html"]

        await send(ws, "y" * 4001, "long")
        error = await next_frame(ws, "error")
        assert (error["code"], error["client_id"]) == ("too_long", "long")

        await send(ws, "Text me on 07700 900123 if you want to talk", "phone")
        error = await next_frame(ws, "error")
        assert (error["code"], error["client_id"]) == ("held", "phone")
        await send(ws, "Text me on 07700 900123 if you want to talk", "phone")  # resent
        assert (await next_frame(ws, "error"))["code"] == "held"

        await send(ws, "I want to kill myself", "crisis")
        # Published, with support offered to the author: the notice is the author's alone and
        # the message comes through the room's fan-out, so either may arrive first.
        got = {}
        while len(got) < 2:
            frame = await next_frame(ws, "message", "notice")
            got[frame["type"]] = frame
        shown, notice = got["message"], got["notice"]
        assert shown["client_id"] == "crisis"
        assert (notice["code"], notice["client_id"]) == ("crisis", "crisis")
        assert isinstance(notice["resources"], list)
        await nothing_more(ws, "message")
    async with live.ctx.db.read() as s:
        from sqlmodel import select

        from chat.models import ChatMessage

        rows = list(await s.exec(select(ChatMessage).where(ChatMessage.room_id == room.id)))
    assert sorted((m.client_id, m.status, m.seq) for m in rows) == [
        ("crisis", "published", 2),
        ("phone", "held", None),
        ("safe", "published", 1),
    ]


async def test_slow_mode_spaces_out_each_members_messages(live) -> None:
    from identity.accounts import find_member, set_roles

    room = await live.room()
    heron, wren = await live.member("Heron"), await live.member("Wren")
    await set_roles(live.ctx.db, "Heron", admin=True)
    await set_slow_mode(live.ctx, await find_member(live.ctx.db, "Heron"), room, 30)  # type: ignore[arg-type]
    async with live.connect(wren) as w, live.connect(heron) as h:
        assert (await next_frame(w, "hello"))["room"]["slow_mode_seconds"] == 30
        await next_frame(h, "hello")
        await send(w, "first", "w1")
        await messages(w, 1)
        await send(w, "second", "w2")
        error = await next_frame(w, "error")
        assert (error["code"], error["client_id"]) == ("slow_mode", "w2")
        assert 0 < error["retry_after"] <= 30
        for n in range(2):  # moderators are not slowed
            await send(h, f"mod {n}", f"h{n}")
        assert [m["client_id"] for m in await messages(h, 3)] == ["w1", "h0", "h1"]


async def test_the_server_pings_and_answers_pings(live) -> None:
    await live.room()
    heron = await live.member("Heron")
    async with live.connect(heron, ping_interval=None) as ws:
        await next_frame(ws, "hello")
        await ws.send('{"type": "ping"}')
        assert await next_frame(ws) == {"type": "pong"}
        latency = await ws.ping()  # protocol-level ping: uvicorn answers
        await latency


async def test_leaving_clears_the_room_from_the_hub(live) -> None:
    room = await live.room()
    heron = await live.member("Heron")
    async with live.connect(heron) as ws:
        await next_frame(ws, "hello")
        assert live.chat.hub.connections(room.id) == 1
    await eventually(lambda: room.id not in live.chat.hub.rooms)
