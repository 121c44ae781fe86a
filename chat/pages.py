"""Chat pages: the room list, a room with its recent history (readable and writable without
JavaScript; static/js/chat.js upgrades it to live chat), moderators' controls and the form
admins add rooms with."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from chat import controls, rooms, sending
from chat.badges import badge_in
from chat.gates import gate_for
from chat.models import SLOW_MODE_CHOICES, Room, slow_mode_label
from chat.runtime import chat_runtime, region_of
from core.context import AppContext, get_context
from core.errors import Refusal
from core.i18n import gettext as _
from core.web.errors import draft_of, error_response
from core.web.forms import form_text
from core.web.params import MAX_ID, loose_int
from identity.auth import SignInRequired, current_member, require_admin, require_member
from identity.country import country_name
from identity.models import Member


def _render(request: Request, template: str, data: dict[str, Any], status: int = 200) -> Response:
    return get_context(request).templates.TemplateResponse(
        request, template, data, status_code=status
    )


def _text(form: FormData, name: str) -> str:
    return form_text(form, name).strip()


async def _room(request: Request) -> Room:
    try:
        return await rooms.room_by_slug(
            get_context(request).db, request.path_params["slug"], current_member(request)
        )
    except Refusal:
        if current_member(request) is None:
            raise SignInRequired from None  # it may be a members-only room
        raise


async def rooms_page(request: Request) -> Response:
    found = await rooms.list_rooms(get_context(request).db, current_member(request))
    return _render(request, "chat/rooms.html", {"rooms": found})


async def room_page(request: Request) -> Response:
    room = await _room(request)
    ctx = get_context(request)
    if gate := gate_for(ctx, room):  # a session's or a conversation's room
        await rooms.refuse_unless_admitted(ctx, room, current_member(request), strict=False)
        if request.method == "GET":
            return RedirectResponse(gate.page_url(room), 303)
        message = _("Messages for this room are sent from its own page; your text is below.")
        return error_response(request, 409, "wrong_page", message, draft_of(await request.form()))
    if request.method == "POST":
        return await _post_message(request, room)
    return await _show_room(request, room)


async def _show_room(
    request: Request,
    room: Room,
    *,
    draft: str = "",
    error: Refusal | None = None,
    notice: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    member = current_member(request)
    before_id = loose_int(request.query_params.get("before"), high=MAX_ID)
    view = await rooms.room_view(get_context(request).db, room, member, before=before_id)
    data = {
        "room": room,
        "rules_html": view.rules_html,
        "first_visit": view.first_visit,
        "held": view.held,
        "slow_mode_label": slow_mode_label,
        "messages": view.messages,
        "older": view.older,
        "paged": before_id is not None,
        "moderator": view.moderator,
        "slow_mode_choices": [(x, slow_mode_label(x)) for x in SLOW_MODE_CHOICES],
        "client_id": str(uuid.uuid4()),  # a resubmitted form never posts twice
        "draft": draft,
        "error": error,
        "notice": notice,
        "max_chars": chat_runtime(request).max_chars,
        "can_chat": rooms.can_chat(member),
        # Whose helplines the crisis card shows (the same rule as the notice's resources).
        "crisis_country": country_name(region_of(request)),
    }
    return _render(request, "chat/room.html", data, status)


async def _post_message(request: Request, room: Room) -> Response:
    member = require_member(request)
    form = await request.form()
    body = form.get("body")
    body = body if isinstance(body, str) else ""
    client_id = _text(form, "client_id") or None
    ctx = get_context(request)
    async with ctx.db.read() as s:
        badge = await badge_in(s, member, room.community_id)
    try:
        sent = await sending.send_message(
            ctx,
            member,
            room,
            body,
            client_id,
            region=region_of(request),
            max_chars=chat_runtime(request).max_chars,
            badge=badge,
        )
    except Refusal as exc:
        keep = "" if exc.code == "held" else body  # a held message is stored: don't resend it
        return await _show_room(
            request, room, draft=keep, error=exc, notice=exc.notice, status=exc.status
        )
    if sent.notice:
        return await _show_room(request, room, notice=sent.notice)
    return RedirectResponse(f"/chat/{room.slug}#m{sent.frame['id']}", 303)


RoomAction = Callable[[AppContext, Member, Room, FormData, Request], Awaitable[Any]]


def moderator_control(run: RoomAction) -> Callable[[Request], Awaitable[Response]]:
    """A room-page moderator control: read the form, call one service function (which checks
    the moderator and writes the audit row), and come back to the room."""

    async def endpoint(request: Request) -> Response:
        member = require_member(request)
        room = await _room(request)
        await rooms.refuse_unless_admitted(get_context(request), room, member, strict=True)
        form = await request.form()
        await run(get_context(request), member, room, form, request)
        return RedirectResponse(f"/chat/{room.slug}", 303)

    return endpoint


def _seconds(form: FormData) -> int:
    return loose_int(_text(form, "seconds"), -1)  # anything else: the service says why


slow_mode = moderator_control(
    lambda ctx, member, room, form, _: controls.set_slow_mode(ctx, member, room, _seconds(form))
)
lock_room = moderator_control(
    lambda ctx, member, room, form, _: controls.set_locked(
        ctx, member, room, _text(form, "locked") == "yes"
    )
)
clear_messages = moderator_control(
    lambda ctx, member, room, form, _: controls.clear_member_messages(
        ctx, member, room, _text(form, "pseudonym")
    )
)
remove_message = moderator_control(
    lambda ctx, member, room, _, request: controls.remove_message(
        ctx, member, room, int(request.path_params["seq"])
    )
)


async def new_room(request: Request) -> Response:
    member = require_admin(request)
    ctx = get_context(request)
    values: dict[str, Any] = {"members_only": False}
    error = None
    if request.method == "POST":
        form = await request.form()
        values = {k: _text(form, k) for k in ("slug", "name", "description", "community")}
        values["members_only"] = _text(form, "members_only") == "yes"
        community = values["community"]
        try:
            room = await rooms.create_room(
                ctx.db,
                member,
                slug=values["slug"],
                name=values["name"],
                description=values["description"],
                community_id=loose_int(community, high=MAX_ID),
                members_only=values["members_only"],
            )
        except Refusal as exc:
            error = exc
        else:
            return RedirectResponse(f"/chat/{room.slug}", 303)
    communities = await rooms.community_choices(ctx.db)
    data = {"values": values, "error": error, "communities": communities}
    return _render(request, "chat/new_room.html", data, 422 if error else 200)


routes = [
    Route("/chat", rooms_page, methods=["GET"]),
    Route("/chat/new", new_room, methods=["GET", "POST"]),
    Route("/chat/{slug}", room_page, methods=["GET", "POST"]),
    Route("/chat/{slug}/slow-mode", slow_mode, methods=["POST"]),
    Route("/chat/{slug}/messages/{seq:int}/remove", remove_message, methods=["POST"]),
    Route("/chat/{slug}/lock", lock_room, methods=["POST"]),
    Route("/chat/{slug}/clear", clear_messages, methods=["POST"]),
]
