"""Operations: readiness, 503 when the database is unreachable, metrics, backup and restore."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from core.settings import Settings
from core.web.outage import is_database_outage
from kindred.app import create_app
from kindred.metrics import Metrics, MetricsMiddleware
from tests.conftest import make_client

KINDRED = str(Path(sys.executable).parent / "kindred")
UNREACHABLE_PG = "postgresql+asyncpg://postgres@127.0.0.1:1/none"  # nothing listens on port 1
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
async def offline_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dataclasses.replace(settings, database_url=UNREACHABLE_PG))
    async with app.router.lifespan_context(app), make_client(app) as client:
        yield client


# Readiness and 503s -------------------------------------------------------------------------


async def test_readyz_is_ready_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.text == "ready\n"


async def test_readyz_names_what_is_down_and_nothing_more(settings: Settings) -> None:
    app = create_app(
        dataclasses.replace(settings, database_url=UNREACHABLE_PG, redis_url=UNREACHABLE_REDIS)
    )
    async with make_client(app) as client:
        response = await client.get("/readyz")
    await app.state.ctx.db.close()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.text == "database: down\nredis: down\n"


async def test_a_page_answers_503_when_the_database_is_unreachable(
    offline_client: httpx.AsyncClient,
) -> None:
    response = await offline_client.get("/")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"
    assert "briefly unavailable" in response.text
    assert "127.0.0.1" not in response.text and "Traceback" not in response.text


async def test_the_api_answers_503_json_when_the_database_is_unreachable(
    offline_client: httpx.AsyncClient,
) -> None:
    response = await offline_client.get("/api/v1/communities")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"
    assert response.json()["error"]["code"] == "unavailable"


async def test_a_session_lookup_in_middleware_also_answers_503(
    offline_client: httpx.AsyncClient,
) -> None:
    # The member-session middleware reads the database before any route runs.
    response = await offline_client.get(
        "/api/v1/communities", headers={"authorization": "Bearer some-session-token"}
    )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"


async def test_a_genuine_sql_error_is_not_an_outage(app: Starlette) -> None:
    import sqlalchemy as sa

    with pytest.raises(
        sa.exc.DBAPIError
    ) as caught:  # OperationalError on SQLite, ProgrammingError on PostgreSQL
        async with app.state.ctx.db.engine.connect() as conn:
            await conn.execute(sa.text("SELECT * FROM no_such_table"))
    assert not is_database_outage(caught.value)
    assert not is_database_outage(FileNotFoundError(2, "No such file"))
    assert is_database_outage(ConnectionRefusedError(111, "refused"))


# Metrics ------------------------------------------------------------------------------------


async def test_metrics_are_not_served_without_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 404


async def test_metrics_need_the_bearer_token(settings: Settings) -> None:
    app = create_app(dataclasses.replace(settings, metrics_token="metrics-token-123"))
    async with app.router.lifespan_context(app), make_client(app) as client:
        assert (await client.get("/metrics")).status_code == 404
        wrong = {"authorization": "Bearer metrics-token-12"}
        assert (await client.get("/metrics", headers=wrong)).status_code == 404
        await client.get("/t/987654?q=secret-search")
        await client.get("/")
        right = {"authorization": "Bearer metrics-token-123"}
        response = await client.get("/metrics", headers=right)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'kindred_http_request_duration_seconds_count{method="GET",route="/t/{thread_id}"}' in (
        text
    )
    assert 'route="/"' in text
    assert 'kindred_http_responses_total{status_class="4xx"}' in text
    assert 'kindred_http_responses_total{status_class="2xx"}' in text
    assert "/t/987654" not in text and "secret-search" not in text  # a duration may hold the digits
    assert "kindred_websocket_connections_open 0.0" in text


async def test_open_websockets_are_counted_until_they_close() -> None:
    metrics = Metrics()

    async def hold(websocket: WebSocket) -> None:
        await websocket.accept()
        with contextlib.suppress(WebSocketDisconnect):
            await websocket.receive_text()  # until the client goes

    async def refuse(websocket: WebSocket) -> None:
        await websocket.close(1008)

    app = MetricsMiddleware(
        Starlette(routes=[WebSocketRoute("/ws", hold), WebSocketRoute("/no", refuse)]),
        metrics=metrics,
    )

    def gauge() -> float | None:
        return metrics.registry.get_sample_value("kindred_websocket_connections_open")

    async def connect(path: str) -> tuple[asyncio.Queue[dict], asyncio.Task[None]]:
        inbox: asyncio.Queue[dict] = asyncio.Queue()
        outbox: asyncio.Queue[dict] = asyncio.Queue()
        scope = {"type": "websocket", "path": path, "headers": [], "query_string": b""}
        task = asyncio.create_task(app(scope, inbox.get, outbox.put))  # type: ignore[arg-type]
        await inbox.put({"type": "websocket.connect"})
        await outbox.get()  # accept, or close
        return inbox, task

    one, two = await connect("/ws"), await connect("/ws")
    assert gauge() == 2
    _, refused = await connect("/no")
    await refused
    assert gauge() == 2
    for inbox, task in (one, two):
        await inbox.put({"type": "websocket.disconnect", "code": 1000})
        await task
    assert gauge() == 0


async def test_unknown_methods_and_paths_do_not_mint_labels() -> None:
    metrics = Metrics()

    async def hello(request: object) -> PlainTextResponse:
        return PlainTextResponse("hi")

    app = MetricsMiddleware(Starlette(routes=[Route("/", hello)]), metrics=metrics)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await client.request("BREW", "/")
        await client.get("/member/Alice-Example")
    sample = metrics.registry.get_sample_value
    name = "kindred_http_request_duration_seconds_count"
    assert sample(name, {"method": "other", "route": "/"}) == 1
    assert sample(name, {"method": "GET", "route": "unmatched"}) == 1


# Backup and restore -------------------------------------------------------------------------


def kindred(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KINDRED_")}
    environ.update({"KINDRED_DATA_DIR": str(data_dir), **env})
    return subprocess.run(
        [KINDRED, *args], env=environ, capture_output=True, text=True, timeout=120, input=""
    )


def community_slugs(db: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return [row[0] for row in conn.execute("SELECT slug FROM community ORDER BY slug")]


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """A data directory with a migrated database holding the demo communities."""
    data = tmp_path / "data"
    result = kindred(["seed-demo"], data)
    assert result.returncode == 0, result.stderr
    assert community_slugs(data / "kindred.db")
    return data


def test_backup_then_restore_round_trip(seeded: Path, tmp_path: Path) -> None:
    before = community_slugs(seeded / "kindred.db")
    backup = tmp_path / "backups" / "kindred-backup.db"
    made = kindred(["backup", str(backup)], seeded)
    assert made.returncode == 0, made.stderr
    assert "100%" in made.stderr and "[##########]" in made.stderr
    assert community_slugs(backup) == before

    with contextlib.closing(sqlite3.connect(seeded / "kindred.db")) as conn, conn:
        conn.execute("DELETE FROM community")  # a disaster after the backup
    assert community_slugs(seeded / "kindred.db") == []

    refused = kindred(["restore", str(backup)], seeded)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    restored = kindred(["restore", str(backup), "--yes"], seeded)
    assert restored.returncode == 0, restored.stderr
    assert community_slugs(seeded / "kindred.db") == before
    assert not list(seeded.glob("*.restore-*"))  # the temporary file was renamed into place


def test_backup_works_while_the_database_is_open(seeded: Path, tmp_path: Path) -> None:
    live = sqlite3.connect(seeded / "kindred.db")
    try:
        live.execute("BEGIN")
        live.execute("SELECT count(*) FROM community").fetchone()
        made = kindred(["backup", str(tmp_path / "b.db")], seeded)
    finally:
        live.close()
    assert made.returncode == 0, made.stderr
    assert community_slugs(tmp_path / "b.db") == community_slugs(seeded / "kindred.db")


def test_restore_refuses_a_database_in_use(seeded: Path, tmp_path: Path) -> None:
    assert kindred(["backup", str(tmp_path / "b.db")], seeded).returncode == 0
    live = sqlite3.connect(seeded / "kindred.db")  # stands in for a running server
    try:
        live.execute("SELECT count(*) FROM community").fetchone()
        result = kindred(["restore", str(tmp_path / "b.db"), "--yes"], seeded)
    finally:
        live.close()
    assert result.returncode == 2
    assert "in use" in result.stderr


def test_restore_refuses_files_that_are_not_current_kindred_databases(
    seeded: Path, tmp_path: Path
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database")
    other = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE t (x)")
    old = tmp_path / "old.db"
    with contextlib.closing(sqlite3.connect(old)) as conn, conn:
        conn.execute("CREATE TABLE alembic_version (version_num TEXT)")
        conn.execute("INSERT INTO alembic_version VALUES ('0001_an_old_revision')")
    before = community_slugs(seeded / "kindred.db")
    for path, says in (
        (text, "not a Kindred database"),
        (other, "not a Kindred database"),
        (old, "migration"),
    ):
        result = kindred(["restore", str(path), "--yes"], seeded)
        assert result.returncode == 2, result.stderr
        assert says in result.stderr
        assert result.stderr.count("\n") == 1
    assert community_slugs(seeded / "kindred.db") == before


def test_backup_and_restore_point_to_pg_tools_on_postgresql(tmp_path: Path) -> None:
    for args, tool in (
        (["backup", "x.db"], "pg_dump"),
        (["restore", "x.db", "--yes"], "pg_restore"),
    ):
        result = kindred(args, tmp_path, KINDRED_DATABASE_URL=UNREACHABLE_PG)
        assert result.returncode == 2
        assert tool in result.stderr and result.stderr.count("\n") == 1


async def test_a_signed_in_page_answers_503_when_the_database_is_unreachable(
    offline_client: httpx.AsyncClient,
) -> None:
    # The sign-in page itself needs no database; looking up the session cookie does.
    assert (await offline_client.get("/login")).status_code == 200
    offline_client.cookies.set("kindred_session", "some-session-token")
    response = await offline_client.get("/login")
    assert response.status_code == 503
    assert "briefly unavailable" in response.text


async def test_other_errors_still_reach_the_500_handler(settings: Settings) -> None:
    app = create_app(settings)

    async def broken(request: object) -> PlainTextResponse:
        raise FileNotFoundError(2, "a bug, not an outage")

    app.router.routes.insert(0, Route("/broken", broken))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/broken")
    await app.state.ctx.db.close()
    assert response.status_code == 500
    assert "retry-after" not in response.headers


def test_each_migration_logs_its_summary_on_one_line() -> None:
    """Alembic logs "Running upgrade A -> B, <summary>" with the first paragraph of the
    migration's docstring: a summary wrapped over two lines split the start-up log."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(Path(__file__).resolve().parents[2] / "migrations"))
    wrapped = [r.revision for r in scripts.walk_revisions() if "\n" in r.doc.strip()]
    assert wrapped == []
