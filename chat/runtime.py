"""Chat's parts that live as long as the app: the hub and its limits, put in place by
kindred.app through `install`, and started and stopped by its lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from starlette.requests import HTTPConnection

from chat.hub import Hub
from chat.sending import MAX_CHARS
from core.context import AppContext, get_context
from identity.country import crisis_region as region_of

__all__ = ["TRANSPORT_MAX_BYTES", "ChatRuntime", "chat_runtime", "install", "region_of"]

CLOSE_RESTART = 1012
RESTART_REASON = "server restarting, reconnecting"
RESTART_WAIT = 2.0  # seconds: a socket not closed by then is closed by uvicorn (no reason)
# The largest frame read at all (uvicorn's ws_max_size). One over `max_frame_bytes` but
# within this is answered with an `error` frame `too_long` before the documented close
# (1009), so a pasted essay from any client is explained, not just dropped; uvicorn closes
# larger ones with 1009 itself. Bounded: it is memory a connection may hold for a moment.
TRANSPORT_MAX_BYTES = 256 * 1024


@dataclass
class ChatRuntime:
    hub: Hub
    max_chars: int = MAX_CHARS  # longest message body, in characters
    max_frame_bytes: int = 16 * 1024  # larger: `too_long`, then close 1009 (chat/ws.py)
    flood_frames: int = 60  # frames per flood_window seconds before frames are refused …
    flood_window: float = 10.0
    flood_close: int = 180  # … and before the connection is closed (1008)
    # What a member sends marks their sign-in as used at most this often per connection
    # (seconds): a write a minute, not one per message (chat/ws.py).
    activity_every: float = 60.0

    async def start(self) -> None:
        await self.hub.start()

    async def close(self) -> None:
        await self.hub.close()

    async def restarting(self, within: float = RESTART_WAIT) -> None:
        """The server is about to stop: close every chat socket here ourselves, after what
        is queued for it, with 1012 ("service restart") and a reason a person can read.
        Clients come back with ?after= and resend their outbox, as after any 1012."""
        await self.hub.close_connections(CLOSE_RESTART, RESTART_REASON, within)


def install(ctx: AppContext) -> ChatRuntime:
    idle = timedelta(minutes=ctx.settings.session_idle_minutes)
    runtime = ChatRuntime(Hub(ctx.broker, ctx.db, session_idle=idle))
    ctx.extensions["chat"] = runtime
    return runtime


def chat_runtime(conn: HTTPConnection) -> ChatRuntime:
    return get_context(conn).extensions["chat"]
