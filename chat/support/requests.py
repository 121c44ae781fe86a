"""A 1:1 support request as everyone who looks at it finds it: its addresses, the names it
shows, whether it has waited long enough that other help is shown too, and finding it (by
id, by the member who asked, by its conversation's room). A request is ``open`` (waiting),
``accepted`` (a conversation in its private room), then ``ended``, ``cancelled`` or
``expired``; a member has at most one open or accepted request at a time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.models import Room
from chat.support.models import SupportRequest
from communities import service as communities
from core.broker import Broker, BrokerUnavailable
from core.db import Database, utcnow
from core.settings import Settings
from identity.models import DELETED_NAME, Member


def conversation_url(room_slug: str) -> str:
    return f"/support/conversations/{room_slug}"


def request_url(request: SupportRequest) -> str:
    return f"/support/requests/{request.id}"


def timed_out(request: SupportRequest, settings: Settings, now: datetime | None = None) -> bool:
    """Has the request waited long enough that the member should be shown other help too?"""
    waited = (now or utcnow()) - request.created_at
    return request.status == "open" and waited >= timedelta(minutes=settings.support_wait_minutes)


def name_of(member: Member | None) -> str:
    if member is None or member.deleted_at is not None:
        return DELETED_NAME
    return member.pseudonym


async def community_name(s: AsyncSession, community_id: int) -> str | None:
    community = await communities.get(s, community_id)
    return community.name if community else None


async def address(db: Database, request: SupportRequest) -> str:
    """Where the request is followed: its conversation once a supporter has accepted it,
    else its waiting page."""
    if request.room_id is not None:
        async with db.read() as s:
            room = await s.get(Room, request.room_id)
        if room is not None:
            return conversation_url(room.slug)
    return request_url(request)


async def get_request(db: Database, request_id: int) -> SupportRequest | None:
    async with db.read() as s:
        return await s.get(SupportRequest, request_id)


async def live_request(s: AsyncSession, member_id: int) -> SupportRequest | None:
    """The member's request that is waiting or in conversation, if any (at most one)."""
    query = select(SupportRequest).where(
        SupportRequest.member_id == member_id,
        col(SupportRequest.status).in_(("open", "accepted")),
    )
    return (await s.exec(query)).first()


async def request_for_room(s: AsyncSession, room_id: int) -> SupportRequest | None:
    query = select(SupportRequest).where(SupportRequest.room_id == room_id)
    return (await s.exec(query)).first()


def is_participant(request: SupportRequest, member: Member | None) -> bool:
    return member is not None and member.id in (request.member_id, request.supporter_id)


# --------------------------------------------------------------------------- telling watchers

log = logging.getLogger("kindred.support")
QUEUE_CHANNEL = "kindred:support:queue"


def request_channel(request_id: int) -> str:
    return f"kindred:support:request:{request_id}"


async def request_changed(broker: Broker, request_id: int | None) -> None:
    """Tell whoever watches (the asker's waiting page, the supporters' queues: their streams
    in chat/support/live.py) that a request changed; None: some left the queue. Call it
    after the change is committed. It never fails the caller: a nudge lost to a broker
    outage costs a page at most live.RECHECK seconds."""
    channels = (
        [QUEUE_CHANNEL] if request_id is None else [request_channel(request_id), QUEUE_CHANNEL]
    )
    for channel in channels:
        try:
            await broker.publish(channel, {"kind": "support_request", "id": request_id})
        except BrokerUnavailable:  # this worker's streams heard it; others re-read soon
            log.warning("support: a change was not broadcast (the broker is away)")
