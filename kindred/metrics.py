"""Prometheus metrics: request latency by route template, status classes, open WebSockets.

Each app gets its own registry (tests build many apps). Labels never identify a member:
the route *template* ("/t/{thread_id}"), never the path, and no query strings. `/metrics`
exists only when KINDRED_METRICS_TOKEN is set, and answers only that bearer token.
"""

from __future__ import annotations

import hmac
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from identity.auth import bearer_token

# Anything else a client sends is counted as "other", so a client can't mint label values.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "kindred_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self.responses = Counter(
            "kindred_http_responses",
            "HTTP responses by status class (2xx, 3xx, 4xx, 5xx).",
            ["status_class"],
            registry=self.registry,
        )
        self.websockets = Gauge(
            "kindred_websocket_connections_open",
            "WebSocket connections accepted and not yet closed.",
            registry=self.registry,
        )

    def route(self, token: str) -> Route:
        """The `/metrics` route, answering only `Authorization: Bearer <token>`."""

        async def metrics(request: Request) -> Response:
            offered = bearer_token(request.headers) or ""
            if not hmac.compare_digest(offered.encode(), token.encode()):
                raise HTTPException(404)  # as if it weren't there
            return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

        return Route("/metrics", metrics, methods=["GET"])


def route_template(scope: Scope) -> str:
    """The matched route's template; the router leaves the route in the shared scope."""
    route = scope.get("route")
    return getattr(route, "path_format", None) or "unmatched"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        status = 500  # what the server answers if the app raises before starting a response
        started = time.perf_counter()

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            elapsed = time.perf_counter() - started
            self.metrics.latency.labels(method, route_template(scope)).observe(elapsed)
            self.metrics.responses.labels(f"{status // 100}xx").inc()

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        accepted = False

        async def watch(message: Message) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                self.metrics.websockets.inc()
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if accepted:
                self.metrics.websockets.dec()
