"""What trust counts: a member's published contributions on every surface that registered
its content (forum posts, chat messages in a community's rooms), each count bounded."""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import select
from starlette.applications import Starlette

from chat.models import ChatMessage, Room
from communities.models import Community
from forum.models import Post, Thread
from identity import accounts
from identity.models import Member
from moderation.policy import trust as trust_for
from moderation.trust import TRUSTED_POSTS
from tests.helpers import PASSPHRASE


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, new_member_posts=2, link_posts=3)


async def _author(app: Starlette) -> Member:
    ctx = app.state.ctx
    return (await accounts.sign_up(ctx.db, ctx.settings, "Quiet-Wren", PASSPHRASE)).signed_in.member


async def _room(app: Starlette, community_id: int | None, slug: str) -> Room:
    """The community's own room (made with it), or a new site-wide one."""
    async with app.state.ctx.db.transaction() as s:
        if community_id is not None:
            found = (await s.exec(select(Room).where(Room.community_id == community_id))).first()
            if found is not None:
                return found
        room = Room(community_id=community_id, slug=slug, name=slug)
        s.add(room)
        await s.flush()
        return room


async def _say(app: Starlette, room: Room, author: Member, status: str, n: int) -> None:
    async with app.state.ctx.db.transaction() as s:
        for _ in range(n):
            s.add(
                ChatMessage(
                    room_id=room.id, author_id=author.id, body="hi", html="<p>hi</p>", status=status
                )
            )


async def _trust(app: Starlette, member: Member, community_id: int | None, **kw):
    ctx = app.state.ctx
    async with ctx.db.read() as s:
        return await trust_for(s, member, community_id, ctx, **kw)


async def test_chat_messages_in_the_communitys_rooms_count_for_named_posts(
    app: Starlette, community: Community
) -> None:
    author = await _author(app)
    here = await _room(app, community.id, "recovery-room")
    elsewhere = await _room(app, None, "site-lounge")
    await _say(app, here, author, "published", 2)
    await _say(app, here, author, "held", 3)  # waiting for a moderator: not yet part
    await _say(app, elsewhere, author, "published", 1)

    named = await _trust(app, author, community.id, anonymous=False)
    assert (named.posts_here, named.posts_anywhere) == (2, 3)
    assert not named.new_here and named.may_link is False  # a fresh account: no links yet
    # Chat has no anonymous messages: an anonymous post's author is still new here.
    anonymous = await _trust(app, author, community.id, anonymous=True)
    assert (anonymous.posts_here, anonymous.new_here) == (0, True)


async def test_forum_and_chat_add_up_and_counting_stops_at_what_a_level_needs(
    app: Starlette, community: Community
) -> None:
    author = await _author(app)
    async with app.state.ctx.db.transaction() as s:
        thread = Thread(community_id=community.id, author_id=author.id, title="Hello")
        s.add(thread)
        await s.flush()
        for n in range(TRUSTED_POSTS + 5):
            s.add(Post(thread_id=thread.id, author_id=author.id, body=f"{n}", html=f"<p>{n}</p>"))
        s.add(Post(thread_id=thread.id, author_id=author.id, body="x", html="x", anonymous=True))
    await _say(app, await _room(app, community.id, "recovery-room"), author, "published", 1)

    trust = await _trust(app, author, community.id, anonymous=False)
    # Each surface counts no further than the highest threshold (20 posts for "trusted").
    assert trust.posts_anywhere == TRUSTED_POSTS + 1
    assert trust.posts_here == TRUSTED_POSTS + 1
    only_anonymous = await _trust(app, author, community.id, anonymous=True)
    assert only_anonymous.posts_here == 1
