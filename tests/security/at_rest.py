"""Reading everything Kindred keeps at rest, and the shapes of what must never be in it.

- `address_forms`: every textual form of a client address a program could write down
  (dotted, zero-padded, hex, integer, reversed / in-addr.arpa, IPv6 compressed and expanded,
  without colons, nibble-reversed / ip6.arpa, IPv4-mapped, and an IPv6 address's /64).
- `database_cells`: every column of every row of every table (SQLite: the FTS index's shadow
  tables too; PostgreSQL: the public schema), as text.
- `files`: every file under a directory, as text (Latin-1, so no byte is lost).
- `redis_entries`: every Redis key with its value, whatever the type.

`Haystack` holds what was read; `find` answers where a needle occurs (case-insensitively).
"""

from __future__ import annotations

import ipaddress
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def address_forms(text: str) -> set[str]:
    """Every way of writing `text` (an IPv4 or IPv6 address) that a scan should catch."""
    address = ipaddress.ip_address(text)
    packed = address.packed
    forms = {str(address), packed.hex(), str(int(address)), address.reverse_pointer}
    if address.version == 4:
        octets = str(address).split(".")
        forms |= {
            ".".join(f"{int(o):03d}" for o in octets),  # 203.000.113.057
            ".".join(reversed(octets)),  # 57.113.0.203 (in-addr.arpa order)
            f"::ffff:{address}",
            str(ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + packed)),  # ::ffff:cb00:7139
        }
    else:
        exploded = address.exploded  # 2001:0db8:0000:...:0057
        network = ipaddress.ip_network(f"{address}/64", strict=False)
        forms |= {
            exploded,
            ":".join(f"{int(g, 16):x}" for g in exploded.split(":")),  # 2001:db8:0:0:0:0:0:57
            str(network),  # the /64 rate limits count by: still the member's network
            network.network_address.exploded[:19],  # 2001:0db8:0000:0000
            network.network_address.packed[:8].hex(),
        }
    return {f.lower() for f in forms}


@dataclass(frozen=True)
class Cell:
    """One value at rest, and where it is: (table, column, row) or (file, "", "")."""

    where: str
    column: str
    row: str
    text: str


@dataclass
class Haystack:
    name: str
    cells: list[Cell]

    def __post_init__(self) -> None:
        self._lowered = [(c, c.text.lower()) for c in self.cells]

    def find(self, needle: str) -> list[Cell]:
        needle = needle.lower()
        return [c for c, low in self._lowered if needle in low]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("latin-1")
    return str(value)


# --------------------------------------------------------------------------- databases


def sqlite_cells(path: Path) -> list[Cell]:
    """Every value of every table, shadow tables of the full-text index included."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        cells = []
        for table in tables:
            try:  # rowid too: the full-text index keys its rows by the post's id
                cursor = conn.execute(f'SELECT rowid, * FROM "{table}"')
            except sqlite3.OperationalError:  # a WITHOUT ROWID table
                cursor = conn.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for number, row in enumerate(cursor):
                cells += _row_cells(table, columns, row, number)
        return cells
    finally:
        conn.close()


async def postgres_cells(url: str) -> list[Cell]:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        tables = [
            r["tablename"]
            for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        cells = []
        for table in tables:
            # ::text on every column: tsvectors, timestamps and booleans as PostgreSQL prints them.
            columns = [
                r["attname"]
                for r in await conn.fetch(
                    "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass "
                    "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                    f'"{table}"',
                )
            ]
            selected = ", ".join(f'"{c}"::text' for c in columns)
            for number, row in enumerate(await conn.fetch(f'SELECT {selected} FROM "{table}"')):
                cells += _row_cells(table, columns, list(row.values()), number)
        return cells
    finally:
        await conn.close()


def _row_cells(table: str, columns: list[str], row: Sequence[Any], number: int) -> list[Cell]:
    key = _row_key(columns, row, number)
    return [Cell(table, col, key, _text(value)) for col, value in zip(columns, row, strict=True)]


def _row_key(columns: list[str], row: Iterable[Any], number: int) -> str:
    values = dict(zip(columns, row, strict=True))
    for key in ("id", "rowid", "post_id"):
        if key in values:
            return f"{key}={values[key]}"
    return f"#{number}"


def rows(cells: Iterable[Cell]) -> dict[tuple[str, str], dict[str, str]]:
    """Cells put back into rows: (table, row) → {column: text}."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for cell in cells:
        found.setdefault((cell.where, cell.row), {})[cell.column] = cell.text
    return found


# --------------------------------------------------------------------------- files, Redis


def file_cells(root: Path) -> list[Cell]:
    return [
        Cell(str(path.relative_to(root)), "", "", path.read_bytes().decode("latin-1"))
        for path in sorted(root.rglob("*"))
        if path.is_file()
    ]


def redis_cells(url: str) -> list[Cell]:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        return list(_redis(client))
    finally:
        client.close()


def _redis(client: Any) -> Iterator[Cell]:
    for raw in client.scan_iter(count=500):
        key = _text(raw)
        kind = _text(client.type(raw))
        if kind == "string":
            values = [client.get(raw)]
        elif kind == "list":
            values = client.lrange(raw, 0, -1)
        elif kind == "hash":
            values = [f"{_text(k)}={_text(v)}" for k, v in client.hgetall(raw).items()]
        elif kind == "set":
            values = list(client.smembers(raw))
        elif kind == "zset":
            values = [f"{_text(m)}={s}" for m, s in client.zrange(raw, 0, -1, withscores=True)]
        elif kind == "stream":
            values = [str(entry) for entry in client.xrange(raw)]
        else:
            values = []
        yield Cell("redis", "key", key, key)
        for value in values:
            yield Cell("redis", kind, key, _text(value))


# --------------------------------------------------------------------------- anonymous links


@dataclass(frozen=True)
class AnonymousPost:
    post_id: int
    thread_id: int
    author_id: int
    author: str  # the author's pseudonym
    only_anonymous_in_thread: bool  # the author wrote nothing in the thread under their name


@dataclass(frozen=True)
class Schema:
    """Which columns of which tables hold a member, a post or a thread (from the models'
    foreign keys, so a table added later is covered without touching the test)."""

    members: dict[str, set[str]]
    posts: dict[str, set[str]]
    threads: dict[str, set[str]]

    @classmethod
    def of(cls, metadata: Any) -> Schema:
        members: dict[str, set[str]] = {}
        posts: dict[str, set[str]] = {
            # The full-text index: SQLite's FTS5 table and its content table, PostgreSQL's.
            "post_search": {"rowid", "post_id"},
            "post_search_content": {"id"},
            "post_search_docsize": {"id"},
        }
        threads: dict[str, set[str]] = {}
        for table in metadata.sorted_tables:
            for column in table.columns:
                targets = {fk.column.table.name for fk in column.foreign_keys}
                if "member" in targets or (table.name == "member" and column.name == "id"):
                    members.setdefault(table.name, set()).add(column.name)
                if "post" in targets or column.name.endswith("post_id"):
                    posts.setdefault(table.name, set()).add(column.name)
                if "thread" in targets or column.name.endswith("thread_id"):
                    threads.setdefault(table.name, set()).add(column.name)
            if table.name == "post":
                posts.setdefault("post", set()).add("id")
            if table.name == "thread":
                threads.setdefault("thread", set()).add("id")
        return cls(members, posts, threads)

    def mentions(self, table: str, row: dict[str, str], item: AnonymousPost) -> bool:
        """Does this row point at the anonymous post (or at a thread the author is in only
        anonymously)?"""
        if row.get("target_kind") == "post" and row.get("target_id") == str(item.post_id):
            return True
        if any(row.get(c) == str(item.post_id) for c in self.posts.get(table, ())):
            return True
        in_thread = any(row.get(c) == str(item.thread_id) for c in self.threads.get(table, ()))
        return in_thread and item.only_anonymous_in_thread

    def names(self, table: str, row: dict[str, str], item: AnonymousPost) -> str | None:
        """The column that names the author (their member id, or their pseudonym in text)."""
        for column in self.members.get(table, ()):
            if row.get(column) == str(item.author_id):
                return column
        pseudonym = item.author.lower()
        for column, text in row.items():
            if pseudonym in text.lower():
                return column
        return None


def anonymous_links(
    cells: list[Cell],
    schema: Schema,
    items: list[AnonymousPost],
    allowed: dict[str, str],
    own: dict[str, str],
) -> list[str]:
    """Rows that tie an anonymous post to its author, outside the tables `allowed` to (table →
    why) and outside the author's own rows (`own`: table → the column that says whose)."""
    found = []
    for (table, key), row in rows(cells).items():
        if table in allowed:
            continue
        for item in items:
            if not schema.mentions(table, row, item):
                continue
            column = schema.names(table, row, item)
            if column is None:
                continue
            if table in own and row.get(own[table]) == str(item.author_id) and column == own[table]:
                continue
            found.append(
                f"{table} {key}: {column} names {item.author} next to anonymous post "
                f"{item.post_id} (thread {item.thread_id}): {row}"
            )
    return found


# --------------------------------------------------------------------------- rate-limit keys

_LIMITER = re.compile(r"LIMITER/(?P<action>[^/]+)/(?P<key>.+)/\d+/\d+/\w+$")
OPAQUE = re.compile(r"[0-9a-f]{32,64}")


def limiter_keys(cells: list[Cell]) -> dict[str, tuple[str, list[float]]]:
    """The rate limits' Redis entries: full key → (action, the times of its hits)."""
    found: dict[str, tuple[str, list[float]]] = {}
    for cell in cells:
        match = _LIMITER.search(cell.row)
        if match is None:
            continue
        entry = found.setdefault(cell.row, (match["action"], []))
        if cell.column == "list":
            entry[1].append(float(cell.text))
    return found


def opaque(key: str) -> bool:
    """A rate-limit key whose own part is a keyed hash, naming no member or network."""
    match = _LIMITER.search(key)
    return match is not None and OPAQUE.fullmatch(match["key"]) is not None


def posts_by_time(cells: list[Cell]) -> list[tuple[float, int, int, bool]]:
    """Every post as (created_at as a Unix time, post id, author id, anonymous), oldest first."""
    found = []
    for (table, _key), row in rows(cells).items():
        if table != "post":
            continue
        when = datetime.fromisoformat(row["created_at"])
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        anonymous = row["anonymous"].lower() in ("1", "true", "t")
        found.append((when.timestamp(), int(row["id"]), int(row["author_id"]), anonymous))
    return sorted(found)


def timing_links(cells: list[Cell], redis: list[Cell]) -> list[str]:
    """What someone reading Redis could do: match each hit of the post limit to the post made
    just after it (posts are public, with their times to the microsecond), and see whether
    one key's hits belong to both an anonymous post and a post under a pseudonym."""
    posts = posts_by_time(cells)
    found = []
    for key, (action, hits) in limiter_keys(redis).items():
        if action != "post":
            continue
        matched = {next((p for p in posts if p[0] >= hit), None) for hit in hits} - {None}
        anonymous = {p for p in matched if p and p[3]}
        named = {p for p in matched if p and not p[3]}
        authors = {p[2] for p in named}
        for post in anonymous:
            if post and post[2] in authors:
                found.append(
                    f"{key}: its hits are the times of anonymous post {post[1]} and of a post "
                    f"its author {post[2]} made under their pseudonym"
                )
    return found
