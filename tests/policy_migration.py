"""Migration 0017 on a database filled by the old schema: every community's policy moves
from the community table to moderation's community_policy, and back on downgrade. One body,
run on SQLite (tests/moderation/test_policy_migration.py) and on PostgreSQL
(tests/services/test_postgres_migrations.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from core.db import Database, UtcDateTime
from kindred.migrate import alembic_config, blocking, current_revision, head_revision, upgrade
from moderation.policy import load as load_policy

BEFORE = "0016"
POLICY = ("contact_policy", "crisis_action", "crisis_sensitivity")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

# The tables as revision 0016 left them (written out here, as the models no longer say it).
_member = sa.table(
    "member",
    *(sa.column(n) for n in ("id", "pseudonym", "pseudonym_key", "is_admin", "is_peer_supporter")),
    sa.column("created_at", UtcDateTime),
)
_community = sa.table(
    "community",
    *(sa.column(n) for n in ("id", "slug", "name", "description", "rules", "rules_html")),
    *(sa.column(n) for n in ("visibility", "allow_anonymous", "content_warnings", *POLICY)),
    sa.column("created_at", UtcDateTime),
)
_moderator = sa.table(
    "community_moderator",
    sa.column("community_id"),
    sa.column("member_id"),
    sa.column("created_at", UtcDateTime),
)
_word = sa.table(
    "watched_word",
    *(sa.column(n) for n in ("id", "community_id", "pattern", "action", "replacement")),
    sa.column("created_at", UtcDateTime),
)
_thread = sa.table(
    "thread",
    *(sa.column(n) for n in ("id", "community_id", "author_id", "anonymous", "title", "kind")),
    *(sa.column(n) for n in ("status", "locked", "reply_count")),
    sa.column("created_at", UtcDateTime),
    sa.column("last_activity_at", UtcDateTime),
)
_post = sa.table(
    "post",
    *(sa.column(n) for n in ("id", "thread_id", "author_id", "is_opening", "anonymous", "body")),
    *(sa.column(n) for n in ("html", "status", "crisis")),
    sa.column("created_at", UtcDateTime),
)
_policy = sa.table("community_policy", sa.column("community_id"), *map(sa.column, POLICY))

# Two communities that changed every setting, and one that kept the defaults.
POLICIES = {
    1: ("refuse", "hold", "more"),
    2: ("allow", "publish", "fewer"),
    3: ("hold", "publish", "standard"),
}
DEFAULTS = ("hold", "publish", "standard")


def _community_row(community_id: int, policy: tuple[str, ...] | None) -> dict:
    row = {
        "id": community_id,
        "slug": f"place-{community_id}",
        "name": f"Place {community_id}",
        "description": "",
        "rules": "1. Be kind.",
        "rules_html": "<ol><li>Be kind.</li></ol>",
        "visibility": "members" if community_id == 2 else "public",
        "allow_anonymous": True,
        "content_warnings": "",
        "created_at": NOW,
    }
    return row | (dict(zip(POLICY, policy, strict=True)) if policy else {})


async def _fill_old_schema(conn: AsyncConnection) -> None:
    await conn.execute(
        sa.insert(_member).values(
            id=1,
            pseudonym="Heron",
            pseudonym_key="heron",
            is_admin=False,
            is_peer_supporter=False,
            created_at=NOW,
        )
    )
    for community_id, policy in POLICIES.items():
        await conn.execute(sa.insert(_community).values(_community_row(community_id, policy)))
    await conn.execute(sa.insert(_moderator).values(community_id=1, member_id=1, created_at=NOW))
    await conn.execute(
        sa.insert(_word).values(
            id=1,
            community_id=1,
            pattern="orange day",
            action="crisis",
            replacement="***",
            created_at=NOW,
        )
    )
    await conn.execute(
        sa.insert(_thread).values(
            id=1,
            community_id=1,
            author_id=1,
            anonymous=False,
            title="Still here",
            kind="talk",
            status="published",
            locked=False,
            reply_count=0,
            created_at=NOW,
            last_activity_at=NOW,
        )
    )
    await conn.execute(
        sa.insert(_post).values(
            id=1,
            thread_id=1,
            author_id=1,
            is_opening=True,
            anonymous=False,
            body="Hello",
            html="<p>Hello</p>",
            status="published",
            crisis=False,
            created_at=NOW,
        )
    )


async def _columns(conn: AsyncConnection, table: str) -> set[str]:
    return await conn.run_sync(lambda c: {col["name"] for col in sa.inspect(c).get_columns(table)})


async def _tables(conn: AsyncConnection) -> set[str]:
    return await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))


async def _others_survive(conn: AsyncConnection) -> None:
    """What refers to a community came through (SQLite rebuilds the community table)."""
    moderators = (await conn.execute(sa.select(_moderator.c.community_id))).scalars().all()
    assert list(moderators) == [1]
    words = (await conn.execute(sa.select(_word.c.community_id, _word.c.pattern))).all()
    assert [tuple(w) for w in words] == [(1, "orange day")]
    threads = (await conn.execute(sa.select(_thread.c.id, _thread.c.community_id))).all()
    assert [tuple(t) for t in threads] == [(1, 1)]
    posts = (await conn.execute(sa.select(_post.c.id, _post.c.thread_id))).all()
    assert [tuple(p) for p in posts] == [(1, 1)]


async def check_policy_migration(url: str) -> None:
    """`url`: an empty database. Fills it at 0016, upgrades to head, downgrades back to
    0016, and checks every value each way."""
    upgrade(url, BEFORE)
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await _fill_old_schema(conn)

        upgrade(url)
        assert await current_revision(url) == head_revision(url)
        async with engine.begin() as conn:
            assert not set(POLICY) & await _columns(conn, "community")
            moved = (await conn.execute(sa.select(_policy))).all()
            assert {row[0]: tuple(row[1:]) for row in moved} == POLICIES
            await _others_survive(conn)
            # A community made after the move has no row: it has the defaults.
            new = _community_row(4, None)
            await conn.execute(sa.insert(_community).values(new))
        db = Database(url)
        try:
            async with db.read() as s:
                for community_id, policy in (*POLICIES.items(), (4, DEFAULTS)):
                    loaded = await load_policy(s, community_id)
                    found = (loaded.contact_policy, loaded.crisis_action, loaded.crisis_sensitivity)
                    assert found == policy, community_id
                assert [w.pattern for w in (await load_policy(s, 1)).watched_words] == [
                    "orange day"
                ]
        finally:
            await db.close()

        blocking(command.downgrade, alembic_config(url), BEFORE)
        async with engine.begin() as conn:
            assert "community_policy" not in await _tables(conn)
            assert set(POLICY) <= await _columns(conn, "community")
            columns = [_community.c[n] for n in POLICY]
            back = (await conn.execute(sa.select(_community.c.id, *columns))).all()
            assert {row[0]: tuple(row[1:]) for row in back} == POLICIES | {4: DEFAULTS}
            await _others_survive(conn)

        upgrade(url)  # and forward again, as a restored backup would be
        async with engine.begin() as conn:
            again = (await conn.execute(sa.select(_policy))).all()
            assert {row[0]: tuple(row[1:]) for row in again} == POLICIES | {4: DEFAULTS}
    finally:
        await engine.dispose()
