"""1:1 support pages: asking, waiting, the supporters' queue, the conversation, and the
moderators' feedback list. Every page works as plain forms; static/js/support.js adds
polling (the waiting page and the queue) and the conversation's end, and static/js/chat.js
makes the conversation live, exactly as in a chat room.

The moderators' page lives here rather than in moderation/ because moderation never imports
chat; it sits under /moderation/support so moderators find it beside their other tools.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from sqlmodel import select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from chat import service as chat
from chat.models import Room
from chat.runtime import chat_runtime, region_of
from chat.support import access, service
from chat.support.models import SupportRequest
from communities import roles
from communities.roles import Action
from core.context import get_context
from core.db import utcnow
from core.errors import Refusal
from core.web.forms import form_text
from core.web.params import MAX_ID, loose_int
from identity.auth import require_member
from identity.models import Member
from moderation import api as moderation

log = logging.getLogger("kindred.chat.support")


def _render(request: Request, template: str, data: dict[str, Any], status: int = 200) -> Response:
    return get_context(request).templates.TemplateResponse(
        request, template, data, status_code=status
    )


def _int(value: str) -> int | None:
    return loose_int(value, high=MAX_ID)  # not an id: the service says what to choose


# --------------------------------------------------------------------------- asking


async def ask_page(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    if request.method == "GET":
        async with ctx.db.read() as s:
            existing = await service.live_request(s, member.id)  # type: ignore[arg-type]
        if existing is not None:  # one at a time: take them back to it
            return RedirectResponse(service.request_url(existing), 303)
        return await _show_ask(request, member)
    form = await request.form()
    note, community = form_text(form, "note"), form_text(form, "community").strip()
    try:
        asked = await service.ask(ctx, member, _int(community), note, region=region_of(request))
    except Refusal as exc:
        return await _show_ask(request, member, note=note, community=community, error=exc)
    target = service.request_url(asked.request)
    return RedirectResponse(target + ("?crisis=1" if asked.notice else ""), 303)


async def _show_ask(
    request: Request,
    member: Member,
    *,
    note: str = "",
    community: str = "",
    error: Refusal | None = None,
) -> Response:
    data = {
        "communities": await chat.community_choices(get_context(request).db),
        "note": note,
        "community": community,
        "error": error,
        "note_max": service.NOTE_MAX,
        "supporter": roles.holds(member, Action.TAKE_SUPPORT),
    }
    return _render(request, "chat/support/ask.html", data, error.status if error else 200)


async def _own_request(request: Request, member: Member) -> SupportRequest:
    found = await service.get_request(get_context(request).db, request.path_params["id"])
    if found is None or found.member_id != member.id:
        raise HTTPException(404, "There's no request of yours here.")
    return found


async def waiting_page(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    found = await _own_request(request, member)
    if found.status in ("accepted", "ended") and found.room_id is not None:
        async with ctx.db.read() as s:
            room = await s.get(Room, found.room_id)
        if room is not None:
            return RedirectResponse(service.conversation_url(room.slug), 303)
    async with ctx.db.read() as s:
        topic = await service.community_name(s, found.community_id)
    # Expired: it waited a day and the sweeper closed it; other help is shown as for a long
    # wait, with the note ready to ask again.
    late = service.timed_out(found, ctx.settings) or found.status == "expired"
    data = {
        "req": found,
        "topic": topic,
        "timed_out": late,
        "sessions": await _upcoming(ctx, found.community_id) if late else None,
        "resources": (
            moderation.crisis_resources(region_of(request)) if late or found.crisis else []
        ),
        "wait_minutes": ctx.settings.support_wait_minutes,
        "note_max": service.NOTE_MAX,
    }
    return _render(request, "chat/support/waiting.html", data)


async def _upcoming(ctx: Any, community_id: int) -> list[Any] | None:
    """The group sessions coming up (chat/groups): the member's topic first, else any. None
    when that part cannot say, and the page links to /sessions instead. Imported lazily:
    group sessions are a separate feature this page only points to."""
    try:
        from chat.groups.service import upcoming_sessions

        found = await upcoming_sessions(ctx.db, community_id=community_id, limit=5)
        return list(found or await upcoming_sessions(ctx.db, limit=5))
    except Exception:  # not there, or failing: the plain link still helps
        log.exception("support: upcoming group sessions unavailable")
        return None


async def cancel_request(request: Request) -> Response:
    member = require_member(request)
    try:
        await service.cancel(get_context(request), member, request.path_params["id"])
    except Refusal as exc:
        if exc.code == "already_accepted":
            return RedirectResponse(f"/support/requests/{request.path_params['id']}", 303)
        raise
    return RedirectResponse("/support?cancelled=1", 303)


# --------------------------------------------------------------------------- supporters


async def queue_page(request: Request, *, error: Refusal | None = None) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    queue = await service.queue(ctx.db, member)
    async with ctx.db.read() as s:
        moderates = await roles.may_somewhere(s, member, Action.MODERATE)
    data = {
        "queue": queue,
        "moderates": moderates,
        "error": error,
        "communities": await chat.community_choices(ctx.db),
        "now": utcnow(),
    }
    return _render(request, "chat/support/queue.html", data, error.status if error else 200)


async def availability(request: Request) -> Response:
    member = require_member(request)
    form = await request.form()
    await service.set_available(get_context(request), member, form_text(form, "available") == "yes")
    return RedirectResponse("/support/queue", 303)


async def topics(request: Request) -> Response:
    member = require_member(request)
    form = await request.form()
    chosen = {_int(v) for v in form.getlist("community") if isinstance(v, str)} - {None}
    await service.set_topics(get_context(request), member, chosen)
    return RedirectResponse("/support/queue", 303)


async def accept(request: Request) -> Response:
    member = require_member(request)
    try:
        room = await service.accept(get_context(request), member, request.path_params["id"])
    except Refusal as exc:
        if exc.status == 403 and exc.code == "forbidden":
            raise
        return await queue_page(request, error=exc)
    return RedirectResponse(service.conversation_url(room.slug), 303)


# --------------------------------------------------------------------------- the conversation


async def _conversation(request: Request) -> tuple[Member, Room, SupportRequest, str]:
    """The room, its request, and the viewer's role in it: member, supporter or moderator
    (with a current grant). The community's other moderators are refused with how they get
    in; anyone else gets a 404, as for an address with nothing there."""
    member = require_member(request)
    ctx = get_context(request)
    async with ctx.db.read() as s:
        room = (await s.exec(select(Room).where(Room.slug == request.path_params["slug"]))).first()
        found = await service.request_for_room(s, room.id) if room else None  # type: ignore[arg-type]
        if room is None or found is None:
            raise HTTPException(404, "There's no conversation at this address.")
        if found.member_id == member.id:
            return member, room, found, "member"
        if found.supporter_id == member.id:
            return member, room, found, "supporter"
        if await service.has_grant(s, room.id, member.id):  # type: ignore[arg-type]
            return member, room, found, "moderator"
        if not await access.moderates(s, member, room):  # not even told it exists
            raise HTTPException(404, "There's no conversation at this address.")
    raise HTTPException(
        403,
        "This is a private conversation between a member and a peer supporter. Moderators "
        "can open one only from a report about a message in it.",
    )


async def conversation_page(request: Request) -> Response:
    if request.method == "POST":
        return await _post_message(request)
    return await _show_conversation(request)


async def _show_conversation(
    request: Request,
    *,
    draft: str = "",
    error: Refusal | None = None,
    notice: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    member, room, found, role = await _conversation(request)
    ctx = get_context(request)
    messages = await chat.recent_messages(ctx.db, room, member, limit=chat.HISTORY_LIMIT)
    async with ctx.db.read() as s:
        other_id = found.supporter_id if role == "member" else found.member_id
        other = await s.get(Member, other_id) if other_id else None
        supporter = await s.get(Member, found.supporter_id) if found.supporter_id else None
        asker = await s.get(Member, found.member_id)
        topic = await service.community_name(s, found.community_id)
    data = {
        "room": room,
        "req": found,
        "role": role,
        "topic": topic,
        "other": service.name_of(other),
        "supporter_name": service.name_of(supporter),
        "asker_name": service.name_of(asker),
        "messages": messages,
        "live": found.status == "accepted" and role != "moderator",
        "can_write": found.status == "accepted" and role != "moderator",
        "client_id": str(uuid.uuid4()),
        "draft": draft,
        "error": error,
        "notice": notice,
        "feedback_notice": None,
        "max_chars": chat_runtime(request).max_chars,
        "thanks": request.query_params.get("thanks") == "1",
        "keep_days": ctx.settings.support_keep_days,
        "delete_on": (
            found.ended_at + timedelta(days=ctx.settings.support_keep_days)
            if found.ended_at and ctx.settings.support_keep_days
            else None
        ),
    }
    return _render(request, "chat/support/conversation.html", data, status)


async def _post_message(request: Request) -> Response:
    member, room, _found, _role = await _conversation(request)
    form = await request.form()
    body = form.get("body")
    body = body if isinstance(body, str) else ""
    try:
        sent = await chat.send_message(
            get_context(request),
            member,
            room,
            body,
            form_text(form, "client_id").strip() or None,
            region=region_of(request),
            max_chars=chat_runtime(request).max_chars,
        )
    except Refusal as exc:
        keep = "" if exc.code == "held" else body  # a held message is stored already
        return await _show_conversation(
            request, draft=keep, error=exc, notice=exc.notice, status=exc.status
        )
    if sent.notice:
        return await _show_conversation(request, notice=sent.notice)
    return RedirectResponse(f"{service.conversation_url(room.slug)}#m{sent.frame['id']}", 303)


async def end_conversation(request: Request) -> Response:
    member, room, found, role = await _conversation(request)
    if role == "moderator":
        raise HTTPException(403, "Only the member and their supporter can end the conversation.")
    try:
        await service.end(get_context(request), member, found.id)  # type: ignore[arg-type]
    except Refusal as exc:
        if exc.code != "not_open":  # ended already, perhaps by the other side: show it
            raise
    return RedirectResponse(service.conversation_url(room.slug), 303)


async def feedback(request: Request) -> Response:
    member, room, found, _role = await _conversation(request)
    form = await request.form()
    answer = form_text(form, "helped")
    helped = {"yes": True, "no": False}.get(answer)
    note = form_text(form, "note") if answer != "skip" else ""
    try:
        notice = await service.give_feedback(
            get_context(request),
            member,
            found.id,  # type: ignore[arg-type]
            helped,
            note,
            region=region_of(request),
        )
    except Refusal as exc:
        if exc.code == "already_given":
            return RedirectResponse(service.conversation_url(room.slug) + "?thanks=1", 303)
        if exc.status == 404:
            raise
        return await _show_conversation(request, draft=note, error=exc, status=exc.status)
    if notice:
        return await _show_conversation(request, notice=notice)
    return RedirectResponse(service.conversation_url(room.slug) + "?thanks=1", 303)


# --------------------------------------------------------------------------- moderators


async def open_page(request: Request) -> Response:
    """A moderator opens a private conversation from a report: GET explains and asks them to
    confirm (choosing the case); POST records it and grants time-limited access."""
    member = require_member(request)
    ctx = get_context(request)
    async with ctx.db.read() as s:
        room = (await s.exec(select(Room).where(Room.slug == request.path_params["slug"]))).first()
        found = await service.request_for_room(s, room.id) if room else None  # type: ignore[arg-type]
        if room is None or found is None:
            raise HTTPException(404, "There's no conversation at this address.")
        if service.is_participant(found, member):
            return RedirectResponse(service.conversation_url(room.slug), 303)
        await access.require_room_moderator(s, member, room)
        cases = await access.reported_cases(s, room)
    error = None
    if request.method == "POST":
        form = await request.form()
        try:
            await access.open_for_moderator(ctx, member, room, _int(form_text(form, "case")))
        except Refusal as exc:
            error = exc
        else:
            return RedirectResponse(service.conversation_url(room.slug), 303)
    data = {"room": room, "cases": cases, "error": error, "minutes": access.ACCESS_MINUTES}
    status = error.status if error else (200 if cases else 403)
    return _render(request, "chat/support/open.html", data, status)


async def feedback_page(request: Request) -> Response:
    member = require_member(request)
    items = await service.feedback_for(get_context(request).db, member)
    return _render(request, "chat/support/feedback.html", {"items": items})


routes = [
    Route("/support", ask_page, methods=["GET", "POST"]),
    Route("/support/queue", queue_page, methods=["GET"]),
    Route("/support/availability", availability, methods=["POST"]),
    Route("/support/topics", topics, methods=["POST"]),
    Route("/support/requests/{id:int}", waiting_page, methods=["GET"]),
    Route("/support/requests/{id:int}/cancel", cancel_request, methods=["POST"]),
    Route("/support/requests/{id:int}/accept", accept, methods=["POST"]),
    Route("/support/conversations/{slug}", conversation_page, methods=["GET", "POST"]),
    Route("/support/conversations/{slug}/end", end_conversation, methods=["POST"]),
    Route("/support/conversations/{slug}/feedback", feedback, methods=["POST"]),
    Route("/support/conversations/{slug}/open", open_page, methods=["GET", "POST"]),
    Route("/moderation/support", feedback_page, methods=["GET"]),
]
