"""Pages that look after peer supporters: their limits and hours, the break note, asking
for a debrief, and the moderators' list of debrief requests. Plain forms, redirect after
post; the services are chat/support/limits.py and chat/support/care.py.

The moderators' list sits under /moderation/support beside the feedback page, for the same
reason (moderation never imports chat).
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from chat.groups.clock import common_zones, find_zone
from chat.groups.recurrence import TimeError
from chat.runtime import region_of
from chat.support import access, care, limits, requests
from chat.support.pages import _show_conversation  # the page the debrief form lives on
from chat.support.supporters import _require_supporter
from core.context import get_context
from core.errors import Refusal
from core.i18n import gettext as _
from core.web.clock import member_zone
from core.web.forms import form_text
from core.web.params import MAX_ID, loose_int
from identity.auth import require_member
from identity.models import Member

HOUR_CHOICES = list(range(25))  # 0 … 24 (24: midnight at the day's end)


def _render(request: Request, template: str, data: dict[str, Any], status: int = 200) -> Response:
    return get_context(request).templates.TemplateResponse(
        request, template, data, status_code=status
    )


# --------------------------------------------------------------------------- limits


async def limits_page(request: Request) -> Response:
    member = require_member(request)
    _require_supporter(member)
    ctx = get_context(request)
    if request.method == "POST":
        form = await request.form()
        try:
            max_at_once, hours, zone = _read_limits(form)
            await limits.set_limits(ctx, member, max_at_once, hours, zone)
        except Refusal as exc:
            return await _show_limits(request, member, form=form, error=exc)
        return RedirectResponse(limits.LIMITS_URL + "?saved=1", 303)
    return await _show_limits(request, member)


def _read_limits(form: FormData) -> tuple[int | None, limits.Hours, str]:
    max_at_once = loose_int(form_text(form, "max_conversations"), high=99)
    hours: limits.Hours = {}
    if form_text(form, "when") == "hours":
        for day in range(7):
            if form_text(form, f"day{day}") != "on":
                continue
            start = loose_int(form_text(form, f"from{day}"), high=24)
            end = loose_int(form_text(form, f"to{day}"), high=24)
            hours[day] = (start if start is not None else -1, end if end is not None else -1)
        if not hours:
            raise Refusal(
                "invalid",
                _("Tick at least one day for your hours, or choose “Any time”."),
                field="when",
            )
    try:  # a city or a zone, in any case, as the sessions' picker takes it
        zone = find_zone(form_text(form, "timezone"))
    except TimeError as exc:
        raise Refusal("invalid", str(exc), field="timezone") from None
    return max_at_once, hours, zone


async def _show_limits(
    request: Request, member: Member, *, form: FormData | None = None, error: Refusal | None = None
) -> Response:
    async with get_context(request).db.read() as s:
        saved = await limits.limits_of(s, member.id)  # type: ignore[arg-type]
        talking = await limits.in_conversation(s, member.id)  # type: ignore[arg-type]
        pause = await limits.pause_of(s, member.id)  # type: ignore[arg-type]
    zone = saved.timezone if saved != limits.DEFAULTS else (member_zone(request) or "UTC")
    if form is not None:  # what they sent, to correct
        zone = form_text(form, "timezone").strip() or zone
    data = {
        "limits": saved,
        "form": form,
        "error": error,
        "zone": zone,
        "zones": common_zones(zone),
        "days": limits.DAYS,
        "hour_choices": HOUR_CHOICES,
        "choices": range(limits.MIN_AT_ONCE, limits.MAX_AT_ONCE + 1),
        "talking": talking,
        "pause": pause,
        "saved": request.query_params.get("saved") == "1",
    }
    return _render(request, "chat/support/limits.html", data, error.status if error else 200)


# --------------------------------------------------------------------------- a break


async def dismiss_break(request: Request) -> Response:
    member = require_member(request)
    request_id = request.path_params["id"]
    await care.dismiss_break(get_context(request), member, request_id)
    back = form_text(await request.form(), "back")
    found = await requests.get_request(get_context(request).db, request_id)
    if back == "conversation" and found is not None and found.supporter_id == member.id:
        return RedirectResponse(await requests.address(get_context(request).db, found), 303)
    return RedirectResponse("/support/queue", 303)


# --------------------------------------------------------------------------- a debrief


async def ask_debrief(request: Request) -> Response:
    """The supporter asks, from the ended conversation's page; a refused note comes back to
    that page with the reason and their text."""
    member = require_member(request)
    ctx = get_context(request)
    talk = await access.conversation_for(ctx.db, request.path_params["slug"], member)
    note = form_text(await request.form(), "note")
    url = requests.conversation_url(talk.room.slug)
    try:
        await care.ask_debrief(ctx, member, talk.request.id, note, region=region_of(request))  # type: ignore[arg-type]
    except Refusal as exc:
        if exc.status in (403, 404):
            raise
        return await _show_conversation(
            request, debrief_draft=note, debrief_error=exc, status=exc.status
        )
    return RedirectResponse(url + "#debrief", 303)


async def debriefs_page(request: Request, *, error: Refusal | None = None) -> Response:
    member = require_member(request)
    items = await care.debriefs_for(get_context(request).db, member)
    data = {"items": items, "error": error}
    return _render(request, "chat/support/debriefs.html", data, error.status if error else 200)


async def _debrief_action(request: Request, act: Any) -> Response:
    member = require_member(request)
    debrief_id = loose_int(str(request.path_params["id"]), high=MAX_ID)
    try:
        await act(get_context(request), member, debrief_id)
    except Refusal as exc:
        if exc.status == 409:
            return await debriefs_page(request, error=exc)
        raise
    return RedirectResponse(f"{care.DEBRIEFS_URL}#debrief-{debrief_id}", 303)


async def take_debrief(request: Request) -> Response:
    return await _debrief_action(request, care.take_debrief)


async def finish_debrief(request: Request) -> Response:
    return await _debrief_action(request, care.finish_debrief)


routes = [
    Route(limits.LIMITS_URL, limits_page, methods=["GET", "POST"]),
    Route("/support/breaks/{id:int}/dismiss", dismiss_break, methods=["POST"]),
    Route("/support/conversations/{slug}/debrief", ask_debrief, methods=["POST"]),
    Route(care.DEBRIEFS_URL, debriefs_page, methods=["GET"]),
    Route(care.DEBRIEFS_URL + "/{id:int}/take", take_debrief, methods=["POST"]),
    Route(care.DEBRIEFS_URL + "/{id:int}/done", finish_debrief, methods=["POST"]),
]
