"""Group session fixtures: a community, members acting through bearer-token clients (no CSRF
dance for JSON calls), peer supporters, and a helper that schedules a session."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from core.context import AppContext
from core.settings import Settings
from forum import service as forum
from forum.models import Community
from identity import service as identity
from moderation.models import CommunityModerator
from tests.conftest import make_client
from tests.helpers import PASSPHRASE


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Many members sign up from one address in a test.
    return dataclasses.replace(settings, rate_limits="signup_network=1000/hour")


async def make_community(ctx: AppContext, slug: str = "grief", name: str = "Grief") -> Community:
    admin = await identity.find_member(ctx.db, "Site-Admin")
    if admin is None:
        admin = (
            await identity.sign_up(ctx.db, ctx.settings, "Site-Admin", PASSPHRASE, is_admin=True)
        ).signed_in.member
    return await forum.create_community(ctx, admin, slug=slug, name=name, rules="1. Be kind.")


class People:
    """Signs members up on one app and hands back clients that act as them."""

    def __init__(self, ctx: AppContext, client_for: Callable[[dict[str, str]], Any]) -> None:
        self.ctx = ctx
        self.client_for = client_for
        self.clients: list[httpx.AsyncClient] = []

    async def member(self, name: str, *, supporter: bool = False) -> httpx.AsyncClient:
        anonymous = self.client_for({})
        response = await anonymous.post(
            "/api/v1/signup", json={"pseudonym": name, "passphrase": PASSPHRASE, "token": True}
        )
        await anonymous.aclose()
        assert response.status_code == 201, response.text
        token = response.json()["token"]
        client = self.client_for({"authorization": f"Bearer {token}"})
        client.token = token  # type: ignore[attr-defined]
        client.pseudonym = name  # type: ignore[attr-defined]
        self.clients.append(client)
        if supporter:
            await identity.set_roles(self.ctx.db, name, peer_supporter=True)
        return client

    async def moderator(self, name: str, community: Community) -> httpx.AsyncClient:
        client = await self.member(name)
        found = await identity.find_member(self.ctx.db, name)
        assert found is not None
        async with self.ctx.db.transaction() as s:
            s.add(CommunityModerator(community_id=community.id, member_id=found.id))
        return client

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()


def slot(after: timedelta, zone: str = "UTC") -> dict[str, str]:
    """Form fields for a start `after` from now, written in UTC."""
    moment = datetime.now(UTC) + after
    return {"date": moment.strftime("%Y-%m-%d"), "time": moment.strftime("%H:%M"), "timezone": zone}


async def schedule(
    client: httpx.AsyncClient, *, after: timedelta = timedelta(days=2), **fields: Any
) -> httpx.Response:
    body = {
        "community": "grief",
        "title": "Evening circle",
        "description": "A gentle hour together.",
        "ground_rules": "1. What's said here stays here.",
        "duration_minutes": 60,
        "capacity": 8,
        **slot(after),
        **fields,
    }
    return await client.post("/api/v1/sessions", json=body)


async def scheduled(client: httpx.AsyncClient, **fields: Any) -> int:
    response = await schedule(client, **fields)
    assert response.status_code == 201, response.text
    return response.json()["sessions"][0]["id"]


@pytest.fixture
async def community(app: Starlette) -> Community:
    return await make_community(app.state.ctx)


@pytest.fixture
async def people(app: Starlette) -> AsyncIterator[People]:
    found = People(app.state.ctx, lambda headers: make_client(app, headers=headers))
    yield found
    await found.close()
