"""Chat fan-out: deliveries/s and delivery latency as the send rate steps up, against ceilings.

For each server (kindred in each configuration asked for, then two ceilings from
bench/kit/chat_ceilings.py: a minimal broadcast server on the `websockets` library and a bare
Starlette WebSocket broadcast under uvicorn, neither with a database) and each connection
count C, C WebSocket clients join R rooms from several load processes (bench/kit/chatload.py).
Senders then publish at a steady aggregate rate, stepped upward; receivers time every delivery.

Kindred configurations: every combination of --workers, --backend and --deflate. One worker
runs on SQLite (as `kindred serve` does by default) and/or PostgreSQL (--backend); more than
one worker, and --backend postgres, run on a fresh PostgreSQL database (migrated with
`kindred migrate`, dropped afterwards) with Redis as the broker (a private redis-server unless
--redis-url).
--deflate on lets the server accept permessage-deflate (KINDRED_WS_DEFLATE=on) and the load
clients ask for it, as browsers do; the ceilings follow the same setting. --deflate ask leaves
the server's switch off and has the clients ask for compressed frames themselves, as chat.js
does on a slow link (subprotocol kindred.deflate, core/web/deflate.py); its rows are set
against the ceilings with permessage-deflate (on), which compress per connection too.

Per step: deliveries/s, p50/p95/p99/max latency, lost deliveries (expected: messages sent to a
room times the connections in it), server CPU per delivery (/proc of the server's whole process
tree: uvicorn's supervisor and its workers), PostgreSQL (the backends connected to the bench's
database) and Redis CPU, the load processes' own CPU, and bytes read by the clients' sockets
per delivery. Per C: server RSS per idle connection. A short py-spy profile of one-worker
kindred is taken at the end (when py-spy is installed and --profile-rate is not 0).

    .venv/bin/python bench/chat_fanout.py                          # C=200,1000 over 20 rooms
    .venv/bin/python bench/chat_fanout.py --clients 2000 --steps 50,100,200,400,800 --duration 10
    .venv/bin/python bench/chat_fanout.py --clients 2000 --workers 1,2 --backend sqlite,postgres
    .venv/bin/python bench/chat_fanout.py --clients 2000 --deflate off,on
    .venv/bin/python bench/chat_fanout.py --clients 2000 --deflate off,ask,on --prose
    .venv/bin/python bench/chat_fanout.py --clients 200,2000 --per-room 10   # rooms of ten
    .venv/bin/python bench/chat_fanout.py --clients 200 --per-room 10 --community

Stalls: kindred runs with KINDRED_METRICS_TOKEN set and each step reads its /metrics before and
after: "worst loop lag ms" is the longest the event loop was held during the step and
"stalls > 50 ms" how often it was held longer than 50 ms (kindred/metrics.py watch_loop).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kit import (
    KINDRED,
    PYTHON,
    exit_on_sigterm,
    free_port,
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
from kit.chatload import LoadGroup
from kit.services import (
    PG_ADMIN,
    ServiceMeter,
    postgres_database,
    raise_nofile,
    redis_for_bench,
)

DRAIN = 1.0  # seconds after a step's last send before its deliveries are counted
FAIL_P99_MS = 2000  # stop stepping a server once p99 or loss is this bad …
FAIL_LOSS = 0.05  # … (fraction of expected deliveries lost)
CEILINGS = str(Path(__file__).resolve().parent / "kit" / "chat_ceilings.py")


@dataclass
class Target:
    """One server under load: its name in the tables, pid, port and what to meter."""

    name: str
    port: int
    pid: int
    deflate: str  # off, on or ask (see --deflate)
    meter: ServiceMeter
    metrics_token: str = ""  # kindred only: its /metrics has the event-loop stall detector


# ============================================================================ the runs


def run_server(target: Target, conns_by_c, steps, args) -> list[list]:
    """Every C and every step against one running server; returns table rows."""
    rows = []
    for c, conns in conns_by_c:
        rss0 = tree_rss(target.pid)
        group = LoadGroup(target.port, conns, args.processes, target.deflate, args.prose)
        try:
            rooms, failed, deflated = group.connected()
            settle(target.pid)  # let joins and presence frames die down
            opened = sum(rooms.values())
            rss_per = (tree_rss(target.pid) - rss0) / max(opened, 1)
            print(f"  {target.name} C={c}: {opened:,} open, compressed {deflated:,}", flush=True)
            for i, rate in enumerate(steps):
                row = one_step(group, target, rooms, i + 100 * c, rate, args.duration)
                rows.append([target.name, c, rate, *row, rss_per / 1024, failed])
                print(
                    f"  {target.name} C={c} rate={rate}: {row[0]:,.0f} deliveries/s, "
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


def loop_lag(target: Target) -> tuple[float, float]:
    """(worst event-loop lag in ms since the previous scrape, stalls over 50 ms so far), read
    from kindred's /metrics (kindred/metrics.py); NaN for servers without it. With several
    workers a scrape reaches one of them."""
    if not target.metrics_token:
        return float("nan"), float("nan")
    request = urllib.request.Request(
        f"http://127.0.0.1:{target.port}/metrics",
        headers={"Authorization": f"Bearer {target.metrics_token}"},
    )
    text = urllib.request.urlopen(request, timeout=10).read().decode()
    worst = re.search(r"^kindred_event_loop_lag_worst_seconds (\S+)$", text, re.M)
    stalls = re.search(r"^kindred_event_loop_stalls_total (\S+)$", text, re.M)
    if not worst or not stalls:
        return float("nan"), float("nan")
    return float(worst.group(1)) * 1000, float(stalls.group(1))


def one_step(group: LoadGroup, target: Target, rooms: dict[str, int], step, rate, duration):
    _, stalls0 = loop_lag(target)  # also starts the "worst since" window afresh
    cpu0, pg0, redis0 = tree_cpu(target.pid), target.meter.postgres(), target.meter.redis()
    t0 = time.perf_counter()
    sent, client_cpu = group.step(step, rate, duration)
    time.sleep(DRAIN)
    seen = group.collect(step)
    cpu = tree_cpu(target.pid) - cpu0
    pg, redis = target.meter.postgres() - pg0, target.meter.redis() - redis0
    elapsed = time.perf_counter() - t0
    expected = sum(n * rooms.get(slug, 0) for slug, n in sent.items())
    lat = seen.latencies
    ms = [x / 1e6 for x in (pct(lat, 50), pct(lat, 95), pct(lat, 99), lat[-1] if lat else 0)]
    delivered = max(seen.received, 1)
    return [
        seen.received / duration,
        *ms,
        expected,
        max(expected - seen.received, 0),
        cpu / delivered * 1e6,
        cpu / elapsed,
        pg / elapsed if target.meter.database else float("nan"),
        redis / elapsed if target.meter.redis_pid else float("nan"),
        client_cpu / duration,
        seen.wire / delivered,
        seen.chars / delivered,
        *_lag_since(target, stalls0),
    ]


def _lag_since(target: Target, stalls0: float) -> tuple[float, float]:
    worst, stalls = loop_lag(target)
    return worst, stalls - stalls0


def make_rooms(database_url: str, count: int, community: bool = False) -> list[str]:
    """Rooms created straight in the (migrated) database with chat.rooms.ensure_room; with
    `community`, all in one community (its policy and watched words are read per message)."""
    import kindred.models  # noqa: F401  (every table, for the foreign keys)
    from chat.rooms import ensure_room
    from communities.models import Community
    from core.db import Database

    async def go() -> list[str]:
        db = Database(database_url)
        community_id = None
        if community:
            async with db.transaction() as s:
                made = Community(slug="bench", name="Bench")
                s.add(made)
                await s.flush()
                community_id = made.id
        slugs = []
        for i in range(count):
            room = await ensure_room(
                db, slug=f"bench-{i:02d}", name=f"Bench room {i}", community_id=community_id
            )
            slugs.append(room.slug)
        await db.engine.dispose()
        return slugs

    return asyncio.run(go())


def rooms_for(c: int, args) -> int:
    """Rooms for C connections: --per-room N gives C/N rooms of N (a peer-support room is
    about ten people); otherwise --rooms, whatever C."""
    return max(1, c // args.per_room) if args.per_room else args.rooms


def room_words(args) -> str:
    return f"rooms of {args.per_room}" if args.per_room else f"{args.rooms} rooms"


def assign(slugs: list[str], tokens: list[str], c: int) -> list[tuple[str, str]]:
    return [(slugs[i % len(slugs)], tokens[i % len(tokens)]) for i in range(c)]


def profile_kindred(target: Target, slugs, tokens, args) -> list[list]:
    c = max(args.clients)
    group = LoadGroup(
        target.port,
        assign(slugs[: rooms_for(c, args)], tokens, c),
        args.processes,
        target.deflate,
        args.prose,
    )
    fd, out = tempfile.mkstemp(suffix=".txt")
    os.close(fd)
    try:
        rooms, _, _ = group.connected()
        settle(target.pid)  # profile the messages, not the joins
        spy = py_spy_start(target.pid, int(args.duration), out)
        if spy is None:
            return []
        one_step(group, target, rooms, 9999, args.profile_rate, args.duration)
        return py_spy_report(spy, out)
    finally:
        group.close()
        with contextlib.suppress(OSError):
            os.unlink(out)


def kindred_name(workers: int, postgres: bool, deflate: str) -> str:
    name = "kindred pg+redis" if postgres else "kindred"
    name += f" ×{workers}" if workers > 1 else ""
    return name + {"off": "", "on": " deflate", "ask": " asks deflate"}[deflate]


def run_kindred(workers: int, backend: str, deflate: str, args) -> tuple[list[list], list]:
    """Start kindred in one configuration, with what it needs, and measure it."""
    postgres = backend == "postgres"
    name = kindred_name(workers, postgres, deflate)
    with contextlib.ExitStack() as stack:  # unwinds on Ctrl-C/SIGTERM too: servers, database
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="kindred-bench-"))
        port = free_port()
        extra = {"KINDRED_WS_DEFLATE": "on" if deflate == "on" else "off"}
        if args.community:  # members of long standing: no new-member hold on their words
            extra["KINDRED_NEW_MEMBER_POSTS"] = "0"
        database, redis_pid = None, None
        if postgres:
            extra["KINDRED_DATABASE_URL"], database = stack.enter_context(
                postgres_database(args.pg_admin)
            )
            extra["KINDRED_REDIS_URL"], redis_pid = stack.enter_context(
                redis_for_bench(args.redis_url)
            )
        extra["KINDRED_METRICS_TOKEN"] = token = uuid.uuid4().hex * 2
        env = kindred_env(data_dir, port, **extra)
        subprocess.run([KINDRED, "migrate"], env=env, check=True, capture_output=True)
        from core.settings import Settings

        rooms = max(rooms_for(c, args) for c in args.clients)
        slugs = make_rooms(Settings.from_env(env).effective_database_url, rooms, args.community)
        argv = [KINDRED, "serve", "--host", "127.0.0.1", "--port", str(port)]
        server = stack.enter_context(
            running([*argv, "--workers", str(workers)], port, env, "/healthz")
        )
        meter = ServiceMeter(database, redis_pid)
        target = Target(name, port, server.pid, deflate, meter, metrics_token=token)
        tag = uuid.uuid4().hex[:5]
        with ThreadPoolExecutor(4) as pool:
            tokens = list(pool.map(lambda i: signup(port, f"b{tag}_{i}"), range(args.members)))
        conns_by_c = [(c, assign(slugs[: rooms_for(c, args)], tokens, c)) for c in args.clients]
        rows = run_server(target, conns_by_c, args.steps, args)
        profile = []
        if args.profile_rate and workers == 1:
            profile = [(name, profile_kindred(target, slugs, tokens, args))]
        return rows, profile


def run_ceiling(kind: str, deflate: str, args) -> list[list]:
    port = free_port()
    argv = [PYTHON, CEILINGS, kind, str(port), deflate]
    name = kind + (" deflate" if deflate == "on" else "")
    with running(argv, port, None, "/") as srv:
        target = Target(name, port, srv.pid, deflate, ServiceMeter(None, None))
        slugs = [f"bench-{i:02d}" for i in range(max(rooms_for(c, args) for c in args.clients))]
        conns_by_c = [(c, assign(slugs[: rooms_for(c, args)], ["x"], c)) for c in args.clients]
        return run_server(target, conns_by_c, args.ceiling_steps, args)


def run(args: argparse.Namespace) -> None:
    limit = raise_nofile()
    print(
        f"# chat_fanout: {machine()}; C={args.clients} over "
        f"{room_words(args)}; steps "
        f"{args.steps} msg/s, {args.duration:g} s each; {args.processes} load processes; "
        f"workers {args.workers}, deflate {args.deflate}, open files ≤ {limit:,}",
        flush=True,
    )
    if max(args.clients) + 200 > limit:
        print(f"  warning: C={max(args.clients):,} is close to the open-file limit {limit:,}")
    rows, profile = [], []
    for workers in args.workers:
        for backend in args.backend if workers == 1 else ["postgres"]:
            for deflate in args.deflate:
                r, p = run_kindred(workers, backend, deflate, args)
                rows += r
                profile += p
    for deflate in dict.fromkeys("on" if d == "ask" else d for d in args.deflate):
        for kind in args.ceilings:
            rows += run_ceiling(kind, deflate, args)
    report(rows, profile, args)


def report(rows: list[list], profile: list[tuple[str, list]], args) -> None:
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
            "PG cores",
            "Redis cores",
            "client cores",
            "wire B/delivery",
            "frame B",
            "worst loop lag ms",
            "stalls > 50 ms",
            "server RSS KB/conn",
            "failed connects",
        ],
        rows,
        f"Chat fan-out over {room_words(args)} ({args.duration:g} s per step; stalls: "
        "kindred's event loop held over 50 ms)",
    )
    best: dict[tuple[str, int], list] = {}
    sustained: dict[tuple[str, int], float] = {}  # no loss, p99 under a second: noise-proof
    for r in rows:
        if r[6] <= 50 and r[9] == 0 and r[3] > best.get((r[0], r[1]), [0, 0, 0, 0])[3]:
            best[(r[0], r[1])] = r
        if r[6] <= 1000 and r[9] == 0:
            sustained[(r[0], r[1])] = max(sustained.get((r[0], r[1]), 0.0), r[3])
    names = list(dict.fromkeys(r[0] for r in rows))
    first = next((n for n in names if n.startswith("kindred")), None)
    summary = []
    for c in args.clients:
        for name in names:
            r = best.get((name, c))
            deflated = name.endswith("deflate")
            ceiling = max(
                (
                    best.get((n, c), [0] * 4)[3]
                    for n in names
                    if not n.startswith("kindred") and n.endswith("deflate") == deflated
                ),
                default=0,
            )
            base = best.get((first, c), [0] * 4)[3]
            got = r[3] if r else 0.0
            summary.append(
                [
                    name,
                    c,
                    r[2] if r else "none",
                    got,
                    r[10] if r else float("nan"),
                    got / ceiling * 100 if ceiling else float("nan"),
                    got / base if base else float("nan"),
                    sustained.get((name, c), 0.0),
                ]
            )
    table(
        [
            "server",
            "C",
            "best msg/s",
            "deliveries/s",
            "CPU µs/delivery",
            "% of best ceiling (same deflate)",
            f"× {first}",
            "no loss, p99 ≤ 1 s: deliveries/s",
        ],
        summary,
        "Highest step with p99 ≤ 50 ms and nothing lost",
    )
    for name, frames in profile:
        if frames:
            table(
                ["kind", "frame", "samples"],
                frames,
                f"py-spy on {name} at {args.profile_rate:g} msg/s, C={max(args.clients)}",
            )


def _numbers(text: str, kind=float) -> list:
    return [kind(s) for s in text.split(",") if s.strip()]


def _switches(text: str) -> list[str]:
    values = [s.strip() for s in text.split(",") if s.strip()]
    if not values or any(v not in ("on", "off", "ask") for v in values):
        raise SystemExit("--deflate takes on, off, ask or several (off,ask,on)")
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="200,1000", help="connection counts, comma-separated")
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument(
        "--per-room",
        type=int,
        default=0,
        help="connections per room (C/N rooms for each C; 10 is a peer-support room); "
        "overrides --rooms",
    )
    parser.add_argument("--members", type=int, default=40, help="accounts shared by connections")
    parser.add_argument("--steps", default="50,100,200,400", help="aggregate msg/s per step")
    parser.add_argument("--ceiling-steps", default="", help="msg/s steps for the ceilings")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per step")
    parser.add_argument("--processes", type=int, default=2, help="load processes")
    parser.add_argument(
        "--workers",
        default="1",
        help="kindred worker processes, comma-separated (e.g. 1,2); above 1: PostgreSQL + Redis",
    )
    parser.add_argument(
        "--backend",
        default="sqlite",
        help="sqlite, postgres or sqlite,postgres: database(s) for one-worker kindred "
        "(postgres comes with Redis; more workers always use PostgreSQL + Redis)",
    )
    parser.add_argument(
        "--deflate",
        default="off",
        help="off, on (permessage-deflate: server setting and clients), ask (clients ask for "
        "compressed frames, server setting off), or several: off,ask,on",
    )
    parser.add_argument(
        "--community",
        action="store_true",
        help="kindred's rooms in one community, as every peer-support room is (its policy is "
        "read per message); members of long standing (KINDRED_NEW_MEMBER_POSTS=0)",
    )
    parser.add_argument(
        "--prose",
        action="store_true",
        help="append an ordinary chat sentence to every body (realistic compression)",
    )
    parser.add_argument("--pg-admin", default=PG_ADMIN, help="PostgreSQL URL to create dbs from")
    parser.add_argument(
        "--redis-url",
        default="",
        help="Redis to use (its db is flushed before and after). Empty: a private "
        "redis-server on a free port (pub/sub is shared by every db of a Redis server)",
    )
    parser.add_argument(
        "--ceilings",
        default="websockets,starlette",
        help="comma-separated: websockets, starlette (empty for none)",
    )
    parser.add_argument(
        "--profile-rate",
        type=float,
        default=100,
        help="msg/s for the py-spy profile of one-worker kindred (0: no profile)",
    )
    args = parser.parse_args()
    args.clients = _numbers(args.clients, int)
    args.steps = _numbers(args.steps)
    args.ceiling_steps = _numbers(args.ceiling_steps) or args.steps
    args.workers = _numbers(args.workers, int)
    args.deflate = _switches(args.deflate)
    args.backend = [b for b in args.backend.split(",") if b]
    if not args.backend or set(args.backend) - {"sqlite", "postgres"}:
        raise SystemExit("--backend takes sqlite, postgres or sqlite,postgres")
    args.ceilings = [c for c in args.ceilings.split(",") if c]
    exit_on_sigterm()
    started = time.monotonic()
    try:
        run(args)
    except SystemExit:
        print("interrupted; servers, load processes and databases stopped")
        raise
    print(f"\n(took {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
