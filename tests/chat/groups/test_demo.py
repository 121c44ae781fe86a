"""The demo has an upcoming session and a weekly series, and seeding twice adds nothing."""

from __future__ import annotations

from sqlmodel import select

from chat.groups import recurrence
from chat.groups.models import GroupSession
from kindred.demo import DEMO_SERIES, DEMO_SESSION, seed_demo


async def test_demo_sessions_are_seeded_once(app, client):
    db = app.state.ctx.db
    await seed_demo(db)
    await seed_demo(db)
    async with db.read() as s:
        rows = list(await s.exec(select(GroupSession).order_by(GroupSession.starts_at)))
    assert [r.title for r in rows].count(DEMO_SESSION) == 1
    series = [r for r in rows if r.title == DEMO_SERIES]
    assert len(series) == 4 and len({r.series_id for r in series}) == 1
    assert {recurrence.local(r.starts_at, "Europe/London").hour for r in series} == {19}
    listing = await client.get("/sessions")
    assert DEMO_SESSION in listing.text and DEMO_SERIES in listing.text
