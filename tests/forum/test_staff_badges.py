"""Staff badges beside names in a thread: the same badge as in chat (communities/roles.py:
admin, a moderator of this community, peer supporter), and none on anonymous posts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import update
from starlette.applications import Starlette

from communities.models import Community, CommunityModerator
from forum.communities import create_community
from identity import accounts
from identity.models import Member
from tests.conftest import make_client
from tests.helpers import api_post, join

POST = re.compile(r'<li id="p(\d+)".*?<header class="post-meta">(.*?)</header>', re.S)
BADGE = re.compile(r'<span class="badge badge-ok">([^<]*)</span>')


async def _member(app: Starlette, name: str) -> Member:
    return await accounts.find_member(app.state.ctx.db, name)


@pytest.fixture
async def keeper(app: Starlette, community: Community) -> AsyncIterator[httpx.AsyncClient]:
    """A moderator of the community (not an admin)."""
    async with make_client(app) as client:
        await join(client, "lantern-keeper")
        member = await _member(app, "lantern-keeper")
        async with app.state.ctx.db.transaction() as s:
            s.add(CommunityModerator(community_id=community.id, member_id=member.id))
        yield client


async def start(client: httpx.AsyncClient, title: str, body: str) -> int:
    response = await api_post(
        client, "/api/v1/communities/grief/threads", {"title": title, "body": body}
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def reply(client: httpx.AsyncClient, thread_id: int, body: str, **extra) -> int:
    response = await api_post(client, f"/api/v1/threads/{thread_id}/posts", {"body": body, **extra})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def badges(client: httpx.AsyncClient, thread_id: int) -> dict[int, list[str]]:
    """Each post's staff badges, as the thread page shows them."""
    page = await client.get(f"/t/{thread_id}")
    assert page.status_code == 200
    return {int(i): BADGE.findall(meta) for i, meta in POST.findall(page.text)}


async def test_a_moderators_reply_carries_the_moderator_badge_but_not_when_anonymous(
    app, community, alice, bob, keeper
) -> None:
    thread = await start(alice, "Evenings", "The evenings are the worst part.")
    named = await reply(keeper, thread, "You're welcome here. Evenings were hard for me too.")
    anonymous = await reply(keeper, thread, "Same here, some nights.", anonymous=True)
    mine = await reply(bob, thread, "Me too.")
    for viewer in (bob, alice):
        shown = await badges(viewer, thread)
        assert shown[named] == ["Moderator"]
        assert shown[anonymous] == []  # never reveal who wrote an anonymous post
        assert shown[mine] == []
    async with make_client(app) as visitor:  # signed out: the same badges
        shown = await badges(visitor, thread)
        assert shown[named] == ["Moderator"] and shown[anonymous] == []


async def test_badges_follow_the_chat_rule_admin_first_and_moderators_only_where_appointed(
    app, community, alice, bob
) -> None:
    ctx = app.state.ctx
    admin = await accounts.find_member(ctx.db, "Site-Keeper")  # the fixture's admin
    elsewhere = await create_community(
        ctx, admin, slug="carers", name="Carers", description="For carers.", rules="Be kind."
    )
    bob_member = await _member(app, "bob-river")
    async with ctx.db.transaction() as s:
        # bob moderates another community and is a peer supporter: here he is a supporter.
        s.add(CommunityModerator(community_id=elsewhere.id, member_id=bob_member.id))
        await s.exec(
            update(Member).where(Member.id == bob_member.id).values(is_peer_supporter=True)
        )  # type: ignore[arg-type]
    thread = await start(alice, "Sleep", "I can't sleep since March.")
    supporter = await reply(bob, thread, "Walking helped me.")
    shown = await badges(alice, thread)
    assert shown[supporter] == ["Peer supporter"]
    async with ctx.db.transaction() as s:  # the most senior badge wins, as in chat
        s.add(CommunityModerator(community_id=community.id, member_id=bob_member.id))
    assert (await badges(alice, thread))[supporter] == ["Moderator"]
    async with ctx.db.transaction() as s:
        await s.exec(update(Member).where(Member.id == bob_member.id).values(is_admin=True))  # type: ignore[arg-type]
    assert (await badges(alice, thread))[supporter] == ["Admin"]
