"""Helpers the forum's pages and API share."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from core.context import AppContext, get_context
from core.web.client import region_of as client_region
from identity.auth import current_member


def region_of(conn: HTTPConnection) -> str | None:
    return client_region(conn.headers)


def context(conn: HTTPConnection) -> AppContext:
    return get_context(conn)


__all__ = ["context", "current_member", "region_of"]
