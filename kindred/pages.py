"""Site-wide pages that belong to no feature: home and about."""

from __future__ import annotations

from datetime import datetime, timedelta

from babel.dates import format_timedelta
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core import i18n
from core.context import get_context
from core.db import utcnow
from forum.queries import community_cards
from identity.auth import current_member

_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("week", 7 * 86400), ("day", 86400))
_UNITS += (("hour", 3600), ("minute", 60))


def how_long_ago(when: datetime, now: datetime) -> str:
    """'2 hours ago', in the largest whole unit, in the page's language ("hace 2 horas"): a
    glance at how lively a place is, which needs no time zone (the exact moment is in the
    <time> element's datetime). Babel words it; the whole unit is ours (2h40 is "2 hours")."""
    seconds = max(0, int((now - when).total_seconds()))
    for _unit, size in _UNITS:
        if seconds >= size:
            whole = timedelta(seconds=seconds // size * size)
            language = i18n.locale_of(i18n.current())
            return format_timedelta(-whole, threshold=1, add_direction=True, locale=language)
    return i18n.gettext("just now")


async def home(request: Request) -> Response:
    ctx = get_context(request)
    cards = await community_cards(ctx.db, current_member(request))
    now = utcnow()
    return ctx.templates.TemplateResponse(
        request,
        "kindred/home.html",
        {
            "signed_out": "signed_out" in request.query_params,
            # With each card, how long since it last moved (when the reader may know).
            "communities": [
                (card, how_long_ago(card.last_active, now) if card.last_active else None)
                for card in cards
            ],
        },
    )


routes = [Route("/", home, methods=["GET"])]
