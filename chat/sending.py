"""Sending a message to a room: what it must pass (the room's gate, its lock and slow mode,
then moderation's vetting), storing it with an id in the room's order, publishing it only
after the commit, and answering a resent client_id with the original instead of storing it
twice. The WebSocket and the pages' plain forms all send through `send_message`, the hottest
path in chat: every statement and round trip here is paid per message (docs/performance.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.events import message_event, message_frame, publish
from chat.gates import gate_for, surface_of
from chat.models import ChatMessage, Room, slow_mode_label
from chat.rooms import can_chat, is_room_moderator
from chat.writer import MessageWriter
from core.broker import Broker
from core.context import AppContext
from core.db import Database, utcnow
from core.errors import Refusal
from core.i18n import gettext as _
from identity.models import Member
from moderation import api as moderation

MAX_CHARS = 4000
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Sent:
    frame: dict[str, Any]  # the message frame, as everyone in the room receives it
    notice: dict[str, Any] | None = None  # for the author alone (e.g. crisis resources)
    duplicate: bool = False  # the client_id was already used: this is the original
    delivered: bool = True  # False when the broker failed: only this worker saw it at once


# The send path's statements, built once (building one costs more than running it).
_ROOM_STATE = select(Room.locked, Room.slow_mode_seconds).where(
    col(Room.id) == sa.bindparam("room")
)


# Validate, then write, then publish:
# 1. everything that needs no write runs first: moderation.vet asks the member's standing and
#    this room's own rules (the gate, lock and slow mode, read afresh in the same read),
#    counts the attempt against the rate limit, and runs the content pipeline (CPU-bound, in
#    a worker thread) before any transaction is open;
# 2. the group-commit writer (chat/writer.py) takes the room's next id and inserts the
#    message in one short transaction: ``UPDATE chat_room SET last_message_id =
#    last_message_id + 1 … RETURNING`` row-locks the room until commit, so ids in a room are
#    committed in id order (a plain sequence would hand out 11 before 10 commits, and a
#    client resuming after 11 would miss 10 for good);
# 3. it is published to the room's broker channel only after the commit (chat/events.py).
# Publishers in different processes may still reach the broker out of order; each process's
# hub (chat/hub.py) puts the room back in order and fills any gap from the database.
async def send_message(
    ctx: AppContext,
    member: Member,
    room: Room,
    body: str,
    client_id: str | None,
    *,
    region: str | None = None,
    max_chars: int = MAX_CHARS,
    badge: str | None = None,
) -> Sent:
    """Publish a message, or raise Refusal saying why not (held messages are stored).
    `badge`: the author's staff badge in this room, as the caller worked it out
    (chat/badges.py; once per connection on the WebSocket), so sending asks nothing more."""
    if not can_chat(member):
        raise Refusal("forbidden", _("You can't send messages here."), status=403)
    if client_id is not None and not CLIENT_ID.match(client_id):
        raise Refusal("invalid", _("client_id must be 1–64 letters, digits, dashes or _."))
    gate = gate_for(ctx, room)  # a session's floor and mutes, a conversation's end

    async def room_rules(s: AsyncSession) -> None:
        if gate is not None:
            await gate.check_send(s, room, member)
        # A connection holds the room it joined; lock and slow mode may have changed since.
        state = await s.exec(_ROOM_STATE, params={"room": room.id})  # type: ignore[call-overload]
        if current := state.first():
            room.locked, room.slow_mode_seconds = current
        staff = (room.locked or room.slow_mode_seconds) and await is_room_moderator(s, member, room)
        if room.locked and not staff:
            raise Refusal(
                "locked",
                _(
                    "The moderators have locked this room for now: you can read, but not post. "
                    "Your text is kept."
                ),
                status=403,
            )
        if room.slow_mode_seconds and not staff:
            await _check_slow_mode(s, room, member)

    place = moderation.Place(
        surface_of(gate), room.community_id, max_chars=max_chars, rules=room_rules
    )
    verdict = await moderation.vet(ctx, member, place, body, region=region)
    if verdict.refused:
        raise verdict.refusal()
    # A resent client_id is not looked up first: the insert's unique constraint finds it
    # (below), so the usual send costs one round trip less.
    message = ChatMessage(
        room_id=room.id,  # type: ignore[arg-type]
        author_id=member.id,  # type: ignore[arg-type]
        client_id=client_id,
        body=verdict.text,
        html=verdict.html,
        status="published" if verdict.published else "held",
        hold_reason=verdict.reason.code if verdict.held and verdict.reason else None,
    )
    stored = await _writer(ctx).store(
        message,
        community_id=room.community_id,
        held=verdict.held,
        crisis=verdict.crisis,
        crisis_why=verdict.crisis_why,
    )
    if stored is None:  # the client_id was used already (a resend): answer with the original
        original = await _find_original(ctx.db, room, member, client_id or "", badge)
        if original is None:  # cannot happen: the constraint that refused it names the row
            raise Refusal("server_error", _("That message could not be stored; send it again."))
        return original
    if verdict.held:
        raise Refusal("held", _held_message(verdict), status=202, notice=verdict.notice)
    frame = message_frame(message, member.pseudonym, room.slug, badge)
    delivered = await publish(
        ctx.broker,
        room.id,  # type: ignore[arg-type]
        message_event(message.seq, member.id, frame),  # type: ignore[arg-type]
    )
    return Sent(frame, verdict.notice, delivered=delivered)


def _held_message(verdict: moderation.Verdict) -> str:
    reason = verdict.reason.message if verdict.reason else ""
    return reason or _(
        "Your message is waiting for a moderator to look at it before others see it."
    )


def _writer(ctx: AppContext) -> MessageWriter:
    """This app's group-commit writer (chat/writer.py), made on first use."""
    writer = ctx.extensions.get("chat_writer")
    if writer is None:
        writer = ctx.extensions["chat_writer"] = MessageWriter(ctx.db)
    return writer


# --------------------------------------------------------------------------- resends


async def _find_original(
    db: Database, room: Room, member: Member, client_id: str, badge: str | None
) -> Sent | None:
    async with db.read() as s:
        message = (
            await s.exec(
                select(ChatMessage).where(
                    ChatMessage.room_id == room.id,
                    ChatMessage.author_id == member.id,
                    ChatMessage.client_id == client_id,
                )
            )
        ).first()
    if message is None:
        return None
    if message.status == "held":
        raise Refusal(
            "held",
            _("This message is already waiting for a moderator; there's no need to send it again."),
            status=202,
        )
    if message.status != "published":
        raise Refusal("removed", _("A moderator removed this message."), status=409)
    return Sent(message_frame(message, member.pseudonym, room.slug, badge), duplicate=True)


async def fan_out(broker: Broker, room: Room, author: Member, sent: Sent) -> bool:
    """Publish a stored message to its room again. Every hub delivers an id once, so this is
    harmless where it arrived already; it reaches the rooms that never heard of it."""
    event = message_event(sent.frame["id"], author.id, sent.frame)  # type: ignore[arg-type]
    return await publish(broker, room.id, event)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- slow mode


async def slow_mode_wait(s: AsyncSession, room: Room, member: Member, seconds: int) -> int:
    """Seconds this member must still wait before posting in `room` under slow mode of one
    message every `seconds` (0: they may post now)."""
    since = utcnow() - timedelta(seconds=seconds)
    last = (
        await s.exec(
            select(ChatMessage.created_at)
            .where(
                ChatMessage.room_id == room.id,
                ChatMessage.author_id == member.id,
                col(ChatMessage.created_at) > since,
            )
            .order_by(col(ChatMessage.created_at).desc())
            .limit(1)
        )
    ).first()
    if last is None:
        return 0
    return max(1, seconds - int((utcnow() - last).total_seconds()))


async def _check_slow_mode(s: AsyncSession, room: Room, member: Member) -> None:
    if wait := await slow_mode_wait(s, room, member, room.slow_mode_seconds):
        raise Refusal(
            "slow_mode",
            _(
                "This room is in slow mode: %(pace)s. You can send again in %(wait)s — your "
                "text is kept."
            )
            % {
                "pace": slow_mode_label(room.slow_mode_seconds).lower(),
                "wait": moderation.wait_words(wait),
            },
            status=429,
            retry_after=wait,
        )
