"""Chat's rules: rooms, sending, history and moderators' actions. No HTTP or WebSocket here,
so the room page's plain form and the WebSocket endpoint share every rule.

Validate, then write, then publish. Sending a message:
1. checks that needed no write (a resent client_id, rate limit, slow mode), then runs the
   content pipeline (CPU-bound, in a worker thread) before any transaction is open;
2. takes the room's next id and inserts the message in one short transaction: the
   ``UPDATE chat_room SET last_message_id = last_message_id + 1 … RETURNING`` row-locks the
   room until commit, so ids in a room are committed in id order (a plain sequence would
   hand out 11 before 10 commits, and a client resuming after 11 would miss 10 for good);
3. publishes to the room's broker channel only after the commit.
Publishers in different processes may still reach the broker out of order; each process's
hub (chat/hub.py) puts the room back in order and fills any gap from the database.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.frames import error_frame
from chat.gates import CLOSE_GONE, gate_for, surface_of
from chat.models import SLOW_MODE_CHOICES, ChatMessage, Room, slow_mode_label
from chat.writer import MessageWriter
from communities import roles
from communities import service as communities
from communities.roles import Action
from core.broker import Broker, BrokerUnavailable
from core.context import AppContext
from core.db import Database, utcnow
from core.errors import Refusal
from identity.models import DELETED_NAME, Member
from identity.service import blocked_ids
from moderation import api as moderation

log = logging.getLogger("kindred.chat")

MAX_CHARS = 4000
HISTORY_LIMIT = 100  # most messages one history request returns
PAGE_MESSAGES = 50  # messages on the room page
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Sent:
    frame: dict[str, Any]  # the message frame, as everyone in the room receives it
    notice: dict[str, Any] | None = None  # for the author alone (e.g. crisis resources)
    duplicate: bool = False  # the client_id was already used: this is the original
    delivered: bool = True  # False when the broker failed: only this worker saw it at once


# --------------------------------------------------------------------------- who may do what


MEMBERS_CHANNEL = "kindred:chat:members"


def can_chat(member: Member | None) -> bool:
    """May this member connect to chat at all? The WebSocket refuses before the upgrade when
    it is false; a banned member has no session left to connect with. Mutes and suspensions
    are checked on every send (send_message), so they apply the moment they are made."""
    return member is not None and member.deleted_at is None


async def tell_member(
    broker: Broker,
    member_id: int,
    frame: dict[str, Any] | None,
    *,
    room_id: int | None = None,
    close: int | None = None,
    community_id: int | None = None,
    session: str | None = None,
    keep: str | None = None,
    mute: bool = False,
) -> None:
    """Send a frame to every chat connection the member has open, on any worker, and close
    them with `close` when given (chat/gates.py). Narrowed to the connections in `room_id`,
    in rooms of `community_id`, made with the sign-in `session`, or with any sign-in but
    `keep` (sign-ins by their token hash), when given; for a `mute`, to rooms where mutes
    apply (not a 1:1 support conversation) (chat/hub.py)."""
    event: dict[str, Any] = {"member_id": member_id, "frame": json.dumps(frame) if frame else None}
    narrowing = {
        "room_id": room_id,
        "close": close,
        "community_id": community_id,
        "session": session,
        "keep": keep,
        "mute": mute or None,
    }
    event.update((k, v) for k, v in narrowing.items() if v is not None)
    try:
        await broker.publish(MEMBERS_CHANNEL, event)
    except BrokerUnavailable:  # this worker's connections heard it; the others' hubs look
        log.warning("chat: a member event reached this worker only")  # again (chat/hub.py)


def signed_out_frame() -> dict[str, Any]:
    return error_frame(
        Refusal(
            "signed_out",
            "You've been signed out, so this chat has closed. Sign in again to go on.",
        )
    )


async def sessions_ended(
    broker: Broker, member_id: int, *, session: str | None = None, keep: str | None = None
) -> None:
    """A sign-in ended (sign-out, a passphrase change, a site-wide ban, a deleted account):
    its chat connections close at once, on every worker, with 4003 (don't reconnect) after
    an `error` frame `signed_out`. Only `session`'s when given; every one but `keep`'s when
    that is given; else all the member's."""
    await tell_member(
        broker, member_id, signed_out_frame(), close=CLOSE_GONE, session=session, keep=keep
    )


async def blocks_changed(broker: Broker, member_id: int) -> None:
    """The member blocked or unblocked someone: their open connections, on every worker,
    reload whom they hide (chat/hub.py)."""
    await broker.publish(MEMBERS_CHANNEL, {"member_id": member_id, "blocks_changed": True})


async def publish_state(broker: Broker, room_id: int, frame: dict[str, Any]) -> bool:
    """Send a frame to every connection in the room, lobby included (a session's new state)."""
    text = json.dumps(frame, separators=(",", ":"), ensure_ascii=False)
    return await _publish(broker, room_id, {"kind": "state", "frame": text})


def can_see(room: Room, member: Member | None) -> bool:
    return member is not None or not room.members_only


async def is_room_moderator(s: AsyncSession, member: Member | None, room: Room) -> bool:
    """The room's community's moderators (a room of no community: admins only)."""
    return await roles.may(s, member, Action.MODERATE, room.community_id)


# --------------------------------------------------------------------------- rooms


async def ensure_room(
    db: Database,
    *,
    slug: str,
    name: str,
    description: str = "",
    community_id: int | None = None,
    members_only: bool = False,
    kind: str = "public",
) -> Room:
    """The room with this slug, created if missing (for seeding and new communities)."""
    async with db.transaction() as s:
        room = (await s.exec(select(Room).where(Room.slug == slug))).first()
        if room is None:
            room = Room(
                slug=slug,
                name=name,
                description=description,
                community_id=community_id,
                members_only=members_only,
                kind=kind,
            )
            s.add(room)
            await s.flush()
        return room


async def create_room(
    db: Database,
    member: Member,
    *,
    slug: str,
    name: str,
    description: str = "",
    community_id: int | None = None,
    members_only: bool = False,
) -> Room:
    if not roles.holds(member, Action.RUN_SITE):
        raise Refusal("forbidden", "Only site administrators can add rooms.", status=403)
    slug, name, description = slug.strip().lower(), name.strip(), description.strip()
    if not SLUG.match(slug):
        raise Refusal(
            "invalid",
            "Use 1–40 lowercase letters, digits and dashes for the address, e.g. evening-circle.",
        )
    if not name or len(name) > 80:
        raise Refusal("invalid", "Give the room a name of at most 80 characters.")
    if len(description) > 500:
        raise Refusal("invalid", "Keep the description to 500 characters.")
    room = Room(
        slug=slug,
        name=name,
        description=description,
        community_id=community_id,
        members_only=members_only,
    )
    try:
        async with db.transaction() as s:
            s.add(room)
    except IntegrityError:
        raise Refusal("slug_taken", "A room already uses that address.", status=409) from None
    return room


async def room_by_slug(db: Database, slug: str, member: Member | None) -> Room:
    async with db.read() as s:
        room = (await s.exec(select(Room).where(Room.slug == slug))).first()
    if room is None or not can_see(room, member):
        # Members-only rooms are not admitted to exist for visitors.
        raise Refusal("not_found", "There's no chat room at this address.", status=404)
    return room


async def list_rooms(db: Database, member: Member | None) -> list[Room]:
    """The open rooms (sessions' and support conversations' rooms are reached from their own
    pages, never listed)."""
    async with db.read() as s:
        query = select(Room).where(Room.kind == "public").order_by(col(Room.name))
        rooms = list(await s.exec(query))
    return [room for room in rooms if can_see(room, member)]


async def community_choices(db: Database) -> list[tuple[int, str]]:
    async with db.read() as s:
        return [(c.id, c.name) for c in await communities.all_communities(s)]  # type: ignore[misc]


# --------------------------------------------------------------------------- frames and events


def room_channel(room_id: int) -> str:
    return f"kindred:room:{room_id}"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def message_frame(message: ChatMessage, author: str, room_slug: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": message.seq,
        "room": room_slug,
        "author": {"pseudonym": author},
        "html": message.html,
        "created_at": iso(message.created_at),
        "client_id": message.client_id,
    }


def room_summary(room: Room) -> dict[str, Any]:
    return {
        "slug": room.slug,
        "name": room.name,
        "description": room.description,
        "members_only": room.members_only,
        "slow_mode_seconds": room.slow_mode_seconds,
    }


def message_event(seq: int, author_id: int, frame: dict[str, Any] | None) -> dict[str, Any]:
    """What goes on the broker: the frame is encoded here, once for the whole room; the
    author's id (never sent to members) lets each connection hide blocked members."""
    text = json.dumps(frame, separators=(",", ":"), ensure_ascii=False) if frame else None
    return {"kind": "message", "seq": seq, "author": author_id, "frame": text}


async def fan_out(broker: Broker, room: Room, author: Member, sent: Sent) -> bool:
    """Publish a stored message to its room again. Every hub delivers an id once, so this is
    harmless where it arrived already; it reaches the rooms that never heard of it."""
    event = message_event(sent.frame["id"], author.id, sent.frame)  # type: ignore[arg-type]
    return await _publish(broker, room.id, event)  # type: ignore[arg-type]


async def _publish(broker: Broker, room_id: int, event: dict[str, Any]) -> bool:
    try:
        await broker.publish(room_channel(room_id), event)
    except Exception as exc:  # stored already: resuming clients will still get it
        log.error("chat fan-out failed for room %s: %s", room_id, type(exc).__name__)
        return False
    return True


# --------------------------------------------------------------------------- reading


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


# --------------------------------------------------------------------------- sending


# The send path's statements, built once (building one costs more than running it).
_ROOM_STATE = select(Room.locked, Room.slow_mode_seconds).where(
    col(Room.id) == sa.bindparam("room")
)


async def send_message(
    ctx: AppContext,
    member: Member,
    room: Room,
    body: str,
    client_id: str | None,
    *,
    region: str | None = None,
    max_chars: int = MAX_CHARS,
) -> Sent:
    """Publish a message, or raise Refusal saying why not (held messages are stored)."""
    if not can_chat(member):
        raise Refusal("forbidden", "You can't send messages here.", status=403)
    if client_id is not None and not CLIENT_ID.match(client_id):
        raise Refusal("invalid", "client_id must be 1–64 letters, digits, dashes or _.")
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
                "The moderators have locked this room for now: you can read, but not post. "
                "Your text is kept.",
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
        original = await _find_original(ctx.db, room, member, client_id or "")
        if original is None:  # cannot happen: the constraint that refused it names the row
            raise Refusal("server_error", "That message could not be stored; send it again.")
        return original
    if verdict.held:
        raise Refusal("held", _held_message(verdict), status=202, notice=verdict.notice)
    frame = message_frame(message, member.pseudonym, room.slug)
    delivered = await _publish(
        ctx.broker,
        room.id,  # type: ignore[arg-type]
        message_event(message.seq, member.id, frame),  # type: ignore[arg-type]
    )
    return Sent(frame, verdict.notice, delivered=delivered)


def _held_message(verdict: moderation.Verdict) -> str:
    reason = verdict.reason.message if verdict.reason else ""
    return reason or "Your message is waiting for a moderator to look at it before others see it."


def _writer(ctx: AppContext) -> MessageWriter:
    """This app's group-commit writer (chat/writer.py), made on first use."""
    writer = ctx.extensions.get("chat_writer")
    if writer is None:
        writer = ctx.extensions["chat_writer"] = MessageWriter(ctx.db)
    return writer


async def _find_original(db: Database, room: Room, member: Member, client_id: str) -> Sent | None:
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
            "This message is already waiting for a moderator; there's no need to send it again.",
            status=202,
        )
    if message.status != "published":
        raise Refusal("removed", "A moderator removed this message.", status=409)
    return Sent(message_frame(message, member.pseudonym, room.slug), duplicate=True)


def wait_words(seconds: int) -> str:
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = -(-seconds // size)  # round up: never tell someone to come back too early
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


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
            f"This room is in slow mode: {slow_mode_label(room.slow_mode_seconds).lower()}. "
            f"You can send again in {wait_words(wait)} — your text is kept.",
            status=429,
            retry_after=wait,
        )


# --------------------------------------------------------------------------- moderators


async def _require_moderator(db: Database, member: Member | None, room: Room) -> None:
    async with db.read() as s:
        if not await is_room_moderator(s, member, room):
            raise Refusal("forbidden", "Only this room's moderators can do that.", status=403)


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
                public_summary="A chat message was removed",
            )
    await _withdraw(ctx.broker, room, [seq] if removed else [])


async def has_posted(s: AsyncSession, room: Room, member: Member) -> bool:
    found = await s.exec(
        select(ChatMessage.id).where(
            col(ChatMessage.room_id) == room.id, col(ChatMessage.author_id) == member.id
        )
    )
    return found.first() is not None


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
            raise Refusal("not_found", "There's no member with that pseudonym.", status=404)
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
        await _publish(broker, room.id, {"kind": "removed", "seq": seq, "frame": frame})  # type: ignore[arg-type]


async def set_locked(ctx: AppContext, moderator: Member, room: Room, locked: bool) -> None:
    await _require_moderator(ctx.db, moderator, room)
    async with ctx.db.transaction() as s:
        await s.exec(update(Room).where(col(Room.id) == room.id).values(locked=locked))
        await moderation.record(
            s,
            moderator,
            "lock_room" if locked else "unlock_room",
            "chat_room",
            room.id,
            room.community_id,
            public_summary="The chat room was locked" if locked else "The chat room was reopened",
        )
    room.locked = locked


async def set_slow_mode(ctx: AppContext, moderator: Member, room: Room, seconds: int) -> None:
    await _require_moderator(ctx.db, moderator, room)
    if seconds not in SLOW_MODE_CHOICES:
        raise Refusal("invalid", "Choose one of the slow mode settings offered.")
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
            f"Slow mode in the chat room: {slow_mode_label(seconds).lower()}",
        )
    room.slow_mode_seconds = seconds
