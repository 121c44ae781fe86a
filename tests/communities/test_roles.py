"""One role rule set (issue 15): the table below says, for each role and action, whether it
is allowed in *this* community (Grief). communities.roles must agree with it, and so must
every page and JSON call that offers or does the action: the test walks each role through
them and lists every place that answers differently.

The world: Grief (this community) and Caring (another). Seven people, one per role; Lead is a
peer supporter who scheduled a group session in Grief (its named facilitator); Quiet-Author
wrote an anonymous thread in Grief whose crisis flag opened a case; Plain-Target is whom
moderators warn.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select
from starlette.applications import Starlette

from communities import roles
from communities.models import Community, CommunityModerator
from communities.roles import Action, Role
from core.settings import Settings
from identity import accounts
from identity.models import Member
from moderation.models import ModerationCase
from tests.chat.people import make_community
from tests.conftest import make_client
from tests.helpers import PASSPHRASE, api_post, form_token, join

ROOT = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------- the table

ACTIONS = ("schedule", "facilitate", "moderate", "see authors", "take support", "reach out")
AS_ACTION = {
    "schedule": Action.SCHEDULE_SESSION,
    "facilitate": Action.FACILITATE_SESSION,
    "moderate": Action.MODERATE,
    "see authors": Action.SEE_AUTHORS,
    "take support": Action.TAKE_SUPPORT,
    "reach out": Action.REACH_OUT,
}
Y, N = True, False
# In Grief:              schedule facilitate moderate see-authors take-support reach-out
EXPECTED: dict[str, tuple[bool, ...]] = {
    "visitor":             (N,       N,         N,       N,          N,           N),
    "member":              (N,       N,         N,       N,          N,           N),
    "peer supporter":      (Y,       N,         N,       N,          Y,           Y),
    "named facilitator":   (Y,       Y,         N,       N,          Y,           Y),
    "moderator here":      (Y,       Y,         Y,       Y,          N,           Y),
    "moderator elsewhere": (N,       N,         N,       N,          N,           N),
    "admin":               (Y,       Y,         Y,       Y,          Y,           Y),
}  # fmt: skip
# What a role may do in some other community too (Caring): where a page only asks
# "anywhere?" (whether to show the schedule button, whether the queue opens at all).
ELSEWHERE = {"moderator elsewhere": {"schedule", "moderate", "see authors", "reach out"}}
NAMES = {
    "member": "Plain-Wren",
    "peer supporter": "Kind-Heron",
    "named facilitator": "Steady-Lantern",
    "moderator here": "Grief-Keeper",
    "moderator elsewhere": "Caring-Keeper",
    "admin": "Site-Admin",
}
CRISIS_TITLE = "A heavy night"
AUTHOR = "Quiet-Author"


def expected(role: str, action: str) -> bool:
    return EXPECTED[role][ACTIONS.index(action)]


def anywhere(role: str, action: str) -> bool:
    return expected(role, action) or action in ELSEWHERE.get(role, set())


# --------------------------------------------------------------------------- the world


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, rate_limits="signup_network=1000/hour")


@dataclass
class World:
    app: Starlette
    grief: Community
    caring: Community
    clients: dict[str, httpx.AsyncClient]
    members: dict[str, Member | None]
    session_id: int
    thread_id: int
    case_id: int
    target_id: int


def _day(days: int) -> dict[str, str]:
    moment = datetime.now(UTC) + timedelta(days=days)
    return {"date": moment.strftime("%Y-%m-%d"), "time": "07:00", "timezone": "UTC"}


SCHEDULE = {
    "community": "grief",
    "title": "Morning circle",
    "ground_rules": "1. Kindness.",
    "duration_minutes": "60",
    "capacity": "8",
}


@pytest.fixture
async def world(app: Starlette) -> AsyncIterator[World]:
    ctx = app.state.ctx
    grief = await make_community(ctx, "grief", "Grief")  # signs Site-Admin up
    caring = await make_community(ctx, "caring", "Caring")
    clients = {"visitor": make_client(app)}
    for role, name in NAMES.items():
        client = make_client(app)
        if role == "admin":
            answer = await client.post(
                "/api/v1/login", json={"pseudonym": name, "passphrase": PASSPHRASE}
            )
            assert answer.status_code == 200, answer.text
        else:
            await join(client, name)
        clients[role] = client
    for role in ("peer supporter", "named facilitator"):
        await accounts.set_roles(ctx.db, NAMES[role], peer_supporter=True)
    for role, community in (("moderator here", grief), ("moderator elsewhere", caring)):
        found = await accounts.find_member(ctx.db, NAMES[role])
        assert found is not None
        async with ctx.db.transaction() as s:
            s.add(CommunityModerator(community_id=community.id, member_id=found.id))  # type: ignore[arg-type]
    scheduled = await api_post(
        clients["named facilitator"], "/api/v1/sessions", {**SCHEDULE, **_day(3)}
    )
    assert scheduled.status_code == 201, scheduled.text
    author, target = make_client(app), make_client(app)
    await join(author, AUTHOR)
    await join(target, "Plain-Target")
    posted = await api_post(
        author,
        "/api/v1/communities/grief/threads",
        {"title": CRISIS_TITLE, "body": "I want to die", "anonymous": True},
    )
    assert posted.status_code in (201, 202), posted.text
    async with ctx.db.read() as s:
        [case] = list(
            await s.exec(select(ModerationCase).where(ModerationCase.community_id == grief.id))
        )
    assert case.crisis
    members = {"visitor": None} | {
        role: await accounts.find_member(ctx.db, name) for role, name in NAMES.items()
    }
    target_member = await accounts.find_member(ctx.db, "Plain-Target")
    assert target_member is not None
    yield World(
        app,
        grief,
        caring,
        clients,
        members,
        scheduled.json()["sessions"][0]["id"],
        posted.json()["id"],
        case.id,  # type: ignore[arg-type]
        target_member.id,  # type: ignore[arg-type]
    )
    for client in (*clients.values(), author, target):
        await client.aclose()


# --------------------------------------------------------------------------- the rules as data


def test_the_docs_print_the_rule_table() -> None:
    """docs/moderators.md's table is communities.roles.RULES, cell for cell."""
    text = (ROOT / "docs" / "moderators.md").read_text()
    table = text.split("<!-- roles table")[1].split("\n\n")[0]
    lines = [line for line in table.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    columns = {
        "Visitor": Role.VISITOR,
        "Member": Role.MEMBER,
        "Peer supporter": Role.PEER_SUPPORTER,
        "Named facilitator": Role.FACILITATOR,
        "Moderator": Role.MODERATOR,
        "Admin": Role.ADMIN,
    }
    assert header == ["Action", *columns], header
    printed = {}
    for line in lines[2:]:
        action, *cells = (cell.strip() for cell in line.strip("|").split("|"))
        printed[Action(action)] = frozenset(
            role for role, cell in zip(columns.values(), cells, strict=True) if cell == "yes"
        )
        assert set(cells) <= {"yes", "no"}, line
    assert printed == dict(roles.RULES)


def test_every_action_has_a_rule_and_admins_hold_every_one() -> None:
    assert set(roles.RULES) == set(Action)
    for action, holders in roles.RULES.items():
        assert Role.ADMIN in holders, action
        assert Role.VISITOR not in holders and Role.MEMBER not in holders, action


async def test_roles_may_agrees_with_the_table(world: World) -> None:
    db = world.app.state.ctx.db
    wrong = []
    async with db.read() as s:
        for role, member in world.members.items():
            for action in ACTIONS:
                named = role == "named facilitator" and action == "facilitate"
                here = await roles.may(
                    s, member, AS_ACTION[action], world.grief.id, named_facilitator=named
                )
                if here != expected(role, action):
                    wrong.append((role, action, "may", here))
                if action == "facilitate":
                    continue  # a session's role: communities_where knows no sessions
                where = await roles.communities_where(s, member, AS_ACTION[action])
                in_grief = where is None or world.grief.id in where
                if in_grief != expected(role, action):
                    wrong.append((role, action, "communities_where", where))
                somewhere = await roles.may_somewhere(s, member, AS_ACTION[action])
                if somewhere != anywhere(role, action):
                    wrong.append((role, action, "may_somewhere", somewhere))
    assert wrong == []


async def test_a_member_who_has_left_holds_no_role(world: World) -> None:
    admin = world.members["admin"]
    assert admin is not None
    gone = admin.model_copy(update={"deleted_at": datetime.now(UTC)})
    async with world.app.state.ctx.db.read() as s:
        for action in Action:
            assert not await roles.may(s, gone, action, world.grief.id, named_facilitator=True)
            assert await roles.communities_where(s, gone, action) == set()


# --------------------------------------------------------------------------- pages and API


def refused(response: httpx.Response) -> bool:
    """Turned away: signed out (401, or sent to sign in), not allowed (403), or told that
    what lies outside their reach doesn't exist (404)."""
    if response.status_code in (401, 403, 404):
        return True
    return response.status_code in (302, 303) and "/login" in response.headers["location"]


def done(response: httpx.Response, *statuses: int) -> bool:
    """Done (one of `statuses`) or refused; anything else (a 422, a 500) is neither, and
    fails the test here rather than passing for a refusal."""
    if response.status_code in statuses and not refused(response):
        return True
    assert refused(response), (response.request.url, response.status_code, response.text[:300])
    return False


async def _token(client: httpx.AsyncClient) -> str:
    page = await client.get("/sessions")  # every visitor can load it; it carries a form
    return form_token(page.text)


async def _form(client: httpx.AsyncClient, path: str, data: dict[str, str]) -> httpx.Response:
    return await client.post(path, data={"csrf_token": await _token(client), **data})


async def _api(client: httpx.AsyncClient, path: str, body: Any = None) -> httpx.Response:
    signed_in = (await client.get("/api/v1/session")).status_code == 200
    if not signed_in:  # a visitor has no CSRF token to send: the API answers 401 first
        return await client.post(path, json=body or {})
    return await api_post(client, path, body)


async def observe(world: World, role: str, days: int) -> dict[tuple[str, str], bool]:
    """What the pages and the JSON API let this role do, each place by name."""
    client, seen = world.clients[role], {}
    grief, session, case = world.grief.id, world.session_id, world.case_id

    # Schedule: the list's button (anywhere), the form's communities, and posting it.
    listing = await client.get("/sessions")
    seen["schedule", "the list shows 'Schedule a session' (anywhere)"] = (
        "Schedule a session" in listing.text
    )
    form = await client.get("/sessions/new")
    seen["schedule", "the form opens (anywhere)"] = done(form, 200)
    seen["schedule", "the form offers Grief"] = done(form, 200) and 'value="grief"' in form.text
    posted = await _form(client, "/sessions/new", {**SCHEDULE, **_day(days)})
    seen["schedule", "the form schedules"] = done(posted, 303)
    made = await _api(client, "/api/v1/sessions", {**SCHEDULE, **_day(days + 1)})
    seen["schedule", "the API schedules"] = done(made, 201)

    # Facilitate Lead's session in Grief.
    page = await client.get(f"/sessions/{session}")
    seen["facilitate", "the page shows the controls"] = "Facilitator controls" in page.text
    view = await client.get(f"/api/v1/sessions/{session}")
    seen["facilitate", "the API says facilitator"] = view.json()["you"]["role"] == "facilitator"
    locked = await _form(client, f"/sessions/{session}/lock", {"locked": "yes"})
    seen["facilitate", "the page's lock form"] = done(locked, 303)
    locked = await _api(client, f"/api/v1/sessions/{session}/lock", {"locked": True})
    seen["facilitate", "the API's lock"] = done(locked, 200)

    # Moderate in Grief.
    settings = await client.get("/moderation/communities/grief")
    seen["moderate", "the settings page opens"] = done(settings, 200)
    queue = await client.get(f"/moderation?community={grief}")
    act_form = f'action="/moderation/cases/{case}"'
    seen["moderate", "the queue offers to act on the case"] = act_form in queue.text
    warned = await _api(
        client,
        f"/api/v1/moderation/members/{world.target_id}/sanctions",
        {"kind": "warn", "community_id": grief, "reason": "Please be kind."},
    )
    seen["moderate", "the API warns a member"] = done(warned, 201)

    # See who wrote the anonymous thread.
    thread = await client.get(f"/t/{world.thread_id}")
    seen["see authors", "the thread page names the author"] = AUTHOR in thread.text
    thread = await client.get(f"/api/v1/threads/{world.thread_id}")
    named = thread.json()["posts"][0].get("author_pseudonym") == AUTHOR
    seen["see authors", "the thread API names the author"] = named
    seen["see authors", "the queue offers 'Show who wrote this'"] = (
        f"/moderation/cases/{case}/reveal" in queue.text
    )
    revealed = await _form(client, f"/moderation/cases/{case}/reveal", {})
    seen["see authors", "the page's reveal"] = done(revealed, 303)
    revealed = await _api(client, f"/api/v1/moderation/cases/{case}/reveal")
    seen["see authors", "the API's reveal"] = done(revealed, 200)

    # Take 1:1 support requests.
    support = await client.get("/support/queue")
    seen["take support", "the support queue opens"] = done(support, 200)
    available = await _api(client, "/api/v1/support/availability", {"available": True})
    seen["take support", "the API takes availability"] = done(available, 200)

    # Reach out: the crisis flag in Grief, in the review queue.
    opened = await client.get("/moderation")
    seen["reach out", "the review queue opens (anywhere)"] = done(opened, 200)
    seen["reach out", "the queue page shows the crisis flag"] = f'id="case-{case}"' in queue.text
    items = await client.get(f"/api/v1/moderation/queue?community={grief}")
    flagged = done(items, 200) and case in {i["case_id"] for i in items.json()["items"]}
    seen["reach out", "the queue API shows the crisis flag"] = flagged
    return seen


async def test_pages_and_the_api_agree_with_the_table(world: World) -> None:
    disagreements = []
    for n, role in enumerate(EXPECTED):
        seen = await observe(world, role, days=10 + 3 * n)  # nobody's sessions overlap
        for (action, place), allowed in seen.items():
            want = anywhere(role, action) if "(anywhere)" in place else expected(role, action)
            if allowed != want:
                disagreements.append(f"{role}: {place}: {allowed}, the table says {want}")
    assert disagreements == []


async def test_the_schedule_form_offers_only_the_communities_where_one_may(world: World) -> None:
    form = await world.clients["moderator elsewhere"].get("/sessions/new")
    offered = re.findall(r'<option value="([a-z-]+)"', form.text.split('name="community"')[1])
    assert "caring" in offered and "grief" not in offered
    everywhere = await world.clients["peer supporter"].get("/sessions/new")
    assert 'value="caring"' in everywhere.text and 'value="grief"' in everywhere.text
    refused_form = await world.clients["member"].get("/sessions/new")
    assert refused_form.status_code == 403 and "peer supporter" in refused_form.text
