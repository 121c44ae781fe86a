"""Group commit for chat messages: one short transaction writes every message waiting.

Writing one message costs two statements and a commit, and on SQLite only one transaction
writes at a time. When a room is busy, sends from many connections queue behind each other;
the writer takes all of them at once instead: one duplicate check, one counter update per
room (``last_message_id + k … RETURNING``, which hands out k consecutive ids under the room's
row lock, as chat/sending.py requires), one multi-row INSERT … RETURNING and one commit. A
lone message takes the plain path, so a quiet room pays nothing for the batching.

Every sender awaits its own result: the stored message, or None when its client_id was
already used (the caller then answers with the original). A failed batch fails each of its
senders with the error, exactly as a failed single write would; nothing is half-written.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.models import ChatMessage, Room
from core.db import Database
from moderation import api as moderation

log = logging.getLogger("kindred.chat.writer")

MAX_BATCH = 128  # messages in one transaction: a bound on how long it holds the writer lock

_NEXT_SEQS = (
    update(Room)
    .where(col(Room.id) == sa.bindparam("room"))
    .values(last_message_id=Room.last_message_id + sa.bindparam("count"))
    .returning(Room.last_message_id)
)
_INSERT = sa.insert(ChatMessage)
_INSERT_ONE = _INSERT.returning(ChatMessage.id)  # type: ignore[arg-type]
_INSERT_MANY = _INSERT.returning(ChatMessage.id, sort_by_parameter_order=True)  # type: ignore[arg-type]
_USED_CLIENT_IDS = sa.select(
    ChatMessage.room_id, ChatMessage.author_id, ChatMessage.client_id
).where(col(ChatMessage.client_id).in_(sa.bindparam("ids", expanding=True)))


@dataclass
class Pending:
    message: ChatMessage  # seq and id are filled in when written
    community_id: int | None
    held: bool
    crisis: bool
    result: asyncio.Future[ChatMessage | None]
    crisis_why: str | None = None  # the pipeline's reason for a crisis flag, for the case

    @property
    def key(self) -> tuple[int, int, str | None]:
        return (self.message.room_id, self.message.author_id, self.message.client_id)


class MessageWriter:
    def __init__(self, db: Database, *, max_batch: int = MAX_BATCH) -> None:
        self.db = db
        self.max_batch = max_batch
        self.waiting: list[Pending] = []
        self.batches = 0  # transactions written, and the messages in them (for benchmarks)
        self.written = 0
        self._task: asyncio.Task[None] | None = None

    async def store(
        self,
        message: ChatMessage,
        *,
        community_id: int | None,
        held: bool,
        crisis: bool,
        crisis_why: str | None = None,
    ) -> ChatMessage | None:
        """Write the message; None when its client_id was used already."""
        result: asyncio.Future[ChatMessage | None] = asyncio.get_running_loop().create_future()
        self.waiting.append(Pending(message, community_id, held, crisis, result, crisis_why))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="chat-writer")
        return await result

    async def _drain(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting[: self.max_batch], self.waiting[self.max_batch :]
            batch = [item for item in batch if not item.result.done()]  # a sender gave up
            if not batch:
                continue
            try:
                write = self._write_one(batch[0]) if len(batch) == 1 else self._write(batch)
                written = await write
            except IntegrityError:
                # Another process used one of these client_ids at the same moment: write
                # them one by one, so only the repeated one is answered as a duplicate.
                written = [await self._settle_one(item) for item in batch]
            except Exception as exc:
                for item in batch:
                    if not item.result.done():
                        item.result.set_exception(exc)
                continue
            self.batches += 1
            self.written += len(batch)
            for item, outcome in zip(batch, written, strict=True):
                if not item.result.done():
                    if isinstance(outcome, BaseException):
                        item.result.set_exception(outcome)
                    else:
                        item.result.set_result(outcome)

    async def _settle_one(self, item: Pending) -> ChatMessage | BaseException | None:
        try:
            return (await self._write_one(item))[0]
        except IntegrityError:
            return None
        except Exception as exc:
            return exc

    async def _write_one(self, item: Pending) -> list[ChatMessage | None]:
        message = item.message
        async with self.db.transaction() as s:
            if message.status == "published":
                taken = await s.exec(_NEXT_SEQS, params={"room": message.room_id, "count": 1})  # type: ignore[call-overload]
                message.seq = taken.scalar_one()
            values = message.model_dump(exclude={"id"})
            message.id = (await s.exec(_INSERT_ONE, params=values)).scalar_one()  # type: ignore[call-overload]
            await _open_cases(s, [item])
        return [message]

    async def _write(self, batch: list[Pending]) -> list[ChatMessage | None]:
        async with self.db.transaction() as s:
            conn = await s.connection()
            ids = [item.message.client_id for item in batch if item.message.client_id]
            used = set()
            if ids:
                used = {tuple(row) for row in await conn.execute(_USED_CLIENT_IDS, {"ids": ids})}
            fresh: list[Pending] = []
            for item in batch:
                if item.message.client_id and item.key in used:
                    continue  # the original is answered by the caller
                used.add(item.key)
                fresh.append(item)
            by_room: dict[int, list[ChatMessage]] = defaultdict(list)
            for item in fresh:
                if item.message.status == "published":
                    by_room[item.message.room_id].append(item.message)
            for room_id, messages in by_room.items():
                params = {"room": room_id, "count": len(messages)}
                last = (await conn.execute(_NEXT_SEQS, params)).scalar_one()
                for seq, message in enumerate(messages, start=last - len(messages) + 1):
                    message.seq = seq
            if fresh:
                rows = [item.message.model_dump(exclude={"id"}) for item in fresh]
                new_ids = (await conn.execute(_INSERT_MANY, rows)).scalars().all()
                for item, new_id in zip(fresh, new_ids, strict=True):
                    item.message.id = new_id
                await _open_cases(s, fresh)
        kept = {id(item) for item in fresh}
        return [item.message if id(item) in kept else None for item in batch]


async def _open_cases(s: AsyncSession, items: list[Pending]) -> None:
    for item in items:
        if item.held or item.crisis:  # to the review queue; crisis ones to its top
            await moderation.open_case(
                s,
                kind="chat_message",
                target_id=item.message.id,  # type: ignore[arg-type]
                community_id=item.community_id,
                author_id=item.message.author_id,
                held=item.held,
                crisis=item.crisis,
                crisis_why=item.crisis_why,
            )
