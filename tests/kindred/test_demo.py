"""The demo: welcoming threads in every demo community, written by demo members through the
same path as members' posts, marked as a demo, and removed with one command (only them)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import col, select

from communities.models import Community
from core.context import AppContext
from core.settings import Settings
from forum.models import Notification, Post, Reaction, Thread, ThreadFollow
from identity.models import Member
from kindred.app import create_app
from kindred.demo import (
    DEMO_MARK,
    DEMO_MEMBERS,
    DEMO_THREADS,
    DemoError,
    Removed,
    Seeded,
    remove_demo,
    seed_demo,
    seed_threads,
    seeding_settings,
)
from moderation.models import ModerationCase
from tests.helpers import PASSPHRASE, join

KINDRED = str(Path(sys.executable).parent / "kindred")


@pytest.fixture
async def demo(settings: Settings) -> AsyncIterator[AppContext]:
    """The demo as `kindred seed-demo` adds it, under the settings it is vetted with."""
    ctx = create_app(seeding_settings(settings)).state.ctx
    await seed_demo(ctx.db)
    assert await seed_threads(ctx) == Seeded(
        len(DEMO_THREADS), sum(len(t.replies) for t in DEMO_THREADS)
    )
    yield ctx
    await ctx.db.close()


async def _count(ctx: AppContext, table: type, *where: object) -> int:
    async with ctx.db.read() as s:
        return (await s.exec(select(func.count()).select_from(table).where(*where))).one()


def test_every_demo_community_gets_two_or_three_threads_of_varied_kinds() -> None:
    from kindred.demo import DEMO_COMMUNITIES

    per_community = Counter(thread.community for thread in DEMO_THREADS)
    assert set(per_community) == {slug for slug, *_ in DEMO_COMMUNITIES}
    assert set(per_community.values()) <= {2, 3}
    assert {thread.kind for thread in DEMO_THREADS} == {"discussion", "request", "offer"}
    assert all(1 <= len(thread.replies) <= 2 for thread in DEMO_THREADS)
    authors = {thread.author for thread in DEMO_THREADS}
    authors |= {author for thread in DEMO_THREADS for author, _ in thread.replies}
    assert authors == set(DEMO_MEMBERS)
    assert all(name.startswith("Demo-") for name in DEMO_MEMBERS)  # marked for readers


async def test_demo_threads_are_published_like_members_posts(
    demo: AppContext, client: httpx.AsyncClient
) -> None:
    async with demo.db.read() as s:
        posts = list(await s.exec(select(Post)))
        threads = list(await s.exec(select(Thread)))
        authors = {m.id: m for m in await s.exec(select(Member))}
    assert len(threads) == len(DEMO_THREADS)
    assert len(posts) == len(DEMO_THREADS) + sum(len(t.replies) for t in DEMO_THREADS)
    # Every word went through vet and came out published: nothing held, nothing flagged as
    # a crisis (a demo must not fill the review queue), rendered and sanitised HTML stored.
    assert {(p.status, p.crisis) for p in posts} == {("published", False)}
    assert {t.status for t in threads} == {"published"}
    assert await _count(demo, ModerationCase) == 0
    assert all(p.html.startswith("<p>") for p in posts)
    openings = [p for p in posts if p.is_opening]
    assert len(openings) == len(DEMO_THREADS)
    assert all(p.body.startswith(DEMO_MARK) for p in openings)
    assert all("<em>A demo post" in p.html for p in openings)
    assert {authors[p.author_id].pseudonym for p in posts} == set(DEMO_MEMBERS)
    # Readers see them where members look: the community's page, and search.
    page = (await client.get("/c/grief")).text
    assert "Small things that bring them back to you" in page and "Demo-Juniper" in page
    found = (await client.get("/api/v1/search?q=savings jar")).json()["results"]
    assert len(found) == 1


async def test_nobody_can_sign_in_as_a_demo_member(
    demo: AppContext, client: httpx.AsyncClient
) -> None:
    # A demo member has no passphrase at all: every guess is wrong.
    for passphrase in (PASSPHRASE, "demo demo demo demo"):
        response = await client.post(
            "/api/v1/login", json={"pseudonym": "Demo-Robin", "passphrase": passphrase}
        )
        assert response.status_code == 401, response.text
    # … nor take a demo name while the demo is there.
    taken = await client.post(
        "/api/v1/signup", json={"pseudonym": "Demo-R0bin", "passphrase": PASSPHRASE}
    )
    assert taken.status_code == 409, taken.text


async def test_seeding_again_adds_nothing(demo: AppContext) -> None:
    before = await _count(demo, Post), await _count(demo, Member), await _count(demo, Community)
    assert await seed_demo(demo.db) == []
    assert await seed_threads(demo) == Seeded(0, 0)
    after = await _count(demo, Post), await _count(demo, Member), await _count(demo, Community)
    assert after == before


async def test_removing_deletes_the_demo_and_nothing_else(
    demo: AppContext, client: httpx.AsyncClient
) -> None:
    member = await join(client, "Quiet-Heron", token=True)
    bearer = {"authorization": f"Bearer {member['token']}"}
    mine = await client.post(
        "/api/v1/communities/recovery/threads",
        json={"title": "My own thread", "body": "Hello, I'm new here and glad to have found you."},
        headers=bearer,
    )
    assert mine.status_code == 201, mine.text
    async with demo.db.read() as s:
        demo_threads = {t.title: t for t in await s.exec(select(Thread))}
    # A member replies in one demo thread (so it stays), and reacts in another (so that
    # reaction goes with the post it was on).
    kept = demo_threads["Tiny wins this week"]
    answer = await client.post(
        f"/api/v1/threads/{kept.id}/posts",
        json={"body": "I answered a knock at the door without panicking."},
        headers=bearer,
    )
    assert answer.status_code == 201, answer.text
    other = demo_threads["Writing a CV for civilian jobs"]
    async with demo.db.read() as s:
        opening = (await s.exec(select(Post).where(Post.thread_id == other.id))).first()
    reacted = await client.post(
        f"/api/v1/posts/{opening.id}/reactions", json={"kind": "thanks"}, headers=bearer
    )
    assert reacted.status_code == 201, reacted.text

    removed = await remove_demo(demo.db)

    kept_posts = 1 + len(next(t for t in DEMO_THREADS if t.title == kept.title).replies)
    all_demo_posts = len(DEMO_THREADS) + sum(len(t.replies) for t in DEMO_THREADS)
    assert removed.threads == len(DEMO_THREADS) - 1 and removed.kept == 1
    assert removed.posts == all_demo_posts - kept_posts
    async with demo.db.read() as s:
        threads = {t.title for t in await s.exec(select(Thread))}
        names = set(await s.exec(select(Member.pseudonym)))
        posts = list(await s.exec(select(Post)))
    assert threads == {"My own thread", "Tiny wins this week"}
    # The kept thread's demo authors stay with it; every other demo member is gone.
    kept_authors = {"Demo-Juniper", "Demo-Sam", "Demo-Robin"}
    assert names == {"Quiet-Heron", *kept_authors}
    assert removed.members == len(DEMO_MEMBERS) - len(kept_authors)
    assert len(posts) == 1 + kept_posts + 1  # mine, the kept thread's, my reply there
    assert await _count(demo, Reaction) == 0
    assert (
        await _count(
            demo, ThreadFollow, col(ThreadFollow.thread_id).not_in([p.thread_id for p in posts])
        )
        == 0
    )
    assert (
        await _count(
            demo, Notification, col(Notification.thread_id).not_in([p.thread_id for p in posts])
        )
        == 0
    )
    assert await _count(demo, Community) == 6  # the communities and sessions stay
    # Search finds nothing that was removed, and still finds what stayed.
    assert (await client.get("/api/v1/search?q=savings jar")).json()["results"] == []
    assert len((await client.get("/api/v1/search?q=knock")).json()["results"]) == 1

    assert await remove_demo(demo.db) == Removed(0, 0, 0, kept=1)  # once is enough
    # Seeding again brings the demo back where none of it is left.
    again = await seed_threads(demo)
    assert again.threads == len(DEMO_THREADS) - 2  # not in anxiety-low-mood


async def test_a_member_with_a_demo_name_stops_the_seeding(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    await join(client, "Demo-Sam")
    ctx = create_app(seeding_settings(settings)).state.ctx
    try:
        await seed_demo(ctx.db)
        with pytest.raises(DemoError, match="a member goes by Demo-Sam"):
            await seed_threads(ctx)
        assert await _count(ctx, Thread) == 0
        assert await remove_demo(ctx.db) == Removed()  # theirs is no demo account
        assert await _count(ctx, Member, Member.pseudonym == "Demo-Sam") == 1
    finally:
        await ctx.db.close()


def _kindred(args: list[str], data: Path) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KINDRED_")}
    environ["KINDRED_DATA_DIR"] = str(data)
    return subprocess.run(
        [KINDRED, *args], env=environ, capture_output=True, text=True, timeout=120, input=""
    )


def test_the_commands_seed_and_remove_the_demo(tmp_path: Path) -> None:
    seeded = _kindred(["seed-demo"], tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    threads, replies = len(DEMO_THREADS), sum(len(t.replies) for t in DEMO_THREADS)
    assert seeded.stdout.splitlines()[-1] == (
        f"demo: added {threads} threads and {replies} replies by demo members "
        "(`kindred remove-demo` deletes them)"
    )
    again = _kindred(["seed-demo"], tmp_path)
    assert again.returncode == 0 and again.stdout == "", again.stdout + again.stderr
    removed = _kindred(["remove-demo"], tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout == (
        f"demo: removed {threads} threads ({threads + replies} posts) and "
        f"{len(DEMO_MEMBERS)} demo members\n"
    )
    with sqlite3.connect(tmp_path / "kindred.db") as db:
        assert db.execute("SELECT count(*) FROM post").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM member").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM community").fetchone() == (6,)
    nothing = _kindred(["remove-demo"], tmp_path)
    assert nothing.stdout == "demo: removed 0 threads (0 posts) and 0 demo members\n"
