"""A room's stored messages, read back: the newest ones for the room page and the `history`
frame, the backlog a resuming client missed (``?after=``), and the events the hub fills a
gap with. Readers see published messages only, and never those of members they blocked; a
gap is filled with every id, a removed message's as an event with no frame, so the hub moves
past it without showing it. Each frame carries its author's staff badge (chat/badges.py),
asked once per read for every author in it.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.badges import badges_in
from chat.events import iso, message_event, message_frame
from chat.models import ChatMessage, Room
from core.db import Database
from identity.blocks import blocked_ids
from identity.models import DELETED_NAME, Member

HISTORY_LIMIT = 100  # most messages one history request returns
PAGE_MESSAGES = 50  # messages on the room page


def _author_name(member: Member) -> str:
    return DELETED_NAME if member.deleted_at else member.pseudonym


def _with_authors():  # type: ignore[no-untyped-def]
    return select(ChatMessage, Member).join(Member, col(Member.id) == ChatMessage.author_id)


async def _frames(
    s: AsyncSession, room: Room, rows: list[tuple[ChatMessage, Member]]
) -> list[dict[str, Any]]:
    """Message frames for rows of (message, author), with their authors' badges."""
    if not rows:
        return []
    badge = await badges_in(s, room.community_id)
    return [message_frame(m, _author_name(a), room.slug, badge(a)) for m, a in rows]


async def recent_messages(
    db: Database,
    room: Room,
    viewer: Member | None,
    *,
    before: int | None = None,
    limit: int = PAGE_MESSAGES,
) -> list[dict[str, Any]]:
    """The newest published messages (older than `before`), oldest first, as frames."""
    limit = max(1, min(limit, HISTORY_LIMIT))
    async with db.read() as s:
        hidden = await blocked_ids(s, viewer.id) if viewer else set()  # type: ignore[arg-type]
        query = _with_authors().where(
            ChatMessage.room_id == room.id, ChatMessage.status == "published"
        )
        if before is not None:
            query = query.where(col(ChatMessage.seq) < before)
        if hidden:
            query = query.where(col(ChatMessage.author_id).not_in(hidden))
        rows = list(await s.exec(query.order_by(col(ChatMessage.seq).desc()).limit(limit)))
        return await _frames(s, room, rows[::-1])


async def messages_after(
    db: Database, room: Room, after: int, upto: int, hidden: frozenset[int]
) -> list[dict[str, Any]]:
    """Published messages with after < id <= upto, in order: what a resuming client missed."""
    async with db.read() as s:
        query = _with_authors().where(
            ChatMessage.room_id == room.id,
            ChatMessage.status == "published",
            col(ChatMessage.seq) > after,
            col(ChatMessage.seq) <= upto,
        )
        if hidden:
            query = query.where(col(ChatMessage.author_id).not_in(hidden))
        return await _frames(s, room, list(await s.exec(query.order_by(col(ChatMessage.seq)))))


async def events_between(db: Database, room_id: int, after: int, upto: int) -> list[dict[str, Any]]:
    """Broker events for ids after < id <= upto, for the hub to fill a gap. Removed messages
    come with no frame, so the hub moves past them without showing them."""
    async with db.read() as s:
        slug, community_id = (
            await s.exec(select(Room.slug, Room.community_id).where(Room.id == room_id))
        ).one()
        badge = await badges_in(s, community_id)
        rows = await s.exec(
            _with_authors()
            .where(
                ChatMessage.room_id == room_id,
                col(ChatMessage.seq) > after,
                col(ChatMessage.seq) <= upto,
            )
            .order_by(col(ChatMessage.seq))
        )
        return [
            message_event(
                m.seq,  # type: ignore[arg-type]
                m.author_id,
                message_frame(m, _author_name(a), slug, badge(a))
                if m.status == "published"
                else None,
            )
            for m, a in rows
        ]


async def last_message_id(db: Database, room_id: int) -> int:
    async with db.read() as s:
        return (await s.exec(select(Room.last_message_id).where(Room.id == room_id))).one()


async def hidden_authors(db: Database, member: Member) -> frozenset[int]:
    async with db.read() as s:
        return frozenset(await blocked_ids(s, member.id))  # type: ignore[arg-type]


async def held_messages(
    s: AsyncSession, room: Room, member: Member, *, limit: int = 10
) -> list[dict[str, Any]]:
    """The member's own messages in this room that wait for a moderator, oldest first: the
    page shows them to their author (only), as it showed them when they were sent."""
    rows = await s.exec(
        select(ChatMessage)
        .where(
            col(ChatMessage.room_id) == room.id,
            col(ChatMessage.author_id) == member.id,
            col(ChatMessage.status) == "held",
        )
        .order_by(col(ChatMessage.id).desc())
        .limit(limit)
    )
    return [
        {"client_id": m.client_id, "html": m.html, "created_at": iso(m.created_at)}
        for m in reversed(list(rows))
    ]


async def has_posted(s: AsyncSession, room: Room, member: Member) -> bool:
    found = await s.exec(
        select(ChatMessage.id).where(
            col(ChatMessage.room_id) == room.id, col(ChatMessage.author_id) == member.id
        )
    )
    return found.first() is not None
