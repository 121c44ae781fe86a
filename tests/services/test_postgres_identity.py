"""Identity on real PostgreSQL: migrations, sign-up, login, sessions, deletion."""

from __future__ import annotations

import asyncio

import httpx
from sqlmodel import select

from identity.models import Member
from kindred.migrate import current_revision, head_revision
from tests.helpers import PASSPHRASE, api_post, join


async def test_migrations_reach_head(postgres_url: str) -> None:
    assert await current_revision(postgres_url) == head_revision(postgres_url)


async def test_signup_login_logout(pg_client: httpx.AsyncClient) -> None:
    body = await join(pg_client, "Pg-Heron")
    assert len(body["recovery_codes"]) == 10
    pg_client.cookies.clear()
    ok = await pg_client.post(
        "/api/v1/login", json={"pseudonym": "pg-heron", "passphrase": PASSPHRASE}
    )
    assert ok.status_code == 200
    assert (await api_post(pg_client, "/api/v1/logout")).status_code == 200
    assert (await pg_client.get("/api/v1/session")).status_code == 401


async def test_simultaneous_signups_for_one_name(pg_app, pg_client: httpx.AsyncClient) -> None:
    from tests.conftest import make_client

    async def attempt() -> int:
        async with make_client(pg_app) as c:
            response = await c.post(
                "/api/v1/signup", json={"pseudonym": "only-one", "passphrase": PASSPHRASE}
            )
            return response.status_code

    codes = sorted(await asyncio.gather(*(attempt() for _ in range(4))))
    assert codes == [201, 409, 409, 409]
    async with pg_app.state.ctx.db.read() as s:
        assert len((await s.exec(select(Member))).all()) == 1


async def test_utc_times_round_trip(pg_app, pg_client: httpx.AsyncClient) -> None:
    await join(pg_client, "time-keeper")
    async with pg_app.state.ctx.db.read() as s:
        member = (await s.exec(select(Member))).one()
    assert member.created_at.utcoffset().total_seconds() == 0
