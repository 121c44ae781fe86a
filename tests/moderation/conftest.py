"""Moderation fixtures: a community with an appointed moderator and a few members."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from communities.models import Community, CommunityModerator
from forum.communities import create_community
from identity import accounts
from tests.conftest import make_client
from tests.helpers import PASSPHRASE, join


@pytest.fixture
async def community(app: Starlette) -> Community:
    ctx = app.state.ctx
    admin = await accounts.sign_up(ctx.db, ctx.settings, "Site-Admin", PASSPHRASE, is_admin=True)
    return await create_community(
        ctx,
        admin.signed_in.member,
        slug="recovery",
        name="Recovery",
        rules="1. Be kind.\n2. No contact details.",
    )


async def _member(app: Starlette, name: str) -> httpx.AsyncClient:
    client = make_client(app)
    await join(client, name)
    return client


@pytest.fixture
async def members(
    app: Starlette, community: Community
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    names = ("the-author", "reporter-one", "reporter-two", "reporter-three")
    clients = {name: await _member(app, name) for name in names}
    yield clients
    for client in clients.values():
        await client.aclose()


@pytest.fixture
async def moderator(app: Starlette, community: Community) -> AsyncIterator[httpx.AsyncClient]:
    client = make_client(app)
    await join(client, "river-keeper")
    ctx = app.state.ctx
    member = await accounts.find_member(ctx.db, "river-keeper")
    async with ctx.db.transaction() as s:
        s.add(CommunityModerator(community_id=community.id, member_id=member.id))
    yield client
    await client.aclose()


@pytest.fixture
async def admin(app: Starlette, community: Community) -> AsyncIterator[httpx.AsyncClient]:
    client = make_client(app)
    await client.post("/api/v1/login", json={"pseudonym": "Site-Admin", "passphrase": PASSPHRASE})
    yield client
    await client.aclose()
