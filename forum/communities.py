"""A site admin creates a community. Its rules are member-facing words, so they are vetted
like any other (here, not in communities/: that layer sits below moderation)."""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

from communities import roles
from communities import service as communities
from communities.models import Community
from communities.roles import Action
from core.context import AppContext
from core.errors import Refusal
from identity.models import Member
from moderation import api as moderation

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])?$")


async def create_community(
    ctx: AppContext,
    admin: Member,
    *,
    slug: str,
    name: str,
    description: str = "",
    rules: str = "",
    visibility: str = "public",
    allow_anonymous: bool = True,
    content_warnings: str = "",
) -> Community:
    if not roles.holds(admin, Action.RUN_SITE):
        raise Refusal("forbidden", "Only site admins can create communities.", status=403)
    slug = slug.strip().lower()
    if not SLUG.match(slug):
        raise Refusal(
            "invalid",
            "The address name needs 3–40 lowercase letters, digits or dashes.",
            field="slug",
        )
    if not name.strip():
        raise Refusal("invalid", "Give the community a name.", field="name")
    if visibility not in ("public", "members"):
        raise Refusal("invalid", "Visibility is public or members.", field="visibility")
    rules_html = ""
    if rules.strip():
        place = moderation.Place(moderation.COMMUNITY_RULES, None)
        rules_verdict = await moderation.vet(ctx, admin, place, rules)
        if rules_verdict.refused:
            raise rules_verdict.refusal(draft=rules)
        rules_html = rules_verdict.html
    community = Community(
        slug=slug,
        name=name.strip()[:80],
        description=description.strip()[:500],
        rules=rules,
        rules_html=rules_html,
        visibility=visibility,
        allow_anonymous=allow_anonymous,
        content_warnings=content_warnings,
    )
    try:
        async with ctx.db.transaction() as s:
            await communities.add(s, community)
    except IntegrityError:
        raise Refusal(
            "slug_taken", "A community already uses that address.", status=409, field="slug"
        ) from None
    return community
