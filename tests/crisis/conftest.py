"""Crisis pathway fixtures: a community, a moderator, a peer supporter and members, all
through the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from communities.models import Community, CommunityModerator
from forum.communities import create_community
from identity import accounts
from tests.conftest import make_client
from tests.helpers import PASSPHRASE, api_post, join


@pytest.fixture
async def community(app: Starlette) -> Community:
    ctx = app.state.ctx
    admin = await accounts.sign_up(ctx.db, ctx.settings, "Site-Admin", PASSPHRASE, is_admin=True)
    community = await create_community(
        ctx, admin.signed_in.member, slug="recovery", name="Recovery", rules="1. Be kind."
    )
    await ctx.extensions["community_created"](community)  # its chat room, as the page does
    return community


async def _client(app: Starlette, name: str, **headers: str) -> httpx.AsyncClient:
    client = make_client(app, headers=headers)
    await join(client, name)
    return client


@pytest.fixture
async def people(
    app: Starlette, community: Community
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """alder (writes), birch and cedar (worried readers), hazel (peer supporter), rowan
    (the community's moderator)."""
    ctx = app.state.ctx
    clients = {n: await _client(app, n) for n in ("alder", "birch", "cedar", "hazel", "rowan")}
    await accounts.set_roles(ctx.db, "hazel", peer_supporter=True)
    rowan = await accounts.find_member(ctx.db, "rowan")
    async with ctx.db.transaction() as s:
        s.add(CommunityModerator(community_id=community.id, member_id=rowan.id))  # type: ignore[arg-type]
    yield clients
    for client in clients.values():
        await client.aclose()


async def start_thread(
    client: httpx.AsyncClient, body: str, *, status: int = 201, **extra: object
) -> dict:
    """Start a thread in "recovery"; `status` is the one answer the scenario must get
    (201 published, 202 held)."""
    response = await api_post(
        client, "/api/v1/communities/recovery/threads", {"title": "Tonight", "body": body, **extra}
    )
    assert response.status_code == status, response.text
    return response.json()
