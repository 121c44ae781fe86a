"""Blocks between members: whom a member has chosen not to see.

A block is one-way: the blocker no longer sees what the blocked member writes under their
name, and gets no notice from them. Site administrators can't be blocked (a member reports
what they write instead). Forum and chat filter what they show by `blocked_ids`, and are
told at once when a member's blocks change (identity/pages.py); the account page lists and
lifts them.
"""

from __future__ import annotations

from sqlalchemy import delete, or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import Database
from core.errors import Refusal
from core.i18n import gettext as _
from identity.accounts import member_named
from identity.models import Member, MemberBlock


async def block_member(db: Database, blocker: Member, pseudonym: str) -> Member:
    async with db.transaction() as s:
        target = await member_named(s, pseudonym)
        if target is None:
            raise Refusal("not_found", _("There's no member with that pseudonym."), status=404)
        if target.id == blocker.id:
            raise Refusal("invalid", _("You can't block yourself."))
        if target.is_admin:
            raise Refusal(
                "invalid",
                _("Site administrators can't be blocked; you can report content instead."),
            )
        if await s.get(MemberBlock, (blocker.id, target.id)) is None:
            s.add(MemberBlock(blocker_id=blocker.id, blocked_id=target.id))  # type: ignore[arg-type]
        return target


async def unblock_member(db: Database, blocker: Member, member_id: int) -> None:
    async with db.transaction() as s:
        await s.exec(
            delete(MemberBlock).where(
                MemberBlock.blocker_id == blocker.id, MemberBlock.blocked_id == member_id
            )
        )


async def blocked_members(db: Database, member: Member) -> list[Member]:
    async with db.read() as s:
        rows = await s.exec(
            select(Member)
            .join(MemberBlock, MemberBlock.blocked_id == Member.id)  # type: ignore[arg-type]
            .where(MemberBlock.blocker_id == member.id)
            .order_by(Member.pseudonym_key)
        )
        return list(rows)


async def blocked_ids(s: AsyncSession, member_id: int) -> set[int]:
    rows = await s.exec(select(MemberBlock.blocked_id).where(MemberBlock.blocker_id == member_id))
    return set(rows)


async def blocked_either_way(s: AsyncSession, member_id: int) -> set[int]:
    """Everyone this member has blocked or been blocked by: people neither should be asked
    to reach out to (forum/been_there.py)."""
    rows = await s.exec(
        select(MemberBlock.blocker_id, MemberBlock.blocked_id).where(
            or_(MemberBlock.blocker_id == member_id, MemberBlock.blocked_id == member_id)
        )
    )
    return {other for pair in rows for other in pair if other != member_id}
