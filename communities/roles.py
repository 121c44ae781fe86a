"""Who may do what, and where: the one place Kindred's role rules are decided.

Pages, the JSON API, chat frames and the services behind them all ask here, so a button
is shown exactly when pressing it would work. The rules are data (`RULES`: which roles
may take each action); docs/moderators.md prints the same table and a test holds the two
together.

A role is either site-wide (a member's flags: admin, peer supporter) or held in one
community (its appointed moderators, the `community_moderator` rows), or in one group
session (its named facilitators, which chat knows and passes in). An admin holds every
role everywhere the table gives one to admins: that is written here once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from communities.models import CommunityModerator
from identity.models import Member


class Role(StrEnum):
    VISITOR = "visitor"  # signed out (or an account that has left)
    MEMBER = "member"
    PEER_SUPPORTER = "peer supporter"
    FACILITATOR = "named facilitator"  # of one group session
    MODERATOR = "moderator"  # of the community in question
    ADMIN = "admin"


class Action(StrEnum):
    MODERATE = "moderate"  # the review queue's cases, sanctions, a room's messages, settings
    SEE_AUTHORS = "see authors"  # who wrote something anonymous (audited by the caller)
    SCHEDULE_SESSION = "schedule a session"  # and be named one of its facilitators
    FACILITATE_SESSION = "facilitate a session"
    TAKE_SUPPORT = "take support requests"
    REACH_OUT = "reach out"  # crisis flags and check-in requests
    GRANT_ROLES = "give roles"  # peer supporter, community moderator
    RUN_SITE = "run the site"  # add communities and rooms, read the full audit log


_MODERATORS = frozenset({Role.MODERATOR, Role.ADMIN})

RULES: Mapping[Action, frozenset[Role]] = {
    Action.MODERATE: _MODERATORS,
    Action.SEE_AUTHORS: _MODERATORS,
    Action.SCHEDULE_SESSION: frozenset({Role.PEER_SUPPORTER, Role.MODERATOR, Role.ADMIN}),
    Action.FACILITATE_SESSION: frozenset({Role.FACILITATOR, Role.MODERATOR, Role.ADMIN}),
    Action.TAKE_SUPPORT: frozenset({Role.PEER_SUPPORTER, Role.ADMIN}),
    Action.REACH_OUT: frozenset({Role.PEER_SUPPORTER, Role.MODERATOR, Role.ADMIN}),
    Action.GRANT_ROLES: frozenset({Role.ADMIN}),
    Action.RUN_SITE: frozenset({Role.ADMIN}),
}


def allowed(roles: Iterable[Role], action: Action) -> bool:
    """The pure rule: may someone holding these roles take this action?"""
    return not RULES[action].isdisjoint(roles)


def _held(*, left: bool, admin: bool, peer_supporter: bool, appointed: bool) -> frozenset[Role]:
    """The roles from an account's flags, and whether it is appointed to moderate the
    community in question: the one place they are read."""
    if left:
        return frozenset({Role.VISITOR})
    held = {Role.MEMBER}
    if peer_supporter:
        held.add(Role.PEER_SUPPORTER)
    if admin:
        held.add(Role.ADMIN)
    if appointed:
        held.add(Role.MODERATOR)
    return frozenset(held)


def site_roles(member: Member | None) -> frozenset[Role]:
    """The roles a member holds everywhere, from their account alone."""
    return roles_with(member, appointed=False)


def holds(member: Member | None, action: Action) -> bool:
    """May they take this action everywhere (by a site-wide role)? Exact for the actions
    no community role gives (TAKE_SUPPORT, GRANT_ROLES, RUN_SITE); for the others it is
    the "everywhere" part of `may`."""
    return allowed(site_roles(member), action)


def _without_community(member: Member | None, named_facilitator: bool) -> frozenset[Role]:
    held = site_roles(member)
    if named_facilitator and Role.VISITOR not in held:
        held |= {Role.FACILITATOR}
    return held


async def _appointed(s: AsyncSession, member: Member, community_id: int) -> bool:
    return await s.get(CommunityModerator, (community_id, member.id)) is not None


async def roles_in(
    s: AsyncSession,
    member: Member | None,
    community_id: int | None,
    *,
    named_facilitator: bool = False,
) -> frozenset[Role]:
    """Every role a member holds in one community (None: somewhere no community owns)."""
    held = _without_community(member, named_facilitator)
    if member is None or Role.VISITOR in held or community_id is None:
        return held
    if await _appointed(s, member, community_id):
        held |= {Role.MODERATOR}
    return held


# The badge beside a name where someone writes (chat rooms, 1:1 support): the most senior
# staff role they hold there, so members know who is there to help; members carry none.
BADGE_ROLES: tuple[Role, ...] = (Role.ADMIN, Role.MODERATOR, Role.PEER_SUPPORTER)

# The badge as pages and chat's message frames name it (docs/protocol.md); templates and
# chat.js label it ("Peer supporter").
BADGE_CODES: Mapping[Role, str] = {
    Role.ADMIN: "admin",
    Role.MODERATOR: "moderator",
    Role.PEER_SUPPORTER: "peer_supporter",
}


def badge(held: Iterable[Role]) -> Role | None:
    """The one role shown beside a name, or None for a member (or someone who has left)."""
    roles = frozenset(held)
    return next((role for role in BADGE_ROLES if role in roles), None)


def roles_with(member: Member | None, *, appointed: bool) -> frozenset[Role]:
    """`roles_in` when the caller already knows whether the member is appointed to moderate
    the community (a page of messages asks once for all its authors: `appointed_in`)."""
    if member is None:
        return frozenset({Role.VISITOR})
    return _held(
        left=member.deleted_at is not None,
        admin=member.is_admin,
        peer_supporter=member.is_peer_supporter,
        appointed=appointed,
    )


def author_badge(*, left: bool, admin: bool, peer_supporter: bool, appointed: bool) -> str | None:
    """The badge code beside an author's name where a page read the author's flags as
    columns rather than as a Member (a thread's posts: one query for the page). Chat's
    badges (chat/badges.py) and the forum's carry the same codes by the same rule."""
    role = badge(_held(left=left, admin=admin, peer_supporter=peer_supporter, appointed=appointed))
    return BADGE_CODES[role] if role else None


async def appointed_in(s: AsyncSession, community_id: int | None) -> frozenset[int]:
    """The ids of the members appointed to moderate this community (none where no community
    owns the place)."""
    if community_id is None:
        return frozenset()
    rows = await s.exec(
        select(CommunityModerator.member_id).where(CommunityModerator.community_id == community_id)
    )
    return frozenset(rows)


async def may(
    s: AsyncSession,
    member: Member | None,
    action: Action,
    community_id: int | None = None,
    *,
    named_facilitator: bool = False,
) -> bool:
    """May this member take `action` in this community (None: where no community owns it,
    so only site-wide roles count)? `named_facilitator` says they are named on the group
    session in question (chat knows that; this layer doesn't)."""
    held = _without_community(member, named_facilitator)
    if allowed(held, action):  # settled without a query
        return True
    if member is None or Role.VISITOR in held or community_id is None:
        return False
    return Role.MODERATOR in RULES[action] and await _appointed(s, member, community_id)


async def communities_where(
    s: AsyncSession, member: Member | None, action: Action
) -> set[int] | None:
    """The communities where they may take `action`; None means every community."""
    if holds(member, action):
        return None
    if member is None or Role.MODERATOR not in RULES[action] or member.deleted_at is not None:
        return set()
    return await moderated(s, member)


async def may_somewhere(s: AsyncSession, member: Member | None, action: Action) -> bool:
    """Is there any community where they may? (Whether a page shows the way in.)"""
    return await communities_where(s, member, action) != set()


async def anyone_may(s: AsyncSession, action: Action, community_id: int | None) -> bool:
    """Is there anyone at all (an account that hasn't left) who may take `action` in this
    community? Whether a page may promise that someone will, e.g. read a crisis post soon:
    a community may have no moderators, and the site no peer supporters yet."""
    site = [
        flag
        for role, flag in (
            (Role.ADMIN, Member.is_admin),
            (Role.PEER_SUPPORTER, Member.is_peer_supporter),
        )
        if role in RULES[action]
    ]
    if site:
        found = await s.exec(
            select(Member.id).where(or_(*site), col(Member.deleted_at).is_(None)).limit(1)
        )
        if found.first() is not None:
            return True
    if Role.MODERATOR not in RULES[action] or community_id is None:
        return False
    found = await s.exec(
        select(CommunityModerator.member_id)
        .join(Member, Member.id == CommunityModerator.member_id)  # type: ignore[arg-type]
        .where(CommunityModerator.community_id == community_id, col(Member.deleted_at).is_(None))
        .limit(1)
    )
    return found.first() is not None


async def moderated(s: AsyncSession, member: Member) -> set[int]:
    """The communities a member is appointed to moderate (an admin needs no appointment)."""
    rows = await s.exec(
        select(CommunityModerator.community_id).where(CommunityModerator.member_id == member.id)
    )
    return set(rows)
