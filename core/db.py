"""The database engine and units of work.

One ``Database`` per app, created by the composition root. Writes go through
``transaction()``: short, committed on success, rolled back on error. On SQLite a
process-wide lock keeps to one writer at a time, so "database is locked" never reaches a
member; the busy timeout covers other processes (the CLI, a backup).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession


class DatabaseUnavailable(Exception):
    """The database cannot be reached right now; callers answer 503 with a retry hint."""


# SQLite's primary result codes (the low byte of an extended code) for "can't write here".
_SQLITE_READONLY, _SQLITE_FULL = 8, 13
# PostgreSQL's: disk_full, and read_only_sql_transaction (a standby, or a database that
# hosted services switch to read-only when its disk fills up).
_POSTGRES_REFUSALS = frozenset({"53100", "25006"})


def refuses_writes(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) says the database answers but can store nothing
    right now: its disk is full, or it (or its file) is read-only. The transaction was
    rolled back, so trying again once there is room is safe."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for candidate in (current, getattr(current, "orig", None)):
            code = getattr(candidate, "sqlite_errorcode", None)  # sqlite3's, Python 3.11+
            if isinstance(code, int) and code & 0xFF in (_SQLITE_READONLY, _SQLITE_FULL):
                return True
            if getattr(candidate, "sqlstate", None) in _POSTGRES_REFUSALS:  # asyncpg's
                return True
        current = current.__cause__ or current.__context__
    return False


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes on every engine (SQLite keeps no zone; PostgreSQL uses timestamptz)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "busy_timeout=5000",
        # Deleted and overwritten content is zeroed in the file, not left in free space:
        # erasing what a member wrote must erase it from the disk too.
        "secure_delete=ON",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


class UnstorableText(ValueError):
    """Text holding a NUL character (U+0000), which PostgreSQL's text types cannot store
    (SQLite's can). Refused on both databases before the statement runs, so a NUL from any
    request — a query string, a form, a JSON body — is one clear 422 (core/web/errors.py),
    never a driver error and a 500, and the two databases answer alike."""


def _refuse_nul(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    if _holds_nul(parameters):
        raise UnstorableText("a NUL character in a statement's text")


def _holds_nul(value: Any) -> bool:
    # Drivers hand over a dict, a tuple, or (executemany) a list of either.
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, list | tuple):
        return False
    return any(_holds_nul(item) for item in value)


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # Errors never quote statement parameters: they are member text, hashes and tokens,
        # and errors end up in logs.
        options: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if not self.is_sqlite:
            options |= {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}
        elif ":memory:" not in url:
            # Readers run in parallel (WAL). Each aiosqlite connection is a thread of its own,
            # so connections are kept rather than opened per burst and closed again: no
            # overflow (an overflow connection is closed when returned, and under a chat burst
            # opening them again was a fifth of the server's CPU, bench/chat_fanout.py). The
            # pool opens its connections as they are needed, up to this many, and keeps them.
            options |= {"pool_size": 64, "max_overflow": 0, "pool_timeout": 30}
            # Sessions and connections end their transactions themselves when they close;
            # the pool's own rollback on return would be a second trip to the driver's thread.
            options["pool_reset_on_return"] = None
        self.engine: AsyncEngine = create_async_engine(url, **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(self.engine.sync_engine, "before_cursor_execute", _refuse_nul)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A short write transaction: commit on success, roll back on any error."""
        if self._write_lock is None:
            async with self._sessions() as session, session.begin():
                yield session
            return
        async with self._write_lock, self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only session; nothing it does is committed."""
        async with self._sessions() as session:
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def scrub(self) -> None:
        """After deleting something a member must be rid of: on SQLite, copy the write-ahead
        log (which still holds pages as they were before) into the database file and empty
        it. PostgreSQL's dead rows are reclaimed by its autovacuum."""
        if not self.is_sqlite:
            return
        assert self._write_lock is not None
        async with self._write_lock, self.engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    async def close(self) -> None:
        await self.engine.dispose()
