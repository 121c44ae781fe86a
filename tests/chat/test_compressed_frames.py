"""A client that asks for compressed frames (subprotocol `kindred.deflate`, core/web/deflate.py)
gets every frame as one binary frame of newline-ended JSON, deflated with the window kept from
frame to frame: the same frames, in the same order, as a client that did not ask, in far
fewer bytes. Clients that don't ask see no change."""

from __future__ import annotations

import asyncio
import json
import zlib

import pytest

from core.web.deflate import SUBPROTOCOL, Deflater, Inflater
from tests.chat.conftest import TIMEOUT, messages, next_frame, send

PROSE = [
    "Today was hard, but I made it to the group and that counts for something.",
    "Thank you for saying that. I had the same fear before my first meeting.",
    "Does anyone else find the evenings the worst part of the day?",
    "Small steps. I went for a walk around the block and it helped a little.",
]


@pytest.fixture
def live_settings(live_settings):
    import dataclasses

    return dataclasses.replace(live_settings, rate_limits="off")  # more than a burst is sent


class Reader:
    """A client's side of a compressed socket: the frames, and what they cost on the wire."""

    def __init__(self, ws) -> None:
        self.ws, self.inflate, self.wire, self.text = ws, Inflater(), 0, 0

    async def frame(self, *types: str) -> dict:
        async with asyncio.timeout(TIMEOUT):
            while True:
                data = await self.ws.recv()
                assert isinstance(data, bytes), "a compressed socket sends binary frames only"
                self.wire += len(data)
                text = self.inflate(data)
                self.text += len(text.encode())
                frame = json.loads(text)
                if not types or frame["type"] in types:
                    return frame


def test_frames_round_trip_in_order_and_shrink_as_the_window_fills() -> None:
    deflate, inflate = Deflater(), Inflater()
    frames = [
        json.dumps({"type": "message", "id": n, "body": PROSE[n % 4], "client_id": f"c{n}"})
        for n in range(40)
    ]
    sizes = []
    for frame in frames:
        data = deflate(frame)
        assert not data.endswith(b"\x00\x00\xff\xff")  # RFC 7692: the reader puts it back
        assert inflate(data) == frame
        sizes.append(len(data))
    assert sum(sizes[4:]) < 0.4 * sum(len(f) for f in frames[4:])  # the window remembers
    # Any raw-deflate reader with a 32 KB window (a browser's DecompressionStream) reads it.
    whole = zlib.decompressobj(-15).decompress(
        b"".join(Deflater()(f) + b"\x00\x00\xff\xff" for f in frames)
    )
    assert whole.decode().split("\n")[:-1] == frames


async def test_a_client_that_asks_gets_the_same_frames_compressed(live) -> None:
    await live.room()
    author, quiet = await live.member("Heron"), await live.member("Wren")
    async with (
        live.connect(author) as plain,
        live.connect(quiet, subprotocols=[SUBPROTOCOL]) as ws,
    ):
        assert plain.subprotocol is None
        assert ws.subprotocol == SUBPROTOCOL
        reader = Reader(ws)
        hello = await reader.frame()
        assert hello["type"] == "hello" and hello["you"]["pseudonym"] == "Wren"
        await next_frame(plain, "hello")
        # Sent at once, so the hub both writes straight to the idle socket and queues behind
        # a busy one: the compressor must see them in the order they leave.
        for n in range(60):
            await send(plain, PROSE[n % 4] + f" ({n})", f"cid-{n}")
        expected = await messages(plain, 60)
        got = [await reader.frame("message") for _ in range(60)]
        assert got == expected
        assert reader.wire < 0.5 * reader.text, (reader.wire, reader.text)

        # A frame the server sends this client alone (an answer) comes the same way.
        await ws.send(json.dumps({"type": "ping"}))
        assert (await reader.frame("pong"))["type"] == "pong"


async def test_resuming_sends_the_backlog_compressed_and_in_order(live) -> None:
    await live.room()
    author, back = await live.member("Heron"), await live.member("Wren")
    async with live.connect(author) as ws:
        await next_frame(ws, "hello")
        for n in range(12):
            await send(ws, PROSE[n % 4], f"early-{n}")
        sent = await messages(ws, 12)
        async with live.connect(back, after=3, subprotocols=[SUBPROTOCOL]) as resumed:
            reader = Reader(resumed)
            await reader.frame("hello")
            got = [await reader.frame("message") for _ in range(9)]
            assert [m["id"] for m in got] == [m["id"] for m in sent[3:]]
            await send(ws, "And one more, live.", "late")
            assert (await reader.frame("message"))["client_id"] == "late"


async def test_not_compressed_twice_where_the_server_compresses_every_socket(serve_with, settings):
    import dataclasses

    # KINDRED_WS_DEFLATE on: a client offering permessage-deflate gets that (here the test
    # server leaves it to the app's setting alone), so the subprotocol is not chosen too.
    async with serve_with(dataclasses.replace(settings, ws_deflate="on")) as server:
        await server.room()
        member = await server.member("Heron")
        async with server.connect(member, subprotocols=[SUBPROTOCOL], compression="deflate") as ws:
            assert ws.subprotocol is None
        async with server.connect(member, subprotocols=[SUBPROTOCOL], compression=None) as ws:
            assert ws.subprotocol == SUBPROTOCOL  # it offered no permessage-deflate


async def test_other_subprotocols_are_not_chosen_and_frames_stay_text(live) -> None:
    await live.room()
    member = await live.member("Heron")
    async with live.connect(member, subprotocols=["kindred.gzip", "chat"]) as ws:
        assert ws.subprotocol is None
        assert isinstance(await ws.recv(), str)
