"""Put live group sessions into the app: their gate, routes and background sweeper.

The sweeper keeps the confidentiality promise: every ~30 seconds (and once at start) it ends
sessions long past their end and deletes the messages of sessions whose grace period is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from chat.gates import register_gate
from chat.groups import api, lifecycle, pages
from chat.groups.gate import SessionGate
from core.context import AppContext

log = logging.getLogger("kindred.chat.groups")

SWEEP_EVERY = 30.0  # seconds


@dataclass
class GroupSessions:
    ctx: AppContext
    routes: list[Any] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.sweep_once()
        self.task = asyncio.create_task(self._sweep_forever())

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None

    async def sweep_once(self) -> None:
        try:
            await lifecycle.sweep(self.ctx)
        except Exception as exc:  # the database may be away for a moment: next round
            log.error("group sessions sweep failed: %s", type(exc).__name__)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            await self.sweep_once()


def install(ctx: AppContext) -> GroupSessions:
    register_gate(ctx, "session", SessionGate())
    return GroupSessions(ctx, routes=[*pages.routes, *api.routes])
