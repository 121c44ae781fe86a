"""A moment on a member's clock: the one way Kindred writes a date and a time.

Times are stored in UTC. Every page writes a moment as `on_clock` does:

    "Mon 7 Dec, 14:05"          on the member's chosen clock, this year
    "Tue 8 Dec 2025, 09:30"     the year only when it isn't this year on that clock
    "Mon 7 Dec, 14:05 UTC"      no clock chosen (a visitor, or a page without JavaScript)

and a day alone as `day_on_clock` does ("Mon 7 Dec", "Tue 8 Dec 2025"). No relative words
("today", "yesterday"): a chat tab stays open past midnight and a refusal's message is read
later, and neither could keep such a word true. Only UTC is labelled: a zone the member chose
(or their device's, which static/js/kindred.js uses) is simply their own clock.

Day and month names are in the page's language (core/i18n.py): "lun 7 dic, 14:05" in
Spanish. static/js/kindred.js builds the same words from Intl's parts: keep the two in step.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.dates import format_date

from core import i18n


@cache
def known_zones() -> frozenset[str]:
    """Every IANA zone name this system knows (reading the list is slow; it never changes)."""
    return frozenset(available_timezones() | {"UTC"})


def zone_named(name: str | None) -> ZoneInfo | None:
    """The zone called `name`, or None when there is no such zone (or no name)."""
    name = (name or "").strip()
    if not name or name not in known_zones():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _shown(moment: datetime, zone_name: str | None) -> tuple[datetime, bool]:
    """The moment on that clock, and whether that clock is UTC (so it is labelled)."""
    zone = zone_named(zone_name)
    if moment.tzinfo is None:  # stored moments are UTC; SQLite may hand them back naive
        moment = moment.replace(tzinfo=UTC)
    if zone is None or zone_name in ("UTC", "Etc/UTC"):  # as kindred.js labels it
        return moment.astimezone(UTC), True
    return moment.astimezone(zone), False


def _day(shown: datetime, now: datetime | None) -> str:
    this_year = (now or datetime.now(UTC)).astimezone(shown.tzinfo).year
    language = i18n.current()
    return _day_words(shown.date(), shown.year != this_year, language.code)


@lru_cache(maxsize=4096)
def _day_words(day: date, with_year: bool, language: str) -> str:
    """A day's words in a language ("lun 7 dic"), by Babel's CLDR data: about 18 µs each,
    and a page writes the same few days over and over, so each is worked out once."""
    locale = i18n.locale_of(i18n.offered(pseudo=True).get(language, i18n.SOURCE))
    return format_date(day, _DAY_AND_YEAR if with_year else _DAY, locale=locale)


_DAY, _DAY_AND_YEAR = "EEE d MMM", "EEE d MMM y"


def on_clock(moment: datetime, zone_name: str | None, *, now: datetime | None = None) -> str:
    """The moment on the clock of `zone_name` ("UTC"-labelled when none valid is given).
    `now` decides "this year" (the current time when not given)."""
    shown, utc = _shown(moment, zone_name)
    return f"{_day(shown, now)}, {shown:%H:%M}{' UTC' if utc else ''}"


def day_on_clock(moment: datetime, zone_name: str | None, *, now: datetime | None = None) -> str:
    """The day of the moment on that clock, as `on_clock` writes its day."""
    shown, _ = _shown(moment, zone_name)
    return _day(shown, now)
