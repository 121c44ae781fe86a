"""A room's stored messages, read back: the newest ones for the room page and the `history`
frame, the backlog a resuming client missed (``?after=``), and the events the hub fills a
gap with. Readers see published messages only, and never those of members they blocked; a
gap is filled with every id, a removed message's as an event with no frame, so the hub moves
past it without showing it.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.events import message_event, message_frame
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
    return [message_frame(m, _author_name(a), room.slug) for m, a in reversed(rows)]


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
        rows = await s.exec(query.order_by(col(ChatMessage.seq)))
        return [message_frame(m, _author_name(a), room.slug) for m, a in rows]


async def events_between(db: Database, room_id: int, after: int, upto: int) -> list[dict[str, Any]]:
    """Broker events for ids after < id <= upto, for the hub to fill a gap. Removed messages
    come with no frame, so the hub moves past them without showing them."""
    async with db.read() as s:
        slug = (await s.exec(select(Room.slug).where(Room.id == room_id))).one()
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
                message_frame(m, _author_name(a), slug) if m.status == "published" else None,
            )
            for m, a in rows
        ]


async def last_message_id(db: Database, room_id: int) -> int:
    async with db.read() as s:
        return (await s.exec(select(Room.last_message_id).where(Room.id == room_id))).one()


async def hidden_authors(db: Database, member: Member) -> frozenset[int]:
    async with db.read() as s:
        return frozenset(await blocked_ids(s, member.id))  # type: ignore[arg-type]


async def has_posted(s: AsyncSession, room: Room, member: Member) -> bool:
    found = await s.exec(
        select(ChatMessage.id).where(
            col(ChatMessage.room_id) == room.id, col(ChatMessage.author_id) == member.id
        )
    )
    return found.first() is not None
