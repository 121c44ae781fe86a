"""Chat messages as moderation sees them: the ContentTarget that kindred.app registers.

Taking a message down tells every connected client to drop it (a `removed` frame through
the broker, after commit). Approving a held message gives it the room's next id and fans it
out after commit, exactly as sending does.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import update
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat import events
from chat.badges import badge_in
from chat.gates import gate_for
from chat.models import ChatMessage, Room
from chat.rooms import can_see
from core.context import AppContext
from core.errors import Refusal
from core.i18n import gettext as _
from core.web.params import MAX_ID, loose_int
from identity.models import Member
from moderation.api import AfterCommit, TargetView


def _context_title(room: Room) -> str:
    if room.kind == "private":
        return _("Private support conversation")
    return _("Chat: %(room)s") % {"room": room.name}


def _context_url(room: Room) -> str:
    """Where a case links to. A private support conversation is opened only by a logged
    action on the report, so its messages link to that confirmation page (chat/support)."""
    if room.kind == "private":
        return f"/support/conversations/{room.slug}/open"
    return f"/chat/{room.slug}"


class ChatMessageTarget:
    kind = "chat_message"
    label = "chat message"

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.broker = ctx.broker

    async def lookup(self, s: AsyncSession, public_id: str, viewer: Member) -> int | None:
        slug, _, seq = public_id.rpartition(":")
        number = loose_int(seq, high=MAX_ID)
        if number is None:
            return None
        found = (
            await s.exec(
                select(ChatMessage.id, Room)
                .join(Room, col(Room.id) == ChatMessage.room_id)
                .where(col(Room.slug) == slug, col(ChatMessage.seq) == number)
            )
        ).first()
        if found is None or not await self._can_read(found[1], viewer):
            return None
        return found[0]

    async def _can_read(self, room: Room, viewer: Member) -> bool:
        """A session's room or a support conversation: only those its gate lets in (not a
        lobby, which sees no messages) may name its messages."""
        gate = gate_for(self.ctx, room)
        if gate is None:
            return can_see(room, viewer)
        try:
            return not (await gate.admit(self.ctx.db, room, viewer)).lobby
        except Refusal:
            return False

    async def view(self, s: AsyncSession, ids: list[int]) -> dict[int, TargetView]:
        rows = await s.exec(
            select(ChatMessage, Room, Member)
            .join(Room, col(Room.id) == ChatMessage.room_id)
            .join(Member, col(Member.id) == ChatMessage.author_id)
            .where(col(ChatMessage.id).in_(ids))
        )
        return {
            message.id: TargetView(
                kind=self.kind,
                id=message.id,  # type: ignore[arg-type]
                community_id=room.community_id,
                author_id=message.author_id,
                author_name=member.display_name,
                html=message.html,
                status=message.status,
                context_title=_context_title(room),
                context_url=_context_url(room),
                private=room.kind != "public",
                hold_reason=message.hold_reason if message.status == "held" else None,
            )
            for message, room, member in rows
        }

    async def _message(self, s: AsyncSession, target_id: int) -> tuple[ChatMessage, Room]:
        row = (
            await s.exec(
                select(ChatMessage, Room)
                .join(Room, col(Room.id) == ChatMessage.room_id)
                .where(col(ChatMessage.id) == target_id)
            )
        ).one()
        return row[0], row[1]

    async def _frame(self, s: AsyncSession, room: Room, message: ChatMessage) -> dict[str, Any]:
        """The message as clients get it, with its author's name and badge."""
        author = await s.get(Member, message.author_id)
        if author is None:
            return events.message_frame(message, "", room.slug)
        badge = await badge_in(s, author, room.community_id)
        return events.message_frame(message, author.display_name, room.slug, badge)

    def _withdraw(self, room: Room, seq: int | None, after_commit: AfterCommit) -> None:
        if seq is None:
            return
        frame = json.dumps({"type": "removed", "id": seq})

        async def publish() -> None:
            event = {"kind": "removed", "seq": seq, "frame": frame}
            await events.publish(self.broker, room.id, event)  # type: ignore[arg-type]

        after_commit.append(publish)

    async def _show_again(
        self, s: AsyncSession, room: Room, message: ChatMessage, after_commit: AfterCommit
    ) -> None:
        """Restored or edited: connected clients put the message (back) in its place, after
        commit, except those who blocked its author."""
        frame = await self._frame(s, room, message)
        event = {
            "kind": "update",
            "author": message.author_id,
            "frame": json.dumps({"type": "updated", "message": frame}, ensure_ascii=False),
        }

        async def publish() -> None:
            await events.publish(self.broker, room.id, event)  # type: ignore[arg-type]

        after_commit.append(publish)

    async def set_hidden(
        self, s: AsyncSession, target_id: int, hidden: bool, after_commit: AfterCommit
    ) -> None:
        message, room = await self._message(s, target_id)
        if hidden and message.status == "published":
            message.status = "hidden"
            self._withdraw(room, message.seq, after_commit)
        elif not hidden and message.status == "hidden":
            message.status = "published"
            await self._show_again(s, room, message, after_commit)
        s.add(message)

    async def approve(self, s: AsyncSession, target_id: int, after_commit: AfterCommit) -> None:
        message, room = await self._message(s, target_id)
        if message.status != "held":
            return
        message.seq = (
            await s.exec(
                update(Room)
                .where(col(Room.id) == room.id)
                .values(last_message_id=Room.last_message_id + 1)
                .returning(Room.last_message_id)  # type: ignore[arg-type]
            )
        ).scalar_one()
        message.status, message.hold_reason = "published", None
        s.add(message)
        frame = await self._frame(s, room, message)
        event = events.message_event(message.seq, message.author_id, frame)  # type: ignore[arg-type]

        async def publish() -> None:
            await events.publish(self.broker, room.id, event)  # type: ignore[arg-type]

        after_commit.append(publish)

    async def remove(self, s: AsyncSession, target_id: int, after_commit: AfterCommit) -> None:
        message, room = await self._message(s, target_id)
        was_visible = message.status == "published"
        message.status, message.html = "removed", ""
        s.add(message)
        if was_visible:
            self._withdraw(room, message.seq, after_commit)

    async def edit(
        self, s: AsyncSession, target_id: int, text: str, html: str, after_commit: AfterCommit
    ) -> None:
        message, room = await self._message(s, target_id)
        message.body, message.html = text, html
        s.add(message)
        if message.status == "published":
            await self._show_again(s, room, message, after_commit)

    async def lock(self, s: AsyncSession, target_id: int, after_commit: AfterCommit) -> None:
        """Chat has no threads to lock; slow mode and removal are its tools."""

    async def published_count(
        self,
        s: AsyncSession,
        author_id: int,
        community_id: int | None,
        *,
        anonymous: bool | None,
        limit: int,
        waiting: bool = False,
    ) -> int:
        """Published messages (and held ones, with `waiting`), in the community's rooms when
        one is given. Chat has no anonymous messages: none count towards an anonymous
        post's standing."""
        if anonymous:
            return 0
        counted_statuses = ("published", "held") if waiting else ("published",)
        mine = select(ChatMessage.id).where(
            col(ChatMessage.author_id) == author_id,
            col(ChatMessage.status).in_(counted_statuses),
        )
        if community_id is not None:
            mine = mine.join(Room, col(Room.id) == ChatMessage.room_id).where(
                col(Room.community_id) == community_id
            )
        counted = select(func.count()).select_from(mine.limit(limit).subquery())
        return (await s.exec(counted)).one()
