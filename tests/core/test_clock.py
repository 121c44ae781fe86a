"""One way to write a moment, on the member's clock: zones, daylight saving, the year shown only
when it isn't this year, and UTC (labelled) for a visitor who has chosen no clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from core.clock import day_on_clock, on_clock
from core.web.clock import shown_time
from core.web.templates import TEMPLATES_DIR

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
MOMENT = datetime(2027, 1, 4, 19, 5, tzinfo=UTC)


def test_a_moment_on_any_clock() -> None:
    assert on_clock(MOMENT, "Europe/London", now=NOW) == "Mon 4 Jan, 19:05"
    assert on_clock(MOMENT, "Asia/Kolkata", now=NOW) == "Tue 5 Jan, 00:35"  # the next day there
    assert on_clock(MOMENT, "America/Los_Angeles", now=NOW) == "Mon 4 Jan, 11:05"


def test_a_visitor_or_an_unknown_zone_reads_utc_labelled() -> None:
    assert on_clock(MOMENT, None, now=NOW) == "Mon 4 Jan, 19:05 UTC"
    assert on_clock(MOMENT, "Not/AZone", now=NOW) == "Mon 4 Jan, 19:05 UTC"
    assert on_clock(MOMENT, "UTC", now=NOW) == "Mon 4 Jan, 19:05 UTC"  # chosen, still labelled
    naive = MOMENT.replace(tzinfo=None)  # SQLite hands some moments back without a zone
    assert on_clock(naive, "Europe/London", now=NOW) == "Mon 4 Jan, 19:05"


def test_daylight_saving_moves_the_clock_not_the_moment() -> None:
    winter = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
    summer = datetime(2027, 7, 15, 12, 0, tzinfo=UTC)
    assert on_clock(winter, "Europe/London", now=NOW) == "Fri 15 Jan, 12:00"
    assert on_clock(summer, "Europe/London", now=NOW) == "Thu 15 Jul, 13:00"
    assert on_clock(summer, "America/New_York", now=NOW) == "Thu 15 Jul, 08:00"
    # The morning New York's clocks go forward (14 March 2027, 02:00 → 03:00).
    before = datetime(2027, 3, 14, 6, 59, tzinfo=UTC)
    after = datetime(2027, 3, 14, 7, 0, tzinfo=UTC)
    assert on_clock(before, "America/New_York", now=NOW) == "Sun 14 Mar, 01:59"
    assert on_clock(after, "America/New_York", now=NOW) == "Sun 14 Mar, 03:00"
    # Southern summer: Sydney is UTC+11 in January.
    assert on_clock(winter, "Australia/Sydney", now=NOW) == "Fri 15 Jan, 23:00"


def test_the_year_shows_only_when_it_isnt_this_year_on_that_clock() -> None:
    new_year_eve = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    now = datetime(2027, 1, 1, 1, 0, tzinfo=UTC)
    # Already 2027 in Auckland, for the moment and for now: no year.
    assert on_clock(new_year_eve, "Pacific/Auckland", now=now) == "Fri 1 Jan, 09:00"
    # Still 31 December 2026 on the UTC clock, and already 2027 now: the year is shown.
    assert on_clock(new_year_eve, None, now=now) == "Thu 31 Dec 2026, 20:00 UTC"
    # In Los Angeles it is still 2026 now, so 2026 is this year there.
    assert on_clock(new_year_eve, "America/Los_Angeles", now=now) == "Thu 31 Dec, 12:00"
    assert on_clock(datetime(2028, 2, 1, tzinfo=UTC), None, now=now) == "Tue 1 Feb 2028, 00:00 UTC"


def test_a_day_alone_is_the_moments_day() -> None:
    assert day_on_clock(MOMENT, "Asia/Kolkata", now=NOW) == "Tue 5 Jan"
    assert day_on_clock(MOMENT, None, now=NOW) == "Mon 4 Jan"
    assert day_on_clock(datetime(2025, 6, 2, tzinfo=UTC), None, now=NOW) == "Mon 2 Jun 2025"


def test_a_page_time_keeps_iso_utc_for_machines_and_says_when_to_convert() -> None:
    chosen = shown_time(MOMENT, "Asia/Kolkata")
    assert chosen.iso == "2027-01-04T19:05:00.000Z"
    assert chosen.text.endswith("5 Jan 2027, 00:35") or chosen.text.endswith("5 Jan, 00:35")
    assert chosen.convert is False  # the member's own clock: the browser leaves it
    visitor = shown_time("2027-01-04T19:05:00.000Z", None)  # as a chat frame carries it
    assert visitor.iso == chosen.iso and visitor.text.endswith("19:05 UTC")
    assert visitor.convert is True
    assert shown_time(MOMENT, None, day=True).text.startswith("Mon 4 Jan")


@pytest.mark.parametrize("path", sorted(TEMPLATES_DIR.rglob("*.html")), ids=str)
def test_every_template_writes_times_through_the_one_macro(path) -> None:  # type: ignore[no-untyped-def]
    text = path.read_text()
    assert "strftime" not in text
    assert not re.search(r"created_at\[\d+:\d+\]|\bUTC</time>", text)
