"""Put 1:1 support requests into the app: their gate and routes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.context import AppContext


@dataclass
class SupportRequests:
    routes: list[Any] = field(default_factory=list)

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass


def install(ctx: AppContext) -> SupportRequests:
    return SupportRequests()
