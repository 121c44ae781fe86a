"""Moderation's JSON endpoints: reports (any member) and the moderators' queue and actions."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from communities import roles
from communities.roles import Action
from core.context import get_context
from core.errors import Refusal
from core.i18n import gettext
from core.web.jsonapi import field, read_json
from core.web.params import optional_int
from identity.auth import require_member
from moderation import cases, queue, reveals
from moderation.actions import act
from moderation.queue import QueueItem
from moderation.sanctions import sanction_member
from moderation.targets import ModerationRegistry


def registry(request: Request) -> ModerationRegistry:
    return get_context(request).extensions["moderation"]


async def report(request: Request) -> Response:
    member = require_member(request)
    data = await read_json(request)
    kind = field(data, "kind", str)
    # Chat message ids are per room: {"kind": "chat_message", "room": slug, "id": n}.
    public_id = str(field(data, "id", int))
    if kind == "chat_message":
        public_id = f"{field(data, 'room', str)}:{public_id}"
    await cases.report(
        get_context(request),
        registry(request),
        member,
        kind=kind,
        public_id=public_id,
        reason=field(data, "reason", str),
        note=field(data, "note", str, default=""),
        rule=field(data, "rule", str, default=None),
    )
    return JSONResponse(
        {"status": "received", "message": gettext("Thank you. The moderators will look at it.")},
        201,
    )


def item_json(item: QueueItem) -> dict[str, Any]:
    case, view = item.case, item.view
    anonymous = view is not None and view.anonymous
    return {
        "case_id": case.id,
        "kind": case.target_kind,
        "target_id": case.target_id,
        "community_id": case.community_id,
        "crisis": case.crisis,
        "crisis_why": case.crisis_why,
        "held": case.held,
        "auto_hidden": case.auto_hidden,
        "report_weight": case.report_weight,
        "opened_at": case.opened_at.isoformat(),
        "content": None
        if view is None
        else {"html": view.html, "status": view.status, "context_url": view.context_url},
        # An anonymous author stays anonymous here: POST .../reveal says who, audited.
        "author": item.author.pseudonym if item.author and not anonymous else None,
        "anonymous": anonymous,
        "author_label": view.author_name if view is not None else None,
        "reports": [
            {"reason": r.reason, "note": r.note, "rule": r.rule, "weight": r.weight}
            for r in item.reports
        ],
        "prior_sanctions": [
            {"kind": x.kind, "starts_at": x.starts_at.isoformat(), "reason": x.reason}
            for x in item.prior_sanctions
        ],
        "proposed_sanction": item.proposed[0] if item.proposed else None,
        # Held only because its author is new: publish or reject, nothing to sanction.
        "held_only_as_new": item.only_new,
        "can_act": item.can_act,
    }


async def queue_api(request: Request) -> Response:
    member = require_member(request)
    community_id = optional_int(request.query_params.get("community"), "community", None)
    async with get_context(request).db.read() as s:
        if not await roles.may_somewhere(s, member, Action.REACH_OUT):
            raise Refusal("forbidden", gettext("Only moderators can see the review queue."), 403)
    items = await queue.queue(
        get_context(request), registry(request), member, community_id=community_id
    )
    return JSONResponse({"items": [item_json(i) for i in items]})


async def act_api(request: Request) -> Response:
    member = require_member(request)
    data = await read_json(request)
    action = field(data, "action", str)
    text = field(data, "text", str, default=None)
    case = await act(
        get_context(request),
        registry(request),
        member,
        request.path_params["case_id"],
        action,
        reason=field(data, "reason", str, default=""),
        hours=field(data, "hours", int, default=None),
        text=text,
    )
    return JSONResponse({"case_id": case.id, "closed": case.closed_at is not None})


async def sanction(request: Request) -> Response:
    member = require_member(request)
    data = await read_json(request)
    result = await sanction_member(
        get_context(request),
        registry(request),
        member,
        request.path_params["member_id"],
        field(data, "kind", str),
        hours=field(data, "hours", int, default=None),
        community_id=field(data, "community_id", int, default=None),
        reason=field(data, "reason", str, default=""),
    )
    return JSONResponse(
        {
            "id": result.id,
            "kind": result.kind,
            "confirmed": result.confirmed,
            "ends_at": result.ends_at.isoformat() if result.ends_at else None,
        },
        201,
    )


async def reveal(request: Request) -> Response:
    """Who wrote the anonymous content of a case: audited, and the author is told."""
    member = require_member(request)
    author = await reveals.reveal_author(
        get_context(request), member, request.path_params["case_id"]
    )
    return JSONResponse({"member_id": author.id, "author": author.display_name})


async def my_reveals(request: Request) -> Response:
    """For the member: when moderators looked behind their anonymous posts (never who)."""
    member = require_member(request)
    looks = await reveals.reveals_of(get_context(request), registry(request), member)
    return JSONResponse(
        {
            "reveals": [
                {"at": r.at.isoformat(), "kind": r.label, "title": r.title, "url": r.url}
                for r in looks
            ]
        }
    )


routes = [
    Route("/api/v1/reports", report, methods=["POST"]),
    Route("/api/v1/moderation/cases/{case_id:int}/reveal", reveal, methods=["POST"]),
    Route("/api/v1/account/reveals", my_reveals, methods=["GET"]),
    Route("/api/v1/moderation/queue", queue_api, methods=["GET"]),
    Route("/api/v1/moderation/cases/{case_id:int}/actions", act_api, methods=["POST"]),
    Route("/api/v1/moderation/members/{member_id:int}/sanctions", sanction, methods=["POST"]),
]
