"""PostgreSQL and Redis for a benchmark run: a fresh database dropped afterwards, a private
Redis, and the CPU those services spend on our behalf (they are not children of the server,
so the server's process-tree accounting does not see them)."""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

from kit import cpu_seconds, free_port, spawn, stop

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def raise_nofile() -> int:
    """Raise this process's open-file limit to the hard limit (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _psql(admin_url: str, sql: str) -> None:
    subprocess.run(["psql", admin_url, "-q", "-c", sql], check=True, capture_output=True)


@contextlib.contextmanager
def postgres_database(admin_url: str = PG_ADMIN) -> Iterator[tuple[str, str]]:
    """A fresh database (its postgresql:// URL and name), dropped on the way out."""
    name = f"kindred_bench_{uuid.uuid4().hex[:8]}"
    _psql(admin_url, f"CREATE DATABASE {name}")
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}", name
    finally:
        _psql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextlib.contextmanager
def redis_for_bench(url: str = "") -> Iterator[tuple[str, int | None]]:
    """(URL, redis-server pid). Empty `url`: a private redis-server on a free port, stopped on
    the way out. Pub/sub channels are global to a Redis server whatever the db number, so on
    a shared Redis our `kindred:room:N` messages would reach other processes' subscribers
    (tests running the suite on Redis). Given a URL, its db is flushed before and after."""
    if url:
        _flush(url)
        try:
            yield url, _redis_pid(urlsplit(url).port or 6379)
        finally:
            _flush(url)
        return
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="kindred-bench-redis-") as work:
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        proc = spawn([*argv, "--appendonly", "no", "--dir", work])
        try:
            _wait_port(port)
            yield f"redis://127.0.0.1:{port}/0", proc.pid
        finally:
            stop(proc)


def _flush(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.flushdb()
    finally:
        client.close()


def _wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def _cmdlines() -> Iterator[tuple[int, str]]:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/cmdline", "rb") as f:
                yield int(entry), f.read().replace(b"\0", b" ").decode(errors="replace")


def _redis_pid(port: int) -> int | None:
    for pid, cmd in _cmdlines():
        if cmd.startswith("redis-server") and f":{port}" in cmd:
            return pid
    return None


class ServiceMeter:
    """CPU seconds used so far by the PostgreSQL backends connected to one database (found by
    their process title, `postgres: … <user> <database> <client> <state>`) and by one
    redis-server. PostgreSQL's shared background processes (WAL writer, checkpointer) are
    left out: other databases on the server use them too."""

    def __init__(self, database: str | None, redis_pid: int | None) -> None:
        self.database, self.redis_pid = database, redis_pid
        self._backends: dict[int, float] = {}  # pid -> CPU seconds when last seen

    def postgres(self) -> float:
        """CPU of every backend seen so far (one the pool closed keeps its last reading)."""
        if not self.database:
            return 0.0
        needle = f" {self.database} "
        for pid, cmd in _cmdlines():
            if cmd.startswith("postgres:") and needle in cmd:
                self._backends[pid] = max(self._backends.get(pid, 0.0), cpu_seconds([pid]))
        return sum(self._backends.values())

    def redis(self) -> float:
        return cpu_seconds([self.redis_pid]) if self.redis_pid else 0.0
