"""Staff badges beside names in chat: which badge a message's author carries in a room.

communities/roles.py decides who is shown as what (the most senior of admin, the room's
community's moderator, peer supporter); this names the badge for the wire (`author.badge`
in a message frame, docs/protocol.md). A sender's badge is worked out once per connection
(chat/ws.py), so sending costs no query for it; a page of messages asks once for all its
authors.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel.ext.asyncio.session import AsyncSession

from communities import roles
from communities.roles import Role
from identity.models import Member

# The badge as message frames name it; clients label it ("Peer supporter"). The forum's
# posts carry the same codes (communities/roles.py).
CODES = roles.BADGE_CODES

Badges = Callable[[Member], str | None]


def _code(held: frozenset[Role]) -> str | None:
    role = roles.badge(held)
    return CODES[role] if role else None


async def badge_in(s: AsyncSession, member: Member, community_id: int | None) -> str | None:
    """The badge this member carries in a room of this community (None: a member's room
    of no community, where only site-wide roles count)."""
    site = roles.site_roles(member)
    if roles.badge(site) is Role.ADMIN:  # the most senior badge: no need to ask further
        return CODES[Role.ADMIN]
    return _code(await roles.roles_in(s, member, community_id))


async def badges_in(s: AsyncSession, community_id: int | None) -> Badges:
    """The badge of any author in this community's rooms, with one query for them all."""
    appointed = await roles.appointed_in(s, community_id)
    return lambda member: _code(roles.roles_with(member, appointed=member.id in appointed))
