"""A forum thread shows when each post was written on the member's own clock, chosen as on the
sessions page; a visitor without one reads UTC, labelled, marked for the browser's clock."""

from __future__ import annotations

import re
from datetime import datetime

import httpx

from core.clock import on_clock
from tests.forum.test_pages import start
from tests.helpers import form_token

POST_TIME = re.compile(r'<time datetime="([^"]+)"( data-local="yes")?>([^<]+)</time>')


def _first_post_time(html: str) -> tuple[datetime, bool, str]:
    posts = html[html.index('<ol class="posts">') :]
    found = POST_TIME.search(posts)
    assert found, "no time on the first post"
    iso, local, text = found.groups()
    return datetime.fromisoformat(iso.replace("Z", "+00:00")), bool(local), text


async def choose_zone(client: httpx.AsyncClient, typed: str) -> None:
    page = await client.get("/sessions")
    chosen = await client.post(
        "/sessions/timezone",
        data={"csrf_token": form_token(page.text), "zone": typed, "next": "/sessions"},
    )
    assert chosen.status_code == 303, chosen.text


async def test_a_post_time_is_on_the_members_chosen_clock(alice, client) -> None:
    created = await start(alice)
    assert created.status_code == 303
    thread_url = created.headers["location"].split("#")[0]

    before = await alice.get(thread_url)
    moment, local, text = _first_post_time(before.text)
    assert moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 0
    assert local and text == on_clock(moment, None) and text.endswith(" UTC")

    await choose_zone(alice, "kolkata")  # UTC+05:30: never the same minute as UTC
    after = await alice.get(thread_url)
    moment_after, local, text = _first_post_time(after.text)
    assert moment_after == moment  # machines still read ISO 8601 UTC
    assert not local and text == on_clock(moment, "Asia/Kolkata")
    assert text != on_clock(moment, None).removesuffix(" UTC")
    assert 'data-zone="Asia/Kolkata"' in after.text  # so live times use it too

    visitor = (await client.get(thread_url)).text  # another browser, no clock chosen
    assert _first_post_time(visitor) == (moment, True, on_clock(moment, None))
