"""Chat fan-out: deliveries/s and delivery latency as the send rate steps up, against ceilings.

For each server (kindred, then two ceilings served from this file: a minimal broadcast server
on the `websockets` library and a bare Starlette WebSocket broadcast under uvicorn, neither
with a database) and each connection count C, C WebSocket clients join R rooms from several
load processes. Senders then publish at a steady aggregate rate, stepped upward; every body
carries its send time (time.time_ns) as a plain number, so receivers compute the delivery
latency from the frame's html with a substring search.

Per step: deliveries/s, p50/p95/p99/max latency, lost deliveries (expected: messages sent to a
room times the connections in it), server CPU per delivery (/proc of the server process tree),
and the load processes' own CPU. Per C: server RSS per idle connection. A short py-spy profile
of kindred is taken at the end (when py-spy is installed).

    .venv/bin/python bench/chat_fanout.py                          # C=200,1000 over 20 rooms
    .venv/bin/python bench/chat_fanout.py --clients 2000 --steps 50,100,200,400,800 --duration 10
"""

from __future__ import annotations

import argparse
import array
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kit import (
    KINDRED,
    PYTHON,
    exit_on_sigterm,
    free_port,
    ignore_sigint,
    kindred_env,
    machine,
    pct,
    py_spy_report,
    py_spy_start,
    running,
    signup,
    table,
    tree_cpu,
    tree_rss,
)

DRAIN = 1.0  # seconds after a step's last send before its deliveries are counted
FAIL_P99_MS = 1000  # stop stepping a server once p99 or loss is this bad …
FAIL_LOSS = 0.05  # … (fraction of expected deliveries lost)

# ============================================================================ ceiling servers


def serve_websockets(port: int) -> None:
    """The ceiling: broadcast each received message to its room with websockets.broadcast."""
    import html

    from websockets.asyncio.server import broadcast, serve

    rooms: dict[str, set] = {}
    seq = 0

    async def handler(ws) -> None:
        nonlocal seq
        slug = ws.request.path.split("?")[0].rsplit("/", 1)[-1]
        room = rooms.setdefault(slug, set())
        room.add(ws)
        try:
            async for raw in ws:
                msg = json.loads(raw)
                if msg.get("type") != "send":
                    continue
                seq += 1
                frame = {
                    "type": "message",
                    "id": seq,
                    "room": slug,
                    "html": f"<p>{html.escape(msg['body'])}</p>",
                    "client_id": msg.get("client_id"),
                }
                broadcast(room, json.dumps(frame, separators=(",", ":")))
        finally:
            room.discard(ws)

    async def main() -> None:
        async with serve(handler, "127.0.0.1", port, compression=None, max_size=16384) as server:
            await server.serve_forever()

    asyncio.run(main())


def serve_starlette(port: int) -> None:
    """A bare Starlette WebSocket broadcast under uvicorn: a bounded queue and a writer task
    per connection (the shape kindred's hub has), no database, no middleware."""
    import html

    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocketDisconnect

    rooms: dict[str, set[asyncio.Queue]] = {}
    seq = 0

    async def room_socket(ws) -> None:
        nonlocal seq
        await ws.accept()
        slug = ws.path_params["slug"]
        queue: asyncio.Queue[str] = asyncio.Queue(256)
        room = rooms.setdefault(slug, set())
        room.add(queue)

        async def writer() -> None:
            while True:
                await ws.send_text(await queue.get())

        task = asyncio.create_task(writer())
        try:
            while True:
                msg = json.loads(await ws.receive_text())
                if msg.get("type") != "send":
                    continue
                seq += 1
                frame = json.dumps(
                    {
                        "type": "message",
                        "id": seq,
                        "room": slug,
                        "html": f"<p>{html.escape(msg['body'])}</p>",
                        "client_id": msg.get("client_id"),
                    },
                    separators=(",", ":"),
                )
                for q in tuple(room):
                    with contextlib.suppress(asyncio.QueueFull):
                        q.put_nowait(frame)
        except WebSocketDisconnect:
            pass
        finally:
            room.discard(queue)
            task.cancel()

    async def ok(request):
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", ok), WebSocketRoute("/ws/rooms/{slug}", room_socket)])
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        ws="websockets-sansio",
        ws_max_size=16384,
        ws_per_message_deflate=False,
        log_level="warning",
        access_log=False,
    )


# ============================================================================ load processes


class Client:
    """One load process: its connections, their readers, and a paced sender."""

    def __init__(self, port: int, conns: list[tuple[str, str]]) -> None:
        self.port, self.conns = port, conns
        self.sockets: list = []  # (slug, websocket)
        self.step = -1
        self.counts: dict[int, int] = {}
        self.latencies: dict[int, array.array] = {}
        self.closed = 0

    async def connect(self) -> tuple[dict[str, int], int]:
        from websockets.asyncio.client import connect

        gate = asyncio.Semaphore(20)

        async def one(slug: str, token: str):
            async with gate:
                uri = f"ws://127.0.0.1:{self.port}/ws/rooms/{slug}?token={token}"
                try:
                    ws = await connect(
                        uri, compression=None, max_size=None, ping_interval=None, open_timeout=60
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
        return rooms, len(self.conns) - len(self.sockets)

    async def read(self, ws) -> None:
        """Lean receive path: a substring check and the number after ' t' in the html."""
        try:
            async for raw in ws:
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
                self.latencies.setdefault(step, array.array("q")).append(now - sent)
        except Exception:
            pass
        self.closed += 1

    async def send_step(self, step: int, rate: float, duration: float) -> dict[str, int]:
        """Send `rate` messages/s round-robin over this process's connections."""
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
            frame = json.dumps({"type": "send", "body": body, "client_id": str(uuid.uuid4())})
            try:
                await ws.send(frame)
            except Exception:
                continue
            sent[slug] = sent.get(slug, 0) + 1
        return sent

    def collect(self, step: int) -> tuple[int, array.array, int]:
        return self.counts.get(step, 0), self.latencies.pop(step, array.array("q")), self.closed

    async def close(self) -> None:
        await asyncio.gather(*(ws.close() for _, ws in self.sockets), return_exceptions=True)


def client_main(port: int, conns: list[tuple[str, str]], pipe) -> None:
    """Entry point of a load process: obeys ("step", …), ("collect", …), ("quit",)."""
    ignore_sigint()

    async def main() -> None:
        client = Client(port, conns)
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


class LoadGroup:
    """Several load processes driven together through pipes."""

    def __init__(self, port: int, conns: list[tuple[str, str]], processes: int) -> None:
        self.pipes, self.procs = [], []
        for i in range(processes):
            parent, child = mp.Pipe()
            p = mp.Process(target=client_main, args=(port, conns[i::processes], child), daemon=True)
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

    def connected(self) -> tuple[dict[str, int], int]:
        rooms: dict[str, int] = {}
        failed = 0
        for r, f in self._recv_all():
            failed += f
            for slug, n in r.items():
                rooms[slug] = rooms.get(slug, 0) + n
        return rooms, failed

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

    def collect(self, step: int) -> tuple[int, list[int], int]:
        for pipe in self.pipes:
            pipe.send(("collect", step))
        count, lat, closed = 0, [], 0
        for c, la, cl in self._recv_all():
            count += c
            lat.extend(la)
            closed += cl
        lat.sort()
        return count, lat, closed

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


# ============================================================================ the runs


def run_server(name, port, pid, conns_by_c, steps, args) -> list[list]:
    """Every C and every step against one running server; returns table rows."""
    rows = []
    for c, conns in conns_by_c:
        rss0 = tree_rss(pid)
        group = LoadGroup(port, conns, args.processes)
        try:
            rooms, failed = group.connected()
            settle(pid)  # let joins and presence frames die down
            rss_per = (tree_rss(pid) - rss0) / max(sum(rooms.values()), 1)
            for i, rate in enumerate(steps):
                row = one_step(group, pid, rooms, i + 100 * c, rate, args.duration)
                rows.append([name, c, rate, *row, rss_per / 1024, failed])
                print(
                    f"  {name} C={c} rate={rate}: {row[0]:,.0f} deliveries/s, "
                    f"p99 {row[3]:.1f} ms, lost {row[6]:,} of {row[5]:,}",
                    flush=True,
                )
                if row[3] > FAIL_P99_MS or row[6] > FAIL_LOSS * row[5]:
                    break
        finally:
            group.close()
        time.sleep(1.0)
    return rows


def settle(pid: int, limit: float = 15.0) -> None:
    """Wait (at most `limit` s) until the server uses under 5% of a core over 0.5 s."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        cpu0 = tree_cpu(pid)
        time.sleep(0.5)
        if tree_cpu(pid) - cpu0 < 0.025:
            return


def one_step(group: LoadGroup, pid: int, rooms: dict[str, int], step, rate, duration) -> list:
    cpu0 = tree_cpu(pid)
    t0 = time.perf_counter()
    sent, client_cpu = group.step(step, rate, duration)
    time.sleep(DRAIN)
    received, lat, _closed = group.collect(step)
    cpu = tree_cpu(pid) - cpu0
    elapsed = time.perf_counter() - t0
    expected = sum(n * rooms.get(slug, 0) for slug, n in sent.items())
    ms = [x / 1e6 for x in (pct(lat, 50), pct(lat, 95), pct(lat, 99), lat[-1] if lat else 0)]
    return [
        received / duration,
        *ms,
        expected,
        max(expected - received, 0),
        cpu / max(received, 1) * 1e6,
        cpu / elapsed,
        client_cpu / duration,
    ]


def make_rooms(data_dir: str, count: int) -> list[str]:
    """Rooms created straight in the SQLite database with chat.service.ensure_room."""
    import kindred.models  # noqa: F401  (every table, for the foreign keys)
    from chat.service import ensure_room
    from core.db import Database

    async def go() -> list[str]:
        db = Database(f"sqlite+aiosqlite:///{Path(data_dir) / 'kindred.db'}")
        slugs = []
        for i in range(count):
            room = await ensure_room(db, slug=f"bench-{i:02d}", name=f"Bench room {i}")
            slugs.append(room.slug)
        await db.engine.dispose()
        return slugs

    return asyncio.run(go())


def assign(slugs: list[str], tokens: list[str], c: int) -> list[tuple[str, str]]:
    return [(slugs[i % len(slugs)], tokens[i % len(tokens)]) for i in range(c)]


def profile_kindred(port, pid, slugs, tokens, args) -> list[list]:
    c = max(args.clients)
    group = LoadGroup(port, assign(slugs, tokens, c), args.processes)
    fd, out = tempfile.mkstemp(suffix=".txt")
    os.close(fd)
    try:
        rooms, _ = group.connected()
        settle(pid)  # profile the messages, not the joins
        spy = py_spy_start(pid, int(args.duration), out)
        if spy is None:
            return []
        one_step(group, pid, rooms, 9999, args.profile_rate, args.duration)
        return py_spy_report(spy, out)
    finally:
        group.close()
        with contextlib.suppress(OSError):
            os.unlink(out)


def run(args: argparse.Namespace) -> None:
    import subprocess

    steps = [float(s) for s in args.steps.split(",")]
    ceiling_steps = [float(s) for s in (args.ceiling_steps or args.steps).split(",")]
    print(
        f"# chat_fanout: {machine()}; C={args.clients} over {args.rooms} rooms; steps "
        f"{steps} msg/s, {args.duration:g} s each; {args.processes} load processes",
        flush=True,
    )
    rows, profile = [], []
    with tempfile.TemporaryDirectory(prefix="kindred-bench-") as data_dir:
        port = free_port()
        env = kindred_env(data_dir, port)
        subprocess.run([KINDRED, "migrate"], env=env, check=True, capture_output=True)
        slugs = make_rooms(data_dir, args.rooms)
        argv = [KINDRED, "serve", "--host", "127.0.0.1", "--port", str(port)]
        with running(argv, port, env, "/healthz") as server:
            tag = uuid.uuid4().hex[:5]
            with ThreadPoolExecutor(4) as pool:
                tokens = list(pool.map(lambda i: signup(port, f"b{tag}_{i}"), range(args.members)))
            conns_by_c = [(c, assign(slugs, tokens, c)) for c in args.clients]
            rows += run_server("kindred", port, server.pid, conns_by_c, steps, args)
            if args.profile_rate:
                profile = profile_kindred(port, server.pid, slugs, tokens, args)
    for name in args.ceilings:
        port = free_port()
        with running([PYTHON, __file__, "--serve", name, str(port)], port, None, "/") as srv:
            conns_by_c = [(c, assign(slugs, ["x"], c)) for c in args.clients]
            rows += run_server(name, port, srv.pid, conns_by_c, ceiling_steps, args)
    report(rows, profile, args)


def report(rows: list[list], profile: list[list], args) -> None:
    table(
        [
            "server",
            "C",
            "msg/s",
            "deliveries/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
            "expected",
            "lost",
            "server CPU µs/delivery",
            "server cores",
            "client cores",
            "server RSS KB/conn",
            "failed connects",
        ],
        rows,
        f"Chat fan-out over {args.rooms} rooms ({args.duration:g} s per step)",
    )
    best: dict[tuple[str, int], list] = {}
    for r in rows:
        if r[6] <= 50 and r[9] == 0 and r[3] > best.get((r[0], r[1]), [0, 0, 0, 0])[3]:
            best[(r[0], r[1])] = r
    summary = []
    for c in args.clients:
        ceiling = max((best.get((n, c), [0] * 4)[3] for n in args.ceilings), default=0)
        for name in ["kindred", *args.ceilings]:
            r = best.get((name, c))
            share = (r[3] / ceiling * 100) if r and ceiling else float("nan")
            summary.append(
                [
                    name,
                    c,
                    r[2] if r else "none",
                    r[3] if r else 0.0,
                    r[10] if r else float("nan"),
                    share,
                ]
            )
    table(
        ["server", "C", "best msg/s", "deliveries/s", "CPU µs/delivery", "% of best ceiling"],
        summary,
        "Highest step with p99 ≤ 50 ms and nothing lost",
    )
    if profile:
        table(
            ["kind", "frame", "samples"],
            profile,
            f"py-spy on kindred at {args.profile_rate:g} msg/s, C={max(args.clients)}",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="200,1000", help="connection counts, comma-separated")
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--members", type=int, default=40, help="accounts shared by connections")
    parser.add_argument("--steps", default="50,100,200,400", help="aggregate msg/s per step")
    parser.add_argument("--ceiling-steps", default="", help="msg/s steps for the ceilings")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per step")
    parser.add_argument("--processes", type=int, default=2, help="load processes")
    parser.add_argument(
        "--ceilings",
        default="websockets,starlette",
        help="comma-separated: websockets, starlette (empty for none)",
    )
    parser.add_argument(
        "--profile-rate",
        type=float,
        default=100,
        help="msg/s for the py-spy profile of kindred (0: no profile)",
    )
    parser.add_argument("--serve", nargs=2, metavar=("KIND", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        kind, port = args.serve[0], int(args.serve[1])
        return serve_websockets(port) if kind == "websockets" else serve_starlette(port)
    args.clients = [int(c) for c in args.clients.split(",")]
    args.ceilings = [c for c in args.ceilings.split(",") if c]
    exit_on_sigterm()
    started = time.monotonic()
    try:
        run(args)
    except SystemExit:
        print("interrupted; servers and load processes stopped")
        raise
    print(f"\n(took {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
