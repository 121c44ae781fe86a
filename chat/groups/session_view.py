"""A session as one viewer sees it: what its page and the JSON API show them, and which
sessions a calendar download holds. Everyone sees the session's public state; a member sees
their own place in it; its facilitators alone see names (the lobby, the hand queue). A
session of a members-only community is not admitted to exist for visitors: these return
None, and each surface says so in its own way (a page asks them to sign in, the API answers
404). The page shows the conversation only to those inside: its facilitators and the
members they let in.

Which parts of the room a viewer sees is decided once, by `room_parts`: the page renders it
without JavaScript, the JSON API hands it to sessions.js after every change, so no state
shows a control that makes no sense in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.groups.models import GroupSession, GroupSessionSeries
from chat.groups.seats import lobby_opens_at
from chat.groups.service import (
    community_name,
    facilitator_view,
    get_session,
    member_view,
    public_state,
    visible_to,
)
from chat.history import recent_messages
from chat.models import Room
from chat.rooms import is_room_moderator
from core.context import AppContext
from core.db import Database, utcnow
from identity.models import Member


@dataclass(frozen=True)
class SessionView:
    session: GroupSession
    state: dict[str, Any]  # what everyone connected to the room may see: counts, never names
    you: dict[str, Any]  # the viewer's own place: their seat, whether they're in
    panel: dict[str, Any] | None  # names, for the session's facilitators only
    parts: dict[str, bool]  # which parts of the room this viewer sees now (room_parts)


@dataclass(frozen=True)
class SessionPage:
    view: SessionView
    room: Room | None
    community_slug: str
    community_name: str
    moderator: bool  # the viewer moderates the session's room
    messages: list[dict[str, Any]]  # the last few, for those inside
    inside: bool  # a facilitator, or let in
    waiting: bool  # in the lobby
    over: bool  # ended or cancelled
    lobby_opens: datetime
    lobby_open: bool


async def _view(s: AsyncSession, session_id: int, member: Member | None) -> SessionView | None:
    session = await get_session(s, session_id)
    if not await visible_to(s, session, member):
        return None
    state = await public_state(s, session)
    you = await member_view(s, session, member)
    panel = await facilitator_view(s, session) if you["role"] == "facilitator" else None
    return SessionView(session, state, you, panel, room_parts(state, you))


def room_parts(state: dict[str, Any], you: dict[str, Any]) -> dict[str, bool]:
    """Which parts of the session's room this viewer sees, given the public state and their
    own place: waiting in the lobby, in before the start, in while it's live (with or without
    the floor, muted or not), or after the end. Each part is an element with `data-part`."""
    status = state["status"]
    over, live = status in ("ended", "cancelled"), status == "live"
    lead = you.get("role") == "facilitator"
    admitted = you.get("role") == "member" and you.get("status") == "admitted"
    inside = (lead or admitted) and not over
    waiting = you.get("status") == "lobby" and not over
    muted = admitted and bool(you.get("muted"))
    hand = admitted and live and bool(state["turn_taking"]) and not muted
    notes = ("pinned_html", "turn_taking", "slow_mode_seconds", "locked")
    return {
        "connection": inside or waiting,  # the live connection's status line
        "lobby": waiting,
        "not-started": inside and status == "scheduled",
        "ended": over,
        "state": not over and any(state[name] for name in notes),
        "conversation": (lead or admitted),  # the messages (kept on screen after the end)
        "composer": inside and live and not muted,
        "muted": muted and live,
        "hand": hand,
        "hand-button": hand and not you.get("has_floor"),
        "here-now": inside,
    }


async def session_view(db: Database, session_id: int, member: Member | None) -> SessionView | None:
    """The session as the JSON API shows it to this viewer (None: not for visitors)."""
    async with db.read() as s:
        return await _view(s, session_id, member)


async def session_page(
    ctx: AppContext, session_id: int, member: Member | None, *, messages: int
) -> SessionPage | None:
    """Everything the session's page shows this viewer, with the last `messages` messages
    for those inside (None: not for visitors)."""
    async with ctx.db.read() as s:
        view = await _view(s, session_id, member)
        if view is None:
            return None
        session = view.session
        room = await s.get(Room, session.room_id)
        community_slug, community = await community_name(s, session.community_id)
        moderator = await is_room_moderator(s, member, room) if room else False
    inside = view.you["role"] == "facilitator" or view.you.get("status") == "admitted"
    shown = []
    if inside and room is not None and session.messages_purged_at is None:
        shown = await recent_messages(ctx.db, room, member, limit=messages)
    lobby_opens = lobby_opens_at(session, ctx.settings.session_lobby_minutes)
    return SessionPage(
        view=view,
        room=room,
        community_slug=community_slug,
        community_name=community,
        moderator=moderator,
        messages=shown,
        inside=inside,
        waiting=view.you.get("status") == "lobby",
        over=session.status in ("ended", "cancelled"),
        lobby_opens=lobby_opens,
        lobby_open=session.status == "live" or utcnow() >= lobby_opens,
    )


@dataclass(frozen=True)
class CalendarSessions:
    """What a calendar download holds (chat/groups/ics.py writes it)."""

    sessions: list[GroupSession]  # the session, or every occurrence of its series, by id
    series: GroupSessionSeries | None  # the weekly rule, when the download is the series
    community_slug: str


async def calendar_sessions(
    db: Database, session_id: int, member: Member | None, *, series: bool
) -> CalendarSessions | None:
    """The session, or with `series` its whole weekly series (past, cancelled and changed
    occurrences too: a calendar app replaces the series it has by what this says), for a
    calendar download (None: not for visitors)."""
    async with db.read() as s:
        session = await get_session(s, session_id)
        if not await visible_to(s, session, member):
            return None
        slug, _ = await community_name(s, session.community_id)
        rule = None
        if series and session.series_id is not None:
            rule = await s.get(GroupSessionSeries, session.series_id)
        if rule is None:
            return CalendarSessions([session], None, slug)
        occurrences = await s.exec(
            select(GroupSession).where(GroupSession.series_id == rule.id).order_by(GroupSession.id)  # type: ignore[arg-type]
        )
        return CalendarSessions(list(occurrences), rule, slug)
