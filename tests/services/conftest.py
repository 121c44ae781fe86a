"""Real PostgreSQL and Redis. Locally a missing server skips these tests; in CI it fails them.

Each test session creates its own PostgreSQL database (dropped at the end) and migrates it
once; each test starts from empty tables.
"""

from __future__ import annotations

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
