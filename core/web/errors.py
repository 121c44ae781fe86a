"""Errors members can act on: JSON under /api/, friendly pages elsewhere.

A service's `Refusal` (core/errors.py) propagates out of a view and is answered by `refused`:
`refusal_json` and `refusal_page` are the two HTTP translators, and every other error here
(a bare status, a bad parameter, a NUL) is worded as a Refusal and goes through them too.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from http import HTTPStatus
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response

from core.db import UnstorableText
from core.errors import Refusal
from core.i18n import N_, gettext
from core.web.params import BadParameter

log = logging.getLogger("kindred.errors")

# Marked here, translated where shown: the title by the error page (templates/errors/
# error.html translates it), the explanation by `_status_words`, so a refusal's message (which
# may hold a member's words) is never passed through the template's _() and stays escaped.
PAGE_TEXT: dict[int, tuple[str, str]] = {
    400: (
        N_("That request didn't make sense"),
        N_("Go back, check what you entered and try again."),
    ),
    401: (N_("Please sign in again"), N_("Sign in to continue.")),
    403: (
        N_("You can't do that here"),
        N_("If you think you should be able to, sign in and try again, or ask a moderator."),
    ),
    404: (
        N_("We couldn't find that page"),
        N_("It may have been moved or removed. Try the communities list or the search."),
    ),
    405: (
        N_("That page doesn't accept this"),
        N_("Go back and use the page's own buttons and forms."),
    ),
    409: (N_("That can't be done any more"), N_("Things changed while you were on the page.")),
    413: (N_("That was too large to send"), N_("Shorten it and try again.")),
    429: (
        N_("Please slow down"),
        N_("You've done that a lot in a short time. Wait a little and retry."),
    ),
    500: (
        N_("Something went wrong on our side"),
        N_("Nothing you did caused this. Please try again in a moment."),
    ),
    503: (N_("Kindred is briefly unavailable"), N_("Please try again in a minute.")),
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


def wants_json(conn: HTTPConnection) -> bool:
    # A refused WebSocket upgrade is answered in JSON too, as chat/ws.py's denials are.
    return conn.url.path.startswith("/api/") or conn.scope["type"] == "websocket"


def _retry_header(refusal: Refusal) -> dict[str, str] | None:
    return {"retry-after": str(refusal.retry_after)} if refusal.retry_after else None


def refusal_json(refusal: Refusal) -> JSONResponse:
    """The JSON translator: {"error": {"code", "message", and every field that is set}},
    with a Retry-After header when the refusal says when to try again."""
    body: dict[str, Any] = {"code": refusal.code, "message": refusal.message, **refusal.details}
    for name in ("field", "retry_after", "notice", "draft", "url"):
        if value := getattr(refusal, name):
            body[name] = value
    return JSONResponse({"error": body}, refusal.status, headers=_retry_header(refusal))


# Form fields that hold what a member wrote. When a post is refused before any view can keep
# the draft (an ended session, an expired form), the error page gives these back; other
# fields (passphrases, tokens) are never echoed.
DRAFT_FIELDS = ("title", "body", "text", "note", "description", "ground_rules", "rules")


def draft_of(fields: Mapping[str, Any]) -> str:
    """The member's writing in a submitted form, ready to copy back into a new one."""
    parts = [fields.get(name) for name in DRAFT_FIELDS]
    return "\n\n".join(p.strip() for p in parts if isinstance(p, str) and p.strip())


def refusal_page(conn: HTTPConnection, refusal: Refusal) -> Response:
    """The page translator: the error page with the message, the member's kept draft, the
    notice (crisis resources) and the link where one is given, and a Retry-After header.
    The code rides on the page as a data attribute. A page has no channel for `field`
    (there is no form on it to mark) nor `details`: a view that shows its own form again
    takes the message and field from `form_errors` instead."""
    status = refusal.status
    title = PAGE_TEXT.get(status, PAGE_TEXT[400] if status < 500 else PAGE_TEXT[500])[0]
    context = {
        "status": status,
        "code": refusal.code,  # for scripts and tests: the page shows the message
        "title": title,
        "hint": refusal.message,
        "draft": refusal.draft,
        "notice": refusal.notice,
        "url": refusal.url,
    }
    return conn.app.state.ctx.templates.TemplateResponse(
        conn,  # type: ignore[arg-type]
        "errors/error.html",
        context,
        status_code=status,
        headers=_retry_header(refusal),
    )


def form_errors(refusal: Refusal, fields: Collection[str] | None = None) -> dict[str, str]:
    """For a view that shows its own form again: the message beside the field it is about
    when the form has that field (one of `fields`; any, when not given), else at the top of
    the form, so that a field the form doesn't show never hides the message."""
    at = refusal.field if refusal.field and (fields is None or refusal.field in fields) else None
    return {at or "form": refusal.message}


def refusal_response(conn: HTTPConnection, refusal: Refusal) -> Response:
    """JSON under /api/ and for a WebSocket's handshake; a page everywhere else."""
    return refusal_json(refusal) if wants_json(conn) else refusal_page(conn, refusal)


async def refused(request: Request, exc: Exception) -> Response:
    # A view lets a service's Refusal propagate; it is answered here, whichever surface.
    assert isinstance(exc, Refusal)
    return refusal_response(request, exc)


def error_response(
    conn: HTTPConnection,
    status: int,
    code: str | None = None,
    message: str | None = None,
    draft: str = "",
) -> Response:
    """A refusal with no service behind it (a bare status, an expired form, an outage),
    worded from PAGE_TEXT when no message is given."""
    json = wants_json(conn)
    refusal = Refusal(
        code or STATUS_CODES.get(status, "error"),
        message or _status_words(status, json),
        status,
        draft=draft,
        retry_after=30 if status == 503 else None,
    )
    return refusal_response(conn, refusal)


def _status_words(status: int, json: bool) -> str:
    if json:  # no page title around it: the title and the hint in one
        title, hint = PAGE_TEXT.get(status, (N_("Error"), ""))
        return f"{gettext(title)}. {gettext(hint) if hint else ''}".strip()
    return gettext(PAGE_TEXT.get(status, PAGE_TEXT[400] if status < 500 else PAGE_TEXT[500])[1])


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    # A view may raise HTTPException(status, "message for the member"); the default detail
    # is just the status phrase, which our own page text replaces.
    custom = exc.detail if exc.detail != HTTPStatus(exc.status_code).phrase else None
    response = error_response(request, exc.status_code, message=custom)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def bad_parameter(request: Request, exc: Exception) -> Response:
    # A number, id or date out of range (core/web/params.py): say which, never a 500.
    assert isinstance(exc, BadParameter)
    return refusal_response(request, Refusal("invalid_field", exc.message, field=exc.name))


async def unstorable_text(request: Request, exc: Exception) -> Response:
    # A NUL character, from any field (core/db.py): the member can remove it and resend.
    message = gettext(
        "That contains a character we can't store (a NUL, \\0). Remove it and try again."
    )
    return error_response(request, 422, "invalid_text", message)


async def server_error(request: Request, exc: Exception) -> Response:
    # The exception type and traceback are logged; request bodies and headers never are.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500)


EXCEPTION_HANDLERS = {
    HTTPException: http_exception,
    Refusal: refused,
    BadParameter: bad_parameter,
    UnstorableText: unstorable_text,
    500: server_error,
}
