"""The forum's pages for thanks and hope: "say thank you" for a reply, and a moderator
putting a story of hope on the community's shelf or taking it off. Plain forms; after a
post, a redirect to a page that says what happened."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from communities import thanks as thanks_store
from core.errors import Refusal
from core.i18n import gettext as _
from core.web.errors import form_errors
from core.web.forms import form_text
from forum import hope, thanks
from forum.web import context, region_of, render
from identity.auth import require_member
from identity.models import Member

_DONE = ("sent", "held")


async def thank_page(request: Request) -> Response:
    member = require_member(request)
    ctx = context(request)
    post_id = request.path_params["post_id"]
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    status = 200
    done = request.query_params.get("done")
    if request.method == "POST":
        values = {"note": form_text(await request.form(), "note")}
        try:
            sent = await thanks.thank_reply(
                ctx, member, post_id, values["note"], region=region_of(request)
            )
        except Refusal as exc:
            if exc.code in ("not_found", "invalid"):
                raise
            errors, status = form_errors(exc, ("note",)), exc.status
        else:
            url = f"/p/{post_id}/thank?done={'held' if sent.held else 'sent'}#thank-status"
            return RedirectResponse(url, 303)
    reply = await thanks.thankable_reply(ctx.db, member, post_id)
    if done not in _DONE and not errors and await _already(ctx, member, post_id):
        done = "already"
    t = {
        "action": f"/p/{post_id}/thank",
        "to": reply.author,
        "about": _("their reply in “%(title)s”") % {"title": reply.thread.title},
        "anonymous": reply.about.anonymous,
        "back_url": f"/t/{reply.thread.id}#p{post_id}",
        "back_label": _("Back to the thread"),
        "done": done if done in (*_DONE, "already") else None,
        "values": values,
        "errors": errors,
    }
    return render(request, "forum/thank.html", {"t": t}, status)


async def _already(ctx: Any, member: Member, post_id: int) -> bool:
    async with ctx.db.read() as s:
        return await thanks_store.already_sent(s, member.id, "post", post_id)  # type: ignore[arg-type]


async def shelf_story(request: Request) -> Response:
    """A moderator puts a story of hope on the community's shelf, or takes it off."""
    member = require_member(request)
    form = await request.form()
    thread_id = request.path_params["thread_id"]
    on = form_text(form, "shelf") == "yes"
    await hope.set_on_shelf(context(request), member, thread_id, on)
    return RedirectResponse(f"/t/{thread_id}?shelf={'added' if on else 'removed'}#hope-shelf", 303)


routes = [
    Route("/p/{post_id:int}/thank", thank_page, methods=["GET", "POST"]),
    Route("/t/{thread_id:int}/shelf", shelf_story, methods=["POST"]),
]
