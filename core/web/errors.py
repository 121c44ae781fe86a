"""Errors members can act on: JSON under /api/, friendly pages elsewhere."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response

from core.db import UnstorableText
from core.web.params import BadParameter

log = logging.getLogger("kindred.errors")

PAGE_TEXT: dict[int, tuple[str, str]] = {
    400: ("That request didn't make sense", "Go back, check what you entered and try again."),
    401: ("Please sign in again", "Sign in to continue."),
    403: (
        "You can't do that here",
        "If you think you should be able to, sign in and try again, or ask a moderator.",
    ),
    404: (
        "We couldn't find that page",
        "It may have been moved or removed. Try the communities list or the search.",
    ),
    405: ("That page doesn't accept this", "Go back and use the page's own buttons and forms."),
    413: ("That was too large to send", "Shorten it and try again."),
    429: ("Please slow down", "You've done that a lot in a short time. Wait a little and retry."),
    500: (
        "Something went wrong on our side",
        "Nothing you did caused this. Please try again in a moment.",
    ),
    503: ("Kindred is briefly unavailable", "Please try again in a minute."),
}

STATUS_CODES = {
    400: "bad_request",
    401: "not_signed_in",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}


class ApiError(Exception):
    """An error a JSON client receives as {"error": {"code", "message", ...}}."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def wants_json(conn: HTTPConnection) -> bool:
    # A refused WebSocket upgrade is answered in JSON too, as chat/ws.py's denials are.
    return conn.url.path.startswith("/api/") or conn.scope["type"] == "websocket"


def json_error(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, **extra}}, status, headers=headers
    )


# Form fields that hold what a member wrote. When a post is refused before any view can keep
# the draft (an ended session, an expired form), the error page gives these back; other
# fields (passphrases, tokens) are never echoed.
DRAFT_FIELDS = ("title", "body", "text", "note", "description", "ground_rules", "rules")


def draft_of(fields: Mapping[str, Any]) -> str:
    """The member's writing in a submitted form, ready to copy back into a new one."""
    parts = [fields.get(name) for name in DRAFT_FIELDS]
    return "\n\n".join(p.strip() for p in parts if isinstance(p, str) and p.strip())


def error_page(
    conn: HTTPConnection,
    status: int,
    message: str | None = None,
    headers: dict | None = None,
    draft: str = "",
) -> Response:
    title, hint = PAGE_TEXT.get(status, PAGE_TEXT[400] if status < 500 else PAGE_TEXT[500])
    templates = conn.app.state.ctx.templates
    return templates.TemplateResponse(
        conn,  # type: ignore[arg-type]
        "errors/error.html",
        {"status": status, "title": title, "hint": message or hint, "draft": draft},
        status_code=status,
        headers=headers,
    )


def error_response(
    conn: HTTPConnection,
    status: int,
    code: str | None = None,
    message: str | None = None,
    draft: str = "",
) -> Response:
    headers = {"retry-after": "30"} if status == 503 else None
    if wants_json(conn):
        title, hint = PAGE_TEXT.get(status, ("Error", ""))
        return json_error(
            status,
            code or STATUS_CODES.get(status, "error"),
            message or f"{title}. {hint}".strip(),
            headers=headers,
        )
    return error_page(conn, status, message, headers=headers, draft=draft)


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    # A view may raise HTTPException(status, "message for the member"); the default detail
    # is just the status phrase, which our own page text replaces.
    custom = exc.detail if exc.detail != HTTPStatus(exc.status_code).phrase else None
    response = error_response(request, exc.status_code, message=custom)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    headers = {}
    if "retry_after" in exc.extra:
        headers["retry-after"] = str(exc.extra["retry_after"])
    return json_error(exc.status, exc.code, exc.message, headers=headers, **exc.extra)


async def bad_parameter(request: Request, exc: Exception) -> Response:
    # A number, id or date out of range (core/web/params.py): say which, never a 500.
    assert isinstance(exc, BadParameter)
    if wants_json(request):
        return json_error(422, "invalid_field", exc.message, field=exc.name)
    return error_page(request, 422, exc.message)


async def unstorable_text(request: Request, exc: Exception) -> Response:
    # A NUL character, from any field (core/db.py): the member can remove it and resend.
    message = "That contains a character we can't store (a NUL, \\0). Remove it and try again."
    return error_response(request, 422, "invalid_text", message)


async def server_error(request: Request, exc: Exception) -> Response:
    # The exception type and traceback are logged; request bodies and headers never are.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500)


EXCEPTION_HANDLERS = {
    HTTPException: http_exception,
    ApiError: api_error,
    BadParameter: bad_parameter,
    UnstorableText: unstorable_text,
    500: server_error,
}
