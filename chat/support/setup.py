"""Put 1:1 support requests into the app: their gate, routes, account hooks and sweeper.

The sweeper (every minute, and once at start) closes requests that waited a day, takes the
requests and conversations of members who left out, and deletes the messages of
conversations ended more than ``support_keep_days`` ago (lifecycle.sweep).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from chat.gates import register_gate
from chat.support import api, lifecycle, pages
from chat.support.gate import PrivateConversationGate
from core.context import AppContext

log = logging.getLogger("kindred.chat.support")

SWEEP_EVERY = 60.0  # seconds


@dataclass
class SupportRequests:
    ctx: AppContext
    routes: list[Any] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    # Announcements of conversations ended by an account deletion, waiting to be sent.
    pending: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        await self.sweep_once()
        self.task = asyncio.create_task(self._sweep_forever())

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None
        for task in list(self.pending):
            with contextlib.suppress(Exception):
                await task

    async def sweep_once(self) -> None:
        try:
            await lifecycle.sweep(self.ctx)
        except Exception as exc:  # the database may be away for a moment: next round
            log.error("support sweep failed: %s", type(exc).__name__)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            await self.sweep_once()


def install(ctx: AppContext) -> SupportRequests:
    # Private rooms must never fall open: chat refuses a room kind with no gate registered.
    register_gate(ctx, "private", PrivateConversationGate())
    support = SupportRequests(ctx, [*pages.routes, *api.routes])
    # Export and erasure include support requests; registered here so the composition
    # root needs no support-specific lines.
    hooks = ctx.extensions.get("member_content")
    if hooks is not None:
        hooks.register("support", *lifecycle.member_content_hooks(ctx, support.pending))
    return support
