"""Real PostgreSQL and Redis. Locally a missing server skips these tests; in CI it fails them.

Each test session creates its own PostgreSQL database (dropped at the end) and migrates it
once; each test starts from empty tables.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from core.settings import Settings
from kindred.app import create_app
from tests import backends
from tests.conftest import SITE, make_client, skip_or_fail

REDIS_URL = backends.REDIS_URL


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/services" in str(item.path):
            item.add_marker(pytest.mark.services)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    try:
        name, url = backends.create_database()
    except Exception as exc:
        skip_or_fail(f"PostgreSQL is not reachable at {backends.POSTGRES_URL}: {exc}")
    try:
        yield url
    finally:
        backends.drop_database(name)


@pytest.fixture
def redis_url() -> str:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
        client.flushdb()
    except Exception as exc:
        skip_or_fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def pg_settings(tmp_path: Path, postgres_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=postgres_url,
        secret_key="test-secret-" + "k" * 40,
        site_url=SITE,
        new_member_posts=0,
        link_posts=0,
    )


async def _empty_tables(app: Starlette) -> None:
    from sqlalchemy import text

    from kindred.models import metadata

    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    async with app.state.ctx.db.transaction() as s:
        await s.exec(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def pg_app(pg_settings: Settings) -> AsyncIterator[Starlette]:
    app = create_app(pg_settings)
    async with app.router.lifespan_context(app):
        await _empty_tables(app)
        yield app


@pytest.fixture
async def pg_client(pg_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(pg_app) as client:
        yield client


# --------------------------------------------------------------------------- a Redis of one's own


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


NOTHING_KEPT = ("--save", "", "--appendonly", "no")
REDIS_START = 10  # seconds, a bound for correctness only


class PrivateRedis:
    """A throwaway `redis-server` that a test may kill and start again on the same port. Its
    channels are the test's alone: on the shared one, other test runs on the machine publish
    to rooms with the same ids (every test database numbers its rooms from 1)."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = spare_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def spawn(self) -> subprocess.Popen[bytes]:
        self.process = subprocess.Popen(
            # Nothing is kept on disk: a restart starts empty, as a lost Redis would.
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", *NOTHING_KEPT],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return self.process

    async def start(self) -> None:
        process = self.spawn()
        async with asyncio.timeout(REDIS_START):
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"redis-server exited with {process.returncode}")
                with contextlib.suppress(OSError):
                    _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                    writer.close()
                    return
                await asyncio.sleep(0.02)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.process is not None:
            self.process.wait(REDIS_START)


@pytest.fixture
async def private_redis() -> AsyncIterator[PrivateRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        skip_or_fail("redis-server is not installed")
    server = PrivateRedis(binary)  # type: ignore[arg-type]
    try:
        await server.start()
        yield server
    finally:
        server.kill()  # never left running, whatever the test did
