"""Two app instances on one PostgreSQL and one Redis (two workers): a moderator's change to a
community's policy, made on one, is what the other applies to the next words it vets."""

from __future__ import annotations

import dataclasses

from core.settings import Settings
from identity import accounts
from moderation import vetting
from moderation.community_settings import change_policy
from moderation.vetting import Place, vet
from tests.chat.conftest import eventually, serve
from tests.chat.people import make_community
from tests.helpers import PASSPHRASE

EMAIL = "write to me at fern.hollow@example.com"


async def test_a_policy_change_on_one_worker_reaches_the_other(
    pg_settings: Settings, redis_url: str
) -> None:
    settings = dataclasses.replace(pg_settings, redis_url=redis_url)
    async with serve(settings) as a, serve(settings) as b:
        community = await make_community(a.ctx, slug="policy-pair", name="Policy pair")
        admin = await accounts.find_member(a.ctx.db, "Site-Admin")
        member = (
            await accounts.sign_up(b.ctx.db, b.ctx.settings, "pair-wren", PASSPHRASE)
        ).signed_in.member
        place = Place(vetting.FORUM_POST, community.id)
        assert (await vet(b.ctx, member, place, EMAIL)).held  # read and kept on b

        await change_policy(
            a.ctx, admin, community.id, contact_policy="refuse", crisis_action="publish",
            crisis_sensitivity="standard",
        )  # fmt: skip

        async def refused_on_b() -> bool:
            return (await vet(b.ctx, member, place, EMAIL, preview=True)).refused

        await eventually(refused_on_b)
