"""What chat puts on the broker, and the message frame it carries: the publishing end of
fan-out (each process's hub, chat/hub.py, is the receiving end). A room's channel
(`room_channel`) carries what every connection in the room hears, on every worker: a
message, a removal, a session's or conversation's new state; the members' channel
(MEMBERS_CHANNEL) carries what one member's connections hear wherever they are: a
sanction's frame, a sign-out that closes them, a changed block list. A frame is encoded
once, here, for the whole room; nothing is published before the commit it tells of, and a
failed publish is logged, never raised: what it tells of is stored already, and a resuming
client or another worker's hub reads it from the database.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from chat.frames import error_frame
from chat.gates import CLOSE_GONE
from chat.models import ChatMessage
from core.broker import Broker, BrokerUnavailable
from core.errors import Refusal

log = logging.getLogger("kindred.chat")

MEMBERS_CHANNEL = "kindred:chat:members"


def room_channel(room_id: int) -> str:
    return f"kindred:room:{room_id}"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def message_frame(
    message: ChatMessage, author: str, room_slug: str, badge: str | None = None
) -> dict[str, Any]:
    """A published message as every client receives it. `badge`: the author's staff badge
    in this room (chat/badges.py), carried only when there is one, so a member's frame is
    exactly what it always was."""
    return {
        "type": "message",
        "id": message.seq,
        "room": room_slug,
        "author": {"pseudonym": author, "badge": badge} if badge else {"pseudonym": author},
        "html": message.html,
        "created_at": iso(message.created_at),
        "client_id": message.client_id,
    }


def message_event(seq: int, author_id: int, frame: dict[str, Any] | None) -> dict[str, Any]:
    """What goes on the broker: the frame is encoded here, once for the whole room; the
    author's id (never sent to members) lets each connection hide blocked members."""
    text = json.dumps(frame, separators=(",", ":"), ensure_ascii=False) if frame else None
    return {"kind": "message", "seq": seq, "author": author_id, "frame": text}


async def publish(broker: Broker, room_id: int, event: dict[str, Any]) -> bool:
    """Publish an event to the room's channel; False (logged) when the broker failed."""
    try:
        await broker.publish(room_channel(room_id), event)
    except Exception as exc:  # stored already: resuming clients will still get it
        log.error("chat fan-out failed for room %s: %s", room_id, type(exc).__name__)
        return False
    return True


async def publish_state(broker: Broker, room_id: int, frame: dict[str, Any]) -> bool:
    """Send a frame to every connection in the room, lobby included (a session's new state)."""
    text = json.dumps(frame, separators=(",", ":"), ensure_ascii=False)
    return await publish(broker, room_id, {"kind": "state", "frame": text})


# --------------------------------------------------------------------------- one member


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
