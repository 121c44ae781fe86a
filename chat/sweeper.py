"""A job the app runs once at start and then every so often until it stops: the sweepers that
end group sessions and delete their messages, and expire support requests.

A round that fails (the database away for a moment, say) is logged by the kind of error only,
never its data, and the next round tries again; one bad round never stops the sweeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("kindred.chat.sweeper")


class Sweeper:
    def __init__(self, name: str, every: float, job: Callable[[], Awaitable[None]]) -> None:
        self.name = name
        self.every = every  # seconds between rounds
        self.job = job
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.run_once()
        self._task = asyncio.create_task(self._forever(), name=f"sweeper-{self.name}")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_once(self) -> None:
        try:
            await self.job()
        except Exception as exc:
            log.error("%s sweep failed: %s", self.name, type(exc).__name__)

    async def _forever(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            await self.run_once()
