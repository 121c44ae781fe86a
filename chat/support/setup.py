"""Put 1:1 support requests into the app: their gate, routes, account hooks and sweeper.

The sweeper (every minute, and once at start) closes requests that waited a day, takes the
requests and conversations of members who left out, and deletes the messages of
conversations ended more than ``support_keep_days`` ago (lifecycle.sweep).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from chat.gates import register_gate
from chat.support import api, care_pages, lifecycle, live, pages
from chat.support.gate import PrivateConversationGate
from chat.sweeper import Sweeper
from core.context import AppContext

SWEEP_EVERY = 60.0  # seconds


@dataclass
class SupportRequests:
    routes: list[Any]
    sweeper: Sweeper
    # Announcements of conversations ended by an account deletion, waiting to be sent.
    pending: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        await self.sweeper.start()

    async def close(self) -> None:
        await self.sweeper.close()
        for task in list(self.pending):
            with contextlib.suppress(Exception):
                await task


def install(ctx: AppContext) -> SupportRequests:
    # Private rooms must never fall open: chat refuses a room kind with no gate registered.
    register_gate(ctx, "private", PrivateConversationGate())
    sweeper = Sweeper("support", SWEEP_EVERY, lambda: lifecycle.sweep(ctx))
    routes = [*pages.routes, *care_pages.routes, *api.routes, *live.routes]
    support = SupportRequests(routes, sweeper)
    # Export and erasure include support requests; registered here so the composition
    # root needs no support-specific lines.
    hooks = ctx.extensions.get("member_content")
    if hooks is not None:
        hooks.register("support", *lifecycle.member_content_hooks(ctx, support.pending))
    return support
