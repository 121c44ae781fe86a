"""Finding the time zone a member means from what they typed, for the sessions page's picker.

A session's time is written as every moment on every page is, by core.clock.on_clock
("Mon 7 Dec, 19:00", "… UTC" when no zone is chosen), re-exported here for the sessions'
messages. The zone picker is a text box (with a short list of common zones, and every zone
once the script asks for them), so `find_zone` forgives how people write: any case, spaces
for underscores, or a city alone.
"""

from __future__ import annotations

import difflib

from chat.groups import recurrence
from chat.groups.recurrence import TimeError
from core.clock import on_clock
from core.i18n import gettext as _

__all__ = ["COMMON_ZONES", "NOT_FOUND", "common_zones", "find_zone", "listed_zones", "on_clock"]

# Offered in the picker's short list, in the page: enough to pick from without JavaScript.
COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Toronto",
    "America/Vancouver",
    "America/Halifax",
    "Australia/Sydney",
    "Australia/Brisbane",
    "Australia/Adelaide",
    "Australia/Perth",
    "Pacific/Auckland",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Africa/Johannesburg",
    "Africa/Lagos",
    "Africa/Nairobi",
)
# The full list the picker loads when asked: places, not the legacy aliases (US/Eastern,
# Etc/GMT+5, …), which are still understood when typed.
_AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
NOT_FOUND = "Type a city, for example London or New York, or a zone such as Europe/London."
# In English; find_zone's messages end with it, each said whole in the member's language.


def listed_zones() -> list[str]:
    """Every zone the picker offers once its script loads the list."""
    return ["UTC", *(z for z in recurrence.zone_names() if z.split("/", 1)[0] in _AREAS)]


def common_zones(chosen: str | None = None) -> list[str]:
    """The short list sent in the page, with the member's own zone first when it isn't in it."""
    try:
        extra = [] if not chosen or chosen in COMMON_ZONES else [find_zone(chosen)]
    except TimeError:
        extra = []
    return [*extra, *COMMON_ZONES]


def find_zone(typed: str) -> str:
    """The zone a member means: its name in any case, or a city only one zone is named for.
    Raises TimeError, suggesting the nearest names, when there is none."""
    key = "_".join(typed.split()).casefold()
    if not key:
        raise TimeError(
            _(
                "Choose a time zone. Type a city, for example London or New York, or a zone "
                "such as Europe/London."
            )
        )
    names = {z.casefold(): z for z in recurrence.zone_names()}
    if key in names:
        return names[key]
    cities: dict[str, list[str]] = {}
    for zone in listed_zones():
        cities.setdefault(zone.rsplit("/", 1)[-1].casefold(), []).append(zone)
    if len(found := cities.get(key, [])) == 1:
        return found[0]
    # A misspelt city, or a zone whose city is misspelt ("Europe/Londn"): the nearest cities.
    city = key.rsplit("/", 1)[-1]
    near = [cities[c][0] for c in difflib.get_close_matches(city, list(cities), n=3, cutoff=0.75)]
    shown = " ".join(typed.split())[:60]
    if not near:
        raise TimeError(
            _(
                "We couldn't find a time zone called “%(typed)s”. Type a city, for example "
                "London or New York, or a zone such as Europe/London."
            )
            % {"typed": shown}
        )
    either = near[0]
    for other in near[1:]:  # "A or B or C"
        either = _("%(one)s or %(other)s") % {"one": either, "other": other}
    raise TimeError(
        _(
            "We couldn't find a time zone called “%(typed)s”. Did you mean %(zones)s? Type a "
            "city, for example London or New York, or a zone such as Europe/London."
        )
        % {"typed": shown, "zones": either}
    )
