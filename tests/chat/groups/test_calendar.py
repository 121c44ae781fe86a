"""The .ics download read back with icalendar: a session at its local time in its own zone, a
weekly series as one recurring event (RRULE, VTIMEZONE from the zone database, EXDATE for a
cancelled week, RECURRENCE-ID for a changed one) whose expansion matches the stored sessions
across a daylight-saving change, SEQUENCE and STATUS so a re-import updates it, reminders,
the discreet title, and who may download it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from dateutil.rrule import rrulestr
from icalendar import Calendar, Event
from sqlmodel import select

from chat.groups.models import GroupSession
from tests.chat.groups.conftest import scheduled

LONDON = "Europe/London"


def _spring_mondays() -> date:
    """The first Monday in March of next year: London's clocks go forward within the next four
    weeks, and it is always in the future and within the two years a session may be
    scheduled ahead."""
    day = date(date.today().year + 1, 3, 1)
    return day + timedelta(days=-day.weekday() % 7)


def _last_sunday_of_march(year: int) -> date:
    return max(date(year, 3, d) for d in range(25, 32) if date(year, 3, d).weekday() == 6)


async def _series(lead: httpx.AsyncClient, weeks: int = 6, **fields: Any) -> list[int]:
    body = {
        "community": "grief",
        "title": "Evening circle",
        "description": "A gentle hour together.",
        "ground_rules": "Be kind.",
        "duration_minutes": 60,
        "capacity": 8,
        "date": _spring_mondays().isoformat(),
        "time": "19:00",
        "timezone": LONDON,
        "weeks": weeks,
        **fields,
    }
    answer = await lead.post("/api/v1/sessions", json=body)
    assert answer.status_code == 201, answer.text
    return [s["id"] for s in answer.json()["sessions"]]


async def _ics(client: httpx.AsyncClient, session_id: int, query: str = "") -> Calendar:
    answer = await client.get(f"/sessions/{session_id}.ics{query}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/calendar")
    return Calendar.from_ical(answer.content)


def _master(cal: Calendar) -> Event:
    [master] = [e for e in cal.events if "RECURRENCE-ID" not in e]
    return master


def _expanded(cal: Calendar) -> set[datetime]:
    """Every start the file's rule makes, less its EXDATEs, in UTC, with the wall-clock times
    read through the file's own VTIMEZONE (not the zone database), as a calendar app would."""
    master = _master(cal)
    start = master.decoded("DTSTART")
    zone = {tz.tz_name: tz.to_tz() for tz in cal.timezones}[master["DTSTART"].params["TZID"]]
    naive = start.replace(tzinfo=None)
    rule = rrulestr(master["RRULE"].to_ical().decode(), dtstart=naive)
    excluded = {d.dt.replace(tzinfo=None) for ex in _exdates(master) for d in ex.dts}
    return {wall.replace(tzinfo=zone).astimezone(UTC) for wall in rule if wall not in excluded}


def _exdates(event: Event) -> list[Any]:
    found = event.get("EXDATE", [])
    return found if isinstance(found, list) else [found]


async def _rows(app: Any, ids: list[int]) -> list[GroupSession]:
    async with app.state.ctx.db.read() as s:
        found = await s.exec(select(GroupSession).where(GroupSession.id.in_(ids)))  # type: ignore[union-attr]
        return sorted(found, key=lambda g: g.id)


async def _change(app: Any, session_id: int, **fields: Any) -> None:
    # There is no "edit an occurrence" action yet: this writes what one would.
    async with app.state.ctx.db.transaction() as s:
        row = await s.get(GroupSession, session_id)
        for name, value in fields.items():
            setattr(row, name, value)
        s.add(row)


# --------------------------------------------------------------------------- one session


async def test_a_session_is_one_event_at_its_local_time_with_its_zone(app, community, people):
    lead = await people.member("Lantern", supporter=True)
    session_id = await scheduled(lead, date="2027-07-05", time="19:30", timezone=LONDON)
    before = datetime.now(UTC).replace(microsecond=0)
    cal = await _ics(lead, session_id)
    [event] = cal.events
    assert event["DTSTART"].params["TZID"] == LONDON
    assert event["DTSTART"].to_ical() == b"20270705T193000"  # summer: 18:30 UTC
    assert event.decoded("DTSTART") == datetime(2027, 7, 5, 18, 30, tzinfo=UTC)
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=60)
    assert [tz.tz_name for tz in cal.timezones] == [LONDON]
    assert str(event["UID"]) == f"group-session-{session_id}@testserver"
    assert event["SEQUENCE"] == 0 and event["STATUS"] == "CONFIRMED"
    assert "RRULE" not in event
    assert before <= event.decoded("DTSTAMP") <= datetime.now(UTC)
    assert str(event["URL"]) == f"http://testserver/sessions/{session_id}"
    # The UID is the same whenever it is downloaded: a re-import updates, never duplicates.
    again = (await _ics(lead, session_id)).events[0]
    assert again["UID"] == event["UID"]


async def test_a_session_scheduled_in_utc_is_written_in_utc_with_no_zone_to_add(
    app, community, people
):
    lead = await people.member("Lantern", supporter=True)
    session_id = await scheduled(lead, date="2027-07-05", time="19:30", timezone="UTC")
    answer = await lead.get(f"/sessions/{session_id}.ics")
    assert "DTSTART:20270705T193000Z\r\n" in answer.text
    assert "VTIMEZONE" not in answer.text


async def test_cancelling_a_session_raises_its_sequence_and_says_cancelled(app, community, people):
    lead = await people.member("Lantern", supporter=True)
    session_id = await scheduled(lead)
    first = (await _ics(lead, session_id)).events[0]
    cancel = await lead.post(f"/api/v1/sessions/{session_id}/cancel")
    assert cancel.status_code == 200, cancel.text
    updated = (await _ics(lead, session_id)).events[0]
    assert updated["UID"] == first["UID"]
    assert updated["STATUS"] == "CANCELLED"
    assert updated["SEQUENCE"] > first["SEQUENCE"]
    # Its page tells members who added it to download it again, so their calendar updates.
    page = (await lead.get(f"/sessions/{session_id}")).text
    assert f'href="/sessions/{session_id}.ics" download>download it again' in page


# --------------------------------------------------------------------------- a weekly series


async def test_a_weekly_series_is_one_event_with_a_rule_that_makes_the_stored_times(
    app, community, people
):
    lead = await people.member("Lantern", supporter=True)
    ids = await _series(lead, weeks=6)
    cal = await _ics(lead, ids[2], "?series=all")  # any week gives the whole series
    assert len(cal.events) == 1
    master = _master(cal)
    assert master["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=6"
    assert master["DTSTART"].params["TZID"] == LONDON
    first = _spring_mondays()
    assert master["DTSTART"].to_ical() == f"{first:%Y%m%d}T190000".encode()
    assert str(master["UID"]).startswith("group-series-")
    assert master["SEQUENCE"] == 0 and master["STATUS"] == "CONFIRMED"
    assert "EXDATE" not in master
    # London's VTIMEZONE, from the zone database: GMT in winter, BST from the last Sunday of
    # March.
    [london] = cal.timezones
    assert london.tz_name == LONDON
    kinds = {(o.name, str(o["TZNAME"]), o["TZOFFSETTO"].to_ical()) for o in london.subcomponents}
    assert ("STANDARD", "GMT", "+0000") in kinds and ("DAYLIGHT", "BST", "+0100") in kinds
    last_sunday = _last_sunday_of_march(first.year)
    assert last_sunday in {o.decoded("DTSTART").date() for o in london.walk("DAYLIGHT")}
    # The rule, read through that VTIMEZONE, makes exactly the stored times: 19:00 GMT, then
    # 18:00 UTC once the clocks have gone forward.
    rows = await _rows(app, ids)
    assert _expanded(cal) == {r.starts_at for r in rows}
    hours = sorted((r.starts_at.date(), r.starts_at.hour) for r in rows)
    assert {h for _, h in hours} == {19, 18}


async def test_a_cancelled_week_is_an_exdate_and_the_series_sequence_goes_up(
    app, community, people
):
    lead = await people.member("Lantern", supporter=True)
    ids = await _series(lead, weeks=6)
    before = _master(await _ics(lead, ids[0], "?series=all"))
    assert (await lead.post(f"/api/v1/sessions/{ids[4]}/cancel")).status_code == 200  # after DST
    cal = await _ics(lead, ids[0], "?series=all")
    master = _master(cal)
    assert master["UID"] == before["UID"]
    assert master["SEQUENCE"] > before["SEQUENCE"]
    assert master["STATUS"] == "CONFIRMED"
    [exdate] = _exdates(master)
    assert exdate.params["TZID"] == LONDON
    assert exdate.to_ical() == f"{_spring_mondays() + timedelta(weeks=4):%Y%m%d}T190000".encode()
    rows = await _rows(app, ids)
    assert _expanded(cal) == {r.starts_at for r in rows if r.status != "cancelled"}
    # Cancelling another raises it again.
    assert (await lead.post(f"/api/v1/sessions/{ids[1]}/cancel")).status_code == 200
    later = _master(await _ics(lead, ids[0], "?series=all"))
    assert later["SEQUENCE"] > master["SEQUENCE"] and len(_exdates(later)[0].dts) == 2


async def test_a_week_changed_on_its_own_is_an_override_of_its_slot(app, community, people):
    lead = await people.member("Lantern", supporter=True)
    ids = await _series(lead, weeks=6)
    before = _master(await _ics(lead, ids[0], "?series=all"))
    rows = await _rows(app, ids)
    moved = rows[3].starts_at + timedelta(hours=1, minutes=30)
    await _change(app, ids[3], starts_at=moved, title="Evening circle (later this week)")
    cal = await _ics(lead, ids[0], "?series=all")
    master = _master(cal)
    [override] = [e for e in cal.events if "RECURRENCE-ID" in e]
    assert override["UID"] == master["UID"] == before["UID"]
    assert master["SEQUENCE"] > before["SEQUENCE"]
    assert override["SEQUENCE"] >= master["SEQUENCE"]
    # Which week it replaces: the rule's own wall-clock time for that week, in the zone.
    assert override["RECURRENCE-ID"].params["TZID"] == LONDON
    slot = _spring_mondays() + timedelta(weeks=3)
    assert override["RECURRENCE-ID"].to_ical() == f"{slot:%Y%m%d}T190000".encode()
    assert override.decoded("DTSTART") == moved
    assert override["DTSTART"].to_ical() == f"{slot:%Y%m%d}T203000".encode()
    assert str(override["SUMMARY"]) == "Evening circle (later this week)"
    assert str(override["URL"]) == f"http://testserver/sessions/{ids[3]}"
    assert str(master["SUMMARY"]) == "Evening circle"  # the other weeks are unchanged
    assert "EXDATE" not in master


async def test_cancelling_every_week_cancels_the_series(app, community, people):
    lead = await people.member("Lantern", supporter=True)
    ids = await _series(lead, weeks=3)
    for session_id in ids:
        assert (await lead.post(f"/api/v1/sessions/{session_id}/cancel")).status_code == 200
    master = _master(await _ics(lead, ids[0], "?series=all"))
    assert master["STATUS"] == "CANCELLED" and master["SEQUENCE"] == 3


async def test_one_week_of_a_series_can_still_be_downloaded_on_its_own(app, community, people):
    lead = await people.member("Lantern", supporter=True)
    ids = await _series(lead, weeks=3)
    [event] = (await _ics(lead, ids[1])).events
    assert "RRULE" not in event and str(event["UID"]) == f"group-session-{ids[1]}@testserver"


# --------------------------------------------------------------------------- reminders, discretion


@pytest.mark.parametrize(
    ("query", "trigger"),
    [
        ("", "-PT30M"),
        ("?remind=15", "-PT15M"),
        ("?remind=30", "-PT30M"),
        ("?remind=60", "-PT1H"),
        ("?remind=9999", "-PT30M"),  # not one we offer: the default
        ("?remind=none", None),
    ],
)
async def test_the_reminder_is_the_one_the_member_chose(app, community, people, query, trigger):
    lead = await people.member("Lantern", supporter=True)
    session_id = await scheduled(lead, title="Grief circle")
    [event] = (await _ics(lead, session_id, query)).events
    alarms = event.walk("VALARM")
    if trigger is None:
        assert alarms == []
        return
    [alarm] = alarms
    assert alarm["ACTION"] == "DISPLAY"
    assert alarm["TRIGGER"].to_ical().decode() == trigger
    words = str(alarm["DESCRIPTION"])
    assert "Kindred session" in words and "Grief" not in words  # a lock screen shows it


async def test_every_event_of_a_series_carries_the_reminder(app, community, people):
    lead = await people.member("Lantern", supporter=True)
    ids = await _series(lead, weeks=4)
    await _change(app, ids[2], title="Evening circle, moved")
    cal = await _ics(lead, ids[0], "?series=all&remind=15")
    assert len(cal.events) == 2
    for event in cal.events:
        assert [a["TRIGGER"].to_ical() for a in event.walk("VALARM")] == [b"-PT15M"]


async def test_the_discreet_file_never_says_what_the_session_is_about(app, community, people):
    lead = await people.member("Lantern", supporter=True)
    ids = await _series(
        lead, weeks=4, title="Bereavement circle", description="Talking about losing a parent"
    )
    await _change(app, ids[1], title="Bereavement circle: a quieter week")
    single = await lead.get(f"/sessions/{ids[0]}.ics?discreet=1")
    series = await lead.get(f"/sessions/{ids[0]}.ics?series=all&discreet=1")
    for answer in (single, series):
        text = answer.text.replace("\r\n ", "")
        for word in ("bereavement", "parent", "losing", "grief"):
            assert word not in text.lower(), (word, text)
        cal = Calendar.from_ical(answer.content)
        assert {str(e["SUMMARY"]) for e in cal.events} == {"Kindred session"}
        assert all(e["CLASS"] == "PRIVATE" for e in cal.events)
    # Without it, the member's own calendar says what it is.
    plain = (await _ics(lead, ids[0], "?series=all")).events
    assert "Bereavement circle" in {str(e["SUMMARY"]) for e in plain}


async def test_a_title_that_tries_to_add_lines_stays_in_its_own_value_in_a_series(
    app, community, people
):
    lead = await people.member("Lantern", supporter=True)
    title = "Circle\u2028ATTENDEE:mailto:x@evil.example\x0bEND:VEVENT\r\nBEGIN:VEVENT"
    ids = await _series(lead, weeks=3, title=title)
    await _change(app, ids[1], title=title + " (moved)")
    raw = (await lead.get(f"/sessions/{ids[0]}.ics?series=all")).text
    lines = raw.replace("\r\n ", "").split("\r\n")[:-1]
    for line in lines:
        assert re.fullmatch(r"[A-Z-]+[;:].*", line), repr(line)
        assert not re.search(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]", line), repr(line)
    names = [re.split(r"[;:]", line, maxsplit=1)[0] for line in lines]
    assert "ATTENDEE" not in names
    assert lines.count("BEGIN:VEVENT") == 2 and lines.count("BEGIN:VALARM") == 2


# --------------------------------------------------------------------------- the page, who may


async def test_the_session_page_offers_the_choices_as_a_plain_form(app, community, people):
    lead = await people.member("Lantern", supporter=True)
    ids = await _series(lead, weeks=3)
    member = await people.member("Wren")  # before joining (the room itself keeps the links)
    page = (await member.get(f"/sessions/{ids[0]}")).text
    form = page[page.index('<details class="calendar-options"') :]
    form = form[: form.index("</details>")]
    assert f'<form method="get" action="/sessions/{ids[0]}.ics">' in form
    choices = dict(re.findall(r'name="(\w+)" value="(\w+)"[^>]*checked', form))
    assert choices == {"series": "all"}  # discreet is the member's to tick
    assert re.findall(r'<option value="(\w+)"', form) == ["none", "15", "30", "60"]
    assert '<option value="30" selected>' in form
    # What the browser sends with the defaults, and with every choice made, without script.
    default = await _ics(lead, ids[0], "?remind=30&series=all")
    assert len(default.events) == 1 and "RRULE" in default.events[0]
    chosen = await _ics(lead, ids[0], "?remind=none&discreet=1&series=all")
    assert chosen.events[0].walk("VALARM") == []
    assert str(chosen.events[0]["SUMMARY"]) == "Kindred session"
    single = (await member.get(f"/sessions/{await scheduled(lead, title='Once')}")).text
    assert 'name="series"' not in single  # a single session has no series to choose


async def test_a_members_only_series_is_not_downloaded_by_visitors(app, community, people, client):
    from communities.models import Community

    lead = await people.member("Lantern", supporter=True)
    ids = await _series(lead, weeks=3, title="Private circle")
    async with app.state.ctx.db.transaction() as s:
        row = await s.get(Community, community.id)
        row.visibility = "members"
        s.add(row)
    for query in ("", "?series=all", "?series=all&discreet=1&remind=15"):
        answer = await client.get(f"/sessions/{ids[0]}.ics{query}")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
        assert "Private circle" not in answer.text
    member = await people.member("Wren")
    assert len((await _ics(member, ids[0], "?series=all")).events) == 1
    assert (await client.get("/sessions/999999.ics?series=all")).status_code == 404


async def test_a_time_the_clocks_skip_is_read_by_the_calendar_as_it_was_stored(
    app, community, people
):
    # 01:30 on the Sunday London's clocks go forward doesn't exist: recurrence.py stores it as
    # 01:30 GMT (02:30 on the clock), which is what RFC 5545 tells a calendar app to do with it.
    lead = await people.member("Lantern", supporter=True)
    change = _last_sunday_of_march(_spring_mondays().year)
    start = change - timedelta(weeks=2)
    ids = await _series(lead, weeks=4, date=start.isoformat(), time="01:30")
    rows = await _rows(app, ids)
    # The week of the change: 01:30 UTC, as the week before.
    assert rows[2].starts_at == datetime.combine(change, time(1, 30), UTC)
    cal = await _ics(lead, ids[0], "?series=all")
    assert _master(cal)["DTSTART"].to_ical() == f"{start:%Y%m%d}T013000".encode()
    assert _expanded(cal) == {r.starts_at for r in rows}
    assert {r.starts_at.hour for r in rows} == {1, 0}  # and 00:30 UTC the week after


async def test_a_time_the_clocks_repeat_is_the_first_of_the_two_in_the_file_too(
    app, community, people
):
    # 01:30 on the Sunday London's clocks go back happens twice; both the stored session and
    # the calendar take the first (summer time), and the weeks still line up with the rule.
    lead = await people.member("Lantern", supporter=True)
    year = _spring_mondays().year
    change = max(date(year, 10, d) for d in range(25, 32) if date(year, 10, d).weekday() == 6)
    start = change  # the first week is the repeated hour itself
    ids = await _series(lead, weeks=4, date=start.isoformat(), time="01:30")
    rows = await _rows(app, ids)
    assert rows[0].starts_at == datetime.combine(change, time(0, 30), UTC)  # 01:30 BST
    assert rows[1].starts_at == datetime.combine(change + timedelta(weeks=1), time(1, 30), UTC)
    await _change(app, ids[1], title="Moved on its own")  # the weeks must still line up
    cal = await _ics(lead, ids[0], "?series=all")
    assert _master(cal)["DTSTART"].to_ical() == f"{start:%Y%m%d}T013000".encode()
    [override] = [e for e in cal.events if "RECURRENCE-ID" in e]
    assert (
        override["RECURRENCE-ID"].to_ical()
        == f"{start + timedelta(weeks=1):%Y%m%d}T013000".encode()
    )
    assert _expanded(cal) == {r.starts_at for r in rows}
