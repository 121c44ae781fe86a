"""Shared fixtures: a real app on a fresh, migrated SQLite file per test, through httpx."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from core.settings import Settings
from kindred.app import create_app
from kindred.migrate import upgrade
from tests import backends

SITE = "http://testserver"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL run (make test-postgres) is for what meets a database: a test that
    asks for no `settings` (so no database) and whose module doesn't choose a backend itself
    ran the same code on the SQLite run already, and is left out here, not skipped."""
    if not backends.WHOLE_SUITE_ON_POSTGRES:
        return
    chooses_backend: dict[Path, bool] = {}
    kept, left_out = [], []
    for item in items:
        path = Path(str(item.fspath))
        if path not in chooses_backend:
            source = path.read_text(encoding="utf-8")
            chooses_backend[path] = "backends" in source or "KINDRED_TEST_BACKEND" in source
        uses_database = "settings" in getattr(item, "fixturenames", ())
        (kept if uses_database or chooses_backend[path] else left_out).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def skip_or_fail(reason: str) -> None:
    """Locally a missing service skips the test; in CI nothing may skip, so it fails."""
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated database file; each test gets its own copy (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "kindred.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def suite_postgres() -> Iterator[str | None]:
    """With KINDRED_TEST_BACKEND=postgres, one migrated PostgreSQL database for the run."""
    if not backends.WHOLE_SUITE_ON_POSTGRES:
        yield None
        return
    try:
        name, url = backends.create_database()
    except Exception as exc:
        pytest.fail(f"KINDRED_TEST_BACKEND=postgres but PostgreSQL is unreachable: {exc}")
    try:
        yield url
    finally:
        backends.drop_database(name)


@pytest.fixture
def settings(tmp_path: Path, migrated_sqlite: Path, suite_postgres: str | None) -> Settings:
    data = tmp_path / "data"
    data.mkdir()
    if suite_postgres:
        # The whole suite again on PostgreSQL and Redis: emptied before every test.
        backends.empty_database(suite_postgres)
        backends.flush_redis()
        return Settings(
            data_dir=data,
            database_url=suite_postgres,
            redis_url=backends.REDIS_URL,
            secret_key="test-secret-" + "k" * 40,
            site_url=SITE,
            new_member_posts=0,
            link_posts=0,
        )
    shutil.copy(migrated_sqlite, data / "kindred.db")
    # New-member holds and the link rule are off here so tests can post as established
    # members; tests of those rules (tests/moderation/test_trust.py) turn them on.
    return Settings(
        data_dir=data,
        secret_key="test-secret-" + "k" * 40,
        site_url=SITE,
        new_member_posts=0,
        link_posts=0,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as c:
        yield c


def make_client(app: Starlette, **kwargs: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.9", 5000)),
        base_url=SITE,
        **kwargs,  # type: ignore[arg-type]
    )
