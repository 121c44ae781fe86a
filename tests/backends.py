"""The real PostgreSQL and Redis the tests use: in tests/services/ always, and for the
whole suite when KINDRED_TEST_BACKEND=postgres (`make test-postgres`, run by CI)."""

from __future__ import annotations

import asyncio
import os
import secrets

from kindred.migrate import blocking, upgrade

POSTGRES_URL = os.environ.get(
    "KINDRED_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("KINDRED_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
WHOLE_SUITE_ON_POSTGRES = os.environ.get("KINDRED_TEST_BACKEND", "") == "postgres"


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_database(revision: str | None = "head") -> tuple[str, str]:
    """A fresh PostgreSQL database, migrated to `revision` (None: left empty): (its name,
    its asyncpg URL)."""
    name = f"kindred_test_{secrets.token_hex(4)}"
    blocking(asyncio.run, _admin(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    if revision is not None:
        upgrade(url, revision)
    return name, url


def drop_database(name: str) -> None:
    blocking(asyncio.run, _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate(url: str) -> None:
    import asyncpg

    from kindred.models import metadata

    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
    try:
        await conn.execute(f"TRUNCATE {names}, post_search RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


def empty_database(url: str) -> None:
    blocking(asyncio.run, _truncate(url))


def flush_redis() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.flushdb()
    finally:
        client.close()
