"""Migration 0017 on SQLite: a community's policy moves to moderation's table and back,
on a database filled by the old schema (the same body runs on PostgreSQL in
tests/services/test_postgres_migrations.py)."""

from __future__ import annotations

from pathlib import Path

from tests.policy_migration import check_policy_migration


async def test_the_policy_moves_to_moderation_and_back_without_loss(tmp_path: Path) -> None:
    await check_policy_migration(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
