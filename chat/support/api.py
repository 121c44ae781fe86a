"""The 1:1 support part of the JSON API (/api/v1/support/…), as docs/api.md describes it.

The status call is what the waiting page polls every few seconds, on connections that may
be slow and metered: its answer is a handful of fields and nothing more.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chat.events import iso
from chat.runtime import region_of
from chat.support import asking, conversation, live, requests, supporters
from chat.support.models import SupportRequest
from communities import service as communities
from core.context import get_context
from core.errors import Refusal
from core.i18n import gettext as _
from core.web.jsonapi import field, read_json
from identity.auth import require_member


async def _status(request: Request, found: SupportRequest) -> dict[str, Any]:
    """The tiny answer: where things stand and where to go (what the waiting page's stream
    sends too, chat/support/live.py)."""
    return await live.status_of(get_context(request), found)


async def ask(request: Request) -> Response:
    member = require_member(request)
    data = await read_json(request)
    slug, note = field(data, "community", str), field(data, "note", str)
    ctx = get_context(request)
    async with ctx.db.read() as s:
        community = await communities.by_slug(s, slug)
    if community is None:
        raise Refusal("invalid", _("There's no community with that address."), field="community")
    community_id: int = community.id  # type: ignore[assignment]
    asked = await asking.ask(ctx, member, community_id, note, region=region_of(request))
    body = await _status(request, asked.request)
    body["created_at"] = iso(asked.request.created_at)
    if asked.notice:
        body["notice"] = asked.notice
    return JSONResponse(body, 201)


async def status(request: Request) -> Response:
    member = require_member(request)
    found = await requests.get_request(get_context(request).db, request.path_params["id"])
    if found is None or not requests.is_participant(found, member):
        raise Refusal("not_found", _("There's no request of yours here."), 404)
    return JSONResponse(await _status(request, found))


async def cancel(request: Request) -> Response:
    member = require_member(request)
    await asking.cancel(get_context(request), member, request.path_params["id"])
    return JSONResponse({"id": request.path_params["id"], "status": "cancelled"})


async def accept(request: Request) -> Response:
    member = require_member(request)
    room = await supporters.accept(get_context(request), member, request.path_params["id"])
    body = {"id": request.path_params["id"], "status": "accepted", "room": room.slug}
    return JSONResponse({**body, "url": requests.conversation_url(room.slug)})


async def end(request: Request) -> Response:
    member = require_member(request)
    await conversation.end(get_context(request), member, request.path_params["id"])
    return JSONResponse({"id": request.path_params["id"], "status": "ended"})


async def queue(request: Request) -> Response:
    """The queue as the supporters' page polls it: how many wait, and their ids."""
    member = require_member(request)
    found = await supporters.queue(get_context(request).db, member)
    items = [
        {"id": i.id, "community": i.community, "crisis": i.crisis, "since": iso(i.created_at)}
        for i in found.items
    ]
    paused = found.pause.code if found.pause else None  # at_limit | outside_hours
    body = {"available": found.available, "paused": paused, "count": len(items)}
    return JSONResponse({**body, "requests": items})


async def availability(request: Request) -> Response:
    """Switch taking requests on or off: {"available": true | false}."""
    member = require_member(request)
    available = field(await read_json(request), "available", bool)
    await supporters.set_available(get_context(request), member, available)
    return JSONResponse({"available": available})


routes = [
    Route("/api/v1/support/availability", availability, methods=["POST"]),
    Route("/api/v1/support/requests", ask, methods=["POST"]),
    Route("/api/v1/support/requests/{id:int}", status, methods=["GET"]),
    Route("/api/v1/support/requests/{id:int}/cancel", cancel, methods=["POST"]),
    Route("/api/v1/support/requests/{id:int}/accept", accept, methods=["POST"]),
    Route("/api/v1/support/requests/{id:int}/end", end, methods=["POST"]),
    Route("/api/v1/support/queue", queue, methods=["GET"]),
]
