"""Search shows a signed-out visitor nothing from a members-only community, and names each
hit's community (search reads communities through communities/, not by joining its table)."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from forum.communities import create_community
from identity import accounts
from tests.conftest import make_client
from tests.helpers import PASSPHRASE, api_post


async def test_members_only_posts_are_found_by_members_only(
    app: Starlette, alice: httpx.AsyncClient
) -> None:
    ctx = app.state.ctx
    keeper = await accounts.sign_up(ctx.db, ctx.settings, "Door-Keeper", PASSPHRASE, is_admin=True)
    await create_community(
        ctx, keeper.signed_in.member, slug="carers", name="Carers", visibility="members"
    )
    for slug in ("grief", "carers"):
        posted = await api_post(
            alice,
            f"/api/v1/communities/{slug}/threads",
            {"title": f"Lantern walk ({slug})", "body": "We carried a lantern for them."},
        )
        assert posted.status_code == 201, posted.text
    found = (await alice.get("/api/v1/search?q=lantern")).json()["results"]
    assert sorted(r["community"] for r in found) == ["carers", "grief"]
    page = (await alice.get("/search?q=lantern")).text
    assert "in Carers" in page and "in Grief &amp; Loss" in page
    async with make_client(app) as visitor:
        seen = (await visitor.get("/api/v1/search?q=lantern")).json()["results"]
        shown = (await visitor.get("/search?q=lantern")).text
    assert [r["community"] for r in seen] == ["grief"]
    assert "in Grief &amp; Loss" in shown and "Carers" not in shown
