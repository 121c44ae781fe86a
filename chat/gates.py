"""Rooms that are not open to every member, and the gate chat asks before letting one in.

A public room (``Room.kind == "public"``) has no gate: any signed-in member may join and post,
subject to moderation. A live group session's room (``"session"``, chat/groups) and a 1:1
support conversation (``"private"``, chat/support) each register a gate for their kind when the
app is put together; chat asks it

- when a WebSocket connects (`admit`): refuse with Refusal, let the member in, or let them
  wait in a lobby where they receive the room's state frames but no messages;
- on every send (`check_send`), inside the read transaction chat already holds, so a mute, a
  removal or the end of a session applies to the very next message;
- for the page a room's address should send a browser to (`page_url`).

Chat never imports the packages that own these rooms: they import chat, never the reverse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from chat.models import Room
from core.context import AppContext
from core.db import Database
from identity.models import Member
from moderation import api as moderation

# A state change that gives a connection a different place in its room (admitted from the
# lobby, say): the client reconnects at once and is let in afresh.
CLOSE_RECONNECT = 4000
# Removed from the room (or the room ended) for good: the client must not reconnect.
CLOSE_GONE = 4003


@dataclass(frozen=True)
class Admission:
    lobby: bool = False  # connected but waiting: state frames only, no messages, not in presence
    hello: dict[str, Any] = field(default_factory=dict)  # extra fields for the hello frame


class RoomGate(Protocol):
    # What the room's words are to moderation (moderation.api surfaces): whether a chat mute
    # stops sending here (not in a 1:1 support conversation: a mute must never cut someone
    # off from the supporter they asked for), whether new members' first messages wait,
    # whether what would be held is refused instead. Public rooms are CHAT_ROOM.
    surface: moderation.Surface

    async def admit(self, db: Database, room: Room, member: Member) -> Admission:
        """Raise Refusal to refuse the connection (before the upgrade)."""
        ...

    async def check_send(self, s: AsyncSession, room: Room, member: Member) -> None:
        """Raise Refusal when this member may not post here right now."""
        ...

    def page_url(self, room: Room) -> str: ...


def register_gate(ctx: AppContext, kind: str, gate: RoomGate) -> None:
    ctx.extensions.setdefault("chat_gates", {})[kind] = gate


def surface_of(gate: RoomGate | None) -> moderation.Surface:
    """The vetting surface of a room with this gate (None: a public room)."""
    return moderation.CHAT_ROOM if gate is None else gate.surface


def mutes_apply(gate: RoomGate | None) -> bool:
    """Does a chat mute stop a member sending in a room with this gate (None: a public room)?"""
    return surface_of(gate).mutes


def gate_for(ctx: AppContext, room: Room) -> RoomGate | None:
    if room.kind == "public":
        return None
    gate = ctx.extensions.get("chat_gates", {}).get(room.kind)
    if gate is None:  # a room of a kind nobody registered must never fall open
        raise LookupError(f"no gate registered for {room.kind!r} rooms")
    return gate
