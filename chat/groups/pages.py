"""Group sessions' pages: the upcoming list (site-wide and per community), the schedule form,
a session's page (details, RSVP, ground rules, lobby, then the live room that static/js/chat.js
drives, with the facilitator's panel), its .ics download, and every action as a plain form.

Times are stored in UTC. A page shows them on the member's own clock when they have chosen a
zone (a cookie, set here on the sessions page, that every page reads: core/web/clock.py);
otherwise in UTC, and static/js/kindred.js rewrites them in the browser's zone. Either way
they are written the one way core/clock.py says (templates/macros/time.html).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from chat import rooms, sending
from chat.badges import badge_in
from chat.groups import clock, ics, recurrence, scheduling, service
from chat.groups.actions import ACTIONS, yes
from chat.groups.session_view import calendar_sessions, session_page
from chat.models import SLOW_MODE_CHOICES, slow_mode_label
from chat.runtime import chat_runtime, region_of
from core.context import get_context
from core.db import utcnow
from core.errors import Refusal
from core.i18n import N_
from core.i18n import gettext as _
from core.web.clock import ZONE_COOKIE, member_zone
from core.web.errors import draft_of
from core.web.forms import form_text
from core.web.params import loose_int
from identity.auth import SignInRequired, current_member, require_member
from identity.country import country_name

JOIN_MESSAGES = 10  # a session page carries only the last few messages: slow links


def _render(request: Request, template: str, data: dict[str, Any], status: int = 200) -> Response:
    data = {"zone": member_zone(request), **data}
    return get_context(request).templates.TemplateResponse(
        request, template, data, status_code=status
    )


def _id(request: Request) -> int:
    return int(request.path_params["id"])


# --------------------------------------------------------------------------- lists


async def upcoming_page(request: Request) -> Response:
    slug = request.path_params.get("slug") or request.query_params.get("community", "")
    return await _upcoming(request, slug)


async def _upcoming(
    request: Request, slug: str, *, zone: tuple[str, str, str] | None = None
) -> Response:
    """The upcoming list; `zone` is (the page to return to, the zone typed, why it wasn't
    understood) when the zone form comes back with an error beside its box."""
    ctx = get_context(request)
    community = await service.community_by_slug(ctx.db, slug) if slug else None
    if slug and community is None:
        if zone is None:
            raise HTTPException(404, _("There's no community at this address."))
        slug = ""
    member = current_member(request)
    sessions = await service.upcoming_sessions(
        ctx.db,
        community_id=community[0] if community else None,
        limit=50,
        signed_in=member is not None,
    )
    data = {
        "sessions": sessions,
        "community": community,
        "community_slug": slug,
        "communities": await service.community_options(ctx.db),
        "zones": clock.common_zones(member_zone(request)),
        "can_schedule": bool(await scheduling.schedulable(ctx.db, member)),
        "zone_next": zone[0] if zone else "",
        "zone_typed": zone[1] if zone else "",
        "zone_error": zone[2] if zone else None,
    }
    return _render(request, "chat/groups/list.html", data, 422 if zone else 200)


def _sessions_slug(back: str) -> str:
    """The community whose sessions page the zone form was on ("" for every community's)."""
    parts = urlsplit(back)
    path = parts.path.strip("/").split("/")
    if len(path) == 3 and path[0] == "c" and path[2] == "sessions":
        return path[1]
    return dict(parse_qsl(parts.query)).get("community", "")


async def set_zone(request: Request) -> Response:
    """Remember the member's chosen time zone (a cookie: nothing stored about them). An empty
    box forgets it: times then follow the device's zone (or UTC without JavaScript)."""
    form = await request.form()
    typed = form_text(form, "zone").strip()
    back = form_text(form, "next") or "/sessions"
    if not back.startswith("/") or back.startswith("//") or urlsplit(back).netloc:
        back = "/sessions"
    response = RedirectResponse(back, 303)
    if not typed:
        response.delete_cookie(ZONE_COOKIE)
        return response
    try:
        name = clock.find_zone(typed)
    except recurrence.TimeError as exc:
        # Back on the page the form was on, the error beside the box and the words kept.
        return await _upcoming(request, _sessions_slug(back), zone=(back, typed, str(exc)))
    response.set_cookie(ZONE_COOKIE, name, max_age=365 * 86400, httponly=True, samesite="lax")
    return response


# --------------------------------------------------------------------------- scheduling


def schedule_from(values: dict[str, Any]) -> scheduling.Schedule:
    def number(name: str, default: int) -> int:
        return loose_int(str(values.get(name, "")), default)  # the scheduler checks the range

    names = str(values.get("facilitators", ""))
    return scheduling.Schedule(
        community=str(values.get("community", "")),
        title=str(values.get("title", "")),
        description=str(values.get("description", "")),
        ground_rules=str(values.get("ground_rules", "")),
        date=str(values.get("date", "")),
        time=str(values.get("time", "")),
        timezone=str(values.get("timezone", "")) or "UTC",
        duration_minutes=number("duration_minutes", 0),
        capacity=number("capacity", 0),
        facilitators=[n for n in names.replace("\n", ",").split(",") if n.strip()],
        weeks=number("weeks", 0) if str(values.get("repeat", "")) == "weekly" else 1,
    )


# The form's first draft of the rules, in the facilitator's language (they edit them; what
# they save is their own words, shown to everyone as written).
DEFAULT_RULES = N_(
    "1. What's said here stays here.\n"
    "2. Speak from your own experience; no advice unless someone asks.\n"
    "3. Use no names, yours or anyone's.\n"
    "4. Wait for your turn when turn-taking is on.\n"
    "5. If you're in danger right now, call your local emergency number."
)


async def new_session(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    offered = await scheduling.schedulable(ctx.db, member)
    if not offered:
        raise HTTPException(
            403,
            _(
                "Peer supporters and a community's moderators schedule group sessions. "
                "To run one, ask an admin about becoming a peer supporter."
            ),
        )
    values: dict[str, Any] = {
        "community": request.query_params.get("community", ""),
        "timezone": member_zone(request) or "UTC",
        "duration_minutes": "60",
        "capacity": "12",
        "ground_rules": _(DEFAULT_RULES),
        "weeks": "4",
        "time": "19:00",
    }
    error = None
    guess_zone = member_zone(request) is None  # sessions.js puts in the browser's
    if request.method == "POST":
        guess_zone = False
        form = await request.form()
        values = {k: form_text(form, k) for k in form}
        try:
            created = await scheduling.schedule(ctx, member, schedule_from(values))
        except Refusal as exc:
            error = exc
        else:
            return RedirectResponse(service.session_url(created[0].id), 303)  # type: ignore[arg-type]
    data = {
        "values": values,
        "error": error,
        "communities": offered,
        "zones": clock.common_zones(str(values.get("timezone", "")) or None),
        "guess_zone": guess_zone,
        "max_weeks": recurrence.MAX_OCCURRENCES,
    }
    return _render(request, "chat/groups/new.html", data, error.status if error else 200)


# --------------------------------------------------------------------------- one session


async def _session_page(
    request: Request,
    *,
    error: Refusal | None = None,
    draft: str = "",
    notice: dict[str, Any] | None = None,
    status: int = 200,
    draft_for: str = "",
) -> Response:
    """`draft_for`: the action whose form the draft goes back into ("send", "pin", "summary"),
    so a refused pin never lands in the message box, whatever the refusal's code."""
    ctx = get_context(request)
    member = current_member(request)
    page = await session_page(ctx, _id(request), member, messages=JOIN_MESSAGES)
    if page is None:
        raise SignInRequired
    data = {
        "session": page.view.session,
        "room": page.room,
        "state": page.view.state,
        "you": page.view.you,
        "parts": page.view.parts,
        "panel": page.view.panel,
        "inside": page.inside,
        "waiting": page.waiting,
        "over": page.over,
        "lobby_open": page.lobby_open,
        "lobby_opens": page.lobby_opens,
        "ends_at": service.ends_at(page.view.session),
        "community_slug": page.community_slug,
        "community_name": page.community_name,
        "messages": page.messages,
        "moderator": page.moderator,
        "grace_minutes": ctx.settings.session_grace_minutes,
        "slow_mode_choices": [(x, slow_mode_label(x)) for x in SLOW_MODE_CHOICES],
        "slow_mode_label": slow_mode_label,
        "client_id": str(uuid.uuid4()),
        "max_chars": chat_runtime(request).max_chars,
        "can_chat": rooms.can_chat(member),
        "error": error,
        "draft": draft,
        "draft_for": draft_for,
        "notice": notice,
        # Whose helplines the crisis card shows (the same rule as the notice's resources).
        "crisis_country": country_name(region_of(request)),
    }
    return _render(request, "chat/groups/session.html", data, status)


async def show_session(request: Request) -> Response:
    return await _session_page(request)


async def room_redirect(request: Request) -> Response:
    """Where /chat/{slug} sends a browser for a session's room: the session's page."""
    found = await service.session_at_room(get_context(request).db, request.path_params["slug"])
    if found is None:
        raise HTTPException(404, _("There's no group session here."))
    return RedirectResponse(service.session_url(found), 303)


async def session_ics(request: Request) -> Response:
    """One session, or with ?series=all its weekly series as one recurring event; ?remind=
    none|15|30|60 minutes (30 by default), ?discreet=1 for a title that says nothing."""
    ctx = get_context(request)
    query = request.query_params
    series = query.get("series") == "all"
    found = await calendar_sessions(ctx.db, _id(request), current_member(request), series=series)
    if found is None:
        raise SignInRequired
    url = ctx.settings.site_url
    site = ics.Site(url, urlsplit(url).hostname or "kindred", found.community_slug)
    options = ics.Options(ics.reminder(query.get("remind")), discreet=yes(query, "discreet"))
    body = ics.calendar(found.sessions, found.series, site, utcnow(), options)
    name = f"kindred-session-{_id(request)}.ics"
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


async def session_action(request: Request) -> Response:
    """Every button on a session's page: run the action, come back to the page (or show it
    again with the error and whatever the member typed)."""
    member = require_member(request)
    action = ACTIONS.get(request.path_params["action"])
    if action is None:
        raise HTTPException(404, _("There's no such action."))
    form = await request.form()
    values = {k: form_text(form, k) for k in form}
    try:
        await action(get_context(request), member, _id(request), values, region_of(request))
    except Refusal as exc:
        return await _session_page(
            request,
            error=exc,
            draft=values.get("text", ""),
            status=exc.status,
            draft_for=request.path_params["action"],
        )
    done = request.path_params["action"]
    anchor = (
        ""
        if done in ("rsvp", "join", "cancel-rsvp")
        else "#chat"
        if done == "hand"
        else "#controls"
    )
    return RedirectResponse(service.session_url(_id(request)) + anchor, 303)


async def send_message(request: Request) -> Response:
    """The chat form without JavaScript: post one message, then show the page again."""
    member = require_member(request)
    ctx = get_context(request)
    form = await request.form()
    body = form_text(form, "body")
    try:
        room = await service.session_room(ctx.db, _id(request))
    except Refusal as exc:  # gone, or never there: give back what they wrote
        exc.draft = draft_of(form)
        raise
    async with ctx.db.read() as s:
        badge = await badge_in(s, member, room.community_id)
    try:
        sent = await sending.send_message(
            ctx,
            member,
            room,
            body,
            form_text(form, "client_id") or None,
            region=region_of(request),
            max_chars=chat_runtime(request).max_chars,
            badge=badge,  # as the live socket shows it (chat/badges.py)
        )
    except Refusal as exc:
        keep = "" if exc.code == "held" else body
        return await _session_page(
            request, error=exc, draft=keep, notice=exc.notice, status=exc.status, draft_for="send"
        )
    if sent.notice:
        return await _session_page(request, notice=sent.notice)
    return RedirectResponse(service.session_url(_id(request)) + "#chat", 303)


routes = [
    Route("/sessions", upcoming_page, methods=["GET"]),
    Route("/c/{slug}/sessions", upcoming_page, methods=["GET"]),
    Route("/sessions/timezone", set_zone, methods=["POST"]),
    Route("/sessions/new", new_session, methods=["GET", "POST"]),
    Route("/sessions/room/{slug}", room_redirect, methods=["GET"]),
    Route("/sessions/{id:int}", show_session, methods=["GET"]),
    Route("/sessions/{id:int}.ics", session_ics, methods=["GET"]),
    Route("/sessions/{id:int}/send", send_message, methods=["POST"]),
    Route("/sessions/{id:int}/{action}", session_action, methods=["POST"]),
]
