"""A small keep-alive HTTP/1.1 load client, run in separate processes (multiprocessing).

Each process opens `connections` sockets to 127.0.0.1 and sends requests back to back (closed
loop) or at a fixed rate, for `duration` seconds. A request is a method, a path, headers and a
body template in which "{n}" is replaced by a number unique to the request.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import signal
import time
from dataclasses import dataclass, field


@dataclass
class Spec:
    method: str = "GET"
    path: str = "/"
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""  # "{n}" becomes a unique number


@dataclass
class Result:
    latencies: list[float]  # seconds, successful requests only
    statuses: dict[int, int]
    errors: int
    cpu: float  # the client's own CPU seconds
    elapsed: float


def _request(spec: Spec, port: int, n: int) -> bytes:
    body = spec.body.replace("{n}", str(n)).encode() if spec.body else b""
    lines = [f"{spec.method} {spec.path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in spec.headers.items()]
    if body or spec.method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status, headers.get("connection", "").lower() == "close"


async def _connection(port, spec, deadline, interval, start, seq, out: Result) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    next_at = start
    try:
        while time.perf_counter() < deadline:
            if interval:
                next_at += interval
                delay = next_at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if time.perf_counter() >= deadline:
                    break
            n = next(seq)
            t0 = time.perf_counter()
            writer.write(_request(spec, port, n))
            try:
                status, close = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                out.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            if status < 400:
                out.latencies.append(time.perf_counter() - t0)
            out.statuses[status] = out.statuses.get(status, 0) + 1
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
    finally:
        writer.close()


async def _run(port, spec, connections, duration, rate, worker) -> Result:
    out = Result([], {}, 0, 0.0, 0.0)
    seq = iter(range(worker * 10**9, (worker + 1) * 10**9))
    interval = connections / rate if rate else 0.0
    start = time.perf_counter()
    deadline = start + duration
    tasks = [
        _connection(port, spec, deadline, interval, start + i * interval / connections, seq, out)
        for i in range(connections)
    ]
    await asyncio.gather(*tasks, return_exceptions=False)
    out.elapsed = time.perf_counter() - start
    return out


def _worker(port, spec, connections, duration, rate, worker, queue) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us; Ctrl-C hits the group
    t0 = os.times()
    result = asyncio.run(_run(port, spec, connections, duration, rate, worker))
    t1 = os.times()
    result.cpu = (t1.user + t1.system) - (t0.user + t0.system)
    queue.put(result)


def load(
    port: int,
    spec: Spec,
    *,
    connections: int = 8,
    processes: int = 2,
    duration: float = 10.0,
    rate: float | None = None,
) -> Result:
    """Run the load from `processes` separate processes and merge what they measured.

    `rate` (requests/s, all processes together) turns the closed loop into a paced one.
    """
    queue: mp.Queue = mp.Queue()
    per = [connections // processes + (i < connections % processes) for i in range(processes)]
    procs = [
        mp.Process(
            target=_worker,
            args=(port, spec, n, duration, rate * n / connections if rate else None, i, queue),
            daemon=True,
        )
        for i, n in enumerate(per)
        if n
    ]
    for p in procs:
        p.start()
    try:
        results = [queue.get(timeout=duration + 60) for _ in procs]
    finally:
        for p in procs:
            p.join(5)
            if p.is_alive():
                p.kill()
    merged = Result([], {}, 0, 0.0, max(r.elapsed for r in results))
    for r in results:
        merged.latencies += r.latencies
        merged.errors += r.errors
        merged.cpu += r.cpu
        for k, v in r.statuses.items():
            merged.statuses[k] = merged.statuses.get(k, 0) + v
    merged.latencies.sort()
    return merged
