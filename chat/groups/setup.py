"""Put live group sessions into the app: their gate, routes and background sweeper.

The sweeper keeps the confidentiality promise: every ~30 seconds (and once at start) it ends
sessions long past their end and deletes the messages of sessions whose grace period is over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chat.gates import register_gate
from chat.groups import api, lifecycle, pages
from chat.groups.gate import SessionGate
from chat.sweeper import Sweeper
from core.context import AppContext

SWEEP_EVERY = 30.0  # seconds


@dataclass
class GroupSessions:
    routes: list[Any]
    sweeper: Sweeper

    async def start(self) -> None:
        await self.sweeper.start()

    async def close(self) -> None:
        await self.sweeper.close()


def install(ctx: AppContext) -> GroupSessions:
    register_gate(ctx, "session", SessionGate())
    sweeper = Sweeper("group sessions", SWEEP_EVERY, lambda: lifecycle.sweep(ctx))
    return GroupSessions([*pages.routes, *api.routes], sweeper)
