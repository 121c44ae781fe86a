"""Support requests over time: a member's export and erasure, and the sweeper.

Export gives the member their own requests as they saw them (topic, note, times, status,
their answer to "Did this help?") and the supporter's pseudonym as it was shown to them,
nothing more; a supporter also gets their own settings (availability, topics, limits and
hours) and the debriefs they asked for (their note and its state). Erasure blanks the notes
and feedback of the member's requests (and a supporter's debrief notes) and withdraws a
request still waiting. A conversation one of the two is leaving is ended, and the other
side is told once the deletion is committed; the rows stay, so the other side's page keeps
working and shows the one who left as "[deleted member]", as chat does.

The sweeper (setup.py runs it every minute) closes requests nobody took within a day as
``expired``, takes out the requests and conversations of members who left keeping their
content (identity runs no eraser for them), and deletes the messages of conversations ended
more than ``support_keep_days`` ago — except while a moderation case about one of their
messages is open (moderation.api.open_case_targets).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import update
from sqlalchemy.orm import aliased
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.models import ChatMessage, Room
from chat.support.conversation import announce_end, purge_messages
from chat.support.limits import limits_of
from chat.support.models import (
    SupportDebrief,
    SupporterAvailability,
    SupporterLimits,
    SupporterTopic,
    SupportRequest,
)
from chat.support.requests import name_of, request_changed
from communities import service as communities
from core.context import AppContext
from core.db import utcnow
from identity.models import Member

log = logging.getLogger("kindred.chat.support")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


async def export_requests(s: AsyncSession, member_id: int) -> dict[str, Any]:
    """The member's own requests, and (for a peer supporter) their own settings and the
    conversations they took, without the other member's name or note."""
    supporter = aliased(Member)
    rows = await s.exec(
        sa.select(SupportRequest, Room.slug, supporter)  # type: ignore[call-overload]
        .outerjoin(Room, col(Room.id) == SupportRequest.room_id)
        .outerjoin(supporter, supporter.id == SupportRequest.supporter_id)
        .where(SupportRequest.member_id == member_id)
        .order_by(col(SupportRequest.id))
    )
    rows = list(rows)
    taken = list(
        await s.exec(
            sa.select(SupportRequest, Room.slug)  # type: ignore[call-overload]
            .outerjoin(Room, col(Room.id) == SupportRequest.room_id)
            .where(SupportRequest.supporter_id == member_id)
            .order_by(col(SupportRequest.id))
        )
    )
    topic_ids = list(
        await s.exec(
            select(SupporterTopic.community_id).where(SupporterTopic.member_id == member_id)
        )
    )
    asked_of = [r.community_id for r, *_ in rows + taken]
    names = {i: c.name for i, c in (await communities.by_ids(s, asked_of + topic_ids)).items()}
    asked = []
    for r, slug, helper in rows:
        ended_by = None
        if r.ended_by_id is not None:
            ended_by = "you" if r.ended_by_id == member_id else "supporter"
        asked.append(
            {
                "id": r.id,
                "topic": names.get(r.community_id),
                "note": r.note,
                "status": r.status,
                "asked_at": _iso(r.created_at),
                "accepted_at": _iso(r.accepted_at),
                "ended_at": _iso(r.ended_at),
                "ended_by": ended_by,
                # What the member saw: the supporter's pseudonym, once one accepted.
                "supporter": name_of(helper) if r.supporter_id else None,
                "conversation": slug,  # the room named in chat_messages
                "helped": r.helped,
                "feedback": r.feedback,
                "feedback_at": _iso(r.feedback_at),
            }
        )
    supported = [
        {
            "topic": names.get(r.community_id),
            "conversation": slug,
            "accepted_at": _iso(r.accepted_at),
            "ended_at": _iso(r.ended_at),
        }
        for r, slug in taken
    ]
    availability = await s.get(SupporterAvailability, member_id)
    limits = await limits_of(s, member_id)
    debriefs = list(
        await s.exec(
            select(SupportDebrief)
            .where(col(SupportDebrief.supporter_id) == member_id)
            .order_by(col(SupportDebrief.id))
        )
    )
    return {
        "support_requests": asked,
        "support_conversations_taken": supported,
        "supporter_settings": {
            "available": bool(availability and availability.available),
            "topics": sorted(names[i] for i in topic_ids if i in names),
            "max_conversations": limits.max_conversations,
            "hours": {str(day): list(span) for day, span in sorted(limits.hours.items())},
            "timezone": limits.timezone,
        },
        # Debriefs they asked for: their own note and its state, not the moderator's name.
        "support_debriefs_asked": [
            {
                "note": d.note,
                "status": d.status,
                "asked_at": _iso(d.created_at),
                "done_at": _iso(d.done_at),
            }
            for d in debriefs
        ],
    }


async def leave(s: AsyncSession, member_id: int) -> list[SupportRequest]:
    """A member is leaving: withdraw their waiting request, end the conversations they are
    in (either side), and stop offering them requests. Returns the conversations ended, for
    telling the other side after the commit."""
    now = utcnow()
    await s.exec(
        update(SupportRequest)
        .where(col(SupportRequest.member_id) == member_id, col(SupportRequest.status) == "open")
        .values(status="cancelled", ended_at=now, ended_by_id=member_id)
    )
    going_on = list(
        await s.exec(
            select(SupportRequest).where(
                col(SupportRequest.status) == "accepted",
                sa.or_(
                    col(SupportRequest.member_id) == member_id,
                    col(SupportRequest.supporter_id) == member_id,
                ),
            )
        )
    )
    for request in going_on:
        request.status, request.ended_at, request.ended_by_id = "ended", now, member_id
        s.add(request)
    await s.exec(
        delete(SupporterAvailability).where(col(SupporterAvailability.member_id) == member_id)
    )
    await s.exec(delete(SupporterTopic).where(col(SupporterTopic.member_id) == member_id))
    await s.exec(delete(SupporterLimits).where(col(SupporterLimits.member_id) == member_id))
    return going_on


async def erase_requests(s: AsyncSession, member_id: int) -> list[SupportRequest]:
    """Erase what the member wrote here: their notes and their feedback. The rows stay (with
    their times and status) so a supporter's conversation page keeps working."""
    ended = await leave(s, member_id)
    await s.exec(
        update(SupportRequest)
        .where(col(SupportRequest.member_id) == member_id)
        .values(note="", note_html="", helped=None, feedback=None, feedback_at=None)
    )
    await s.exec(  # a supporter's debrief notes are their words too
        update(SupportDebrief)
        .where(col(SupportDebrief.supporter_id) == member_id)
        .values(note="", note_html="")
    )
    return ended


def member_content_hooks(
    ctx: AppContext, pending: set[asyncio.Task[None]]
) -> tuple[
    Callable[[AsyncSession, int], Awaitable[dict[str, Any]]],
    Callable[[AsyncSession, int], Awaitable[None]],
]:
    """The exporter and eraser identity calls. Identity's eraser runs inside its own
    transaction and knows nothing of chat, so the other side of an ended conversation is
    told (and its sockets closed, 4003) from an after-commit hook on that transaction: never
    before the deletion is certain."""

    async def erase(s: AsyncSession, member_id: int) -> None:
        ended = await erase_requests(s, member_id)
        if not ended:
            return
        loop = asyncio.get_running_loop()

        def committed(_session: Any) -> None:
            task = loop.create_task(_announce(ctx, ended, member_id))
            pending.add(task)
            task.add_done_callback(pending.discard)

        sa.event.listen(s.sync_session, "after_commit", committed, once=True)

    return export_requests, erase


async def _announce(ctx: AppContext, ended: list[SupportRequest], by_id: int) -> None:
    for request in ended:
        try:
            await announce_end(ctx, request, by_id)
        except Exception as exc:  # the broker may be away: pages show the end on reload
            log.error("support: telling a conversation's end failed: %s", type(exc).__name__)


# --------------------------------------------------------------------------- the sweeper

EXPIRE_AFTER = timedelta(hours=24)  # an open request nobody took is closed after a day


async def sweep(ctx: AppContext) -> None:
    """One round: close requests that waited a day ("expired": the member's page says so
    and offers to ask again), take leavers' requests and conversations out, and delete the
    messages of conversations ended more than ``support_keep_days`` ago."""
    now = utcnow()
    async with ctx.db.transaction() as s:
        expired = await s.exec(
            update(SupportRequest)
            .where(
                col(SupportRequest.status) == "open",
                col(SupportRequest.created_at) <= now - EXPIRE_AFTER,
            )
            .values(status="expired", ended_at=now)
        )
    if expired.rowcount:  # type: ignore[attr-defined]
        await request_changed(ctx.broker, None)  # they leave the supporters' queues
    await _take_out_leavers(ctx)
    cutoff = now - timedelta(days=ctx.settings.support_keep_days)
    async with ctx.db.transaction() as s:
        rooms = await s.exec(
            select(SupportRequest.room_id)
            .join(ChatMessage, col(ChatMessage.room_id) == SupportRequest.room_id)
            .where(col(SupportRequest.status) == "ended", col(SupportRequest.ended_at) <= cutoff)
            .distinct()
        )
        await purge_messages(s, [r for r in rooms if r is not None])


async def _take_out_leavers(ctx: AppContext) -> None:
    """Members who deleted their account keeping their content never ran the eraser: their
    waiting request is withdrawn, and a conversation with them (either side) is ended and the
    other side told. Each end is a conditional UPDATE, so with several workers sweeping, one
    ends it and tells."""
    deleted = select(Member.id).where(col(Member.deleted_at).is_not(None))
    async with ctx.db.transaction() as s:
        await s.exec(
            update(SupportRequest)
            .where(col(SupportRequest.status) == "open", col(SupportRequest.member_id).in_(deleted))
            .values(status="cancelled", ended_at=utcnow(), ended_by_id=SupportRequest.member_id)
        )
        going_on = list(
            await s.exec(
                select(SupportRequest, Member)
                .join(Member, col(Member.id) == SupportRequest.member_id)
                .where(
                    col(SupportRequest.status) == "accepted",
                    sa.or_(
                        col(SupportRequest.member_id).in_(deleted),
                        col(SupportRequest.supporter_id).in_(deleted),
                    ),
                )
            )
        )
    for request, asker in going_on:
        leaver = request.member_id if asker.deleted_at else request.supporter_id
        async with ctx.db.transaction() as s:
            ended = await s.exec(
                update(SupportRequest)
                .where(
                    col(SupportRequest.id) == request.id, col(SupportRequest.status) == "accepted"
                )
                .values(status="ended", ended_at=utcnow(), ended_by_id=leaver)
            )
        if ended.rowcount == 1:  # type: ignore[attr-defined]
            await _announce(ctx, [request], leaver)
