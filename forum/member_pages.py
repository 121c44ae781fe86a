"""The member's own forum pages: search, their notices, and how content warnings show for
them. Pages about one community, thread or post are in forum/pages.py."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from core.web.forms import form_text
from forum import notifications, queries, reading, search
from forum.models import WARNING_MODES
from forum.web import context, render
from identity.auth import current_member, require_member


async def search_page(request: Request) -> Response:
    query = request.query_params.get("q", "").strip()[:200]
    hits = await search.find(context(request).db, query, current_member(request)) if query else []
    return render(request, "forum/search.html", {"query": query, "hits": hits})


async def notifications_page(request: Request) -> Response:
    member = require_member(request)
    ctx = context(request)
    if request.method == "POST":
        await notifications.mark_notifications_read(ctx, member)
        return RedirectResponse("/notifications", 303)
    items = await queries.notifications(ctx.db, member)
    return render(request, "forum/notifications.html", {"items": items})


async def warnings_page(request: Request) -> Response:
    member = require_member(request)
    ctx = context(request)
    communities = await queries.list_communities(ctx.db)
    warnings = sorted({w for c in communities for w in c.warning_list})
    if request.method == "POST":
        form = await request.form()
        for index, warning in enumerate(warnings):
            mode = form_text(form, f"mode-{index}")
            if mode in WARNING_MODES:
                await reading.set_warning_preference(ctx, member, warning, mode)
        return RedirectResponse("/settings/content-warnings?saved=1", 303)
    prefs = await queries.warning_preferences(ctx.db, member)
    return render(
        request,
        "forum/warnings.html",
        {"warnings": warnings, "prefs": prefs, "saved": "saved" in request.query_params},
    )


routes = [
    Route("/search", search_page, methods=["GET"]),
    Route("/notifications", notifications_page, methods=["GET", "POST"]),
    Route("/settings/content-warnings", warnings_page, methods=["GET", "POST"]),
]
