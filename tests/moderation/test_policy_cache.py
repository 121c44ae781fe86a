"""A community's policy is read once per app and kept until it changes
(moderation/policy_cache.py): a change made through Kindred takes effect at once, and a row
changed behind its back is not seen until someone says so — which is what keeping it means."""

from __future__ import annotations

import asyncio

from sqlmodel import select
from starlette.applications import Starlette

from communities.models import Community
from identity import accounts
from identity.models import Member
from moderation import api as moderation
from moderation import vetting
from moderation.policy_cache import policy_cache, policy_changed
from moderation.vetting import Place, vet
from tests.helpers import PASSPHRASE

EMAIL = "write to me at fern.hollow@example.com"


async def _member(app: Starlette, name: str, **kwargs: object) -> Member:
    ctx = app.state.ctx
    return (
        await accounts.sign_up(ctx.db, ctx.settings, name, PASSPHRASE, **kwargs)
    ).signed_in.member


async def test_kept_until_it_changes_then_read_again(app: Starlette, community: Community) -> None:
    ctx = app.state.ctx
    member = await _member(app, "fern-hollow")
    place = Place(vetting.FORUM_POST, community.id)
    assert (await vet(ctx, member, place, EMAIL)).held  # the default: held for a moderator

    async with ctx.db.transaction() as s:  # behind Kindred's back: not seen yet
        await moderation.set_policy(s, community.id, contact_policy="refuse")
    assert (await vet(ctx, member, place, EMAIL)).held

    await policy_changed(ctx, community.id)
    assert (await vet(ctx, member, place, EMAIL)).refused


async def test_a_moderators_change_takes_effect_at_once(
    app: Starlette, community: Community
) -> None:
    from moderation.community_settings import add_watched_word, change_policy, remove_watched_word
    from moderation.models import WatchedWordEntry

    ctx = app.state.ctx
    admin = await _member(app, "site-keeper", is_admin=True)
    member = await _member(app, "quiet-wren")
    place = Place(vetting.FORUM_POST, community.id)
    assert (await vet(ctx, member, place, EMAIL)).held

    await change_policy(
        ctx, admin, community.id, contact_policy="refuse", crisis_action="publish",
        crisis_sensitivity="standard",
    )  # fmt: skip
    assert (await vet(ctx, member, place, EMAIL)).refused

    await add_watched_word(ctx, admin, community.id, "pineapple", "block")
    assert (await vet(ctx, member, place, "I love pineapple on toast")).refused
    async with ctx.db.read() as s:
        [word] = (await s.exec(select(WatchedWordEntry))).all()
    await remove_watched_word(ctx, admin, community.id, word.id)
    assert not (await vet(ctx, member, place, "I love pineapple on toast")).refused


async def test_a_read_that_overlaps_a_change_is_not_kept(
    app: Starlette, community: Community
) -> None:
    ctx = app.state.ctx
    cache = policy_cache(ctx)

    async def behind_its_back(contact_policy: str) -> None:
        async with ctx.db.transaction() as s:
            await moderation.set_policy(s, community.id, contact_policy=contact_policy)

    await behind_its_back("refuse")
    async with ctx.db.read() as s:
        reading = asyncio.create_task(cache.load(s, community.id))
        await asyncio.sleep(0)  # the read is under way, waiting on the database
        cache.forget(community.id)  # a change is announced before it has finished
        assert (await reading).contact_policy == "refuse"
    await behind_its_back("allow")
    async with ctx.db.read() as s:  # that read was not kept: this one goes to the database
        assert (await cache.load(s, community.id)).contact_policy == "allow"
        await behind_its_back("hold")
        assert (await cache.load(s, community.id)).contact_policy == "allow"  # now it is kept
