"""Site-wide pages that belong to no feature: home and about."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.context import get_context
from forum.queries import list_communities


async def home(request: Request) -> Response:
    ctx = get_context(request)
    return ctx.templates.TemplateResponse(
        request,
        "kindred/home.html",
        {
            "signed_out": "signed_out" in request.query_params,
            "communities": await list_communities(ctx.db),
        },
    )


routes = [Route("/", home, methods=["GET"])]
