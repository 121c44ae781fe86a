"""Helpers the forum's pages and API share."""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from core.context import AppContext, get_context
from forum.models import HELP_TYPES, REACTIONS, THREAD_KINDS
from identity.auth import current_member
from identity.country import crisis_region as region_of


def context(conn: HTTPConnection) -> AppContext:
    return get_context(conn)


def render(request: Request, template: str, data: dict[str, Any], status: int = 200) -> Response:
    """A forum page, with the names every forum template may show."""
    data.setdefault("kinds", THREAD_KINDS)
    data.setdefault("help_types", HELP_TYPES)
    data.setdefault("reaction_names", REACTIONS)
    return context(request).templates.TemplateResponse(request, template, data, status_code=status)


__all__ = ["context", "current_member", "region_of", "render"]
