"""Reachability of the database and Redis, for `kindred check` and readiness probes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from core.context import AppContext
from core.db import Database
from core.settings import Settings

log = logging.getLogger("kindred.health")
PROBE_TIMEOUT = 3  # seconds: a probe that hangs is as bad as one that fails
RETRY_AFTER = 5


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


async def readiness(ctx: AppContext) -> dict[str, bool]:
    """Whether each service this app uses answers now (Redis only when configured)."""
    ready = {"database": await _answers(ctx.db.ping())}
    if ctx.settings.redis_url:
        ready["redis"] = await _answers(_ping_redis(ctx.settings.redis_url))
    return ready


async def readyz(request: Request) -> Response:
    """200 when the database answers; else 503. Either way the body names what is down.

    Redis down alone is still ready: members go on chatting within each process and every
    worker catches up when it is back (docs/deploy.md), whereas failing readiness would make
    a load balancer take every host out at once."""
    ready = await readiness(request.app.state.ctx)
    # Names only: never a URL, hostname or driver message (they can carry passwords).
    down = "".join(f"{name}: down\n" for name, ok in ready.items() if not ok)
    if not ready["database"]:
        return PlainTextResponse(down, 503, headers={"retry-after": str(RETRY_AFTER)})
    return PlainTextResponse("ready\n" + down)


async def _answers(check: Awaitable[None]) -> bool:
    try:
        await asyncio.wait_for(check, PROBE_TIMEOUT)
    except Exception as exc:
        log.warning("readiness: %s", type(exc).__name__)
        return False
    return True


async def _ping_redis(url: str) -> None:
    import redis.asyncio as redis

    client = redis.from_url(url, socket_connect_timeout=PROBE_TIMEOUT)
    try:
        await client.ping()
    finally:
        await client.aclose()
