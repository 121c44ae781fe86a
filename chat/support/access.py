"""Who may be in a private support conversation: its two people (the member who asked and
the supporter who accepted), and a moderator only through a logged action on a report.

A moderator never browses private conversations. When a member reports a message in one,
the report opens a moderation case; from that case a moderator of the conversation's
community may open the conversation, which writes an audit entry naming the case and grants
them a time-limited right to read it (PrivateRoomAccess). Without such a case there is
nothing to open it with.

Moderation owns the case and report tables; chat asks moderation.api which cases are about
this room's messages, naming the messages by a query of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.models import ChatMessage, Room
from chat.support.models import PrivateRoomAccess, SupportRequest
from chat.support.requests import is_participant, request_for_room
from communities import roles
from communities.roles import Action
from core.context import AppContext
from core.db import Database, utcnow
from core.errors import Refusal
from core.i18n import N_
from core.i18n import gettext as _
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
    return Refusal("not_found", _("There's no conversation at this address."), status=404)


async def require_room_moderator(s: AsyncSession, member: Member, room: Room) -> None:
    if not await moderates(s, member, room):
        raise not_found()


async def has_grant(s: AsyncSession, room_id: int, member_id: int) -> bool:
    """Does this moderator hold a current grant to read the conversation?"""
    query = select(PrivateRoomAccess.id).where(
        PrivateRoomAccess.room_id == room_id,
        PrivateRoomAccess.member_id == member_id,
        col(PrivateRoomAccess.expires_at) > utcnow(),
    )
    return (await s.exec(query)).first() is not None


async def grant_holders(s: AsyncSession, room_id: int) -> list[int]:
    query = select(PrivateRoomAccess.member_id).where(
        PrivateRoomAccess.room_id == room_id, col(PrivateRoomAccess.expires_at) > utcnow()
    )
    return list(set(await s.exec(query)))


async def role_in(
    s: AsyncSession, request: SupportRequest, room: Room, member: Member
) -> str | None:
    """The member's part in the conversation: "member" (who asked), "supporter" (who
    accepted) or "moderator" (holding a current grant); None for anyone else, whom the
    page and the gate each refuse in their own words."""
    if request.member_id == member.id:
        return "member"
    if request.supporter_id == member.id:
        return "supporter"
    if await has_grant(s, room.id, member.id):  # type: ignore[arg-type]
        return "moderator"
    return None


@dataclass(frozen=True)
class Conversation:
    room: Room
    request: SupportRequest
    role: str  # "member", "supporter" or "moderator" (role_in)


async def conversation_for(db: Database, slug: str, member: Member) -> Conversation:
    """The conversation at this address, and the member's part in it. The community's
    other moderators are refused with how they get in; anyone else gets a 404, as for an
    address with nothing there."""
    async with db.read() as s:
        room, found = await _at(s, slug)
        role = await role_in(s, found, room, member)
        if role is not None:
            return Conversation(room, found, role)
        if not await moderates(s, member, room):  # not even told it exists
            raise not_found()
    raise Refusal(
        "forbidden",
        _(
            "This is a private conversation between a member and a peer supporter. Moderators "
            "can open one only from a report about a message in it."
        ),
        status=403,
    )


async def _at(s: AsyncSession, slug: str) -> tuple[Room, SupportRequest]:
    room = (await s.exec(select(Room).where(Room.slug == slug))).first()
    found = await request_for_room(s, room.id) if room else None  # type: ignore[arg-type]
    if room is None or found is None:
        raise not_found()
    return room, found


@dataclass(frozen=True)
class Opening:
    room: Room
    participant: bool  # one of its two people: they go straight to the conversation
    cases: list[moderation.ReportedCase]  # what a moderator may open it with


async def opening(db: Database, slug: str, member: Member) -> Opening:
    """What a moderator is asked to confirm before opening the conversation: the reported
    cases it can be opened with. Anyone but its community's moderators is told nothing."""
    async with db.read() as s:
        room, found = await _at(s, slug)
        if is_participant(found, member):
            return Opening(room, True, [])
        await require_room_moderator(s, member, room)
        return Opening(room, False, await reported_cases(s, room))


async def open_for_moderator(
    ctx: AppContext, moderator: Member, room: Room, case_id: int | None
) -> datetime:
    """Record the opening (naming the case) and grant access; returns when it ends."""
    if room.kind != "private":
        raise Refusal("not_found", _("There's no private conversation here."), status=404)
    async with ctx.db.transaction() as s:
        await require_room_moderator(s, moderator, room)
        cases = {case.id for case in await reported_cases(s, room)}
        if case_id is None or case_id not in cases:
            raise Refusal(
                "no_report",
                _(
                    "Private conversations can be opened only from a report about a message in "
                    "them. Nobody has reported one here (or that report is not about this "
                    "conversation), so it stays private."
                ),
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
            # Stored in English; the public log says it in each reader's language.
            N_("A moderator opened a private support conversation to look at a report"),
        )
    return expires
