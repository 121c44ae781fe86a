"""The forum on real PostgreSQL: posting, anonymity, search with PostgreSQL's own FTS."""

from __future__ import annotations

import httpx
import pytest

from forum.communities import create_community
from identity import accounts
from tests.conftest import make_client
from tests.helpers import PASSPHRASE, api_post, join


@pytest.fixture
async def pg_community(pg_app):
    ctx = pg_app.state.ctx
    admin = await accounts.sign_up(ctx.db, ctx.settings, "Pg-Admin", PASSPHRASE, is_admin=True)
    return await create_community(
        ctx, admin.signed_in.member, slug="carers", name="Carers", description="Caring"
    )


async def test_thread_reply_search_on_postgres(
    pg_app, pg_client: httpx.AsyncClient, pg_community
) -> None:
    await join(pg_client, "pg-asker")
    asked = await api_post(
        pg_client,
        "/api/v1/communities/carers/threads",
        {
            "title": "Respite care options",
            "body": "Looking after my mum & dad; any **respite** ideas?",
            "kind": "request",
            "help_type": "practical",
            "anonymous": True,
        },
    )
    assert asked.status_code == 201, asked.text
    thread_id = asked.json()["id"]
    async with make_client(pg_app) as other:
        await join(other, "pg-helper")
        replied = await api_post(
            other,
            f"/api/v1/threads/{thread_id}/posts",
            {"body": "Local councils fund respite breaks."},
        )
        assert replied.status_code == 201
        found = (await other.get("/api/v1/search?q=respite")).json()["results"]
        assert {r["post_id"] for r in found} == {
            asked.json()["posts"][0]["id"],
            replied.json()["id"],
        }
        assert any("<mark>" in r["snippet_html"] for r in found)
        # The opening post ranks first (its title matches too). Its snippet is the text
        # without its markup, escaped exactly once: "&" reads "&amp;", never "&amp;amp;".
        assert [(r["post_id"], r["snippet_html"]) for r in found] == [
            (
                asked.json()["posts"][0]["id"],
                "Looking after my mum &amp; dad; any <mark>respite</mark> ideas?",
            ),
            (replied.json()["id"], "Local councils fund <mark>respite</mark> breaks."),
        ]
        prefix = (await other.get("/api/v1/search?q=counc")).json()["results"]
        assert [r["post_id"] for r in prefix] == [replied.json()["id"]]
        page = await other.get(f"/t/{thread_id}")
        assert "Anonymous member A" in page.text and "pg-asker" not in page.text
