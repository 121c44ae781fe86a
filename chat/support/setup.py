"""Put 1:1 support requests into the app: their gate and routes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chat.gates import register_gate
from chat.support import api, pages
from chat.support.gate import PrivateConversationGate
from core.context import AppContext


@dataclass
class SupportRequests:
    routes: list[Any] = field(default_factory=list)

    async def start(self) -> None:
        """Nothing runs in the background: waiting pages poll, and a request that waits
        long is shown other help when its page is next loaded."""

    async def close(self) -> None:
        pass


def install(ctx: AppContext) -> SupportRequests:
    # Private rooms must never fall open: chat refuses a room kind with no gate registered.
    register_gate(ctx, "private", PrivateConversationGate())
    return SupportRequests([*pages.routes, *api.routes])
