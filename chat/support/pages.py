"""1:1 support pages: asking, waiting, the supporters' queue, the conversation, and the
moderators' feedback list. Every page works as plain forms; static/js/support.js adds
polling (the waiting page and the queue) and the conversation's end, and static/js/chat.js
makes the conversation live, exactly as in a chat room.

The moderators' page lives here rather than in moderation/ because moderation never imports
chat; it sits under /moderation/support so moderators find it beside their other tools.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from chat import rooms, sending
from chat.badges import badge_in
from chat.runtime import chat_runtime, region_of
from chat.support import access, asking, care, conversation, limits, requests, supporters
from chat.support.feedback import feedback_for, give_feedback, may_read_feedback
from communities import roles
from communities.roles import Action
from core.context import get_context
from core.db import utcnow
from core.errors import Refusal
from core.i18n import gettext as _
from core.web.forms import form_text
from core.web.params import MAX_ID, loose_int
from identity.auth import current_member, require_member
from identity.country import country_name
from identity.models import Member
from moderation import api as moderation


def _render(request: Request, template: str, data: dict[str, Any], status: int = 200) -> Response:
    return get_context(request).templates.TemplateResponse(
        request, template, data, status_code=status
    )


def _int(value: str) -> int | None:
    return loose_int(value, high=MAX_ID)  # not an id: the service says what to choose


# --------------------------------------------------------------------------- asking


async def ask_page(request: Request) -> Response:
    if request.method == "GET" and current_member(request) is None:
        return _visitor_page(request)
    member = require_member(request)
    ctx = get_context(request)
    if request.method == "GET":
        existing = await asking.current_request(ctx.db, member)
        if existing is not None:  # one at a time: take them back to it
            return RedirectResponse(requests.request_url(existing), 303)
        return await _show_ask(request, member)
    form = await request.form()
    note, community = form_text(form, "note"), form_text(form, "community").strip()
    try:
        asked = await asking.ask(ctx, member, _int(community), note, region=region_of(request))
    except Refusal as exc:
        return await _show_ask(request, member, note=note, community=community, error=exc)
    target = requests.request_url(asked.request)
    return RedirectResponse(target + ("?crisis=1" if asked.notice else ""), 303)


def _visitor_page(request: Request) -> Response:
    """Someone signed out who wants to talk: the helplines for their country now, and how
    to join so a peer supporter here can talk with them (never a bare sign-in form)."""
    region = region_of(request)
    data = {"resources": moderation.crisis_resources(region), "country": country_name(region)}
    return _render(request, "chat/support/visitor.html", data)


async def _show_ask(
    request: Request,
    member: Member,
    *,
    note: str = "",
    community: str = "",
    error: Refusal | None = None,
) -> Response:
    data = {
        "communities": await rooms.community_choices(get_context(request).db),
        "note": note,
        "community": community,
        "error": error,
        "note_max": asking.NOTE_MAX,
        "supporter": roles.holds(member, Action.TAKE_SUPPORT),
    }
    return _render(request, "chat/support/ask.html", data, error.status if error else 200)


async def waiting_page(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    region = region_of(request)
    found = await asking.waiting(ctx, member, request.path_params["id"], region=region)
    if found.conversation is not None:  # a supporter accepted: the conversation is open
        return RedirectResponse(found.conversation, 303)
    data = {
        "req": found.request,
        "topic": found.topic,
        "timed_out": found.late,
        "sessions": found.sessions,
        "resources": found.resources,
        "free_supporters": found.free,
        "wait_minutes": ctx.settings.support_wait_minutes,
        "note_max": asking.NOTE_MAX,
    }
    return _render(request, "chat/support/waiting.html", data)


async def cancel_request(request: Request) -> Response:
    member = require_member(request)
    try:
        await asking.cancel(get_context(request), member, request.path_params["id"])
    except Refusal as exc:
        if exc.code == "already_accepted":
            return RedirectResponse(f"/support/requests/{request.path_params['id']}", 303)
        raise
    return RedirectResponse("/support?cancelled=1", 303)


# --------------------------------------------------------------------------- supporters


async def queue_page(request: Request, *, error: Refusal | None = None) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    queue = await supporters.queue(ctx.db, member)
    async with ctx.db.read() as s:
        rest = await care.break_note(s, member.id)  # type: ignore[arg-type]
        mine = await limits.limits_of(s, member.id)  # type: ignore[arg-type]
    data = {
        "queue": queue,
        "break_note": rest,
        "limits": mine,
        "days": limits.DAYS,
        "moderates": await may_read_feedback(ctx.db, member),
        "debriefs_waiting": await care.open_debriefs(ctx.db, member),
        "error": error,
        "communities": await rooms.community_choices(ctx.db),
        "now": utcnow(),
    }
    return _render(request, "chat/support/queue.html", data, error.status if error else 200)


async def availability(request: Request) -> Response:
    member = require_member(request)
    form = await request.form()
    await supporters.set_available(
        get_context(request), member, form_text(form, "available") == "yes"
    )
    return RedirectResponse("/support/queue", 303)


async def topics(request: Request) -> Response:
    member = require_member(request)
    form = await request.form()
    chosen = {_int(v) for v in form.getlist("community") if isinstance(v, str)} - {None}
    await supporters.set_topics(get_context(request), member, chosen)
    return RedirectResponse("/support/queue", 303)


async def accept(request: Request) -> Response:
    member = require_member(request)
    try:
        room = await supporters.accept(get_context(request), member, request.path_params["id"])
    except Refusal as exc:
        if exc.status == 403 and exc.code == "forbidden":
            raise
        return await queue_page(request, error=exc)
    return RedirectResponse(requests.conversation_url(room.slug), 303)


# --------------------------------------------------------------------------- the conversation


async def _conversation(request: Request) -> tuple[Member, access.Conversation]:
    """The viewer, and the conversation with their part in it (access.conversation_for)."""
    member = require_member(request)
    slug = request.path_params["slug"]
    return member, await access.conversation_for(get_context(request).db, slug, member)


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
    debrief_draft: str = "",
    debrief_error: Refusal | None = None,
) -> Response:
    member, talk = await _conversation(request)
    ctx = get_context(request)
    page = await conversation.conversation_page(ctx, talk, member)
    rest = debrief = None
    may_debrief = False
    if talk.role == "supporter" and talk.request.status == "ended":  # looking after them
        async with ctx.db.read() as s:
            rest = await care.break_note(s, member.id, talk.request)  # type: ignore[arg-type]
            debrief = await care.debrief_state(s, talk.request.id)  # type: ignore[arg-type]
            may_debrief = await care.may_ask_debrief(s, talk.request, member)
    data = {
        "room": talk.room,
        "req": talk.request,
        "role": talk.role,
        "topic": page.topic,
        "other": page.other,
        "supporter_name": page.supporter_name,
        "asker_name": page.asker_name,
        "messages": page.messages,
        "live": page.can_write,
        "can_write": page.can_write,
        "client_id": str(uuid.uuid4()),
        "draft": draft,
        "error": error,
        "notice": notice,
        # Whose helplines a crisis card shows (the member's country, never the network's).
        "crisis_country": country_name(region_of(request)),
        "feedback_notice": None,
        "max_chars": chat_runtime(request).max_chars,
        "thanks": request.query_params.get("thanks") == "1",
        "keep_days": ctx.settings.support_keep_days,
        "delete_on": page.delete_on,
        "break_note": rest,
        "debrief": debrief,
        "may_debrief": may_debrief,
        "debrief_draft": debrief_draft,
        "debrief_error": debrief_error,
        "debrief_max": care.DEBRIEF_NOTE_MAX,
    }
    return _render(request, "chat/support/conversation.html", data, status)


async def _post_message(request: Request) -> Response:
    member, talk = await _conversation(request)
    form = await request.form()
    body = form.get("body")
    body = body if isinstance(body, str) else ""
    ctx = get_context(request)
    async with ctx.db.read() as s:
        badge = await badge_in(s, member, talk.room.community_id)
    try:
        sent = await sending.send_message(
            ctx,
            member,
            talk.room,
            body,
            form_text(form, "client_id").strip() or None,
            region=region_of(request),
            max_chars=chat_runtime(request).max_chars,
            badge=badge,
        )
    except Refusal as exc:
        keep = "" if exc.code == "held" else body  # a held message is stored already
        return await _show_conversation(
            request, draft=keep, error=exc, notice=exc.notice, status=exc.status
        )
    if sent.notice:
        return await _show_conversation(request, notice=sent.notice)
    return RedirectResponse(f"{requests.conversation_url(talk.room.slug)}#m{sent.frame['id']}", 303)


async def end_conversation(request: Request) -> Response:
    member, talk = await _conversation(request)
    if talk.role == "moderator":
        raise HTTPException(403, _("Only the member and their supporter can end the conversation."))
    try:
        await conversation.end(get_context(request), member, talk.request.id)  # type: ignore[arg-type]
    except Refusal as exc:
        if exc.code != "not_open":  # ended already, perhaps by the other side: show it
            raise
    return RedirectResponse(requests.conversation_url(talk.room.slug), 303)


async def feedback(request: Request) -> Response:
    member, talk = await _conversation(request)
    form = await request.form()
    answer = form_text(form, "helped")
    helped = {"yes": True, "no": False}.get(answer)
    note = form_text(form, "note") if answer != "skip" else ""
    thanks = requests.conversation_url(talk.room.slug) + "?thanks=1"
    try:
        notice = await give_feedback(
            get_context(request),
            member,
            talk.request.id,  # type: ignore[arg-type]
            helped,
            note,
            region=region_of(request),
        )
    except Refusal as exc:
        if exc.code == "already_given":
            return RedirectResponse(thanks, 303)
        if exc.status == 404:
            raise
        return await _show_conversation(request, draft=note, error=exc, status=exc.status)
    if notice:
        return await _show_conversation(request, notice=notice)
    return RedirectResponse(thanks, 303)


# --------------------------------------------------------------------------- moderators


async def open_page(request: Request) -> Response:
    """A moderator opens a private conversation from a report: GET explains and asks them to
    confirm (choosing the case); POST records it and grants time-limited access."""
    member = require_member(request)
    ctx = get_context(request)
    found = await access.opening(ctx.db, request.path_params["slug"], member)
    room, cases = found.room, found.cases
    if found.participant:
        return RedirectResponse(requests.conversation_url(room.slug), 303)
    error = None
    if request.method == "POST":
        form = await request.form()
        try:
            await access.open_for_moderator(ctx, member, room, _int(form_text(form, "case")))
        except Refusal as exc:
            error = exc
        else:
            return RedirectResponse(requests.conversation_url(room.slug), 303)
    data = {"room": room, "cases": cases, "error": error, "minutes": access.ACCESS_MINUTES}
    status = error.status if error else (200 if cases else 403)
    return _render(request, "chat/support/open.html", data, status)


async def feedback_page(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    items = await feedback_for(ctx.db, member)
    data = {"items": items, "debriefs_waiting": await care.open_debriefs(ctx.db, member)}
    return _render(request, "chat/support/feedback.html", data)


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
