"""A session (or a whole weekly series) as an iCalendar file (RFC 5545) for a member's own
calendar app: a download, never a link to a third-party calendar service. The `icalendar`
package writes it; what goes in is decided here.

- A session is one VEVENT at its local time in the zone it was scheduled in (DTSTART;TZID=…),
  with that zone's VTIMEZONE generated from the zoneinfo database.
- A weekly series is ONE VEVENT with RRULE:FREQ=WEEKLY;COUNT=n from the series' own rule
  (weekday, local time, zone: chat/groups/recurrence.py), so it stays at 19:00 on London's
  clocks across a daylight-saving change, as the stored occurrences do. A cancelled
  occurrence is an EXDATE; an occurrence whose time or details differ from the rule is an
  override (RECURRENCE-ID) of its own.
- The UID is stable (one per session, one per series) and SEQUENCE counts what facilitators
  have changed or cancelled, so a calendar app that imports the file again updates the event
  it has; a cancelled session or series says STATUS:CANCELLED.
- A reminder (VALARM) is offered; its wording never says what the session is about, and the
  discreet variant leaves the topic out altogether — members' calendars are often shared.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, vText

from chat.groups import recurrence
from chat.groups.models import GroupSession, GroupSessionSeries
from chat.groups.service import session_url

PRODID = "-//Kindred//Group sessions//EN"
DISCREET_TITLE = "Kindred session"
REMINDERS = (15, 30, 60)  # minutes before, as the session page offers them
DEFAULT_REMINDER = 30

# Every character some calendar reader takes for the end of a line (Python's splitlines
# list): left raw, a title could start a property of its own ("…\u2028ATTENDEE:…").
# icalendar escapes CR and LF only, so the others become a plain line break first.
_LINE_BREAKS = re.compile(r"\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Other control characters are not allowed in TEXT at all (RFC 5545 3.3.11; tab is).
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]")


def clean(text: str) -> str:
    """A member's text made safe to hand to icalendar: every kind of line break a plain
    newline (which it escapes as \\n), other control characters dropped."""
    return _LINE_BREAKS.sub("\n", _CONTROLS.sub("", text))


def escape(text: str) -> str:
    """A TEXT value exactly as it is written in the file: one line, without control
    characters, with backslash, semicolon and comma escaped."""
    return vText(clean(text)).to_ical().decode()


@dataclass(frozen=True)
class Options:
    """What the member chose on the session page."""

    remind_minutes: int | None = DEFAULT_REMINDER  # None: no reminder
    discreet: bool = False  # "Kindred session", and nothing about what it is


def reminder(value: str | None) -> int | None:
    """The reminder a query parameter asks for: none, or one of REMINDERS (the default when
    it names none of them)."""
    value = (value or "").strip().lower()
    if value in ("none", "no", "0", "off"):
        return None
    return int(value) if value in {str(m) for m in REMINDERS} else DEFAULT_REMINDER


@dataclass(frozen=True)
class Site:
    url: str  # the site's own address, e.g. https://kindred.example
    host: str  # for UIDs
    community_slug: str  # a series' link goes to its community's sessions list


def calendar(
    sessions: list[GroupSession],
    series: GroupSessionSeries | None,
    site: Site,
    now: datetime,
    options: Options,
) -> bytes:
    """The file: the series as one recurring event, or each session as an event of its own."""
    cal = Calendar()
    cal.add("version", "2.0")
    cal.add("prodid", PRODID)
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    moments: list[datetime] = []
    if series is not None:
        recurring = _Series(series, sessions, site, now, options)
        events = recurring.events()
        moments.append(recurring.slots[-1])  # the rule's last week is written nowhere else
    else:
        events = [_session_event(g, site, now, options) for g in sessions]
    for event in events:
        cal.add_component(event)
        moments += [event.start, event.end]
    # Whole calendar years around what the file holds: a few observances, not decades.
    first, last = min(moments), max(moments)
    cal.add_missing_timezones(date(first.year, 1, 1), date(last.year + 1, 1, 1))
    return cal.to_ical()


# --------------------------------------------------------------------------- one event


def _zone(name: str) -> ZoneInfo:
    try:
        return recurrence.zone(name)
    except recurrence.TimeError:  # a zone name the database no longer knows
        return ZoneInfo("UTC")


def _url(site: Site, session: GroupSession) -> str:
    return site.url.rstrip("/") + session_url(session.id)  # type: ignore[arg-type]


def _in_words(minutes: int) -> str:
    return "1 hour" if minutes == 60 else f"{minutes} minutes"


def _alarm(minutes: int) -> Alarm:
    # Kind, and saying nothing about the session: a reminder pops up on a lock screen.
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", timedelta(minutes=-minutes))
    alarm.add(
        "description",
        f"Your Kindred session starts in {_in_words(minutes)}. Come along when you're ready.",
    )
    return alarm


def _event(
    uid: str, now: datetime, sequence: int, summary: str, description: str, options: Options
) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("sequence", sequence)
    event.add("summary", DISCREET_TITLE if options.discreet else clean(summary))
    event.add("description", clean(description))
    event.add("class", "PRIVATE")  # a shared calendar shows others "busy", not the session
    if options.remind_minutes is not None:
        event.add_component(_alarm(options.remind_minutes))
    return event


def _timed(event: Event, starts: datetime, minutes: int, zone: ZoneInfo) -> None:
    event.add("dtstart", starts.astimezone(zone))
    event.add("dtend", (starts + timedelta(minutes=minutes)).astimezone(zone))


def _about(session: GroupSession, url: str, options: Options) -> str:
    join = f"Join from {url}"
    return join if options.discreet else f"{session.description or session.title}\n\n{join}"


def _session_event(session: GroupSession, site: Site, now: datetime, options: Options) -> Event:
    cancelled = session.status == "cancelled"
    url = _url(site, session)
    event = _event(
        f"group-session-{session.id}@{site.host}",
        now,
        1 if cancelled else 0,  # cancelling is the one change a session's calendar shows
        session.title,
        _about(session, url, options),
        options,
    )
    _timed(event, session.starts_at, session.duration_minutes, _zone(session.timezone))
    event.add("url", url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


# --------------------------------------------------------------------------- a weekly series


class _Series:
    """A weekly series as one recurring event. Its k-th occurrence is the k-th session row by
    id (scheduling creates them in order, and never again), expected at the rule's k-th slot:
    a row that is cancelled is an EXDATE, a row that differs from the rule an override."""

    def __init__(
        self,
        series: GroupSessionSeries,
        rows: list[GroupSession],
        site: Site,
        now: datetime,
        options: Options,
    ) -> None:
        self.series, self.site, self.now, self.options = series, site, now, options
        self.rows = sorted(rows, key=lambda g: g.id or 0)
        self.zone = _zone(series.timezone)
        self.at = time.fromisoformat(series.local_time)
        first = self._first_day()
        # Wall-clock times in the zone: what DTSTART, EXDATE and RECURRENCE-ID are written as.
        self.slots = [
            datetime.combine(first + timedelta(weeks=k), self.at, tzinfo=self.zone)
            for k in range(series.count)
        ]
        live = [g for g in self.rows if g.status != "cancelled"] or self.rows
        # What most occurrences are: the series' own title, details and length.
        self.usual = Counter(_details(g) for g in live).most_common(1)[0][0]

    def _first_day(self) -> date:
        """The rule's first date (the series row keeps the weekday, not the date): from the
        first occurrence still at its slot, counted back by its place in the series."""
        for place, row in enumerate(self.rows):
            day = row.starts_at.astimezone(self.zone).date()
            # fold=0, as stored; compared in UTC: Python never finds a time in a skipped or
            # repeated hour equal to one in another zone (PEP 495).
            at_slot = datetime.combine(day, self.at, tzinfo=self.zone).astimezone(UTC)
            if day.weekday() == self.series.weekday and row.starts_at == at_slot:
                return day - timedelta(weeks=place)
        day = self.rows[0].starts_at.astimezone(self.zone).date()  # every one was moved
        return day - timedelta(days=(day.weekday() - self.series.weekday) % 7)

    def _moved(self, slot: datetime, row: GroupSession) -> bool:
        return row.starts_at != slot.astimezone(UTC) or _details(row) != self.usual

    def events(self) -> list[Event]:
        pairs = list(zip(self.slots, self.rows, strict=False))
        cancelled = [slot for slot, row in pairs if row.status == "cancelled"]
        missing = self.slots[len(pairs) :]  # an occurrence with no row never happens
        changed = [(s, r) for s, r in pairs if r.status != "cancelled" and self._moved(s, r)]
        # Each cancellation and each change made the series different once: a calendar app
        # takes the file as an update when this is higher than what it holds.
        sequence = len(cancelled) + len(changed)
        every_one = len(cancelled) == len(pairs) and not missing
        master = self._master(sequence)
        if every_one:
            master.add("status", "CANCELLED")  # the whole series: shown struck out, or removed
        else:
            master.add("status", "CONFIRMED")
            if cancelled or missing:
                master.add("exdate", cancelled + missing)
        return [master, *(self._override(slot, row, sequence) for slot, row in changed)]

    def _master(self, sequence: int) -> Event:
        title, description, minutes = self.usual
        base = self.site.url.rstrip("/")
        url = (
            f"{base}/sessions"
            if self.options.discreet
            else f"{base}/c/{self.site.community_slug}/sessions"
        )
        join = f"Each week's session has its own page: find the next one at {url}"
        about = join if self.options.discreet else f"{description or title}\n\n{join}"
        event = _event(
            f"group-series-{self.series.id}@{self.site.host}",
            self.now,
            sequence,
            title,
            about,
            self.options,
        )
        start = self.slots[0]
        event.add("dtstart", start)
        event.add(
            "dtend", (start.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(self.zone)
        )
        event.add("rrule", {"freq": "weekly", "count": self.series.count})
        event.add("url", url)
        return event

    def _override(self, slot: datetime, row: GroupSession, sequence: int) -> Event:
        url = _url(self.site, row)
        event = _event(
            f"group-series-{self.series.id}@{self.site.host}",
            self.now,
            sequence,
            row.title,
            _about(row, url, self.options),
            self.options,
        )
        event.add("recurrence-id", slot)
        _timed(event, row.starts_at, row.duration_minutes, self.zone)
        event.add("url", url)
        event.add("status", "CONFIRMED")
        return event


def _details(session: GroupSession) -> tuple[str, str, int]:
    return session.title, session.description, session.duration_minutes
