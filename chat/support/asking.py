"""The member's side of 1:1 support: asking for a conversation, waiting for a supporter, and
withdrawing the request. A note is vetted as a support note (moderation/vetting.py): crisis
language never stops it (the request is flagged first in the queue and the member is shown
crisis resources at once), and what elsewhere would be held is refused with the reason,
because no moderator reads a note before a supporter does. One request at a time; asking is
limited per member (``support_request``), counted only once a request is made. A member who
waits long is shown other help too: crisis resources and the group sessions coming up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from chat.groups.service import Upcoming, upcoming_sessions
from chat.models import Room
from chat.support.limits import free_supporters
from chat.support.models import SupportRequest
from chat.support.requests import (
    community_name,
    conversation_url,
    live_request,
    request_changed,
    request_url,
    timed_out,
)
from core.context import AppContext
from core.db import Database, utcnow
from core.errors import Refusal
from core.i18n import gettext as _
from core.i18n import ngettext, number
from identity.models import Member
from moderation import api as moderation

log = logging.getLogger("kindred.chat.support")

NOTE_MAX = 500  # a short note: what a supporter needs to know before saying hello


@dataclass(frozen=True)
class Asked:
    request: SupportRequest
    notice: dict[str, Any] | None = None  # crisis resources, shown to the member at once


async def ask(
    ctx: AppContext,
    member: Member,
    community_id: int | None,
    note: str,
    *,
    region: str | None = None,
) -> Asked:
    """Put a request in the queue. Crisis language does not stop it: the request is made,
    flagged first in the queue, and the member is shown crisis resources at once."""
    note = note.strip()
    if not note:
        raise Refusal(
            "empty", _("Write a short note for the supporter: a sentence or two is enough.")
        )
    if len(note) > NOTE_MAX:
        raise Refusal(
            "too_long",
            _(
                "Keep the note to %(limit)s characters (it has %(length)s); you can say more "
                "once you're talking. Your text is kept below."
            )
            % {"limit": number(NOTE_MAX), "length": number(len(note))},
        )
    if community_id is None:
        raise Refusal("invalid", _("Choose the topic you'd like to talk about."))
    # Checked first, counted only once a request is made: a note sent back for changes
    # (contact details, say) costs nothing from the allowance.
    await _refuse_if_limited(ctx, member, region, count=False)
    async with ctx.db.read() as s:
        if await community_name(s, community_id) is None:
            raise Refusal("invalid", _("Choose one of the topics offered."))
        if existing := await live_request(s, member.id):  # type: ignore[arg-type]
            raise _already_asked(existing)
    # A chat mute never stops anyone asking for support (someone in crisis may have been
    # muted for one heated message); a suspension or a ban does, never the way to other help:
    # the surface says so (moderation/vetting.py), as it says that nobody reviews a note
    # before a supporter reads it, so what would be held is refused, crisis language aside.
    place = moderation.Place(moderation.SUPPORT_NOTE, community_id, max_chars=NOTE_MAX)
    verdict = await moderation.vet(ctx, member, place, note, region=region)
    if verdict.refused:
        raise verdict.refusal(draft=note)
    request = SupportRequest(
        member_id=member.id,  # type: ignore[arg-type]
        community_id=community_id,
        note=verdict.text,
        note_html=verdict.html,
        crisis=verdict.crisis,
    )
    try:
        async with ctx.db.transaction() as s:
            s.add(request)
    except IntegrityError:  # a second ask raced the first: the partial unique index held
        async with ctx.db.read() as s:
            existing = await live_request(s, member.id)  # type: ignore[arg-type]
        if existing is None:
            raise
        raise _already_asked(existing) from None
    await _refuse_if_limited(ctx, member, region, count=True)  # made, so counted
    await request_changed(ctx.broker, request.id)  # supporters' queues hear of it now
    return Asked(request, verdict.notice if request.crisis else None)


async def _refuse_if_limited(
    ctx: AppContext, member: Member, region: str | None, *, count: bool
) -> None:
    """The ``support_request`` limit (core/ratelimit.py), per member. With count=True one
    request is counted and nothing is refused: it has been made already."""
    if count:
        await ctx.rate_limits.hit("support_request", str(member.id))
        return
    blocked = await ctx.rate_limits.check("support_request", str(member.id))
    if blocked:
        raise Refusal(
            "rate_limited",
            ngettext(
                "You've asked for a conversation several times in the last hour. Please wait "
                "%(num)d minute and ask again — your text is kept. If you need someone right "
                "now, the services below are there for you.",
                "You've asked for a conversation several times in the last hour. Please wait "
                "%(num)d minutes and ask again — your text is kept. If you need someone right "
                "now, the services below are there for you.",
                blocked.minutes,
            )
            % {"num": blocked.minutes},
            status=429,
            retry_after=blocked.retry_after,
            notice={"code": "resources", "resources": moderation.crisis_resources(region)},
        )


def _already_asked(existing: SupportRequest) -> Refusal:
    if existing.status == "open":
        message = _(
            "You already have a request that is waiting for a supporter. You can have one at a "
            "time: go back to it, or cancel it first if you'd like to ask about something else."
        )
    else:
        message = _(
            "You already have a request that is going on now. You can have one at a time: go "
            "back to it, or cancel it first if you'd like to ask about something else."
        )
    return Refusal(
        "already_asked",
        message,
        status=409,
        url=request_url(existing),
    )


async def current_request(db: Database, member: Member) -> SupportRequest | None:
    """The member's request that is waiting or in conversation: one at a time, so asking
    again takes them back to it."""
    async with db.read() as s:
        return await live_request(s, member.id)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- waiting


@dataclass(frozen=True)
class Waiting:
    request: SupportRequest
    conversation: str | None  # a supporter accepted: the conversation's address
    topic: str | None
    late: bool  # waited long, or expired: other help is shown
    sessions: list[Upcoming] | None  # group sessions coming up (None: link to the list)
    resources: list[dict[str, str]]  # crisis resources: a long wait or a crisis-flagged note
    # Supporters who could take it now (switched on, this topic, within their own limits and
    # hours): told honestly, so nobody waits on someone who isn't there. None: not waiting.
    free: int | None = None


async def waiting(
    ctx: AppContext, member: Member, request_id: int, *, region: str | None = None
) -> Waiting:
    """The member's own request as its waiting page shows it."""
    async with ctx.db.read() as s:
        found = await s.get(SupportRequest, request_id)
        if found is None or found.member_id != member.id:
            raise Refusal("not_found", _("There's no request of yours here."), status=404)
        if found.status in ("accepted", "ended") and found.room_id is not None:
            room = await s.get(Room, found.room_id)
            if room is not None:
                return Waiting(found, conversation_url(room.slug), None, False, None, [])
        topic = await community_name(s, found.community_id)
        free = None
        if found.status == "open":
            free = await free_supporters(s, member.id, found.community_id)  # type: ignore[arg-type]
    # Expired: it waited a day and the sweeper closed it; other help is shown as for a long
    # wait, with the note ready to ask again.
    late = timed_out(found, ctx.settings) or found.status == "expired"
    sessions = await _upcoming(ctx, found.community_id) if late else None
    resources = moderation.crisis_resources(region) if late or found.crisis else []
    return Waiting(found, None, topic, late, sessions, resources, free)


async def _upcoming(ctx: AppContext, community_id: int) -> list[Upcoming] | None:
    """The group sessions coming up (chat/groups): the member's topic first, else any. None
    when that part cannot say, and the page links to /sessions instead."""
    try:
        found = await upcoming_sessions(ctx.db, community_id=community_id, limit=5)
        return list(found or await upcoming_sessions(ctx.db, limit=5))
    except Exception:  # failing: the plain link still helps
        log.exception("support: upcoming group sessions unavailable")
        return None


async def cancel(ctx: AppContext, member: Member, request_id: int) -> None:
    """The member withdraws a request that is still waiting."""
    async with ctx.db.transaction() as s:
        changed = await s.exec(
            update(SupportRequest)
            .where(
                col(SupportRequest.id) == request_id,
                col(SupportRequest.member_id) == member.id,
                col(SupportRequest.status) == "open",
            )
            .values(status="cancelled", ended_at=utcnow(), ended_by_id=member.id)
        )
        withdrawn = changed.rowcount == 1  # type: ignore[attr-defined]
        request = None if withdrawn else await s.get(SupportRequest, request_id)
    if withdrawn:
        await request_changed(ctx.broker, request_id)
        return
    if request is None or request.member_id != member.id:
        raise Refusal("not_found", _("There's no request of yours here."), status=404)
    if request.status == "accepted":
        raise Refusal(
            "already_accepted",
            _(
                "A supporter has just accepted your request: your conversation is open. You can "
                "end it there at any time."
            ),
            status=409,
        )
    raise Refusal("not_open", _("This request is already closed."), status=409)
