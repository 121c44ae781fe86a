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

import sqlalchemy.exc as sa_exc
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.db import DatabaseUnavailable, refuses_writes
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


NOT_SAVED = "We couldn't save this just now, so it wasn't posted."


def unavailable(conn: HTTPConnection, exc: BaseException, draft: str = "") -> Response:
    # One line, the exception's type only: driver messages carry hostnames and addresses.
    if refuses_writes(exc):  # the operator must act: free space, or make it writable
        log.error(
            "database refused a write on %s %s (disk full or read-only): %s",
            conn.scope.get("method"),
            conn.url.path,
            type(exc).__name__,
        )
        message = NOT_SAVED + (
            " Your text is below: copy it and try again in a few minutes."
            if draft
            else " Please keep your text and try again in a few minutes."
        )
        return error_response(conn, 503, message=message, draft=draft)
    log.warning(
        "database unavailable on %s %s: %s",
        conn.scope.get("method"),
        conn.url.path,
        type(exc).__name__,
    )
    message = (
        "Kindred is briefly unavailable, so this wasn't sent. Your text is below."
        if draft
        else None
    )
    return error_response(conn, 503, message=message, draft=draft)


async def database_error(request: Request, exc: Exception) -> Response:
    """Exception handler for HANDLED: 503 with Retry-After for an outage or a database that
    can't store anything. Anything else is raised on, to be logged and answered exactly as
    any other unhandled error (a 500)."""
    if refuses_writes(exc) or is_database_outage(exc):
        return unavailable(request, exc, await _draft(request))
    raise exc


async def _draft(request: Request) -> str:
    """What the member wrote in the form that failed (the view read it already: Starlette
    hands the handler the same request, form cached), for the error page to give back."""
    if request.method != "POST" or wants_json(request):
        return ""  # JSON clients keep their own text
    try:
        return draft_of(await request.form())
    except Exception:  # the body was read another way, or the client went away
        return ""


class DatabaseOutageMiddleware:
    """Answers 503 when the database fails in a middleware (a session lookup, say), where
    the app's exception handlers can't see it. Anything else passes through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started or not (refuses_writes(exc) or is_database_outage(exc)):
                raise
            await unavailable(HTTPConnection(scope), exc)(scope, receive, send)
