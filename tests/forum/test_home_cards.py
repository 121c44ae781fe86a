"""The home page's community cards show life: published threads and the last activity, read
in one query however many communities there are; a members-only community keeps its figures
from visitors."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import event
from sqlmodel import select

from communities.models import Community
from forum.communities import create_community
from forum.models import Thread
from identity.accounts import find_member
from kindred.pages import how_long_ago
from tests.conftest import make_client
from tests.helpers import api_post


def card(html: str, name: str) -> str:
    """The text of one community's card, tags stripped and spaces collapsed."""
    cards = re.findall(r'<li class="card">(.*?)</li>', html, re.S)
    found = next(c for c in cards if f">{name}<" in c)
    return " ".join(re.sub(r"<[^>]+>", " ", found).split())


async def new_thread(client: httpx.AsyncClient, slug: str, title: str) -> int:
    made = await api_post(
        client, f"/api/v1/communities/{slug}/threads", {"title": title, "body": "Hello all."}
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


async def set_activity(app, moments: dict[int, datetime], status: str | None = None) -> None:
    async with app.state.ctx.db.transaction() as s:
        for thread_id, when in moments.items():
            thread = await s.get(Thread, thread_id)
            thread.last_activity_at = when
            if status:
                thread.status = status
            s.add(thread)


async def test_a_card_counts_published_threads_and_says_when_one_last_moved(
    app, alice, community: Community
) -> None:
    empty = card((await alice.get("/")).text, "Grief &amp; Loss")
    assert empty.endswith("No threads yet — start one")
    assert 'href="/c/grief/new">start one</a>' in (await alice.get("/")).text

    now = datetime.now(UTC)
    first, second, gone = [await new_thread(alice, "grief", f"Thread {n}") for n in range(3)]
    await set_activity(app, {first: now - timedelta(days=3), second: now - timedelta(hours=2)})
    # A removed thread is neither counted nor its (newer) activity shown.
    await set_activity(app, {gone: now - timedelta(minutes=5)}, status="removed")
    text = card((await alice.get("/")).text, "Grief &amp; Loss")
    assert text.endswith("2 threads · active 2 hours ago"), text
    page = (await alice.get("/")).text
    assert re.search(r'<time datetime="[^"]+">2 hours ago</time>', page)


async def test_members_only_figures_are_for_members(app, alice, community: Community) -> None:
    ctx = app.state.ctx
    keeper = await find_member(ctx.db, "Site-Keeper")
    await create_community(
        ctx, keeper, slug="vets", name="Veterans", description="Private.", visibility="members"
    )
    await new_thread(alice, "vets", "Only for us")
    assert card((await alice.get("/")).text, "Veterans").endswith("1 thread · active just now")
    async with make_client(app) as visitor:
        shown = card((await visitor.get("/")).text, "Veterans")
    assert "Members only" in shown and shown.endswith("Sign in or join to read it.")
    assert "thread" not in shown


async def test_the_home_page_reads_every_card_in_one_query(app, alice, community) -> None:
    async def statements_for_home() -> list[str]:
        seen: list[str] = []

        def count(conn, cursor, statement, *args) -> None:
            seen.append(statement)

        engine = app.state.ctx.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert (await alice.get("/")).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return seen

    await new_thread(alice, "grief", "One")
    few = await statements_for_home()
    ctx = app.state.ctx
    keeper = await find_member(ctx.db, "Site-Keeper")
    for n in range(5):
        await create_community(ctx, keeper, slug=f"place-{n}", name=f"Place {n}")
    many = await statements_for_home()
    async with ctx.db.read() as s:
        assert len(list(await s.exec(select(Community)))) == 6
    assert len(many) == len(few)
    assert sum("FROM community" in q for q in many) == 1


def test_how_long_ago_says_the_largest_whole_unit() -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    said = {
        timedelta(seconds=20): "just now",
        timedelta(minutes=1): "1 minute ago",
        timedelta(minutes=59): "59 minutes ago",
        timedelta(hours=2, minutes=40): "2 hours ago",
        timedelta(days=1, hours=3): "1 day ago",
        timedelta(days=13): "1 week ago",
        timedelta(days=45): "1 month ago",
        timedelta(days=800): "2 years ago",
        timedelta(minutes=-5): "just now",  # a clock a little ahead never says "in 5 minutes"
    }
    for ago, words in said.items():
        assert how_long_ago(now - ago, now) == words
