"""Reachability of the database and Redis, for `kindred check` and readiness probes."""

from __future__ import annotations

from core.db import Database
from core.settings import Settings


async def check_services(settings: Settings) -> dict[str, str | None]:
    """Each service's problem in one line, or None when it answers."""
    from kindred.migrate import current_revision, head_revision

    results: dict[str, str | None] = {}
    db = Database(settings.effective_database_url)
    try:
        await db.ping()
        current = await current_revision(settings.effective_database_url)
        head = head_revision(settings.effective_database_url)
        results["database"] = (
            None if current == head else f"schema at {current}, code needs {head}: migrate"
        )
    except Exception as exc:
        results["database"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    finally:
        await db.close()
    if settings.redis_url:
        import redis.asyncio as redis

        client = redis.from_url(settings.redis_url, socket_connect_timeout=3)
        try:
            await client.ping()
            results["redis"] = None
        except Exception as exc:
            results["redis"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        finally:
            await client.aclose()
    return results
