"""Demo content for a first start: a handful of communities."""

from __future__ import annotations

from core.db import Database


async def seed_demo(db: Database, *, only_if_empty: bool = False) -> list[str]:
    """Add the demo communities that are missing; returns the names added."""
    return []
