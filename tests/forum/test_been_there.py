""" "Been there" matching (forum/been_there.py): who is told about a request, who is never
told, what the asker sees, and that nobody can list who has which experience."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import col, select, update
from starlette.applications import Starlette

from communities import experiences
from communities.models import Community, ExperienceLabel, LivedExperience
from forum.been_there import MAX_TOLD, in_quiet_hours
from forum.models import BeenThereChoice, Notification
from identity.models import Member, MemberBlock
from moderation.models import AuditEntry, Sanction
from tests.conftest import make_client
from tests.helpers import PASSPHRASE, api_post, join, submit

PAGE = "/settings/been-there"


@pytest.fixture
async def label(app: Starlette, community: Community) -> int:
    async with app.state.ctx.db.transaction() as s:
        await experiences.add_label(s, community.id, "losing a pet")  # type: ignore[arg-type]
        return (await experiences.add_label(s, community.id, "losing a parent")).id  # type: ignore[arg-type,return-value]


@pytest.fixture
async def people(
    app: Starlette, community: Community
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """Signed-in members by name, made on first use."""
    async with AsyncExitStack() as stack:

        class People(dict):
            async def get_or_join(self, name: str) -> httpx.AsyncClient:
                if name not in self:
                    client = await stack.enter_async_context(make_client(app))
                    await join(client, name)
                    self[name] = client
                return self[name]

        yield People()


async def _record(client: httpx.AsyncClient, label_id: int, *, open_to_asks: bool = True) -> None:
    done = await submit(
        client, PAGE, PAGE, {"what": "record", "label": str(label_id), "since": "years"}
    )
    assert done.status_code == 303, done.text
    if open_to_asks:
        done = await submit(
            client,
            PAGE,
            PAGE,
            {
                "what": "choice",
                "open_to_asks": "yes",
                "quiet_from": "",
                "quiet_until": "",
                "zone": "",
            },
        )
        assert done.status_code == 303, done.text


async def _ask(client: httpx.AsyncClient, label_id: int | str, **fields: str) -> httpx.Response:
    data = {
        "kind": "request",
        "help_type": "emotional",
        "title": "My dad died last month",
        "body": "I don't know how to get through the evenings.",
        "been_there": str(label_id),
        "action": "post",
        **fields,
    }
    return await submit(client, "/c/grief/new", "/c/grief/new", data)


async def _ids(app: Starlette, *names: str) -> dict[str, int]:
    async with app.state.ctx.db.read() as s:
        rows = await s.exec(
            select(Member.pseudonym, Member.id).where(col(Member.pseudonym).in_(names))
        )
        return dict(rows.all())  # type: ignore[arg-type]


async def _told(app: Starlette) -> dict[int, list[int]]:
    """Each thread's told members, from their notices."""
    async with app.state.ctx.db.read() as s:
        rows = await s.exec(select(Notification).where(Notification.kind == "been_there"))
        told: dict[int, list[int]] = {}
        for n in rows:
            told.setdefault(n.thread_id, []).append(n.member_id)  # type: ignore[arg-type]
        return told


async def _helpers(people, label: int, n: int) -> list[str]:
    names = [f"helper-{i}" for i in range(n)]
    for name in names:
        await _record(await people.get_or_join(name), label)
    return names


async def test_a_request_tells_at_most_three_opted_in_members_who_have_been_there(
    app: Starlette, people, label: int
) -> None:
    helpers = await _helpers(people, label, 5)
    await _record(await people.get_or_join("not-asking-me"), label, open_to_asks=False)
    other = await experiences_label(app, "losing a pet")
    await _record(await people.get_or_join("other-loss"), other)
    asker = await people.get_or_join("the-asker")
    created = await _ask(asker, label)
    assert created.status_code == 303, created.text
    thread_url = created.headers["location"].split("#")[0]

    [told] = (await _told(app)).values()
    ids = await _ids(app, *helpers, "not-asking-me", "other-loss")
    assert len(told) == MAX_TOLD == 3
    assert set(told) <= {ids[name] for name in helpers}

    mine = await asker.get(thread_url)
    assert "3 members who have been there were told" in mine.text
    assert "losing a parent" in mine.text  # the asker sees what they asked about
    # Nobody else learns anything of the ask, not even those who were told.
    told_name = next(name for name in helpers if ids[name] == told[0])
    for reader in (people[told_name], people["other-loss"]):
        page = await reader.get(thread_url)
        assert "been there" not in page.text and "losing a parent" not in page.text

    notices = (await people[told_name].get("/notifications")).text
    assert "Someone asked for a member who's been through something you have" in notices
    assert thread_url in notices
    assert "the-asker" not in notices


async def experiences_label(app: Starlette, text: str) -> int:
    async with app.state.ctx.db.read() as s:
        found = await s.exec(select(ExperienceLabel.id).where(ExperienceLabel.label == text))
        return found.one()  # type: ignore[return-value]


async def test_rotation_asks_those_asked_least_recently_and_nobody_twice_in_a_week(
    app: Starlette, people, label: int
) -> None:
    helpers = await _helpers(people, label, 5)
    asker = await people.get_or_join("the-asker")
    for n in range(3):
        assert (await _ask(asker, label, title=f"Asking again {n}")).status_code == 303
    told = list((await _told(app)).values())
    assert [len(t) for t in told] == [3, 2]  # the third request found nobody rested enough
    assert set(told[0]).isdisjoint(told[1])
    assert len(set(told[0]) | set(told[1])) == len(helpers)
    page = await asker.get("/t/3")
    assert "could be asked just now" in page.text

    # A week on, the first three (asked longest ago) are asked before the last two.
    async with app.state.ctx.db.transaction() as s:
        for member_id in told[0]:
            await s.exec(
                update(BeenThereChoice)
                .where(col(BeenThereChoice.member_id) == member_id)
                .values(last_asked_at=datetime.now(UTC) - timedelta(days=8))
            )
        await s.exec(
            update(BeenThereChoice)
            .where(col(BeenThereChoice.member_id).in_(told[1]))
            .values(last_asked_at=datetime.now(UTC) - timedelta(days=7, hours=1))
        )
    await _ask(asker, label, title="A week later")
    latest = (await _told(app))[4]
    assert set(latest) == set(told[0])


async def test_blocks_sanctions_quiet_hours_and_the_asker_are_never_told(
    app: Starlette, people, label: int, community: Community
) -> None:
    names = ["blocked-by-asker", "blocks-asker", "suspended-one", "sleeping-one", "the-asker"]
    for name in names:
        await _record(await people.get_or_join(name), label)
    ids = await _ids(app, *names)
    now_hour = datetime.now(UTC).hour
    sleeping = await submit(
        people["sleeping-one"],
        PAGE,
        PAGE,
        {
            "what": "choice",
            "open_to_asks": "yes",
            "quiet_from": str(now_hour),
            "quiet_until": str((now_hour + 2) % 24),
            "zone": "UTC",
        },
    )
    assert sleeping.status_code == 303
    async with app.state.ctx.db.transaction() as s:
        s.add(MemberBlock(blocker_id=ids["the-asker"], blocked_id=ids["blocked-by-asker"]))
        s.add(MemberBlock(blocker_id=ids["blocks-asker"], blocked_id=ids["the-asker"]))
        s.add(
            Sanction(
                member_id=ids["suspended-one"],
                kind="suspend",
                community_id=community.id,
                reason="test",
                moderator_id=None,
                confirmed=True,
            )
        )
    created = await _ask(people["the-asker"], label)
    assert created.status_code == 303
    assert await _told(app) == {}
    page = await people["the-asker"].get(created.headers["location"].split("#")[0])
    assert "could be asked just now" in page.text
    # Nobody's turn was used up by a request they were never told about.
    async with app.state.ctx.db.read() as s:
        asked = await s.exec(select(BeenThereChoice.last_asked_at))
        assert set(asked) == {None}


async def test_a_held_request_tells_members_only_once_a_moderator_publishes_it(
    app: Starlette, people, label: int
) -> None:
    await _helpers(people, label, 1)
    asker = await people.get_or_join("the-asker")
    held = await _ask(asker, label, body="Please text me on 07700 900123, I can't sleep.")
    assert held.status_code == 303 and "held=" in held.headers["location"]
    assert await _told(app) == {}
    waiting = await asker.get(held.headers["location"].split("#")[0])
    assert "Once a moderator has looked at your thread" in waiting.text

    keeper = await people.get_or_join("keeper-one")
    async with app.state.ctx.db.transaction() as s:
        await s.exec(
            update(Member).where(col(Member.pseudonym) == "keeper-one").values(is_admin=True)
        )
    [case] = (await keeper.get("/api/v1/moderation/queue")).json()["items"]
    done = await api_post(
        keeper, f"/api/v1/moderation/cases/{case['case_id']}/actions", {"action": "approve"}
    )
    assert done.status_code == 200, done.text
    assert [len(t) for t in (await _told(app)).values()] == [1]
    page = await asker.get(held.headers["location"].split("#")[0].split("?")[0])
    assert "1 member who has been there was told" in page.text


async def test_only_a_request_for_help_can_ask_and_the_words_come_back(people, label: int) -> None:
    asker = await people.get_or_join("the-asker")
    refused = await _ask(asker, label, kind="discussion", body="Words I must not lose.")
    assert refused.status_code == 422
    assert "Only a request for help can ask" in refused.text
    assert "Words I must not lose.</textarea>" in refused.text
    elsewhere = await _ask(asker, 9999)
    assert elsewhere.status_code == 422 and "this community&#39;s list" in elsewhere.text


async def test_nobody_can_read_another_members_experiences(
    app: Starlette, people, label: int
) -> None:
    alice = await people.get_or_join("alice-fern")
    await _record(alice, label)
    bob = await people.get_or_join("bob-river")
    page = (await bob.get(PAGE)).text
    assert "You haven't noted any yet." in page
    # Removing "alice's" experience by its label from bob's session removes only bob's.
    await submit(bob, PAGE, PAGE, {"what": "forget", "label_id": str(label)})
    assert "losing a parent <span" in (await alice.get(PAGE)).text
    # Bob's export holds only his own record; the JSON API has nothing of it.
    export = (await bob.get("/account/export")).json()
    assert export["content"]["been_there"]["experiences"] == []
    mine = (await alice.get("/account/export")).json()["content"]["been_there"]
    assert mine["experiences"] == [
        {
            "community": "Grief & Loss",
            "experience": "losing a parent",
            "how_long_ago": "One to five years ago",
        }
    ]
    for path in ("/api/v1/communities", "/api/v1/communities/grief/threads", "/api/v1/session"):
        assert "losing a parent" not in (await bob.get(path)).text


async def test_moderators_see_counts_never_who(
    app: Starlette, people, community: Community
) -> None:
    keeper = await people.get_or_join("keeper-one")
    async with app.state.ctx.db.transaction() as s:
        await s.exec(
            update(Member).where(col(Member.pseudonym) == "keeper-one").values(is_admin=True)
        )
    settings = f"/moderation/communities/{community.slug}"
    added = await submit(
        keeper, settings, settings, {"what": "add_experience", "label": "losing a sibling"}
    )
    assert added.status_code == 303, added.text
    label = await experiences_label(app, "losing a sibling")
    for name in ("alice-fern", "bob-river"):
        await _record(await people.get_or_join(name), label)
    page = (await keeper.get(settings)).text
    assert "<td>losing a sibling</td>\n      <td>2</td>" in page
    assert "alice-fern" not in page and "bob-river" not in page
    async with app.state.ctx.db.read() as s:
        audited = list(await s.exec(select(AuditEntry.action)))
    assert "add_experience_label" in audited

    # A label that would be held (contact details) is refused with the reason, text kept.
    refused = await submit(
        keeper, settings, settings, {"what": "add_experience", "label": "call 07700 900123"}
    )
    assert refused.status_code == 422 and 'value="call 07700 900123"' in refused.text

    # Members can't reach the settings page; removing a label removes members' records.
    assert (await people["alice-fern"].get(settings)).status_code == 403
    removed = await submit(
        keeper, settings, settings, {"what": "remove_experience", "label_id": str(label)}
    )
    assert removed.status_code == 303
    async with app.state.ctx.db.read() as s:
        assert list(await s.exec(select(LivedExperience))) == []


async def test_quiet_hours_wrap_past_midnight_on_the_members_clock() -> None:
    night = BeenThereChoice(member_id=1, quiet_from=22, quiet_until=7, zone="Europe/London")
    at = lambda h: datetime(2026, 7, 1, h, 30, tzinfo=UTC)  # noqa: E731 (London is UTC+1)
    assert in_quiet_hours(night, at(21)) and in_quiet_hours(night, at(5))
    assert not in_quiet_hours(night, at(6)) and not in_quiet_hours(night, at(20))
    day = BeenThereChoice(member_id=1, quiet_from=9, quiet_until=17, zone="UTC")
    assert in_quiet_hours(day, at(9)) and not in_quiet_hours(day, at(17))
    assert not in_quiet_hours(BeenThereChoice(member_id=1), at(3))


async def test_quiet_hours_need_both_hours_and_a_real_zone(people) -> None:
    alice = await people.get_or_join("alice-fern")
    half = await submit(
        alice, PAGE, PAGE, {"what": "choice", "quiet_from": "22", "quiet_until": "", "zone": "UTC"}
    )
    assert half.status_code == 422 and "both when quiet hours start" in half.text
    nowhere = await submit(
        alice,
        PAGE,
        PAGE,
        {"what": "choice", "quiet_from": "22", "quiet_until": "6", "zone": "Mars/Olympus"},
    )
    assert nowhere.status_code == 422 and 'value="Mars/Olympus"' in nowhere.text
    page = (await alice.get(PAGE)).text
    assert "Nobody but you." in page
    assert (
        'id="f-open_to_asks" name="open_to_asks" value="yes" aria-describedby="f-open-hint">'
        in page
    )  # off


async def test_deleting_an_account_takes_its_experiences_with_it(
    app: Starlette, people, label: int
) -> None:
    alice = await people.get_or_join("alice-fern")
    await _record(alice, label)
    gone = await submit(
        alice,
        "/account/delete",
        "/account/delete",
        {"passphrase": PASSPHRASE, "content": "keep", "confirm": "yes"},
    )
    assert gone.status_code in (200, 303), gone.text
    async with app.state.ctx.db.read() as s:
        assert list(await s.exec(select(LivedExperience))) == []
        assert list(await s.exec(select(BeenThereChoice))) == []


async def test_the_json_api_asks_and_answers_with_a_count_only(
    app: Starlette, people, label: int
) -> None:
    await _helpers(people, label, 2)
    asker = await people.get_or_join("the-asker")
    listed = (await asker.get("/api/v1/communities/grief/experiences")).json()
    assert {"id": label, "label": "losing a parent"} in listed["experiences"]
    assert all(set(x) == {"id", "label"} for x in listed["experiences"])
    body = {
        "title": "Any tips?",
        "body": "Evenings are long.",
        "kind": "request",
        "help_type": "emotional",
        "been_there": label,
    }
    created = await api_post(asker, "/api/v1/communities/grief/threads", body)
    assert created.status_code == 201, created.text
    assert created.json()["been_there"] == {"told": 2, "waiting": False}
    thread = (await people["helper-0"].get(f"/api/v1/threads/{created.json()['id']}")).text
    assert "been_there" not in thread and "helper-1" not in thread
    notes = (await people["helper-0"].get("/api/v1/notifications")).json()["notifications"]
    assert [(n["kind"], n["actor"]) for n in notes] == [("been_there", "")]
    wrong = await api_post(asker, "/api/v1/communities/grief/threads", {**body, "kind": "offer"})
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "been_there"
