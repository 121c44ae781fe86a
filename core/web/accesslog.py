"""Access log without addresses: method, path (never the query string), status, duration."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logs import upgrade_refused

log = logging.getLogger("kindred.access")


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def recording_send(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind in ("http.response.start", "websocket.http.response.start"):
                status = message["status"]  # a refused upgrade: the status it was refused with
            elif kind == "websocket.accept":
                status = 101
            elif kind == "websocket.close" and not status:
                status = 403  # closed before the upgrade: the server answers 403
            await send(message)
            if kind == "websocket.http.response.body" and not message.get("more_body"):
                upgrade_refused.set(True)  # see core/logs.py

        try:
            await self.app(scope, receive, recording_send)
        finally:
            # The query string is left out on purpose: it may carry ?token= or search terms.
            log.info(
                "%s %s %s %.1fms",
                scope.get("method", "WS"),
                scope["path"],
                status or 500,
                (time.perf_counter() - started) * 1000,
                extra={
                    "method": scope.get("method", "WS"),
                    "path": scope["path"],
                    "status": status or 500,
                },
            )
