"""Forum fixtures: a demo community and signed-in members, all through the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from communities.models import Community
from forum.communities import create_community
from identity import accounts
from tests.conftest import make_client
from tests.helpers import PASSPHRASE, join


@pytest.fixture
async def community(app: Starlette) -> Community:
    ctx = app.state.ctx
    account = await accounts.sign_up(ctx.db, ctx.settings, "Site-Keeper", PASSPHRASE, is_admin=True)
    return await create_community(
        ctx,
        account.signed_in.member,
        slug="grief",
        name="Grief & Loss",
        description="For anyone who has lost someone.",
        rules="Be kind.",
        content_warnings="loss of a child\nsuicide",
    )


@pytest.fixture
async def alice(app: Starlette, community: Community) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as client:
        await join(client, "alice-fern")
        yield client


@pytest.fixture
async def bob(app: Starlette, community: Community) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as client:
        await join(client, "bob-river")
        yield client
