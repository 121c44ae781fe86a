"""A time-zone picker that is a short text box: a city or a zone in any case is understood,
the page carries a short list, and the full list is fetched only when someone starts choosing.
(How a moment is written, on every page: tests/core/test_clock.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chat.groups import clock
from chat.groups.recurrence import TimeError
from tests.chat.groups.conftest import scheduled
from tests.helpers import form_token


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Europe/London", "Europe/London"),
        ("europe/london", "Europe/London"),
        ("  London ", "Europe/London"),
        ("new york", "America/New_York"),
        ("America/New York", "America/New_York"),
        ("utc", "UTC"),
        ("US/Eastern", "US/Eastern"),  # a legacy name still works when typed
    ],
)
def test_a_city_or_a_zone_in_any_case_is_understood(typed: str, zone: str) -> None:
    assert clock.find_zone(typed) == zone


def test_what_cannot_be_found_is_refused_with_the_nearest_names() -> None:
    with pytest.raises(TimeError, match="Did you mean Europe/London"):
        clock.find_zone("Londn")
    with pytest.raises(TimeError, match=r"Did you mean Europe/London\?"):
        clock.find_zone("Europe/Londn")  # a zone whose city is misspelt
    with pytest.raises(TimeError, match="couldn't find a time zone called “Narnia”"):
        clock.find_zone("Narnia")
    with pytest.raises(TimeError, match="Choose a time zone"):
        clock.find_zone("   ")


def test_the_lists() -> None:
    listed = clock.listed_zones()
    assert listed[0] == "UTC" and "Europe/London" in listed and "Pacific/Auckland" in listed
    assert not [z for z in listed if z.startswith(("US/", "Etc/")) or z == "GB"]
    assert set(clock.COMMON_ZONES) <= set(listed)
    assert clock.common_zones("Asia/Tokyo")[0] == "Asia/Tokyo"
    assert clock.common_zones("Europe/London") == list(clock.COMMON_ZONES)
    assert clock.common_zones("Narnia") == list(clock.COMMON_ZONES)


async def test_the_sessions_page_is_light_and_its_picker_forgiving(app, community, people, client):
    lead = await people.member("Lantern", supporter=True)
    session_id = await scheduled(lead, after=timedelta(days=2))
    page = await client.get("/sessions")
    assert len(page.content) < 8 * 1024, len(page.content)  # was 23 KB with every zone in it
    assert page.text.count("<option") == len(clock.COMMON_ZONES)
    assert 'list="zone-choice-list"' in page.text and 'data-default-zone="yes"' in page.text
    everything = await client.get("/api/v1/time-zones")
    assert everything.json()["zones"] == clock.listed_zones()
    assert "max-age" in everything.headers["cache-control"]

    token = form_token(page.text)
    chosen = await client.post(
        "/sessions/timezone", data={"csrf_token": token, "zone": "tokyo", "next": "/sessions"}
    )
    assert chosen.status_code == 303 and 'kindred_tz="Asia/Tokyo"' in chosen.headers["set-cookie"]
    shown = (await client.get("/sessions")).text
    assert 'value="Asia/Tokyo"' in shown and 'data-default-zone="yes"' not in shown
    found = (await client.get(f"/api/v1/sessions/{session_id}")).json()["session"]["starts_at"]
    starts = datetime.fromisoformat(found.replace("Z", "+00:00"))
    assert f">{clock.on_clock(starts, 'Asia/Tokyo')}</time>" in shown
    assert shown.count("<option") == len(clock.COMMON_ZONES) + 1  # theirs, first
    missing = await client.post("/sessions/timezone", data={"csrf_token": token, "zone": "Londn"})
    assert missing.status_code == 422 and "Did you mean Europe/London?" in missing.text
    cleared = await client.post("/sessions/timezone", data={"csrf_token": token, "zone": ""})
    assert cleared.status_code == 303 and 'kindred_tz=""' in cleared.headers["set-cookie"]
    assert (await client.get(f"/sessions/{session_id}")).status_code == 200


async def test_a_misspelt_zone_without_javascript_comes_back_to_the_sessions_page(
    app, community, client
):
    # Not a generic error page: the sessions page again, the reason beside the box and the
    # words kept in it, on the page the form was on; no cookie is set.
    for page_path in ("/sessions", "/c/grief/sessions"):
        page = await client.get(page_path)
        answer = await client.post(
            "/sessions/timezone",
            data={"csrf_token": form_token(page.text), "zone": "Europe/Londn", "next": page_path},
        )
        assert answer.status_code == 422 and "set-cookie" not in answer.headers
        assert "That request didn't make sense" not in answer.text
        assert '<p class="error" id="zone-error">' in answer.text
        assert "Did you mean Europe/London?" in answer.text
        assert 'name="zone" value="Europe/Londn"' in answer.text
        assert 'aria-describedby="zone-hint zone-error" aria-invalid="true"' in answer.text
        assert f'name="next" value="{page_path}"' in answer.text
        assert ("Group sessions in Grief" in answer.text) == (page_path != "/sessions")
    # Sent from nowhere known (or a page that has gone), it is still the sessions page.
    page = await client.get("/sessions")
    answer = await client.post(
        "/sessions/timezone",
        data={"csrf_token": form_token(page.text), "zone": "Narnia", "next": "/c/gone/sessions"},
    )
    assert answer.status_code == 422 and "find a time zone called" in answer.text


async def test_the_schedule_form_takes_a_city_and_starts_on_the_browsers_zone(
    app, community, people, client
):
    from tests.helpers import join

    await join(client, "Lantern")
    from identity.accounts import set_roles

    await set_roles(app.state.ctx.db, "Lantern", peer_supporter=True)
    form = await client.get("/sessions/new")
    assert 'id="f-zone" name="timezone" value="UTC"' in form.text
    assert 'data-default-zone="yes"' in form.text and "js/time-zones.js" in form.text
    assert form.text.count("<option") < 40  # communities and the short list of zones
    start = datetime.now(UTC) + timedelta(days=3)
    made = await client.post(
        "/sessions/new",
        data={
            "csrf_token": form_token(form.text),
            "community": "grief",
            "title": "City circle",
            "date": start.strftime("%Y-%m-%d"),
            "time": "19:00",
            "timezone": "auckland",
            "duration_minutes": "60",
            "capacity": "6",
            "ground_rules": "Be kind.",
        },
    )
    assert made.status_code == 303, made.text
    session = (
        await client.get(made.headers["location"].replace("/sessions", "/api/v1/sessions"))
    ).json()
    starts = datetime.fromisoformat(session["session"]["starts_at"].replace("Z", "+00:00"))
    assert clock.on_clock(starts, "Pacific/Auckland").endswith(", 19:00")
