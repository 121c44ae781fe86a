"""Prometheus metrics: requests, WebSockets, chat fan-out, writes and pipeline decisions.

Each app gets its own registry (tests build many apps). Labels never identify a member:
the route *template* ("/t/{thread_id}"), never the path, and no query strings; content
kinds, actions and reason codes from fixed sets. `/metrics` exists only when
KINDRED_METRICS_TOKEN is set, and answers only that bearer token.

Where each count comes from, without the features knowing about metrics: requests and
WebSockets from the ASGI middleware (a server close with 1013 is a slow consumer cut off);
messages and posts from the database engine's inserts; decisions from moderation's
`decision_observer`, set for each request; queue depths read from the chat hub at scrape.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import Insert
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chat.hub import Hub
from chat.models import ChatMessage
from core.db import Database
from forum.models import Post
from identity.auth import bearer_token
from moderation.api import ContentKind, Decision, decision_observer

# Anything else a client sends is counted as "other", so a client can't mint label values.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
CLOSE_TRY_AGAIN = 1013  # chat closes a connection that fell behind with this (docs/protocol.md)
STATUSES = frozenset({"published", "held"})
LAG_PERIOD = 0.1  # seconds between the loop watch's wake-ups
STALL = 0.05  # a lag over this is a stall (issue 17: none over 50 ms under any bench load)
REASON = re.compile(r"^[a-z_]{1,40}$")  # reason codes are identifiers chosen in code


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._worst = 0.0
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
        self.slow_consumers = Counter(
            "kindred_chat_slow_consumer_disconnects",
            "Chat connections closed (1013) because their send queue filled up.",
            registry=self.registry,
        )
        self.fanout_depth = Gauge(
            "kindred_chat_fanout_queue_depth",
            "Chat events waiting in this process: in broker subscriptions (queue=broker) "
            "and in connections' send queues (queue=connections).",
            ["queue"],
            registry=self.registry,
        )
        self.fanout_deepest = Gauge(
            "kindred_chat_send_queue_deepest",
            "Frames waiting in the fullest connection's send queue.",
            registry=self.registry,
        )
        self.messages = Counter(
            "kindred_chat_messages",
            "Chat messages stored, by status (published, held): rate() gives messages/s.",
            ["status"],
            registry=self.registry,
        )
        self.posts = Counter(
            "kindred_forum_posts",
            "Forum posts stored (threads' first posts and replies), by status.",
            ["status"],
            registry=self.registry,
        )
        self.decisions = Counter(
            "kindred_moderation_decisions",
            "Content pipeline decisions by content kind, action and reason code "
            '("none" when published as written).',
            ["kind", "action", "reason"],
            registry=self.registry,
        )
        self.broker_connected = Gauge(
            "kindred_broker_connected",
            "1 while this process's broker reaches Redis (always 1 without Redis).",
            registry=self.registry,
        )
        self.loop_lag = Histogram(
            "kindred_event_loop_lag_seconds",
            f"How late the event loop ran a timer due every {LAG_PERIOD} s: time it spent "
            "blocked (a stall holds every member's messages and pages).",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.loop_stalls = Counter(
            "kindred_event_loop_stalls",
            f"Times the event loop was blocked longer than {STALL * 1000:.0f} ms.",
            registry=self.registry,
        )
        self.loop_lag_worst = Gauge(
            "kindred_event_loop_lag_worst_seconds",
            "The longest event-loop lag since the previous scrape of /metrics.",
            registry=self.registry,
        )
        self._stored = {ChatMessage.__tablename__: self.messages, Post.__tablename__: self.posts}

    # ------------------------------------------------------------------- sources

    def watch(self, db: Database, hub: Hub) -> None:
        """Count the app's writes as its engine makes them; read queue depths at scrape."""
        event.listen(db.engine.sync_engine, "after_execute", self._after_execute)
        self.fanout_depth.labels("broker").set_function(
            lambda: sum(channel.sub.waiting for channel in hub.rooms.values())
        )
        self.fanout_depth.labels("connections").set_function(lambda: sum(_send_queues(hub)))
        self.fanout_deepest.set_function(lambda: max(_send_queues(hub), default=0))
        self.broker_connected.set_function(lambda: getattr(hub.broker, "connected", True))

    def _after_execute(
        self, conn: Connection, clause: Any, multiparams: Any, params: Any, *_: Any
    ) -> None:
        if not isinstance(clause, Insert):
            return
        counter = self._stored.get(clause.table.name)  # type: ignore[attr-defined]
        if counter is None:
            return
        for row in multiparams or [params]:
            status = row.get("status") if isinstance(row, dict) else None
            counter.labels(status if status in STATUSES else "other").inc()

    async def watch_loop(self) -> None:
        """Run for the app's lifetime: time a short sleep, over and over; the overshoot is
        how long something held the event loop (a stall detector costing ~10 wake-ups/s)."""
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + LAG_PERIOD
            await asyncio.sleep(LAG_PERIOD)
            lag = max(0.0, loop.time() - due)
            self.loop_lag.observe(lag)
            if lag > STALL:
                self.loop_stalls.inc()
            if lag > self._worst:
                self._worst = lag
                self.loop_lag_worst.set(lag)

    def count_decision(self, kind: ContentKind, decision: Decision) -> None:
        """Called from the pipeline's worker thread (prometheus_client is thread-safe)."""
        code = decision.reason.code if decision.reason else "none"
        reason = code if REASON.match(code) else "other"
        self.decisions.labels(kind.value, decision.action.value, reason).inc()

    def route(self, token: str) -> Route:
        """The `/metrics` route, answering only `Authorization: Bearer <token>`."""

        async def metrics(request: Request) -> Response:
            offered = bearer_token(request.headers) or ""
            if not hmac.compare_digest(offered.encode(), token.encode()):
                raise HTTPException(404)  # as if it weren't there
            body = generate_latest(self.registry)
            self._worst = 0.0  # "since the previous scrape"
            self.loop_lag_worst.set(0.0)
            return Response(body, media_type=CONTENT_TYPE_LATEST)

        return Route("/metrics", metrics, methods=["GET"])


def _send_queues(hub: Hub) -> list[int]:
    """How many frames wait in each of this process's chat connections."""
    return [
        listener.queue.qsize()
        for channel in list(hub.rooms.values())
        for listener in list(channel.listeners)
    ]


def route_template(scope: Scope) -> str:
    """The matched route's template; the router leaves the route in the shared scope."""
    route = scope.get("route")
    return getattr(route, "path_format", None) or "unmatched"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        # The pipeline runs in this request's context, worker threads included.
        token = decision_observer.set(self.metrics.count_decision)
        try:
            if scope["type"] == "http":
                await self._http(scope, receive, send)
            else:
                await self._websocket(scope, receive, send)
        finally:
            decision_observer.reset(token)

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
            elif message["type"] == "websocket.close" and message.get("code") == CLOSE_TRY_AGAIN:
                self.metrics.slow_consumers.inc()
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if accepted:
                self.metrics.websockets.dec()
