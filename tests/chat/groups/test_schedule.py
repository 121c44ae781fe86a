"""Scheduling: who may, bad input (past, overlapping, out of range), weekly series across
daylight-saving changes, the .ics download and times on the member's own clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import select

from chat.groups import recurrence
from chat.groups.models import GroupSession, GroupSessionSeries
from tests.chat.groups.conftest import schedule, scheduled


async def test_a_peer_supporter_schedules_a_session_with_its_own_room(app, community, people):
    lead = await people.member("Lantern", supporter=True)
    session_id = await scheduled(lead)
    answer = await lead.get(f"/api/v1/sessions/{session_id}")
    assert answer.status_code == 200
    state = answer.json()["session"]
    assert state["status"] == "scheduled" and state["capacity"] == 8 and state["seats_taken"] == 0
    assert answer.json()["you"]["role"] == "facilitator"
    listed = (await lead.get("/api/v1/sessions?community=grief")).json()["sessions"]
    assert [s["id"] for s in listed] == [session_id]
    # Its room is a members-only session room that the open room list never shows.
    assert "Evening circle" not in (await lead.get("/chat")).text


async def test_members_who_are_not_supporters_or_moderators_cannot_schedule(app, community, people):
    member = await people.member("Wren")
    answer = await schedule(member)
    assert answer.status_code == 403
    assert "peer supporters" in answer.json()["error"]["message"]
    moderator = await people.moderator("Keeper", community)
    assert (await schedule(moderator)).status_code == 201


async def test_a_start_in_the_past_is_refused_plainly(app, community, people):
    lead = await people.member("Lantern", supporter=True)
    answer = await schedule(lead, after=timedelta(minutes=-5))
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "session_in_past"
    assert "already passed" in answer.json()["error"]["message"]


async def test_overlapping_sessions_for_the_same_facilitator_are_refused(app, community, people):
    lead = await people.member("Lantern", supporter=True)
    other = await people.member("Beacon", supporter=True)
    await scheduled(lead, after=timedelta(days=2))
    clash = await schedule(lead, after=timedelta(days=2, minutes=30))
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "session_overlap"
    assert "Lantern is already facilitating" in clash.json()["error"]["message"]
    # Named as a co-facilitator, the same clash is found.
    named = await schedule(other, after=timedelta(days=2, minutes=59), facilitators="Lantern")
    assert named.status_code == 409
    # Straight after the first one ends is fine, and another facilitator at the same time too.
    assert (await schedule(lead, after=timedelta(days=2, minutes=61))).status_code == 201
    assert (await schedule(other, after=timedelta(days=2))).status_code == 201


async def test_out_of_range_values_are_refused_with_what_to_change(app, community, people):
    lead = await people.member("Lantern", supporter=True)
    cases = [
        ({"capacity": 1}, "from 2 to 100 seats"),
        ({"capacity": 500}, "from 2 to 100 seats"),
        ({"duration_minutes": 5}, "from 15 to 240 minutes"),
        ({"title": ""}, "title"),
        ({"ground_rules": " "}, "ground rules"),
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"date": "tomorrow"}, "year-month-day"),
        ({"facilitators": "Nobody-Here"}, "no member called"),
        ({"community": "nowhere"}, "community"),
    ]
    for fields, words in cases:
        answer = await schedule(lead, **fields)
        assert answer.status_code == 422, (fields, answer.text)
        assert words in answer.json()["error"]["message"], (fields, answer.text)
    plain = await people.member("Wren")
    answer = await schedule(lead, facilitators="Wren")
    assert answer.status_code == 422 and "can't facilitate" in answer.json()["error"]["message"]
    await plain.aclose()


# --------------------------------------------------------------------------- recurrence


def test_a_weekly_london_session_keeps_its_local_time_across_both_clock_changes():
    # 19:00 in London: 19:00 UTC in winter, 18:00 UTC in summer.
    spring = recurrence.weekly(
        recurrence.LocalSlot(date(2027, 3, 21), time(19), "Europe/London"), 3
    )
    assert [s.isoformat() for s in spring] == [
        "2027-03-21T19:00:00+00:00",
        "2027-03-28T18:00:00+00:00",  # the clocks went forward that morning
        "2027-04-04T18:00:00+00:00",
    ]
    autumn = recurrence.weekly(
        recurrence.LocalSlot(date(2027, 10, 24), time(19), "Europe/London"), 2
    )
    assert [s.hour for s in autumn] == [18, 19]  # back to GMT on 31 October
    # The same in a southern-hemisphere zone, where the changes go the other way.
    sydney = recurrence.weekly(
        recurrence.LocalSlot(date(2027, 3, 28), time(19), "Australia/Sydney"), 2
    )
    assert [s.hour for s in sydney] == [8, 9]


def test_a_local_time_that_does_not_exist_or_happens_twice_is_decided_once():
    # 01:30 on 28 March 2027 never happens in London (01:00 → 02:00): it is held at the
    # same moment as 01:30 GMT, which the clocks show as 02:30 — never skipped.
    gap = recurrence.to_utc(date(2027, 3, 28), time(1, 30), "Europe/London")
    assert gap == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    # 01:30 on 31 October 2027 happens twice: the first (still summer time, 00:30 UTC).
    twice = recurrence.to_utc(date(2027, 10, 31), time(1, 30), "Europe/London")
    assert twice == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


async def test_a_weekly_series_is_scheduled_as_separate_sessions(app, community, people):
    lead = await people.member("Lantern", supporter=True)
    start = datetime.now(UTC) + timedelta(days=3)
    answer = await lead.post(
        "/api/v1/sessions",
        json={
            "community": "grief",
            "title": "Weekly circle",
            "ground_rules": "Be kind.",
            "duration_minutes": 60,
            "capacity": 8,
            "date": start.strftime("%Y-%m-%d"),
            "time": "19:00",
            "timezone": "Europe/London",
            "weeks": 4,
        },
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()["sessions"]
    assert len(created) == 4
    async with app.state.ctx.db.read() as s:
        series = (await s.exec(select(GroupSessionSeries))).one()
        rows = list(await s.exec(select(GroupSession).order_by(GroupSession.starts_at)))
    assert (series.weekday, series.local_time, series.timezone, series.count) == (
        start.date().weekday(),
        "19:00",
        "Europe/London",
        4,
    )
    assert {r.series_id for r in rows} == {series.id}
    assert len({r.room_id for r in rows}) == 4
    for row in rows:  # 19:00 on the London clock every week, whatever the UTC offset
        assert recurrence.local(row.starts_at, "Europe/London").strftime("%H:%M") == "19:00"
    # The whole series in one calendar file, as one weekly event (more in test_calendar.py).
    ics = await lead.get(f"/sessions/{created[0]['id']}.ics?series=all")
    assert ics.text.count("BEGIN:VEVENT") == 1 and "RRULE:FREQ=WEEKLY;COUNT=4\r\n" in ics.text
    # A series whose first week clashes is refused as a whole.
    clash = {
        "community": "grief",
        "title": "Clash",
        "ground_rules": "x",
        "duration_minutes": 30,
        "capacity": 4,
        "date": start.strftime("%Y-%m-%d"),
        "time": "19:15",
        "timezone": "Europe/London",
        "weeks": 2,
    }
    again = await lead.post("/api/v1/sessions", json=clash)
    assert again.status_code == 409


# --------------------------------------------------------------------------- calendar, clocks


async def test_the_ics_file_is_a_valid_calendar_entry_with_escaped_text(app, community, people):
    lead = await people.member("Lantern", supporter=True)
    session_id = await scheduled(
        lead,
        title="Grief; loss, and hope",
        description="Line one\nLine two, with a comma; " + "long " * 30,
        after=timedelta(days=2),
    )
    answer = await lead.get(f"/sessions/{session_id}.ics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    assert "attachment" in answer.headers["content-disposition"]
    text = answer.text
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and text.endswith(
        "END:VCALENDAR\r\n"
    )
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    unfolded = text.replace("\r\n ", "")
    assert "SUMMARY:Grief\\; loss\\, and hope\r\n" in unfolded
    assert "DESCRIPTION:Line one\\nLine two\\, with a comma\\; long" in unfolded
    assert f"UID:group-session-{session_id}@testserver" in unfolded
    assert f"URL:http://testserver/sessions/{session_id}" in unfolded
    for name in ("DTSTAMP", "DTSTART", "DTEND"):
        line = next(line for line in unfolded.split("\r\n") if line.startswith(name + ":"))
        assert line.endswith("Z") and len(line) == len(name) + 17
    async with app.state.ctx.db.read() as s:
        row = await s.get(GroupSession, session_id)
    assert f"DTSTART:{row.starts_at:%Y%m%dT%H%M}00Z" in unfolded


async def test_times_show_on_the_members_chosen_clock_or_in_utc_for_the_browser(
    app, community, people, client
):
    lead = await people.member("Lantern", supporter=True)
    start = datetime(datetime.now(UTC).year + 1, 1, 15, 19, 0, tzinfo=UTC)
    session_id = await scheduled(
        lead, date=start.strftime("%Y-%m-%d"), time="19:00", timezone="UTC", after=timedelta(0)
    )
    plain = (await client.get(f"/sessions/{session_id}")).text
    assert f'<time datetime="{start.year}-01-15T19:00:00.000Z" data-local="yes">' in plain
    assert f"15 Jan {start.year}, 19:00 UTC</time>" in plain  # labelled: no clock chosen
    page = await client.get("/sessions")
    from tests.helpers import form_token

    chosen = await client.post(
        "/sessions/timezone",
        data={"csrf_token": form_token(page.text), "zone": "America/New_York", "next": "/sessions"},
    )
    assert chosen.status_code == 303
    shown = (await client.get(f"/sessions/{session_id}")).text
    assert f"15 Jan {start.year}, 14:00</time>" in shown  # EST in January: UTC−5
    assert 'data-local="yes"' not in shown
    bad = await client.post(
        "/sessions/timezone",
        data={"csrf_token": form_token(page.text), "zone": "Nowhere/Else"},
    )
    assert bad.status_code == 422
