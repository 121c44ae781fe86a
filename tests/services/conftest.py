"""Real PostgreSQL and Redis. Locally a missing server skips these tests; in CI it fails them.

Each test session creates its own PostgreSQL database (dropped at the end) and migrates it
once; each test starts from empty tables.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from core.settings import Settings
from kindred.app import create_app
from kindred.migrate import blocking, upgrade
from tests.conftest import SITE, make_client, skip_or_fail

POSTGRES_URL = os.environ.get(
    "KINDRED_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("KINDRED_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/services" in str(item.path):
            item.add_marker(pytest.mark.services)


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"kindred_test_{secrets.token_hex(4)}"
    try:
        blocking(asyncio.run, _admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        skip_or_fail(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}")
    base = POSTGRES_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    upgrade(url)
    try:
        yield url
    finally:
        blocking(asyncio.run, _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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
