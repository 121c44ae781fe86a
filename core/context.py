"""What the app's parts share at run time, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import HTTPConnection
from starlette.templating import Jinja2Templates

from core.broker import Broker, MemoryBroker
from core.db import Database
from core.ratelimit import RateLimits
from core.settings import Settings


@dataclass
class AppContext:
    settings: Settings
    db: Database
    rate_limits: RateLimits
    templates: Jinja2Templates
    # Registries that feature packages fill in at composition time (keyed by package name),
    # so that lower layers can call into higher ones without importing them.
    extensions: dict[str, Any] = field(default_factory=dict)
    # Pub/sub for chat fan-out: in-process by default, Redis when configured.
    broker: Broker = field(default_factory=MemoryBroker)


def get_context(conn: HTTPConnection) -> AppContext:
    return conn.app.state.ctx
