"""Logging set-up: text or JSON lines, with a last-line guard that masks IP addresses and
query strings (uvicorn's WebSocket lines print both, and `?token=` is a session token). The
one address left readable is the server's own, on the lines that say where to open it.

Our own log lines carry no member text, passphrases or tokens to begin with: they name
routes, ids and exception *types*; the database engine hides statement parameters in its
errors (core/db.py), so a traceback can't quote what a member wrote."""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# IPv4, and IPv6 with at least two colons; the guard for any library (uvicorn's WebSocket
# lines, for one) that would otherwise print a client's address.
_IP = re.compile(
    r"\b(?:\d{1,3}\.){3}\d{1,3}\b|(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])"
)


# A query string after a path: "/ws/rooms/lobby?token=…" → "/ws/rooms/lobby?[query]". Read
# token by token (runs without spaces or quotes): a single pattern that looks for "/…?" from
# every "/" re-reads a long path once per slash, and a request for "/////…" (the client
# chooses the path) then cost seconds of the event loop for each log line.
_TOKEN = re.compile(r"[^\s\"']+")


def _without_query(token: re.Match[str]) -> str:
    text = token.group()
    slash = text.find("/")
    mark = text.find("?", slash) if slash >= 0 else -1
    if mark < 0 or mark == len(text) - 1:
        return text
    return text[:mark] + "?[query]"


PAYLOAD_LOGGERS = (
    "aiosqlite",
    "asyncpg",
    "markdown_it",
    "websockets",
    "uvicorn.error",
    "httpx",
    "httpcore",
    "multipart",
    "sqlalchemy",
)


def redact(text: str) -> str:
    return _TOKEN.sub(_without_query, _IP.sub("[address]", text))


# The server's own address is no member's: the operator must read the URL to open. uvicorn's
# "running on" line keeps its arguments (the address it listens on, whichever of its two
# places logs it: tests/kindred/test_site_url.py pins both against the uvicorn we run). Our own
# lines name the address they keep with `extra=own_address(url)`: that exact text alone stays,
# and anything else in the line (a client's Origin, say) is masked as in any other line.
# Query strings are cut everywhere.
UVICORN_RUNNING = frozenset(
    {
        "Uvicorn running on %s://%s:%d (Press CTRL+C to quit)",
        "Uvicorn running on %s://[%s]:%d (Press CTRL+C to quit)",
    }
)
_OWN = "kindred_own_address"


def own_address(*addresses: str) -> dict[str, tuple[str, ...]]:
    """`extra=` for a line that names the server's own address(es), which it keeps unmasked."""
    return {_OWN: tuple(a for a in addresses if a)}


def _uvicorn_running(record: logging.LogRecord) -> bool:
    msg = record.msg
    return record.name == "uvicorn.error" and isinstance(msg, str) and msg in UVICORN_RUNNING


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        own: tuple[str, ...] = getattr(record, _OWN, ())
        if _uvicorn_running(record):
            cleaned = _TOKEN.sub(_without_query, message)
        elif own:
            parts = re.split("(" + "|".join(map(re.escape, own)) + ")", message)
            cleaned = "".join(
                _TOKEN.sub(_without_query, p) if p in own else redact(p) for p in parts
            )
        else:
            cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# Set (core/web/accesslog.py) once a WebSocket upgrade was refused with a complete HTTP answer
# through the denial-response extension. uvicorn's websockets-sansio protocol then still logs
# "ASGI callable returned without completing handshake." at ERROR when the app returns (it
# marks the handshake complete for websocket.close, not for a denial response: uvicorn PR
# #3138), so every refused upgrade read as a crash. The flag lives in the connection's own
# context, which uvicorn's line is logged from; tests/security/test_refused_upgrades.py pins
# both the line and its filtering against the uvicorn we run.
upgrade_refused: ContextVar[bool] = ContextVar("kindred_upgrade_refused", default=False)
INCOMPLETE_HANDSHAKE = "ASGI callable returned without completing handshake."


class RefusedUpgradeFilter(logging.Filter):
    """Drops uvicorn's incomplete-handshake error for an upgrade we refused on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.name == "uvicorn.error"
            and record.msg == INCOMPLETE_HANDSHAKE
            and upgrade_refused.get()
        )


class TextFormatter(logging.Formatter):
    def formatException(self, ei: Any) -> str:
        return redact(super().formatException(ei))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("method", "path", "status"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry)


def configure_logging(fmt: str = "text", level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.addFilter(RefusedUpgradeFilter())
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # At debug level these libraries print what passes through them: SQL parameters (member
    # text, hashes), WebSocket frames, parsed Markdown. KINDRED_LOG_LEVEL=debug is for our
    # own loggers; theirs stay at info at most.
    for name in PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
    # SQLAlchemy's info level is its `echo`: a line for every statement, BEGIN and ROLLBACK,
    # which cost more CPU on a busy page than the queries themselves.
    logging.getLogger("sqlalchemy").setLevel(max(logging.WARNING, root.level))
    # uvicorn's own access log prints the client's address; ours does not.
    logging.getLogger("uvicorn.access").disabled = True
