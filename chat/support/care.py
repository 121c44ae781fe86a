"""Care for the carers, after a conversation: a gentle note to take a break, and a debrief
with a moderator after a crisis.

The break note: after a conversation that lasted long (BREAK_AFTER or more) or was heavy
(flagged as crisis, when the member asked or later in the conversation), its supporter sees
a note suggesting a pause, on the conversation's page and on their queue, until they
dismiss it or BREAK_NOTE_FOR has passed. Only they see it; nothing counts or scores these.

A debrief: after a crisis-flagged conversation, its supporter may ask to talk it through
with a moderator. The request names the conversation's topic (community) and carries the
supporter's own note, vetted as support feedback — never anything from the conversation.
The community's moderators (admins: all) see it, take it, and mark it done; both are
written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.models import ChatMessage
from chat.support.models import SupportDebrief, SupportRequest
from chat.support.requests import name_of
from communities import roles
from communities import service as communities
from communities.roles import Action
from core.context import AppContext
from core.db import Database, utcnow
from core.errors import Refusal
from core.i18n import gettext as _
from core.i18n import number
from identity.models import Member
from moderation import api as moderation

BREAK_AFTER = timedelta(minutes=45)  # a conversation this long earns a pause
BREAK_NOTE_FOR = timedelta(hours=3)  # the note goes by itself after this
DEBRIEF_NOTE_MAX = 500
DEBRIEFS_URL = "/moderation/support/debriefs"


# --------------------------------------------------------------------------- heavy or long


async def was_crisis(s: AsyncSession, request: SupportRequest) -> bool:
    """Was the conversation flagged as crisis: the member's note, or a message in it?"""
    if request.crisis:
        return True
    if request.room_id is None:
        return False
    in_room = select(ChatMessage.id).where(col(ChatMessage.room_id) == request.room_id)
    return await moderation.crisis_flagged(s, "chat_message", in_room)


def was_long(request: SupportRequest) -> bool:
    if request.accepted_at is None or request.ended_at is None:
        return False
    return request.ended_at - request.accepted_at >= BREAK_AFTER


@dataclass(frozen=True)
class BreakNote:
    request_id: int
    heavy: bool  # crisis-flagged (else: long)


async def break_note(
    s: AsyncSession, supporter_id: int, request: SupportRequest | None = None
) -> BreakNote | None:
    """The note for this supporter now, if any: about `request` (its page), else about
    their most recently ended conversation (the queue)."""
    if request is None:
        query = (
            select(SupportRequest)
            .where(
                col(SupportRequest.supporter_id) == supporter_id,
                col(SupportRequest.status) == "ended",
            )
            .order_by(col(SupportRequest.ended_at).desc())
            .limit(1)
        )
        request = (await s.exec(query)).first()
    if request is None or request.supporter_id != supporter_id or request.status != "ended":
        return None
    if request.supporter_rested or request.ended_at is None:
        return None
    if utcnow() - request.ended_at > BREAK_NOTE_FOR:
        return None
    heavy = await was_crisis(s, request)
    if not (heavy or was_long(request)):
        return None
    return BreakNote(request.id, heavy)  # type: ignore[arg-type]


async def dismiss_break(ctx: AppContext, supporter: Member, request_id: int) -> None:
    """The supporter has seen the note: it shows no more (for this conversation)."""
    async with ctx.db.transaction() as s:
        await s.exec(
            update(SupportRequest)
            .where(
                col(SupportRequest.id) == request_id,
                col(SupportRequest.supporter_id) == supporter.id,
            )
            .values(supporter_rested=True)
        )


# --------------------------------------------------------------------------- debriefs


async def debrief_of(s: AsyncSession, request_id: int) -> SupportDebrief | None:
    query = select(SupportDebrief).where(col(SupportDebrief.request_id) == request_id)
    return (await s.exec(query)).first()


async def may_ask_debrief(s: AsyncSession, request: SupportRequest, member: Member) -> bool:
    """Its supporter, once a crisis-flagged conversation has ended."""
    return (
        request.supporter_id == member.id
        and request.status == "ended"
        and await was_crisis(s, request)
    )


async def ask_debrief(
    ctx: AppContext, supporter: Member, request_id: int, note: str, *, region: str | None = None
) -> SupportDebrief:
    """Ask for a debrief about one ended, crisis-flagged conversation (once)."""
    note = note.strip()
    if len(note) > DEBRIEF_NOTE_MAX:
        raise Refusal(
            "too_long",
            _(
                "Keep the note to %(limit)s characters (it has %(length)s); you can say more "
                "when you talk. Your text is kept."
            )
            % {"limit": number(DEBRIEF_NOTE_MAX), "length": number(len(note))},
            field="note",
        )
    async with ctx.db.read() as s:
        request = await s.get(SupportRequest, request_id)
        if request is None or request.supporter_id != supporter.id:
            raise Refusal("not_found", _("There's no conversation of yours here."), status=404)
        if existing := await debrief_of(s, request_id):
            return existing
        if not await may_ask_debrief(s, request, supporter):
            raise Refusal(
                "not_crisis",
                _(
                    "A debrief can be asked for once a conversation flagged as crisis has "
                    "ended. If something else weighs on you, talk with your community's "
                    "moderators."
                ),
                status=409,
            )
    text = html = ""
    if note:
        place = moderation.Place(
            moderation.SUPPORT_FEEDBACK, request.community_id, max_chars=DEBRIEF_NOTE_MAX
        )
        verdict = await moderation.vet(ctx, supporter, place, note, region=region)
        if verdict.refused:
            raise verdict.refusal(draft=note)
        text, html = verdict.text, verdict.html
    debrief = SupportDebrief(
        request_id=request_id,
        supporter_id=supporter.id,  # type: ignore[arg-type]
        community_id=request.community_id,
        note=text,
        note_html=html,
    )
    try:
        async with ctx.db.transaction() as s:
            s.add(debrief)
            await s.flush()
            await moderation.record(
                s, supporter, "ask_debrief", "support_debrief", debrief.id, request.community_id
            )
    except IntegrityError:  # asked twice at once: the first one stands
        async with ctx.db.read() as s:
            found = await debrief_of(s, request_id)
        if found is None:
            raise
        return found
    return debrief


@dataclass(frozen=True)
class DebriefItem:
    id: int
    community: str
    supporter: str
    note_html: str
    status: str
    created_at: datetime
    taken_by: str | None
    taken_at: datetime | None
    done_at: datetime | None
    mine: bool  # taken by the viewer


async def _scope(s: AsyncSession, viewer: Member) -> set[int] | None:
    scope = await roles.communities_where(s, viewer, Action.MODERATE)
    if scope is not None and not scope:
        raise Refusal(
            "forbidden",
            _("Only moderators and admins see peer supporters' debrief requests."),
            status=403,
        )
    return scope


async def debriefs_for(db: Database, viewer: Member) -> list[DebriefItem]:
    """Debrief requests in the communities the viewer moderates (admins: all): waiting
    first, then taken, then done (the last 100), oldest first within each."""
    taker = aliased(Member)
    async with db.read() as s:
        scope = await _scope(s, viewer)
        order = sa.case({"open": 0, "taken": 1}, value=SupportDebrief.status, else_=2)
        query = (
            sa.select(SupportDebrief, Member, taker)
            .join(Member, col(Member.id) == SupportDebrief.supporter_id)
            .outerjoin(taker, taker.id == SupportDebrief.taken_by_id)
            .order_by(order, col(SupportDebrief.created_at))
            .limit(100)
        )
        if scope is not None:
            query = query.where(col(SupportDebrief.community_id).in_(scope))
        rows = list(await s.exec(query))  # type: ignore[call-overload]
        names = await communities.by_ids(s, (d.community_id for d, _, _ in rows))
    return [
        DebriefItem(
            d.id,
            names[d.community_id].name,
            name_of(supporter),
            d.note_html,
            d.status,
            d.created_at,
            name_of(moderator) if d.taken_by_id else None,
            d.taken_at,
            d.done_at,
            d.taken_by_id == viewer.id,
        )
        for d, supporter, moderator in rows
        if d.community_id in names
    ]


async def open_debriefs(db: Database, viewer: Member) -> int:
    """How many debrief requests wait for a moderator where the viewer moderates."""
    async with db.read() as s:
        scope = await roles.communities_where(s, viewer, Action.MODERATE)
        if scope is not None and not scope:
            return 0
        query = select(sa.func.count()).where(col(SupportDebrief.status) == "open")
        if scope is not None:
            query = query.where(col(SupportDebrief.community_id).in_(scope))
        return (await s.exec(query)).one()


async def take_debrief(ctx: AppContext, moderator: Member, debrief_id: int) -> None:
    """A moderator takes a waiting request: the supporter sees who will talk with them."""
    await _move(ctx, moderator, debrief_id, "open", "take_debrief",
                status="taken", taken_by_id=moderator.id, taken_at=utcnow())  # fmt: skip


async def finish_debrief(ctx: AppContext, moderator: Member, debrief_id: int) -> None:
    """A moderator marks a taken debrief done (any of the community's moderators may)."""
    await _move(ctx, moderator, debrief_id, "taken", "finish_debrief",
                status="done", done_at=utcnow())  # fmt: skip


async def _move(
    ctx: AppContext, moderator: Member, debrief_id: int, was: str, action: str, **values: object
) -> None:
    async with ctx.db.transaction() as s:
        debrief = await s.get(SupportDebrief, debrief_id)
        if debrief is None or not await roles.may(
            s, moderator, Action.MODERATE, debrief.community_id
        ):
            raise Refusal("not_found", _("There's no such debrief request for you."), status=404)
        moved = await s.exec(
            update(SupportDebrief)
            .where(col(SupportDebrief.id) == debrief_id, col(SupportDebrief.status) == was)
            .values(**values)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            await s.refresh(debrief)
            raise _not_now(debrief.status, mine=debrief.taken_by_id == moderator.id)
        await moderation.record(
            s, moderator, action, "support_debrief", debrief_id, debrief.community_id
        )


def _not_now(status: str, *, mine: bool) -> Refusal:
    if status == "taken":
        if mine:
            message = _("You've already taken this debrief.")
        else:
            message = _("Another moderator has already taken this debrief.")
        return Refusal("already_taken", message, status=409)
    if status == "done":
        return Refusal("already_done", _("This debrief is already marked done."), status=409)
    return Refusal("not_taken", _("Take this debrief before marking it done."), status=409)


@dataclass(frozen=True)
class DebriefState:
    """What the supporter sees on the conversation's page."""

    status: str
    created_at: datetime
    taken_by: str | None


async def debrief_state(s: AsyncSession, request_id: int) -> DebriefState | None:
    found = await debrief_of(s, request_id)
    if found is None:
        return None
    taker = await s.get(Member, found.taken_by_id) if found.taken_by_id else None
    return DebriefState(found.status, found.created_at, name_of(taker) if taker else None)
