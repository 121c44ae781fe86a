"""Reading and storing communities: the one way other packages reach the community table.

Each function takes the caller's session, so a read or a write joins the caller's
transaction. Forum, chat and moderation ask here instead of declaring the table themselves.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from communities.models import Community, CommunityModerator
from identity.models import Member


async def get(s: AsyncSession, community_id: int) -> Community | None:
    return await s.get(Community, community_id)


async def by_slug(s: AsyncSession, slug: str) -> Community | None:
    return (await s.exec(select(Community).where(Community.slug == slug))).first()


async def by_ids(s: AsyncSession, ids: Iterable[int | None]) -> dict[int, Community]:
    """The communities with these ids (ids of none, or of one since deleted, are missing),
    in one query however many rows name them."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await s.exec(select(Community).where(col(Community.id).in_(wanted)))
    return {c.id: c for c in rows}  # type: ignore[misc]


async def all_communities(s: AsyncSession) -> list[Community]:
    """Every community, by name (there are tens, not thousands)."""
    return list(await s.exec(select(Community).order_by(col(Community.name))))


async def rules_html(s: AsyncSession, community_id: int | None) -> str:
    """A community's rules as sanitised HTML ("" for none, or no community)."""
    community = None if community_id is None else await get(s, community_id)
    return community.rules_html if community else ""


async def add(s: AsyncSession, community: Community) -> Community:
    """Store a new community; its id is known on return. A slug already taken raises
    sqlalchemy's IntegrityError here, inside the caller's transaction."""
    s.add(community)
    await s.flush()
    return community


async def moderators(s: AsyncSession, community_id: int) -> list[Member]:
    """The members appointed to moderate a community (admins moderate everywhere besides)."""
    rows = await s.exec(
        select(Member)
        .join(CommunityModerator, col(CommunityModerator.member_id) == Member.id)
        .where(CommunityModerator.community_id == community_id)
    )
    return list(rows)


async def set_moderator(
    s: AsyncSession, community_id: int, member_id: int, appointed: bool
) -> None:
    """Appoint a moderator, or stand one down; doing what is already so changes nothing."""
    existing = await s.get(CommunityModerator, (community_id, member_id))
    if appointed and existing is None:
        s.add(CommunityModerator(community_id=community_id, member_id=member_id))
    elif not appointed and existing is not None:
        await s.delete(existing)
