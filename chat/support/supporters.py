"""The supporters' side of 1:1 support: whether requests reach them (available, for which
topics, and within their own limits and hours: limits.py), the queue they see, and taking a
request from it. Only peer supporters
(communities/roles.py) see the queue; a request shows its topic, note and waiting time, and
the asker's pseudonym reaches only the supporter who accepts. Neither side of a block is
matched with the other, and nobody is offered a request from a deleted account. Exactly one
supporter takes a request, and the request always has its private room (`accept`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.models import Room
from chat.support.limits import Pause, pause_of, refusal_for
from chat.support.models import SupporterAvailability, SupporterTopic, SupportRequest
from chat.support.requests import request_changed
from communities import roles
from communities import service as communities
from communities.roles import Action
from core.context import AppContext
from core.db import Database, utcnow
from core.errors import Refusal
from core.i18n import gettext as _
from identity.models import Member, MemberBlock
from moderation import api as moderation

QUEUE_LIMIT = 100


@dataclass(frozen=True)
class QueueItem:
    id: int
    community: str
    note_html: str
    crisis: bool
    created_at: datetime


@dataclass(frozen=True)
class Queue:
    available: bool
    items: list[QueueItem]
    topics: set[int]
    # Available, but their own limits offer nothing new now (at their limit, or outside
    # their hours): the page says why and how to change it (chat/support/limits.py).
    pause: Pause | None = None


# --------------------------------------------------------------------------- supporters


def _require_supporter(member: Member) -> None:
    if not roles.holds(member, Action.TAKE_SUPPORT):
        raise Refusal(
            "forbidden",
            _(
                "Only peer supporters can see and take 1:1 requests. If you'd like to become "
                "one, ask an admin."
            ),
            status=403,
        )


async def _blocked_either_way(s: AsyncSession, member_id: int) -> set[int]:
    """Members this one blocked or was blocked by: neither side is matched with the other."""
    rows = await s.exec(
        select(MemberBlock).where(
            sa.or_(MemberBlock.blocker_id == member_id, MemberBlock.blocked_id == member_id)
        )
    )
    return {b.blocked_id if b.blocker_id == member_id else b.blocker_id for b in rows}


async def is_available(s: AsyncSession, member_id: int) -> bool:
    row = await s.get(SupporterAvailability, member_id)
    return bool(row and row.available)


async def set_available(ctx: AppContext, member: Member, available: bool) -> None:
    _require_supporter(member)
    async with ctx.db.transaction() as s:
        row = await s.get(SupporterAvailability, member.id)
        if row is None:
            row = SupporterAvailability(member_id=member.id)  # type: ignore[arg-type]
        row.available, row.changed_at = available, utcnow()
        s.add(row)


async def topics_of(s: AsyncSession, member_id: int) -> set[int]:
    rows = await s.exec(
        select(SupporterTopic.community_id).where(SupporterTopic.member_id == member_id)
    )
    return set(rows)


async def set_topics(ctx: AppContext, member: Member, community_ids: set[int]) -> None:
    """The communities whose requests this supporter sees (none means every community)."""
    _require_supporter(member)
    async with ctx.db.transaction() as s:
        known = {c.id for c in await communities.all_communities(s)}
        await s.exec(delete(SupporterTopic).where(col(SupporterTopic.member_id) == member.id))
        for community_id in sorted(community_ids & known):
            s.add(SupporterTopic(member_id=member.id, community_id=community_id))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the queue


async def queue(db: Database, supporter: Member) -> Queue:
    """Open requests for an available supporter: crisis-flagged first, then oldest first.
    Only the topic, note and waiting time show: a requester's pseudonym is shown to the
    supporter who accepts, and to nobody before that."""
    _require_supporter(supporter)
    async with db.read() as s:
        available = await is_available(s, supporter.id)  # type: ignore[arg-type]
        chosen = await topics_of(s, supporter.id)  # type: ignore[arg-type]
        if not available:
            return Queue(False, [], chosen)
        if pause := await pause_of(s, supporter.id):  # type: ignore[arg-type]
            return Queue(True, [], chosen, pause)
        hidden = await _blocked_either_way(s, supporter.id)  # type: ignore[arg-type]
        query = (
            select(SupportRequest)
            .join(Member, col(Member.id) == SupportRequest.member_id)
            .where(
                col(SupportRequest.status) == "open",
                col(SupportRequest.member_id) != supporter.id,
                col(Member.deleted_at).is_(None),  # nobody waits behind a deleted account
            )
            .order_by(col(SupportRequest.crisis).desc(), col(SupportRequest.created_at))
            .limit(QUEUE_LIMIT)
        )
        if chosen:
            query = query.where(col(SupportRequest.community_id).in_(chosen))
        if hidden:
            query = query.where(col(SupportRequest.member_id).not_in(hidden))
        rows = list(await s.exec(query))
        names = await communities.by_ids(s, (r.community_id for r in rows))
    items = [
        QueueItem(r.id, names[r.community_id].name, r.note_html, r.crisis, r.created_at)  # type: ignore[arg-type]
        for r in rows
        if r.community_id in names
    ]
    return Queue(True, items, chosen)


async def accept(ctx: AppContext, supporter: Member, request_id: int) -> Room:
    """Take a request: exactly one supporter wins; the private room is made in the same
    transaction. Returns the room.

    Accepting is one conditional UPDATE (``… WHERE id = :id AND status = 'open'``): when two
    supporters press Accept at once, exactly one row changes and the other is told that
    someone else has just taken the request, on SQLite and PostgreSQL alike. The room goes
    with the same transaction, so an accepted request always has its room."""
    _require_supporter(supporter)
    async with ctx.db.transaction() as s:
        if not await is_available(s, supporter.id):  # type: ignore[arg-type]
            raise Refusal(
                "not_available",
                _("Switch on “Available” first, so requests reach you."),
                status=409,
            )
        if pause := await pause_of(s, supporter.id):  # type: ignore[arg-type]
            raise refusal_for(pause)  # their own limits come first: never talked past them
        request = await s.get(SupportRequest, request_id)
        if request is None:
            raise _no_such_request()
        if request.member_id == supporter.id:
            raise Refusal(
                "own_request",
                _("This is your own request: another supporter will take it."),
                status=403,
            )
        asker = await s.get(Member, request.member_id)
        if request.status == "open" and (asker is None or asker.deleted_at is not None):
            raise Refusal(
                "member_left",
                _(
                    "This member has since left Kindred, so there's nobody to talk with here. "
                    "Thank you for being ready."
                ),
                status=409,
            )
        if request.member_id in await _blocked_either_way(s, supporter.id):  # type: ignore[arg-type]
            # Never in this supporter's queue, so answered as a request that isn't there:
            # "blocked" would tell a supporter that the member asking has blocked them.
            raise _no_such_request()
        room = Room(
            slug="p-" + secrets.token_hex(12),  # unguessable: the address reveals nothing
            name="Support conversation",
            kind="private",
            community_id=request.community_id,
            members_only=True,
        )
        s.add(room)
        await s.flush()
        taken = await s.exec(
            update(SupportRequest)
            .where(col(SupportRequest.id) == request_id, col(SupportRequest.status) == "open")
            .values(
                status="accepted",
                supporter_id=supporter.id,
                accepted_at=utcnow(),
                room_id=room.id,
            )
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise _not_open(request.status)  # the room goes with the rolled-back transaction
        await moderation.record(
            s,
            supporter,
            "accept_support_request",
            "support_request",
            request_id,
            request.community_id,
        )
    await request_changed(ctx.broker, request_id)  # the asker moves on; queues drop it
    return room


def _no_such_request() -> Refusal:
    return Refusal("not_found", _("There's no such request in your queue."), status=404)


def _not_open(status: str) -> Refusal:
    if status == "expired":
        return Refusal(
            "expired",
            _(
                "This request waited a day without a supporter and was closed; the member has "
                "been told they can ask again."
            ),
            status=409,
        )
    if status == "cancelled":
        return Refusal(
            "cancelled", _("The member has withdrawn this request; nothing more to do."), status=409
        )
    if status == "open":  # taken between our read and our update
        status = "accepted"
    if status == "accepted":
        return Refusal(
            "already_accepted",
            _(
                "Another supporter has just accepted this request. Thank you for being ready — "
                "the queue shows who else is waiting."
            ),
            status=409,
        )
    return Refusal("not_open", _("This request has already ended."), status=409)
