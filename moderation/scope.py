"""Where a moderator may act, and how moderation says no.

communities.roles decides who may do what; this turns its answer into moderation's refusals:
a 403 for a member who moderates nowhere, and, for a case, sanction or record outside their
communities, the same 404 as for one that doesn't exist.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from communities import roles
from communities.roles import Action
from core.errors import Refusal
from core.i18n import gettext
from identity.models import Member


async def require_moderator(s: AsyncSession, member: Member, community_id: int | None) -> None:
    """communities.roles decides; this says no the way moderation's callers expect."""
    if not await roles.may(s, member, Action.MODERATE, community_id):
        raise Refusal(
            "forbidden", gettext("Only this community's moderators can do that."), status=403
        )


async def moderation_scope(
    s: AsyncSession, member: Member, action: Action = Action.MODERATE
) -> set[int] | None:
    """Where a member may take `action` (None: everywhere), for a call about one case,
    sanction or record: a member who may nowhere is refused the same way whatever its id.
    Callers then answer 404 for what lies outside the scope, as for what doesn't exist: a
    403 there would confirm to a moderator elsewhere that it exists."""
    scope = await roles.communities_where(s, member, action)
    if scope is not None and not scope:
        raise Refusal("forbidden", gettext("Only moderators can do that."), status=403)
    return scope


def in_scope(scope: set[int] | None, community_id: int | None) -> bool:
    """Is what belongs to `community_id` inside a `moderation_scope`?"""
    return scope is None or community_id in scope
