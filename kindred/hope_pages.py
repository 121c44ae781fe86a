"""The shelves of stories of hope: one community's (/c/<slug>/hope), and every
community's the reader may read (/hope), the page the crisis card points to.

Moderators choose what is on a shelf (forum/hope.py); these pages only show it: newest
story first, with how long ago it was told.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.context import get_context
from core.db import utcnow
from forum.hope import shelf
from forum.queries import community_by_slug
from identity.auth import current_member
from kindred.pages import how_long_ago


async def hope_page(request: Request) -> Response:
    ctx = get_context(request)
    viewer = current_member(request)
    slug = request.path_params.get("slug")
    community = await community_by_slug(ctx.db, slug, viewer) if slug else None
    stories = await shelf(ctx.db, viewer, community)
    now = utcnow()
    return ctx.templates.TemplateResponse(
        request,
        "kindred/hope.html",
        {
            "community": community,
            "stories": [(story, how_long_ago(story.created_at, now)) for story in stories],
        },
    )


routes = [
    Route("/hope", hope_page, methods=["GET"]),
    Route("/c/{slug}/hope", hope_page, methods=["GET"]),
]
