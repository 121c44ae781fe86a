"""Helpers the forum's pages and API share."""

from __future__ import annotations

import re

from starlette.requests import HTTPConnection

from core.context import AppContext, get_context
from identity.auth import current_member

_REGION = re.compile(r"^[a-z]{2,3}-([A-Za-z]{2})\b")


def region_of(conn: HTTPConnection) -> str | None:
    """The member's country, coarsely, from their browser's language (en-GB → GB), for
    choosing crisis helplines. Read per request, never stored."""
    first = conn.headers.get("accept-language", "").split(",")[0].strip()
    match = _REGION.match(first)
    return match.group(1).upper() if match else None


def context(conn: HTTPConnection) -> AppContext:
    return get_context(conn)


__all__ = ["context", "current_member", "region_of"]
