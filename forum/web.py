"""Helpers the forum's pages and API share."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from core.context import AppContext, get_context
from identity.auth import current_member
from identity.country import crisis_region as region_of


def context(conn: HTTPConnection) -> AppContext:
    return get_context(conn)


__all__ = ["context", "current_member", "region_of"]
