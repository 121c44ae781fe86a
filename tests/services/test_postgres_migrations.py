"""Migrations on real PostgreSQL, from a database filled by an older schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import backends
from tests.conftest import skip_or_fail
from tests.policy_migration import check_policy_migration


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    """A database of its own with no tables yet: each migration test starts before it."""
    try:
        name, url = backends.create_database(revision=None)
    except Exception as exc:
        skip_or_fail(f"PostgreSQL is not reachable at {backends.POSTGRES_URL}: {exc}")
    try:
        yield url
    finally:
        backends.drop_database(name)


async def test_the_policy_moves_to_moderation_and_back_without_loss(empty_postgres: str) -> None:
    await check_policy_migration(empty_postgres)
