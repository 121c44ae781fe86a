"""Put live group sessions into the app: their gate, routes and background sweeper."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.context import AppContext


@dataclass
class GroupSessions:
    routes: list[Any] = field(default_factory=list)

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass


def install(ctx: AppContext) -> GroupSessions:
    return GroupSessions()
