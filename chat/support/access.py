"""Moderators' access to a private conversation: only through a logged action on a report.

A moderator never browses private conversations. When a member reports a message in one,
the report opens a moderation case; from that case a moderator of the conversation's
community may open the conversation, which writes an audit entry naming the case and grants
them a time-limited right to read it (PrivateRoomAccess). Without such a case there is
nothing to open it with.

Moderation owns the case and report tables; chat asks moderation.api which cases are about
this room's messages, naming the messages by a query of its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.models import ChatMessage, Room
from chat.support.models import PrivateRoomAccess
from communities import roles
from communities.roles import Action
from core.context import AppContext
from core.db import utcnow
from core.errors import Refusal
from identity.models import Member
from moderation import api as moderation

ACCESS_MINUTES = 60  # how long one logged opening lets a moderator read
CLOSED_CASE_DAYS = 7  # a case closed this recently may still be used to open the conversation


async def reported_cases(s: AsyncSession, room: Room) -> list[moderation.ReportedCase]:
    """Cases, open or recently closed, with at least one member's report about a message
    in this room: the only things a moderator can open the conversation with."""
    since = utcnow() - timedelta(days=CLOSED_CASE_DAYS)
    in_room = select(ChatMessage.id).where(col(ChatMessage.room_id) == room.id)
    return await moderation.reported_cases(s, "chat_message", in_room, closed_since=since)


async def moderates(s: AsyncSession, member: Member, room: Room) -> bool:
    """May this member open the conversation from a report (its community's moderators)?"""
    return await roles.may(s, member, Action.MODERATE, room.community_id)


def not_found() -> Refusal:
    """What everyone but its two people and its community's moderators is told about a
    private conversation: nothing, not even that it exists."""
    return Refusal("not_found", "There's no conversation at this address.", status=404)


async def require_room_moderator(s: AsyncSession, member: Member, room: Room) -> None:
    if not await moderates(s, member, room):
        raise not_found()


async def open_for_moderator(
    ctx: AppContext, moderator: Member, room: Room, case_id: int | None
) -> datetime:
    """Record the opening (naming the case) and grant access; returns when it ends."""
    if room.kind != "private":
        raise Refusal("not_found", "There's no private conversation here.", status=404)
    async with ctx.db.transaction() as s:
        await require_room_moderator(s, moderator, room)
        cases = {case.id for case in await reported_cases(s, room)}
        if case_id is None or case_id not in cases:
            raise Refusal(
                "no_report",
                "Private conversations can be opened only from a report about a message in "
                "them. Nobody has reported one here (or that report is not about this "
                "conversation), so it stays private.",
                status=403,
            )
        expires = utcnow() + timedelta(minutes=ACCESS_MINUTES)
        s.add(
            PrivateRoomAccess(
                room_id=room.id,  # type: ignore[arg-type]
                member_id=moderator.id,  # type: ignore[arg-type]
                case_id=case_id,
                expires_at=expires,
            )
        )
        await moderation.record(
            s,
            moderator,
            "open_private_conversation",
            "chat_room",
            room.id,
            room.community_id,
            f"case {case_id}",
            "A moderator opened a private support conversation to look at a report",
        )
    return expires
