"""Pages and JSON for "ask a peer supporter to check on someone" (moderation/checkins.py).

Plain forms: a member asks from a post or chat message; supporters close requests from the
review queue; moderators look up who asked (an audited reveal)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from core.context import get_context
from core.errors import Refusal
from core.web.forms import form_text
from core.web.jsonapi import field, read_json
from identity.auth import require_member
from moderation import checkins
from moderation.checkins import CheckInItem
from moderation.pages import render
from moderation.web_api import registry


async def ask_page(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    source = await request.form() if request.method == "POST" else request.query_params
    kind, public_id = str(source.get("kind") or "post"), str(source.get("id") or "")
    try:
        async with ctx.db.read() as s:
            view = await checkins.target_of(s, registry(request), member, kind, public_id)
    except Refusal as exc:
        if exc.code == "yourself":
            data = {"yourself": True, "asked": None, "view": None, "error": None}
            return render(request, "moderation/check_in.html", data, 422)
        raise
    data: dict[str, Any] = {
        "kind": kind,
        "target_id": public_id,
        "view": view,
        "error": None,
        "yourself": False,
        "asked": None,
    }
    if request.method == "POST":
        try:
            asked = await checkins.ask(
                ctx, registry(request), member, kind=kind, public_id=public_id
            )
        except Refusal as exc:
            data["error"] = exc.message
            return render(request, "moderation/check_in.html", data, exc.status)
        data["asked"] = asked
    return render(request, "moderation/check_in.html", data)


async def close_request(request: Request) -> Response:
    member = require_member(request)
    form = await request.form()
    await checkins.close(
        get_context(request),
        member,
        request.path_params["request_id"],
        form_text(form, "resolution"),
    )
    return RedirectResponse("/moderation?done=check-in#check-ins", 303)


async def who_asked_page(request: Request) -> Response:
    member = require_member(request)
    found = await checkins.who_asked(
        get_context(request), registry(request), member, request.path_params["request_id"]
    )
    return render(request, "moderation/who_asked.html", {"found": found})


# --------------------------------------------------------------------------- JSON


async def ask_api(request: Request) -> Response:
    member = require_member(request)
    data = await read_json(request)
    kind = field(data, "kind", str)
    public_id = str(field(data, "id", int))
    if kind == "chat_message":  # chat ids are per room, as in reports
        public_id = f"{field(data, 'room', str)}:{public_id}"
    asked = await checkins.ask(
        get_context(request), registry(request), member, kind=kind, public_id=public_id
    )
    status = "already_known" if asked.folded else "asked"
    return JSONResponse({"status": status, "message": asked.message}, 201)


def item_json(item: CheckInItem) -> dict[str, Any]:
    request, view = item.request, item.view
    return {
        "id": request.id,
        "community_id": request.community_id,
        "ask_count": request.ask_count,
        "opened_at": request.opened_at.isoformat(),
        "content": None
        if view is None
        else {
            "kind": view.kind,
            "html": view.html,
            "status": view.status,
            "context_url": view.context_url,
            "author": view.author_name,
        },
    }


async def queue_api(request: Request) -> Response:
    member = require_member(request)
    items = await checkins.open_requests(get_context(request), registry(request), member)
    return JSONResponse({"items": [item_json(i) for i in items]})


routes = [
    Route("/check-in", ask_page, methods=["GET", "POST"]),
    Route("/moderation/check-ins/{request_id:int}/close", close_request, methods=["POST"]),
    Route("/moderation/check-ins/{request_id:int}/who-asked", who_asked_page, methods=["POST"]),
    Route("/api/v1/check-ins", ask_api, methods=["POST"]),
    Route("/api/v1/moderation/check-ins", queue_api, methods=["GET"]),
]
