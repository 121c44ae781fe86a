"""Members, communities and moderators for the tests of rooms built on chat (group sessions
and 1:1 support): signed up on one app through its API, acting through their own clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from communities.models import Community, CommunityModerator
from core.context import AppContext
from forum.communities import create_community
from identity import accounts
from tests.helpers import PASSPHRASE


async def make_community(ctx: AppContext, slug: str = "grief", name: str = "Grief") -> Community:
    admin = await accounts.find_member(ctx.db, "Site-Admin")
    if admin is None:
        admin = (
            await accounts.sign_up(ctx.db, ctx.settings, "Site-Admin", PASSPHRASE, is_admin=True)
        ).signed_in.member
    return await create_community(ctx, admin, slug=slug, name=name, rules="1. Be kind.")


class People:
    """Signs members up on one app and hands back clients that act as them."""

    def __init__(self, ctx: AppContext, client_for: Callable[[dict[str, str]], Any]) -> None:
        self.ctx = ctx
        self.client_for = client_for
        self.clients: list[httpx.AsyncClient] = []

    async def member(
        self, name: str, *, supporter: bool = False, available: bool = False
    ) -> httpx.AsyncClient:
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
            await accounts.set_roles(self.ctx.db, name, peer_supporter=True)
        if available:
            answer = await client.post("/api/v1/support/availability", json={"available": True})
            assert answer.status_code == 200, answer.text
        return client

    async def moderator(self, name: str, community: Community) -> httpx.AsyncClient:
        client = await self.member(name)
        found = await accounts.find_member(self.ctx.db, name)
        assert found is not None
        async with self.ctx.db.transaction() as s:
            s.add(CommunityModerator(community_id=community.id, member_id=found.id))
        return client

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()
