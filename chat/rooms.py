"""Rooms, and who may be in them: which rooms there are, adding one, finding one by its
address, and who may connect to chat, see a room and moderate it. Only the open rooms are
listed (a session's room and a support conversation are reached from their own pages); a
members-only room is not admitted to exist for visitors; a room's moderators are its
community's (communities/roles.py decides). A room whose kind has a gate (chat/gates.py) is
also asked there whether a member is let in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.gates import gate_for
from chat.history import PAGE_MESSAGES, has_posted, held_messages, recent_messages
from chat.models import Room
from communities import roles
from communities import service as communities
from communities.roles import Action
from core.context import AppContext
from core.db import Database
from core.errors import Refusal
from core.i18n import gettext as _
from identity.models import Member
from moderation import api as moderation

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")


# --------------------------------------------------------------------------- who may do what


def can_chat(member: Member | None) -> bool:
    """May this member connect to chat at all? The WebSocket refuses before the upgrade when
    it is false; a banned member has no session left to connect with. Mutes and suspensions
    are checked on every send (chat/sending.py), so they apply the moment they are made."""
    return member is not None and member.deleted_at is None


def can_see(room: Room, member: Member | None) -> bool:
    return member is not None or not room.members_only


async def is_room_moderator(s: AsyncSession, member: Member | None, room: Room) -> bool:
    """The room's community's moderators (a room of no community: admins only)."""
    return await roles.may(s, member, Action.MODERATE, room.community_id)


async def refuse_unless_admitted(
    ctx: AppContext, room: Room, member: Member | None, *, strict: bool
) -> None:
    """For a page of a session's room or a support conversation. Someone its gate would not
    even admit to exist (a private conversation's outsider) gets the same 404 as for no
    room; with `strict` (moderators' controls), anyone it would not let in is refused as it
    says, so a moderator never acts on a private conversation without opening it from a
    report."""
    gate = gate_for(ctx, room)
    if gate is None or member is None:
        return
    try:
        await gate.admit(ctx.db, room, member)
    except Refusal as exc:
        if strict or exc.status == 404:
            raise


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
        raise Refusal("forbidden", _("Only site administrators can add rooms."), status=403)
    slug, name, description = slug.strip().lower(), name.strip(), description.strip()
    if not SLUG.match(slug):
        raise Refusal(
            "invalid",
            _(
                "Use 1–40 lowercase letters, digits and dashes for the address, "
                "e.g. evening-circle."
            ),
        )
    if not name or len(name) > 80:
        raise Refusal("invalid", _("Give the room a name of at most 80 characters."))
    if len(description) > 500:
        raise Refusal("invalid", _("Keep the description to 500 characters."))
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
        raise Refusal("slug_taken", _("A room already uses that address."), status=409) from None
    return room


async def room_by_slug(db: Database, slug: str, member: Member | None) -> Room:
    async with db.read() as s:
        room = (await s.exec(select(Room).where(Room.slug == slug))).first()
    if room is None or not can_see(room, member):
        # Members-only rooms are not admitted to exist for visitors.
        raise Refusal("not_found", _("There's no chat room at this address."), status=404)
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


def room_summary(room: Room) -> dict[str, Any]:
    """The room as the `hello` frame describes it."""
    return {
        "slug": room.slug,
        "name": room.name,
        "description": room.description,
        "members_only": room.members_only,
        "slow_mode_seconds": room.slow_mode_seconds,
    }


# --------------------------------------------------------------------------- the room page


@dataclass(frozen=True)
class RoomView:
    messages: list[dict[str, Any]]  # the newest, oldest first, as frames
    older: int | None  # the id to page back from, when there may be older messages
    moderator: bool  # the viewer may moderate the room: its controls are shown
    rules_html: str  # the community's rules
    first_visit: bool  # a member who never posted here: the rules are shown first
    held: list[dict[str, Any]]  # the viewer's own messages waiting for a moderator


async def room_view(
    db: Database, room: Room, member: Member | None, *, before: int | None = None
) -> RoomView:
    """What the room page shows this viewer (older than `before` when paging back)."""
    messages = await recent_messages(db, room, member, before=before)
    async with db.read() as s:
        moderator = await is_room_moderator(s, member, room)
        rules_html = await moderation.community_rules_html(s, room.community_id)
        first_visit = member is not None and not await has_posted(s, room, member)
        # Held messages are shown with the newest page; one who never posted has none.
        ask = member is not None and not first_visit and before is None
        held = await held_messages(s, room, member) if ask else []  # type: ignore[arg-type]
    older = messages[0]["id"] if len(messages) == PAGE_MESSAGES else None
    return RoomView(messages, older, moderator, rules_html, first_visit, held)
