"""Group commit (chat/writer.py): many sends at once are written together, and still every
message gets exactly one id, ids in a room run without holes, and a resent client_id — even
one resent inside the same batch — is answered with the original, never stored twice."""

from __future__ import annotations

import asyncio

from sqlmodel import col, select

from chat.history import last_message_id
from chat.models import ChatMessage
from chat.sending import send_message
from chat.writer import MessageWriter
from tests.chat.conftest import LiveServer


async def _member(live: LiveServer, name: str):  # type: ignore[no-untyped-def]
    from identity.accounts import find_member

    await live.member(name)
    return await find_member(live.ctx.db, name)


async def test_concurrent_sends_share_transactions_and_ids_stay_dense(live: LiveServer) -> None:
    rooms = [await live.room("north"), await live.room("south")]
    authors = [await _member(live, f"writer-{n}") for n in range(4)]
    writer = live.ctx.extensions["chat_writer"] = MessageWriter(live.ctx.db)

    sends = [
        send_message(live.ctx, authors[n % 4], rooms[n % 2], f"note {n}", f"c{n}")
        for n in range(60)
    ]
    sent = await asyncio.gather(*sends)

    assert writer.written == 60 and writer.batches < 60  # some went in together
    for room in rooms:
        ids = sorted(s.frame["id"] for s in sent if s.frame["room"] == room.slug)
        assert ids == list(range(1, 31))
        assert await last_message_id(live.ctx.db, room.id) == 30  # type: ignore[arg-type]


async def test_a_client_id_resent_in_the_same_batch_is_stored_once(live: LiveServer) -> None:
    room = await live.room()
    author = await _member(live, "twice")
    live.ctx.extensions["chat_writer"] = MessageWriter(live.ctx.db)

    sends = [send_message(live.ctx, author, room, "only once", "same") for _ in range(5)]
    sends += [send_message(live.ctx, author, room, f"other {n}", f"o{n}") for n in range(5)]
    sent = await asyncio.gather(*sends)

    assert [s.frame["id"] for s in sent[:5]] == [sent[0].frame["id"]] * 5
    assert sum(not s.duplicate for s in sent[:5]) == 1
    async with live.ctx.db.read() as s:
        stored = list(
            await s.exec(select(ChatMessage.seq).where(col(ChatMessage.client_id) == "same"))
        )
    assert len(stored) == 1
    assert await last_message_id(live.ctx.db, room.id) == 6  # type: ignore[arg-type]

    again = await send_message(live.ctx, author, room, "only once", "same")
    assert again.duplicate and again.frame["id"] == sent[0].frame["id"]
