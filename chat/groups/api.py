"""Group sessions in the JSON API (/api/v1/sessions…): the live page's JS and other clients.

A service's Refusal propagates to the app's one JSON translator (core/web/errors.py): {"error":
{"code", "message", …}} with the status the service chose (409 for a full, ended or locked
session, 403 for someone who may not, 422 for bad input).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chat.events import iso
from chat.groups import clock, scheduling, service
from chat.groups.actions import ACTIONS
from chat.groups.pages import schedule_from
from chat.groups.session_view import session_view
from chat.runtime import region_of
from core.context import get_context
from core.errors import Refusal
from core.i18n import gettext as _
from core.web.jsonapi import read_json
from identity.auth import current_member, require_member


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


def upcoming_json(item: service.Upcoming) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "community": {"slug": item.community_slug, "name": item.community},
        "starts_at": iso(item.starts_at),
        "ends_at": iso(item.ends_at),
        "status": item.status,
        "capacity": item.capacity,
        "seats_taken": item.seats_taken,
        "url": item.url,
    }


async def list_sessions(request: Request) -> Response:
    ctx = get_context(request)
    slug = request.query_params.get("community", "")
    community = await service.community_by_slug(ctx.db, slug) if slug else None
    if slug and community is None:
        raise Refusal("not_found", _("There's no community with that address."), 404)
    found = await service.upcoming_sessions(
        ctx.db,
        community_id=community[0] if community else None,
        limit=50,
        signed_in=current_member(request) is not None,
    )
    return JSONResponse({"sessions": [upcoming_json(item) for item in found]})


async def create_sessions(request: Request) -> Response:
    member = require_member(request)
    data = await read_json(request)
    values = {k: _text(v) for k, v in data.items()}
    if "weeks" in data and "repeat" not in data:
        values["repeat"] = "weekly"
    created = await scheduling.schedule(get_context(request), member, schedule_from(values))
    body = [
        {"id": g.id, "starts_at": iso(g.starts_at), "url": service.session_url(g.id)}
        for g in created
    ]  # type: ignore[arg-type]
    return JSONResponse({"sessions": body}, 201)


async def _view(request: Request, session_id: int) -> dict[str, Any]:
    db, member = get_context(request).db, current_member(request)
    found = await session_view(db, session_id, member)
    if found is None:
        raise Refusal("not_found", _("There's no group session at this address."), 404)
    view = {"session": found.state, "you": found.you, "parts": found.parts}
    if found.panel is not None:  # a facilitator's
        view["panel"] = found.panel
    return view


async def show_session(request: Request) -> Response:
    return JSONResponse(await _view(request, int(request.path_params["id"])))


async def session_action(request: Request) -> Response:
    member = require_member(request)
    action = ACTIONS.get(request.path_params["action"])
    if action is None:
        raise Refusal("not_found", _("There's no such action."), 404)
    body = await request.body()
    data = await read_json(request) if body.strip() else {}
    values = {k: _text(v) for k, v in data.items()}
    session_id = int(request.path_params["id"])
    await action(get_context(request), member, session_id, values, region_of(request))
    return JSONResponse(await _view(request, session_id))


async def time_zones(request: Request) -> Response:
    """Every zone the sessions' time-zone picker offers: sessions.js asks for it only when a
    member starts choosing, so the pages carry a short list (chat/groups/clock.py)."""
    return JSONResponse(
        {"zones": clock.listed_zones()}, headers={"cache-control": "public, max-age=86400"}
    )


routes = [
    Route("/api/v1/time-zones", time_zones, methods=["GET"]),
    Route("/api/v1/sessions", list_sessions, methods=["GET"]),
    Route("/api/v1/sessions", create_sessions, methods=["POST"]),
    Route("/api/v1/sessions/{id:int}", show_session, methods=["GET"]),
    Route("/api/v1/sessions/{id:int}/{action}", session_action, methods=["POST"]),
]
