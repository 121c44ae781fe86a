"""A database that can't be reached answers 503 with a retry hint, not a 500 traceback page.

Only connection-level failures count: a refused or dropped connection, a pool that timed
out, a server shutting down, an SQLite file that can't be opened. A genuine SQL mistake
(a missing table, a constraint violation) stays a 500, so bugs are not hidden as outages.
"""

from __future__ import annotations

import errno
import logging
import socket

import sqlalchemy.exc as sa_exc
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.db import DatabaseUnavailable
from core.web.errors import error_response

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


def unavailable(conn: HTTPConnection, exc: BaseException) -> Response:
    # One line, the exception's type only: driver messages carry hostnames and addresses.
    log.warning(
        "database unavailable on %s %s: %s",
        conn.scope.get("method"),
        conn.url.path,
        type(exc).__name__,
    )
    return error_response(conn, 503)


async def database_error(request: Request, exc: Exception) -> Response:
    """Exception handler for HANDLED: 503 with Retry-After for an outage. Anything else is
    raised on, to be logged and answered exactly as any other unhandled error (a 500)."""
    if is_database_outage(exc):
        return unavailable(request, exc)
    raise exc


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
            if started or not is_database_outage(exc):
                raise
            await unavailable(HTTPConnection(scope), exc)(scope, receive, send)
