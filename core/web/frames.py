"""WebSocket frames after the handshake skip the middleware stack.

Every middleware in the app looks at a WebSocket's handshake and close (status, metrics,
sessions, CSRF) and none at the frames in between, yet each wraps `send`, so every frame paid
for every layer. A room's message is one frame per member in it, which makes this the
hottest path in the app: measured, the wrappers were about a third of the CPU a delivery
cost. This middleware, outermost, leaves the server's own `send` in the scope, and
`frame_sender` writes text frames with it. Accepting and closing still go through the stack.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

SERVER_SEND = "kindred.server_send"


class DirectFramesMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[SERVER_SEND] = send
        await self.app(scope, receive, send)


def frame_sender(websocket: WebSocket) -> Callable[[str], Awaitable[None]]:
    """Send a text frame on an accepted socket by the shortest way there is."""
    send = websocket.scope.get(SERVER_SEND)
    if send is None:  # not behind the middleware (a bare app in a test): the usual way
        return websocket.send_text

    async def send_text(text: str) -> None:
        await send({"type": "websocket.send", "text": text})

    return send_text
