"""Chat's "say thank you" pages: for a message in an open room, and for an ended 1:1
conversation. Plain forms; after a post, a redirect to the same page saying what
happened (sent, or waiting for a moderator)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from chat import thanks
from chat.runtime import region_of
from communities import thanks as thanks_store
from core.context import AppContext, get_context
from core.errors import Refusal
from core.web.errors import form_errors
from core.web.forms import form_text
from identity.auth import require_member
from identity.models import Member

Find = Callable[[AppContext, Member, Request], Awaitable[thanks.Thankable]]
_DONE = ("sent", "held")


def _page(find: Find) -> Callable[[Request], Awaitable[Response]]:
    async def page(request: Request) -> Response:
        member = require_member(request)
        ctx = get_context(request)
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        status = 200
        if request.method == "POST":
            values = {"note": form_text(await request.form(), "note")}
            try:
                found = await find(ctx, member, request)
                sent = await thanks.send(
                    ctx, member, found, values["note"], region=region_of(request)
                )
            except Refusal as exc:
                if exc.status == 404:
                    exc.draft = values["note"]
                    raise
                errors, status = form_errors(exc, ("note",)), exc.status
            else:
                done = "held" if sent.held else "sent"
                return RedirectResponse(f"{request.url.path}?done={done}#thank-status", 303)
        found = await find(ctx, member, request)
        done = request.query_params.get("done")
        if done not in _DONE:
            done = None
            if not errors and await _already(ctx, member, found):
                done = "already"
        t = {
            "action": request.url.path,
            "to": found.to,
            "about": found.about,
            "anonymous": found.thanks.anonymous,
            "back_url": found.back_url,
            "back_label": found.back_label,
            "done": done,
            "values": values,
            "errors": errors,
        }
        return ctx.templates.TemplateResponse(
            request, "chat/thank.html", {"t": t}, status_code=status
        )

    return page


async def _already(ctx: AppContext, member: Member, found: thanks.Thankable) -> bool:
    async with ctx.db.read() as s:
        return await thanks_store.already_sent(s, member.id, found.thanks.kind, found.thanks.id)  # type: ignore[arg-type]


def _message(ctx: AppContext, member: Member, request: Request) -> Awaitable[thanks.Thankable]:
    params = request.path_params
    return thanks.thankable_message(ctx, member, params["slug"], params["seq"])


def _conversation(ctx: AppContext, member: Member, request: Request) -> Awaitable[thanks.Thankable]:
    return thanks.thankable_conversation(ctx, member, request.path_params["slug"])


routes = [
    Route("/chat/{slug}/messages/{seq:int}/thank", _page(_message), methods=["GET", "POST"]),
    Route("/support/conversations/{slug}/thank", _page(_conversation), methods=["GET", "POST"]),
]
