"""WebSocket frames after the handshake skip the middleware stack, and often the event loop.

Every middleware in the app looks at a WebSocket's handshake and close (status, metrics,
sessions, CSRF) and none at the frames in between, yet each wraps `send`, so every frame paid
for every layer. A room's message is one frame per member in it, which makes this the
hottest path in the app: measured, the wrappers were about a third of the CPU a delivery
cost. This middleware, outermost, leaves the server's own `send` in the scope, and
`frame_sender` writes text frames with it. Accepting and closing still go through the stack.

`immediate_sender` goes one step further for uvicorn's sans-I/O protocol (the one Kindred
serves with): its `send` awaits nothing but the transport's flow control, so while the
transport is writable a frame can be written on the spot, with no queue and no task switch
for each member of a room. When it is not writable (a slow reader), the caller queues.

Both take an optional `encode`: a socket whose client asked for compressed frames
(core/web/deflate.py) sends each frame as `encode(text)` in a binary frame. It runs at the
moment of writing, never before, so frames reach the compressor in the order they go out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

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


def _message(text: str, encode: Callable[[str], bytes] | None) -> dict[str, Any]:
    if encode is None:
        return {"type": "websocket.send", "text": text}
    return {"type": "websocket.send", "bytes": encode(text)}


def frame_sender(
    websocket: WebSocket, encode: Callable[[str], bytes] | None = None
) -> Callable[[str], Awaitable[None]]:
    """Send a frame on an accepted socket by the shortest way there is."""
    # Not behind the middleware (a bare app in a test): the usual way, through the stack.
    send = websocket.scope.get(SERVER_SEND, websocket.send)

    async def send_frame(text: str) -> None:
        await send(_message(text, encode))

    return send_frame


def immediate_sender(
    websocket: WebSocket, encode: Callable[[str], bytes] | None = None
) -> Callable[[str], bool] | None:
    """`send_now(text) -> bool`: write a text frame at once if the transport takes it without
    waiting (True), else do nothing (False: queue it). None when the server isn't one this is
    known to be right for; tests/chat check that Kindred's own server gets one."""
    send: Any = websocket.scope.get(SERVER_SEND)
    protocol = getattr(send, "__self__", None)
    if protocol is None or type(protocol).__name__ != "WebSocketsSansIOProtocol":
        return None
    # Cleared while the transport is paused (flow control; uvicorn >= 0.52.1). Anything else
    # there and this is not the protocol tests/core/test_frames_assumption.py pinned: queue.
    writable = getattr(protocol, "writable", None)
    if not isinstance(writable, asyncio.Event):
        return None

    def send_now(text: str) -> bool:
        if not writable.is_set():
            return False
        step = send(_message(text, encode))
        try:
            step.send(None)  # runs to the end: nothing in it awaits while writable is set
        except StopIteration:
            return True
        step.close()  # not reached with the protocol checked above; never leave it half-run
        return False

    return send_now
