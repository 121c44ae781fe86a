"""Chat load processes: WebSocket clients that join rooms, send at a paced rate and time every
delivery, driven from the benchmark's process through pipes.

Every body carries its send time (time.time_ns) as a plain number, so a receiver computes the
delivery latency from the frame's html with a substring search (no JSON parsing). Each load
process also counts the bytes its sockets read (WebSocket frames with their headers, after
any compression; TCP/IP headers not included) and the characters of the message frames it
decoded, so compression shows as wire bytes against frame bytes.

Compression (`deflate`): "off"; "on", permessage-deflate offered as browsers offer it; "ask",
the subprotocol `kindred.deflate` offered as chat.js does on a slow link (core/web/deflate.py),
each binary frame inflated here.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import time
import uuid
import zlib

from kit import ignore_sigint
from kit.services import raise_nofile

# Varied, ordinary chat lines (no links, no Markdown, nothing the crisis filter looks for), for
# --prose: the bench's own bodies are near-identical and compress far better than members' text.
PROSE = (
    "Thanks for sharing that, it helps to know I'm not the only one.",
    "I tried the breathing exercise this morning and it took the edge off a little.",
    "Some days are better than others; today was mostly okay.",
    "Does anyone have tips for sleeping when your mind won't slow down?",
    "My sister visited at the weekend and we went for a long walk by the river.",
    "I've been keeping a small notebook of good moments, even tiny ones.",
    "It's been three weeks since I started the new routine and I notice a difference.",
    "Welcome! Take your time, there's no pressure to say anything yet.",
    "The group on Thursday evenings has been really kind to me.",
    "I made soup for the first time in months, which felt like a win.",
    "Work was stressful again, but I left on time and that matters.",
    "Has anyone found a good way to explain this to friends who haven't been through it?",
    "I keep coming back here because people listen without judging.",
    "Rain all day here, so I stayed in with a book and a cup of tea.",
    "Small steps still count. Proud of you for reaching out today.",
    "My appointment got moved to next month, which is frustrating, but I'll manage.",
)


def _counting_connection():
    """A ClientConnection that adds up the bytes its socket delivers (one total per process)."""
    from websockets.asyncio.client import ClientConnection

    class CountingConnection(ClientConnection):
        received = 0

        def data_received(self, data: bytes) -> None:
            CountingConnection.received += len(data)
            super().data_received(data)

    return CountingConnection


class Client:
    """One load process: its connections, their readers, and a paced sender."""

    def __init__(self, port: int, conns: list[tuple[str, str]], deflate: str, prose: bool) -> None:
        self.port, self.conns, self.deflate, self.prose = port, conns, deflate, prose
        self.sockets: list = []  # (slug, websocket)
        self.counts: dict[int, int] = {}
        self.chars: dict[int, int] = {}
        self.latencies: dict[int, array.array] = {}
        self.closed = 0
        self.wire = _counting_connection()
        self.wire_mark = 0

    async def connect(self) -> tuple[dict[str, int], int, int]:
        """Open every connection: (connections per room, failed, deflate negotiated)."""
        from websockets.asyncio.client import connect

        gate = asyncio.Semaphore(20)

        async def one(slug: str, token: str):
            async with gate:
                uri = f"ws://127.0.0.1:{self.port}/ws/rooms/{slug}?token={token}"
                try:
                    ws = await connect(
                        uri,
                        compression="deflate" if self.deflate == "on" else None,
                        subprotocols=["kindred.deflate"] if self.deflate == "ask" else None,
                        max_size=None,
                        ping_interval=None,
                        open_timeout=60,
                        create_connection=self.wire,
                    )
                except Exception:
                    return None
                return slug, ws

        opened = await asyncio.gather(*(one(s, t) for s, t in self.conns))
        self.sockets = [o for o in opened if o is not None]
        self.readers = [asyncio.create_task(self.read(ws)) for _, ws in self.sockets]
        rooms: dict[str, int] = {}
        for slug, _ in self.sockets:
            rooms[slug] = rooms.get(slug, 0) + 1
        deflated = sum(1 for _, ws in self.sockets if ws.protocol.extensions or ws.subprotocol)
        return rooms, len(self.conns) - len(self.sockets), deflated

    async def read(self, ws) -> None:
        """Lean receive path: a substring check and the number after ' t' in the html."""
        inflate = zlib.decompressobj(-zlib.MAX_WBITS).decompress if ws.subprotocol else None
        try:
            async for raw in ws:
                if inflate is not None:  # the frame, newline-ended, less its flush's last bytes
                    raw = inflate(raw + b"\x00\x00\xff\xff").decode()
                if '"type":"message"' not in raw:
                    continue
                now = time.time_ns()
                i = raw.find("bench s")
                if i < 0:
                    continue
                j = raw.find(" t", i)
                step = int(raw[i + 7 : j])
                sent = int(raw[j + 2 : j + 21])
                self.counts[step] = self.counts.get(step, 0) + 1
                self.chars[step] = self.chars.get(step, 0) + len(raw)
                self.latencies.setdefault(step, array.array("q")).append(now - sent)
        except Exception:
            pass
        self.closed += 1

    async def send_step(self, step: int, rate: float, duration: float) -> dict[str, int]:
        """Send `rate` messages/s round-robin over this process's connections."""
        self.wire_mark = self.wire.received
        sent: dict[str, int] = {}
        if rate <= 0 or not self.sockets:
            await asyncio.sleep(duration)
            return sent
        start = time.perf_counter()
        total = int(rate * duration)
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            slug, ws = self.sockets[i % len(self.sockets)]
            body = f"bench s{step} t{time.time_ns()}"
            if self.prose:
                body += " " + PROSE[i % len(PROSE)]
            frame = json.dumps({"type": "send", "body": body, "client_id": str(uuid.uuid4())})
            try:
                await ws.send(frame)
            except Exception:
                continue
            sent[slug] = sent.get(slug, 0) + 1
        return sent

    def collect(self, step: int) -> tuple[int, array.array, int, int, int]:
        """(deliveries, latencies ns, closed sockets, bytes read, message-frame characters)."""
        return (
            self.counts.get(step, 0),
            self.latencies.pop(step, array.array("q")),
            self.closed,
            self.wire.received - self.wire_mark,
            self.chars.pop(step, 0),
        )

    async def close(self) -> None:
        await asyncio.gather(*(ws.close() for _, ws in self.sockets), return_exceptions=True)


def client_main(port: int, conns: list[tuple[str, str]], deflate: str, prose: bool, pipe) -> None:
    """Entry point of a load process: obeys ("step", …), ("collect", …), ("quit",)."""
    ignore_sigint()
    raise_nofile()

    async def main() -> None:
        client = Client(port, conns, deflate, prose)
        pipe.send(await client.connect())
        loop = asyncio.get_running_loop()
        while True:
            cmd = await loop.run_in_executor(None, pipe.recv)
            t0 = os.times()
            if cmd[0] == "step":
                sent = await client.send_step(*cmd[1:])
                t1 = os.times()
                pipe.send((sent, (t1.user + t1.system) - (t0.user + t0.system)))
            elif cmd[0] == "collect":
                await asyncio.sleep(0)
                pipe.send(client.collect(cmd[1]))
            else:
                await client.close()
                pipe.send("bye")
                return

    asyncio.run(main())


class StepResult:
    """What the load processes saw of one step, added up."""

    def __init__(self) -> None:
        self.received = self.closed = self.wire = self.chars = 0
        self.latencies: list[int] = []


class LoadGroup:
    """Several load processes driven together through pipes."""

    def __init__(
        self,
        port: int,
        conns: list[tuple[str, str]],
        processes: int,
        deflate: str = "off",
        prose: bool = False,
    ) -> None:
        self.pipes, self.procs = [], []
        for i in range(processes):
            parent, child = mp.Pipe()
            args = (port, conns[i::processes], deflate, prose, child)
            p = mp.Process(target=client_main, args=args, daemon=True)
            p.start()
            self.pipes.append(parent)
            self.procs.append(p)

    def _recv_all(self, timeout: float = 180) -> list:
        out = []
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise RuntimeError("a load process did not answer")
            out.append(pipe.recv())
        return out

    def connected(self) -> tuple[dict[str, int], int, int]:
        """(connections per room, failed connects, connections that negotiated deflate)."""
        rooms: dict[str, int] = {}
        failed = deflated = 0
        for r, f, d in self._recv_all():
            failed += f
            deflated += d
            for slug, n in r.items():
                rooms[slug] = rooms.get(slug, 0) + n
        return rooms, failed, deflated

    def step(self, step: int, rate: float, duration: float) -> tuple[dict[str, int], float]:
        for pipe in self.pipes:
            pipe.send(("step", step, rate / len(self.pipes), duration))
        sent: dict[str, int] = {}
        cpu = 0.0
        for s, c in self._recv_all(duration + 120):
            cpu += c
            for slug, n in s.items():
                sent[slug] = sent.get(slug, 0) + n
        return sent, cpu

    def collect(self, step: int) -> StepResult:
        for pipe in self.pipes:
            pipe.send(("collect", step))
        out = StepResult()
        for count, lat, closed, wire, chars in self._recv_all():
            out.received += count
            out.latencies.extend(lat)
            out.closed += closed
            out.wire += wire
            out.chars += chars
        out.latencies.sort()
        return out

    def close(self) -> None:
        with contextlib.suppress(Exception):
            for pipe in self.pipes:
                pipe.send(("quit",))
            self._recv_all(20)
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.kill()
                p.join(5)
