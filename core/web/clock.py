"""Times on a page: the member's clock from their cookie, and the one template helper every
page writes a moment with (templates/macros/time.html calls it).

The member chooses a zone on the sessions page (a cookie: nothing is stored about them).
Without one, a page writes UTC, labelled, and marks the time for static/js/kindred.js, which
rewrites it on the browser's clock in the same words (core/clock.py says which words).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.requests import Request

from core.clock import day_on_clock, on_clock, zone_named

ZONE_COOKIE = "kindred_tz"


def member_zone(request: Request | None) -> str | None:
    """The zone the member chose, or None (no choice, or a cookie naming no zone)."""
    name = request.cookies.get(ZONE_COOKIE, "") if request is not None else ""
    return name if zone_named(name) else None


@dataclass(frozen=True)
class ShownTime:
    iso: str  # the <time datetime>: always ISO 8601 in UTC, for machines
    text: str  # the words on the page
    convert: bool  # no zone chosen: kindred.js rewrites it on the browser's clock


def iso_utc(moment: datetime) -> str:
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def shown_time(moment: datetime | str, zone_name: str | None, *, day: bool = False) -> ShownTime:
    """A moment (a datetime, or the ISO text a chat frame carries) as a page shows it."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    text = day_on_clock(moment, zone_name) if day else on_clock(moment, zone_name)
    return ShownTime(iso_utc(moment), text, zone_name is None)


@pass_context
def time_for_page(context: Context, moment: datetime | str, day: bool = False) -> ShownTime:
    """The Jinja global behind templates/macros/time.html: the moment on the clock of the
    member whose request is being rendered."""
    return shown_time(moment, member_zone(context.get("request")), day=day)
