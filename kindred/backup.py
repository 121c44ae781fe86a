"""Backup and restore of the embedded SQLite database (`kindred backup` / `kindred restore`).

Backups use SQLite's online backup API, so they are consistent while the server runs.
A restore checks the file is a Kindred database at this code's migration head, refuses a
database another process has open, and swaps the file in with one atomic rename.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

PAGES_PER_STEP = 256  # copied per step; between steps the server's writers get their turn


class BackupError(Exception):
    """A one-line reason the backup or restore did not happen."""


def progress_bar(out: TextIO = sys.stderr, width: int = 10) -> Callable[[int, int, int], None]:
    """A callback for Connection.backup that draws `[#####.....] 52%` on one line."""

    def draw(_status: int, remaining: int, total: int) -> None:
        done = (total - remaining) / total if total else 1.0
        filled = int(done * width)
        end = "\n" if remaining == 0 else ""
        print(f"\r[{'#' * filled}{'.' * (width - filled)}] {int(done * 100)}%", end=end, file=out)
        out.flush()

    return draw


def backup(database: Path, target: Path, progress: Callable[[int, int, int], None]) -> None:
    """Copy the live database to `target` (written aside, then renamed into place)."""
    if not database.is_file():
        raise BackupError(f"there is no database at {database}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with _open(database) as source, _open(partial) as copy:
            source.backup(copy, pages=PAGES_PER_STEP, progress=progress)
            # One self-contained file: no -wal beside it to forget when it is copied off.
            copy.execute("PRAGMA journal_mode=DELETE")
        _fsync(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def restore(source: Path, database: Path, head: str | None, *, confirmed: bool) -> None:
    """Replace `database` with the backup at `source`, after checking it is fit to use."""
    check_backup(source, head)
    if not confirmed:
        raise BackupError(
            f"this replaces the database at {database}: stop the server, then run again with --yes"
        )
    if database.exists() and in_use(database):
        raise BackupError(f"the database at {database} is in use: stop the server first")
    database.parent.mkdir(parents=True, exist_ok=True)
    temporary = database.with_name(f"{database.name}.restore-{os.getpid()}")
    try:
        with _open(source) as backup_file, _open(temporary) as copy:
            backup_file.backup(copy)
        _fsync(temporary)
        for leftover in ("-wal", "-shm"):  # belong to the old file; must not meet the new one
            Path(f"{database}{leftover}").unlink(missing_ok=True)
        os.replace(temporary, database)
        _fsync(database.parent)
    finally:
        temporary.unlink(missing_ok=True)


def check_backup(source: Path, head: str | None) -> None:
    if not source.is_file():
        raise BackupError(f"there is no file at {source}")
    try:
        with _open(source) as conn:
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"{source} is damaged (SQLite's quick_check failed)")
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        raise BackupError(f"{source} is not a Kindred database") from None
    version = row[0] if row else None
    if version != head:
        raise BackupError(
            f"{source} is at migration {version}, this Kindred needs {head}: restore it with "
            "the Kindred version that made it, then upgrade"
        )


def in_use(database: Path) -> bool:
    """True when another process has the database open. The server keeps it in WAL mode,
    and SQLite removes the -wal file when the last connection closes; so if it is still
    there once ours has closed, someone else is connected."""
    with _open(database) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return Path(f"{database}-wal").exists()


@contextlib.contextmanager
def _open(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path, timeout=5)
    try:
        yield conn
    finally:
        conn.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
