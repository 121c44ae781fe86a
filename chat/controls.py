"""What a room's moderators can do to it: take a message down, clear a member's recent
messages, lock the room, set slow mode. Each checks that the member moderates the room
(chat/rooms.py), writes the change and its audit entry in one transaction, and only after
the commit tells the connected clients (a `removed` frame for each message taken down).
Moderation's own actions on a message, from its queue, are in chat/moderation_target.py.
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.events import publish
from chat.models import SLOW_MODE_CHOICES, ChatMessage, Room, slow_mode_label
from chat.rooms import is_room_moderator
from core.broker import Broker
from core.context import AppContext
from core.db import Database, utcnow
from core.errors import Refusal
from core.i18n import N_
from core.i18n import gettext as _
from identity.models import Member
from moderation import api as moderation

# The community's public log, stored in English and read in the reader's language
# (moderation/public_log.py): one whole sentence for each slow mode setting offered.
_SLOW_MODE_SUMMARIES = {
    0: N_("Slow mode in the chat room: off"),
    10: N_("Slow mode in the chat room: one message every 10 seconds"),
    30: N_("Slow mode in the chat room: one message every 30 seconds"),
    60: N_("Slow mode in the chat room: one message every 1 minute"),
    300: N_("Slow mode in the chat room: one message every 5 minutes"),
    900: N_("Slow mode in the chat room: one message every 15 minutes"),
    3600: N_("Slow mode in the chat room: one message every 1 hour"),
    21600: N_("Slow mode in the chat room: one message every 6 hours"),
    86400: N_("Slow mode in the chat room: one message every 24 hours"),
}


async def _require_moderator(db: Database, member: Member | None, room: Room) -> None:
    async with db.read() as s:
        if not await is_room_moderator(s, member, room):
            raise Refusal("forbidden", _("Only this room's moderators can do that."), status=403)


async def remove_message(ctx: AppContext, moderator: Member, room: Room, seq: int) -> None:
    """Take a message down; every connected client is told to drop it."""
    await _require_moderator(ctx.db, moderator, room)
    async with ctx.db.transaction() as s:
        removed = await _remove(s, room, [seq])
        if removed:
            await moderation.record(
                s,
                moderator,
                "remove_chat_message",
                "chat_message",
                removed[0],
                room.community_id,
                public_summary=N_("A chat message was removed"),
            )
    await _withdraw(ctx.broker, room, [seq] if removed else [])


async def clear_member_messages(
    ctx: AppContext, moderator: Member, room: Room, pseudonym: str, *, hours: int = 24
) -> int:
    """Remove a member's messages in this room from the last `hours`; returns how many."""
    await _require_moderator(ctx.db, moderator, room)
    since = utcnow() - timedelta(hours=hours)
    async with ctx.db.transaction() as s:
        author = (
            await s.exec(
                select(Member).where(col(Member.pseudonym_key) == pseudonym.strip().casefold())
            )
        ).first()
        if author is None:
            raise Refusal("not_found", _("There's no member with that pseudonym."), status=404)
        seqs = list(
            await s.exec(
                select(ChatMessage.seq).where(
                    col(ChatMessage.room_id) == room.id,
                    col(ChatMessage.author_id) == author.id,
                    col(ChatMessage.status) == "published",
                    col(ChatMessage.created_at) >= since,
                )
            )
        )
        await _remove(s, room, seqs)  # type: ignore[arg-type]
        await moderation.record(
            s,
            moderator,
            "clear_chat_messages",
            "member",
            author.id,
            room.community_id,
            f"{len(seqs)} messages in {room.slug}",
            f"{len(seqs)} recent chat messages from one member were removed",
        )
    await _withdraw(ctx.broker, room, seqs)  # type: ignore[arg-type]
    return len(seqs)


async def _remove(s: AsyncSession, room: Room, seqs: list[int]) -> list[int]:
    """Mark published messages removed; returns their database ids."""
    if not seqs:
        return []
    result = await s.exec(
        update(ChatMessage)
        .where(
            col(ChatMessage.room_id) == room.id,
            col(ChatMessage.seq).in_(seqs),
            col(ChatMessage.status) == "published",
        )
        .values(status="removed", html="")
        .returning(ChatMessage.id)  # type: ignore[arg-type]
    )
    return list(result.scalars())


async def _withdraw(broker: Broker, room: Room, seqs: list[int]) -> None:
    for seq in seqs:
        frame = json.dumps({"type": "removed", "id": seq})
        await publish(broker, room.id, {"kind": "removed", "seq": seq, "frame": frame})  # type: ignore[arg-type]


async def set_locked(ctx: AppContext, moderator: Member, room: Room, locked: bool) -> None:
    await _require_moderator(ctx.db, moderator, room)
    summary = N_("The chat room was locked") if locked else N_("The chat room was reopened")
    async with ctx.db.transaction() as s:
        await s.exec(update(Room).where(col(Room.id) == room.id).values(locked=locked))
        await moderation.record(
            s,
            moderator,
            "lock_room" if locked else "unlock_room",
            "chat_room",
            room.id,
            room.community_id,
            public_summary=summary,
        )
    room.locked = locked


async def set_slow_mode(ctx: AppContext, moderator: Member, room: Room, seconds: int) -> None:
    await _require_moderator(ctx.db, moderator, room)
    if seconds not in SLOW_MODE_CHOICES:
        raise Refusal("invalid", _("Choose one of the slow mode settings offered."))
    async with ctx.db.transaction() as s:
        await s.exec(update(Room).where(col(Room.id) == room.id).values(slow_mode_seconds=seconds))
        await moderation.record(
            s,
            moderator,
            "slow_mode",
            "chat_room",
            room.id,
            room.community_id,
            str(seconds),
            _SLOW_MODE_SUMMARIES.get(seconds)
            or f"Slow mode in the chat room: {slow_mode_label(seconds, english=True).lower()}",
        )
    room.slow_mode_seconds = seconds
