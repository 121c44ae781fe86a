"""A member's chat messages when they export or delete their account."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.models import ChatMessage, Room


async def export_messages(s: AsyncSession, member_id: int) -> dict[str, Any]:
    rows = await s.exec(
        select(ChatMessage, Room.slug)
        .join(Room, col(Room.id) == ChatMessage.room_id)
        .where(ChatMessage.author_id == member_id, ChatMessage.status != "erased")
        .order_by(col(ChatMessage.id))
    )
    return {
        "chat_messages": [
            {
                "room": slug,
                "id": message.seq,
                "status": message.status,
                "body": message.body,
                "created_at": message.created_at.isoformat(),
            }
            for message, slug in rows
        ]
    }


async def erase_messages(s: AsyncSession, member_id: int) -> None:
    """Erase the text; the rows stay so that room ids keep running without holes."""
    await s.exec(
        update(ChatMessage)
        .where(col(ChatMessage.author_id) == member_id)
        .values(status="erased", body="", html="")
    )
