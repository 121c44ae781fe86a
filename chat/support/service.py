"""1:1 support requests: asking, the supporters' queue, accepting, ending, feedback.

No HTTP here, so the pages and the JSON API share every rule. Validate, then write, then
publish: the end of a conversation is told to both sides only after it is committed.

Accepting is one conditional UPDATE (``… WHERE id = :id AND status = 'open'``): when two
supporters press Accept at once, exactly one row changes and the other is told that someone
else has just taken the request, on SQLite and PostgreSQL alike. The private room is made in
the same transaction, so an accepted request always has its room.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat.gates import CLOSE_GONE
from chat.models import ChatMessage, Room
from chat.service import publish_state, tell_member
from chat.support.models import (
    PrivateRoomAccess,
    SupporterAvailability,
    SupporterTopic,
    SupportRequest,
)
from communities import roles
from communities import service as communities
from communities.roles import Action
from core.context import AppContext
from core.db import Database, utcnow
from core.errors import Refusal
from core.settings import Settings
from identity.models import DELETED_NAME, Member, MemberBlock
from moderation import api as moderation

NOTE_MAX = 500  # a short note: what a supporter needs to know before saying hello
FEEDBACK_MAX = 500
QUEUE_LIMIT = 100


@dataclass(frozen=True)
class Asked:
    request: SupportRequest
    notice: dict[str, Any] | None = None  # crisis resources, shown to the member at once


@dataclass(frozen=True)
class QueueItem:
    id: int
    community: str
    note_html: str
    crisis: bool
    created_at: datetime


@dataclass(frozen=True)
class Queue:
    available: bool
    items: list[QueueItem]
    topics: set[int]


def conversation_url(room_slug: str) -> str:
    return f"/support/conversations/{room_slug}"


def request_url(request: SupportRequest) -> str:
    return f"/support/requests/{request.id}"


def timed_out(request: SupportRequest, settings: Settings, now: datetime | None = None) -> bool:
    """Has the request waited long enough that the member should be shown other help too?"""
    waited = (now or utcnow()) - request.created_at
    return request.status == "open" and waited >= timedelta(minutes=settings.support_wait_minutes)


def name_of(member: Member | None) -> str:
    if member is None or member.deleted_at is not None:
        return DELETED_NAME
    return member.pseudonym


async def community_name(s: AsyncSession, community_id: int) -> str | None:
    community = await communities.get(s, community_id)
    return community.name if community else None


# --------------------------------------------------------------------------- reading


async def get_request(db: Database, request_id: int) -> SupportRequest | None:
    async with db.read() as s:
        return await s.get(SupportRequest, request_id)


async def live_request(s: AsyncSession, member_id: int) -> SupportRequest | None:
    """The member's request that is waiting or in conversation, if any (at most one)."""
    query = select(SupportRequest).where(
        SupportRequest.member_id == member_id,
        col(SupportRequest.status).in_(("open", "accepted")),
    )
    return (await s.exec(query)).first()


async def request_for_room(s: AsyncSession, room_id: int) -> SupportRequest | None:
    query = select(SupportRequest).where(SupportRequest.room_id == room_id)
    return (await s.exec(query)).first()


def is_participant(request: SupportRequest, member: Member | None) -> bool:
    return member is not None and member.id in (request.member_id, request.supporter_id)


async def has_grant(s: AsyncSession, room_id: int, member_id: int) -> bool:
    """Does this moderator hold a current grant to read the conversation (access.py)?"""
    query = select(PrivateRoomAccess.id).where(
        PrivateRoomAccess.room_id == room_id,
        PrivateRoomAccess.member_id == member_id,
        col(PrivateRoomAccess.expires_at) > utcnow(),
    )
    return (await s.exec(query)).first() is not None


async def grant_holders(s: AsyncSession, room_id: int) -> list[int]:
    query = select(PrivateRoomAccess.member_id).where(
        PrivateRoomAccess.room_id == room_id, col(PrivateRoomAccess.expires_at) > utcnow()
    )
    return list(set(await s.exec(query)))


# --------------------------------------------------------------------------- asking


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
        raise Refusal("empty", "Write a short note for the supporter: a sentence or two is enough.")
    if len(note) > NOTE_MAX:
        raise Refusal(
            "too_long",
            f"Keep the note to {NOTE_MAX} characters (it has {len(note):,}); you can say more "
            "once you're talking. Your text is kept below.",
        )
    if community_id is None:
        raise Refusal("invalid", "Choose the topic you'd like to talk about.")
    # Checked first, counted only once a request is made: a note sent back for changes
    # (contact details, say) costs nothing from the allowance.
    await _refuse_if_limited(ctx, member, region, count=False)
    async with ctx.db.read() as s:
        if await community_name(s, community_id) is None:
            raise Refusal("invalid", "Choose one of the topics offered.")
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
            f"You've asked for a conversation several times in the last hour. Please wait "
            f"{blocked.minutes} minutes and ask again — your text is kept. If you need someone "
            "right now, the services below are there for you.",
            status=429,
            retry_after=blocked.retry_after,
            notice={"code": "resources", "resources": moderation.crisis_resources(region)},
        )


def _already_asked(existing: SupportRequest) -> Refusal:
    where = "is waiting for a supporter" if existing.status == "open" else "is going on now"
    return Refusal(
        "already_asked",
        f"You already have a request that {where}. You can have one at a time: go back to "
        "it, or cancel it first if you'd like to ask about something else.",
        status=409,
        url=request_url(existing),
    )


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
        if changed.rowcount == 1:  # type: ignore[attr-defined]
            return
        request = await s.get(SupportRequest, request_id)
    if request is None or request.member_id != member.id:
        raise Refusal("not_found", "There's no request of yours here.", status=404)
    if request.status == "accepted":
        raise Refusal(
            "already_accepted",
            "A supporter has just accepted your request: your conversation is open. You can "
            "end it there at any time.",
            status=409,
        )
    raise Refusal("not_open", "This request is already closed.", status=409)


# --------------------------------------------------------------------------- supporters


async def _blocked_either_way(s: AsyncSession, member_id: int) -> set[int]:
    """Members this one blocked or was blocked by: neither side is matched with the other."""
    rows = await s.exec(
        select(MemberBlock).where(
            sa.or_(MemberBlock.blocker_id == member_id, MemberBlock.blocked_id == member_id)
        )
    )
    return {b.blocked_id if b.blocker_id == member_id else b.blocker_id for b in rows}


def _require_supporter(member: Member) -> None:
    if not roles.holds(member, Action.TAKE_SUPPORT):
        raise Refusal(
            "forbidden",
            "Only peer supporters can see and take 1:1 requests. If you'd like to become "
            "one, ask an admin.",
            status=403,
        )


async def is_available(s: AsyncSession, member_id: int) -> bool:
    row = await s.get(SupporterAvailability, member_id)
    return bool(row and row.available)


async def set_available(ctx: AppContext, member: Member, available: bool) -> None:
    _require_supporter(member)
    async with ctx.db.transaction() as s:
        row = await s.get(SupporterAvailability, member.id)
        if row is None:
            row = SupporterAvailability(member_id=member.id)  # type: ignore[arg-type]
        row.available, row.changed_at = available, utcnow()
        s.add(row)


async def topics_of(s: AsyncSession, member_id: int) -> set[int]:
    rows = await s.exec(
        select(SupporterTopic.community_id).where(SupporterTopic.member_id == member_id)
    )
    return set(rows)


async def set_topics(ctx: AppContext, member: Member, community_ids: set[int]) -> None:
    """The communities whose requests this supporter sees (none means every community)."""
    _require_supporter(member)
    async with ctx.db.transaction() as s:
        known = {c.id for c in await communities.all_communities(s)}
        await s.exec(delete(SupporterTopic).where(col(SupporterTopic.member_id) == member.id))
        for community_id in sorted(community_ids & known):
            s.add(SupporterTopic(member_id=member.id, community_id=community_id))  # type: ignore[arg-type]


async def queue(db: Database, supporter: Member) -> Queue:
    """Open requests for an available supporter: crisis-flagged first, then oldest first.
    Only the topic, note and waiting time show: a requester's pseudonym is shown to the
    supporter who accepts, and to nobody before that."""
    _require_supporter(supporter)
    async with db.read() as s:
        available = await is_available(s, supporter.id)  # type: ignore[arg-type]
        chosen = await topics_of(s, supporter.id)  # type: ignore[arg-type]
        if not available:
            return Queue(False, [], chosen)
        hidden = await _blocked_either_way(s, supporter.id)  # type: ignore[arg-type]
        query = (
            select(SupportRequest)
            .join(Member, col(Member.id) == SupportRequest.member_id)
            .where(
                col(SupportRequest.status) == "open",
                col(SupportRequest.member_id) != supporter.id,
                col(Member.deleted_at).is_(None),  # nobody waits behind a deleted account
            )
            .order_by(col(SupportRequest.crisis).desc(), col(SupportRequest.created_at))
            .limit(QUEUE_LIMIT)
        )
        if chosen:
            query = query.where(col(SupportRequest.community_id).in_(chosen))
        if hidden:
            query = query.where(col(SupportRequest.member_id).not_in(hidden))
        rows = list(await s.exec(query))
        names = await communities.by_ids(s, (r.community_id for r in rows))
    items = [
        QueueItem(r.id, names[r.community_id].name, r.note_html, r.crisis, r.created_at)  # type: ignore[arg-type]
        for r in rows
        if r.community_id in names
    ]
    return Queue(True, items, chosen)


async def accept(ctx: AppContext, supporter: Member, request_id: int) -> Room:
    """Take a request: exactly one supporter wins; the private room is made in the same
    transaction. Returns the room."""
    _require_supporter(supporter)
    async with ctx.db.transaction() as s:
        if not await is_available(s, supporter.id):  # type: ignore[arg-type]
            raise Refusal(
                "not_available",
                "Switch on “Available” first, so requests reach you.",
                status=409,
            )
        request = await s.get(SupportRequest, request_id)
        if request is None:
            raise _no_such_request()
        if request.member_id == supporter.id:
            raise Refusal(
                "own_request",
                "This is your own request: another supporter will take it.",
                status=403,
            )
        asker = await s.get(Member, request.member_id)
        if request.status == "open" and (asker is None or asker.deleted_at is not None):
            raise Refusal(
                "member_left",
                "This member has since left Kindred, so there's nobody to talk with here. "
                "Thank you for being ready.",
                status=409,
            )
        if request.member_id in await _blocked_either_way(s, supporter.id):  # type: ignore[arg-type]
            # Never in this supporter's queue, so answered as a request that isn't there:
            # "blocked" would tell a supporter that the member asking has blocked them.
            raise _no_such_request()
        room = Room(
            slug="p-" + secrets.token_hex(12),  # unguessable: the address reveals nothing
            name="Support conversation",
            kind="private",
            community_id=request.community_id,
            members_only=True,
        )
        s.add(room)
        await s.flush()
        taken = await s.exec(
            update(SupportRequest)
            .where(col(SupportRequest.id) == request_id, col(SupportRequest.status) == "open")
            .values(
                status="accepted",
                supporter_id=supporter.id,
                accepted_at=utcnow(),
                room_id=room.id,
            )
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise _not_open(request.status)  # the room goes with the rolled-back transaction
        await moderation.record(
            s,
            supporter,
            "accept_support_request",
            "support_request",
            request_id,
            request.community_id,
        )
    return room


def _no_such_request() -> Refusal:
    return Refusal("not_found", "There's no such request in your queue.", status=404)


def _not_open(status: str) -> Refusal:
    if status == "expired":
        return Refusal(
            "expired",
            "This request waited a day without a supporter and was closed; the member has been "
            "told they can ask again.",
            status=409,
        )
    if status == "cancelled":
        return Refusal(
            "cancelled", "The member has withdrawn this request; nothing more to do.", status=409
        )
    if status == "open":  # taken between our read and our update
        status = "accepted"
    if status == "accepted":
        return Refusal(
            "already_accepted",
            "Another supporter has just accepted this request. Thank you for being ready — "
            "the queue shows who else is waiting.",
            status=409,
        )
    return Refusal("not_open", "This request has already ended.", status=409)


# --------------------------------------------------------------------------- ending


async def end(ctx: AppContext, member: Member, request_id: int) -> SupportRequest:
    """Either side ends the conversation; both sides' sockets are closed for good (4003)
    after the commit, and their pages show that it has ended."""
    async with ctx.db.transaction() as s:
        request = await s.get(SupportRequest, request_id)
        if request is None or not is_participant(request, member):
            raise Refusal("not_found", "There's no conversation of yours here.", status=404)
        ended = await s.exec(
            update(SupportRequest)
            .where(col(SupportRequest.id) == request_id, col(SupportRequest.status) == "accepted")
            .values(status="ended", ended_at=utcnow(), ended_by_id=member.id)
        )
        if ended.rowcount != 1:  # type: ignore[attr-defined]
            raise Refusal("not_open", "This conversation has already ended.", status=409)
        await moderation.record(
            s, member, "end_support_conversation", "support_request", request_id,
            request.community_id,
            # The supporter is named; the member who asked is not (the request says whose).
            actor_name=None if member.id == request.supporter_id else "the member",
        )  # fmt: skip
        if ctx.settings.support_keep_days == 0:  # kept for no days: deleted at the end
            await purge_messages(s, [request.room_id])  # type: ignore[list-item]
        await s.refresh(request)
        watchers = await grant_holders(s, request.room_id)  # type: ignore[arg-type]
    await announce_end(ctx, request, member.id, watchers)  # type: ignore[arg-type]
    return request


async def purge_messages(s: AsyncSession, room_ids: list[int]) -> int:
    """Delete the messages of these conversations for good, except a conversation with a
    message that a still-open moderation case is about: the moderator may need to read it
    (and the rest for context), so it is deleted on a later round, once the case is closed.
    Returns how many messages went."""
    if not room_ids:
        return 0
    held = await moderation.open_case_targets(s, "chat_message")
    kept: set[int] = set()
    if held:
        kept = set(
            await s.exec(
                select(ChatMessage.room_id)
                .where(col(ChatMessage.id).in_(held), col(ChatMessage.room_id).in_(room_ids))
                .distinct()
            )
        )
    going = [room_id for room_id in room_ids if room_id not in kept]
    if not going:
        return 0
    result = await s.exec(delete(ChatMessage).where(col(ChatMessage.room_id).in_(going)))  # type: ignore[call-overload]
    return result.rowcount or 0


async def announce_end(
    ctx: AppContext, request: SupportRequest, by_id: int, watchers: list[int] | None = None
) -> None:
    """Tell everyone in the conversation that it has ended, then close their sockets for
    good (4003). Call only after the end is committed."""
    assert request.room_id is not None
    if watchers is None:
        async with ctx.db.read() as s:
            watchers = await grant_holders(s, request.room_id)
    ended_by = "member" if by_id == request.member_id else "supporter"
    frame = {"type": "support", "status": "ended", "ended_by": ended_by}
    await publish_state(ctx.broker, request.room_id, frame)
    for member_id in {request.member_id, request.supporter_id, *watchers} - {None}:
        await tell_member(ctx.broker, member_id, None, room_id=request.room_id, close=CLOSE_GONE)  # type: ignore[arg-type]


async def give_feedback(
    ctx: AppContext,
    member: Member,
    request_id: int,
    helped: bool | None,
    note: str,
    *,
    region: str | None = None,
) -> dict[str, Any] | None:
    """The member's private answer to "Did this help?" (moderators read it; no public
    score). Returns crisis resources when the note calls for them."""
    note = note.strip()
    if len(note) > FEEDBACK_MAX:
        raise Refusal("too_long", f"Keep the note to {FEEDBACK_MAX} characters. Your text is kept.")
    async with ctx.db.read() as s:
        request = await s.get(SupportRequest, request_id)
        if request is None or request.member_id != member.id:
            raise Refusal("not_found", "There's no conversation of yours here.", status=404)
        if request.status != "ended":
            raise Refusal(
                "not_ended", "You can say whether it helped once the conversation has ended."
            )
        if request.feedback_at is not None:
            raise Refusal("already_given", "You've already told us — thank you.", status=409)
    notice = None
    text = None
    if note:
        place = moderation.Place(
            moderation.SUPPORT_FEEDBACK, request.community_id, max_chars=FEEDBACK_MAX
        )
        verdict = await moderation.vet(ctx, member, place, note, region=region)
        if verdict.refused:
            raise verdict.refusal(draft=note)
        text = verdict.text
        notice = verdict.notice if verdict.crisis else None
    async with ctx.db.transaction() as s:
        await s.exec(
            update(SupportRequest)
            .where(col(SupportRequest.id) == request_id, col(SupportRequest.feedback_at).is_(None))
            .values(helped=helped, feedback=text, feedback_at=utcnow())
        )
    return notice


@dataclass(frozen=True)
class FeedbackItem:
    id: int
    community: str
    supporter: str
    helped: bool | None
    feedback: str | None
    ended_at: datetime | None


async def feedback_for(db: Database, viewer: Member) -> list[FeedbackItem]:
    """Feedback in the communities the viewer moderates (all for admins), newest first.
    The member who gave it is not named: moderators need to know how supporters are doing,
    not who asked for help."""
    async with db.read() as s:
        scope = await roles.communities_where(s, viewer, Action.MODERATE)
        if scope is not None and not scope:
            raise Refusal(
                "forbidden", "Only moderators and admins can read support feedback.", status=403
            )
        query = (
            sa.select(SupportRequest, Member)
            .outerjoin(Member, col(Member.id) == SupportRequest.supporter_id)
            .where(col(SupportRequest.feedback_at).is_not(None))
            .order_by(col(SupportRequest.feedback_at).desc())
            .limit(200)
        )
        if scope is not None:
            query = query.where(col(SupportRequest.community_id).in_(scope))
        rows = list(await s.exec(query))  # type: ignore[call-overload]
        names = await communities.by_ids(s, (r.community_id for r, _ in rows))
    return [
        FeedbackItem(
            r.id, names[r.community_id].name, name_of(supporter), r.helped, r.feedback, r.ended_at
        )
        for r, supporter in rows
        if r.community_id in names
    ]
