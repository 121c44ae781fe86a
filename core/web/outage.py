"""A database that can't be reached answers 503 with a retry hint, not a 500 traceback page.

Only connection-level failures count: a refused or dropped connection, a pool that timed
out, a server shutting down, an SQLite file that can't be opened. A genuine SQL mistake
(a missing table, a constraint violation) stays a 500, so bugs are not hidden as outages.

A database that answers but can't store anything (a full disk, a read-only file or
database: `core.db.refuses_writes`) is a 503 too, which says that what the member wrote was
not saved and gives a form's text back, so nothing they wrote is lost on the way.
"""

from __future__ import annotations

import errno
import logging
import socket
from urllib.parse import parse_qsl

import sqlalchemy.exc as sa_exc
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.db import DatabaseUnavailable, refuses_writes
from core.i18n import N_, gettext
from core.web.errors import draft_of, error_response, wants_json

log = logging.getLogger("kindred.errors")

# asyncpg's connection-class errors, by name, so core need not import the driver.
_ASYNCPG_OUTAGES = frozenset(
    {
        "PostgresConnectionError",
        "ConnectionDoesNotExistError",
        "CannotConnectNowError",
        "TooManyConnectionsError",
        "AdminShutdownError",
        "CrashShutdownError",
    }
)
_NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.ETIMEDOUT,
        errno.EPIPE,
    }
)
# SQLite reports these as OperationalError, like its SQL mistakes ("no such table").
_SQLITE_OUTAGES = ("unable to open database file", "database is locked", "disk i/o error")

# The exception classes whose handler decides: 503 for an outage, 500 otherwise.
HANDLED = (DatabaseUnavailable, OSError, sa_exc.DBAPIError, sa_exc.TimeoutError)


def is_database_outage(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) means the database can't be reached right now."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_outage_itself(current):
            return True
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException) and _is_outage_itself(orig):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_outage_itself(exc: BaseException) -> bool:
    if isinstance(exc, DatabaseUnavailable | sa_exc.TimeoutError | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS:
        return True
    if isinstance(exc, socket.gaierror):  # the database's hostname doesn't resolve
        return True
    names = {cls.__name__ for cls in type(exc).__mro__ if cls.__module__.startswith("asyncpg")}
    if names & _ASYNCPG_OUTAGES:
        return True
    if type(exc).__name__ == "OperationalError" and type(exc).__module__ == "sqlite3":
        return str(exc).lower().startswith(_SQLITE_OUTAGES)
    return False


# What a member is told when the database refuses a write: with their text given back below
# it, or not.
_NOT_SAVED_KEPT = N_(
    "We couldn't save this just now, so it wasn't posted. Your text is below: copy it and "
    "try again in a few minutes."
)
_NOT_SAVED_KEEP = N_(
    "We couldn't save this just now, so it wasn't posted. Please keep your text and try "
    "again in a few minutes."
)


def unavailable(conn: HTTPConnection, exc: BaseException, draft: str = "") -> Response:
    # One line, the exception's type only: driver messages carry hostnames and addresses.
    if refuses_writes(exc):  # the operator must act: free space, or make it writable
        log.error(
            "database refused a write on %s %s (disk full or read-only): %s",
            conn.scope.get("method", "WEBSOCKET"),
            conn.url.path,
            type(exc).__name__,
        )
        message = gettext(_NOT_SAVED_KEPT if draft else _NOT_SAVED_KEEP)
        return error_response(conn, 503, message=message, draft=draft)
    log.warning(
        "database unavailable on %s %s: %s",
        conn.scope.get("method", "WEBSOCKET"),
        conn.url.path,
        type(exc).__name__,
    )
    message = (
        gettext("Kindred is briefly unavailable, so this wasn't sent. Your text is below.")
        if draft
        else None
    )
    return error_response(conn, 503, message=message, draft=draft)


async def database_error(request: Request, exc: Exception) -> Response:
    """Exception handler for HANDLED: 503 with Retry-After for an outage or a database that
    can't store anything. Anything else is raised on, to be logged and answered exactly as
    any other unhandled error (a 500)."""
    if not (refuses_writes(exc) or is_database_outage(exc)):
        raise exc
    if request.scope["type"] == "websocket":
        raise exc  # DatabaseOutageMiddleware refuses the upgrade
    return unavailable(request, exc, await _draft(request))


async def _draft(request: Request) -> str:
    """What the member wrote in the form that failed (the view read it already: Starlette
    hands the handler the same request, form cached), for the error page to give back."""
    if wants_json(request) or request.method != "POST":
        return ""  # JSON clients keep their own text
    try:
        return draft_of(await request.form())
    except Exception:  # the body was read another way, or the client went away
        return ""


class DatabaseOutageMiddleware:
    """Answers 503 when the database fails in a middleware (the session lookup, say), where
    the app's exception handlers can't see it. Anything else passes through untouched.

    No view has read the form then, so this layer keeps a copy of a page's form as the
    layers inside read it (the CSRF check reads every cookie-signed form before the session
    is looked up) and gives the member's text back on the 503 page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._upgrade(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        form = FormCopy(scope, receive)

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, form.receive, watch)
        except Exception as exc:
            if started or not (refuses_writes(exc) or is_database_outage(exc)):
                raise
            draft = await form.draft()
            await unavailable(HTTPConnection(scope), exc, draft)(scope, form.receive, send)

    async def _upgrade(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket whose upgrade fails on the database (looking up the session, say) is
        refused with a 503 (uvicorn answered 500 and logged a traceback); its client
        reconnects later as after any refusal."""
        answered = False

        async def watch(message: Message) -> None:
            nonlocal answered
            answered = answered or message["type"] in _ANSWERS
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if answered or not (refuses_writes(exc) or is_database_outage(exc)):
                raise
            refusal = unavailable(HTTPConnection(scope), exc)  # logged as for a page
            if "websocket.http.response" in scope.get("extensions", {}):
                await refusal(scope, receive, send)
            else:  # the server can't send a response: a plain refusal it is
                await send({"type": "websocket.close", "code": 1013})


# What answers a WebSocket upgrade, one way or the other.
_ANSWERS = frozenset({"websocket.accept", "websocket.close", "websocket.http.response.start"})


FORM_TYPE = "application/x-www-form-urlencoded"
FORM_MOST = 1 << 20  # bytes this layer reads itself, when nothing inside read the form


class FormCopy:
    """The body of a page's form post (never an API call's: JSON clients keep their own
    text), kept as it passes by, for an error page that must give the member's text back."""

    def __init__(self, scope: Scope, receive: Receive) -> None:
        conn = HTTPConnection(scope)
        content_type = Headers(scope=scope).get("content-type", "")
        self.wanted = (
            scope["method"] == "POST"
            and content_type.startswith(FORM_TYPE)
            and not wants_json(conn)
        )
        self.upstream = receive
        self.chunks: list[bytes] = []
        self.size = 0
        self.complete = False

    async def receive(self) -> Message:
        message = await self.upstream()
        if self.wanted and message["type"] == "http.request" and not self.complete:
            self.chunks.append(message.get("body", b""))
            self.size += len(self.chunks[-1])
            self.complete = not message.get("more_body", False)
            if self.size > FORM_MOST:  # past what a draft is read from: keep nothing
                self.wanted, self.chunks = False, []
        return message

    async def draft(self) -> str:
        """What the member wrote in the form (see core.web.errors.DRAFT_FIELDS), or ""."""
        if not self.wanted:
            return ""
        try:
            while not self.complete and self.size <= FORM_MOST:  # nothing inside read it all
                if (await self.receive())["type"] != "http.request":
                    return ""  # the client went away
        except Exception:  # the connection broke meanwhile
            return ""
        if not (self.complete and self.wanted):  # unfinished, or past FORM_MOST
            return ""
        body = b"".join(self.chunks).decode("latin-1")  # urlencoded: ASCII, %-escaped UTF-8
        return draft_of(dict(parse_qsl(body, keep_blank_values=True, errors="replace")))
