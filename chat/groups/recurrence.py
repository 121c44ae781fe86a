"""Turning a local date and time in a member's zone into UTC, once or every week.

Occurrences are computed in the series' own IANA zone with zoneinfo, so a weekly session at
19:00 Europe/London stays at 19:00 on the clocks of the people in London when the clocks
change (its UTC time moves by an hour instead).

Daylight-saving edge cases, decided here once:
- a local time that does not exist on a change day (01:30 on the morning the clocks go
  forward in London) happens at the same moment as that time "before the change", which on
  the clock is an hour later (02:30 local) — the session is never skipped;
- a local time that happens twice (01:30 on the morning the clocks go back) is the first of
  the two (still summer time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.clock import known_zones
from core.i18n import gettext as _
from core.web.params import BadParameter, parse_day

MAX_OCCURRENCES = 26  # half a year of weekly sessions at most
# How far ahead a session may be scheduled, and how far back a date is still read (to be
# refused as past, by the caller): dates near the calendar's ends overflow once zoned.
DAYS_AHEAD = 2 * 365
DAYS_BACK = 366


class TimeError(ValueError):
    """A date, time or zone a member gave that we cannot use; the message says why."""


@dataclass(frozen=True)
class LocalSlot:
    on: date
    at: time
    zone: str


def zone(name: str) -> ZoneInfo:
    name = name.strip()
    if not name or name not in _zones():
        raise TimeError(_("Choose a time zone from the list (for example Europe/London)."))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeError(
            _("Choose a time zone from the list (for example Europe/London).")
        ) from None


def _zones() -> frozenset[str]:
    return known_zones()  # the one list every page's clock uses (core/clock.py)


def zone_names() -> list[str]:
    return sorted(_zones())


def parse_slot(on: str, at: str, zone_name: str) -> LocalSlot:
    today = date.today()
    try:
        day = parse_day(
            on,
            "date",
            earliest=today - timedelta(days=DAYS_BACK),
            latest=today + timedelta(days=DAYS_AHEAD),
        )
    except BadParameter as exc:
        raise TimeError(exc.message) from None
    try:
        clock = time.fromisoformat(at.strip())
    except ValueError:
        raise TimeError(_("Give the time as hours:minutes, for example 19:00.")) from None
    zone(zone_name)
    return LocalSlot(day, clock.replace(second=0, microsecond=0, tzinfo=None), zone_name.strip())


def to_utc(day: date, clock: time, zone_name: str) -> datetime:
    """The UTC moment of a local wall-clock time (fold=0: see the module's docstring)."""
    local = datetime.combine(day, clock, tzinfo=zone(zone_name))
    return local.astimezone(UTC)


def weekly(slot: LocalSlot, count: int) -> list[datetime]:
    """`count` weekly occurrences from slot.on, each at slot.at local time, in UTC."""
    if not 1 <= count <= MAX_OCCURRENCES:
        raise TimeError(
            _("A session can repeat for 1 to %(max)d weeks.") % {"max": MAX_OCCURRENCES}
        )
    return [to_utc(slot.on + timedelta(weeks=i), slot.at, slot.zone) for i in range(count)]


def local(moment: datetime, zone_name: str | None) -> datetime:
    """A UTC moment on a member's clock (UTC when they have not chosen a valid zone)."""
    try:
        return moment.astimezone(zone(zone_name) if zone_name else UTC)
    except TimeError:
        return moment.astimezone(UTC)
