"""The resource directory through the real app: who may do what, what a suggestion's words
meet on the way, the filters, and links that go out plainly with nothing fetched."""

from __future__ import annotations

import re
import socket
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select
from starlette.applications import Starlette

from communities import service as communities
from communities.models import Community
from core.db import utcnow
from forum.models import Resource
from identity.models import Member
from moderation import api as moderation
from moderation.audit import audit_entries
from moderation.policy_cache import policy_changed
from tests.conftest import make_client
from tests.helpers import api_post, join, submit

BASE = "/c/grief/resources"


def entry(**fields: object) -> dict:
    data: dict = {
        "name": "Cruse Bereavement Support",
        "kind": "helpline",
        "description": "Someone to talk to after a death, and guides to grief.",
        "url": "https://www.cruse.org.uk/",
        "phone": "0808 808 1677",
        "help_types": ["emotional", "informational"],
        "region": "GB",
    }
    data.update(fields)
    return data


async def suggest(client: httpx.AsyncClient, **fields: object) -> httpx.Response:
    return await submit(client, f"{BASE}/suggest", f"{BASE}/suggest", entry(**fields))


async def rows(app: Starlette) -> list[Resource]:
    async with app.state.ctx.db.read() as s:
        return list(await s.exec(select(Resource).order_by(Resource.id)))  # type: ignore[arg-type]


@pytest.fixture
async def maple(app: Starlette, community: Community):
    """A member appointed to moderate the community (not an admin)."""
    async with make_client(app) as client:
        await join(client, "maple-leaf")
        async with app.state.ctx.db.transaction() as s:
            member = (await s.exec(select(Member).where(Member.pseudonym == "maple-leaf"))).one()
            await communities.set_moderator(s, community.id, member.id, True)  # type: ignore[arg-type]
        yield client


async def add(client: httpx.AsyncClient, **fields: object) -> httpx.Response:
    return await submit(client, f"{BASE}/new", f"{BASE}/new", entry(**fields))


# --------------------------------------------------------------------------- suggestions


async def test_a_suggestion_always_waits_and_its_author_is_told(app, alice, bob, maple) -> None:
    sent = await suggest(alice)
    assert sent.status_code == 303
    assert sent.headers["location"] == f"{BASE}?suggested=1#suggested"
    told = await alice.get(sent.headers["location"])
    assert "Your suggestion is waiting for a moderator" in told.text
    assert "Waiting for a moderator" in told.text  # in "your suggestions"
    (row,) = await rows(app)
    assert row.status == "suggested" and row.suggested_by_id is not None
    assert row.help_types == ",emotional,informational,"
    # Nobody else sees it in the directory; its moderators see it waiting.
    other = await bob.get(f"{BASE}?country=all")
    assert "Cruse" not in other.text and "No resources here yet" in other.text
    review = await maple.get(f"{BASE}/review")
    assert review.status_code == 200 and "Cruse Bereavement Support" in review.text
    assert "1 suggestion waiting" in (await maple.get(BASE)).text


async def test_held_words_still_wait_and_say_why_to_the_moderators(app, alice, maple) -> None:
    sent = await suggest(alice, description="Email me at someone@example.com and I'll explain")
    assert sent.status_code == 303
    (row,) = await rows(app)
    assert row.status == "suggested" and row.hold_reason == "contact_details"
    review = await maple.get(f"{BASE}/{row.id}/edit")
    assert "contact details" in review.text


async def test_refused_words_come_back_with_the_reason(app, community, alice) -> None:
    async with app.state.ctx.db.transaction() as s:
        await moderation.set_policy(s, community.id, contact_policy="refuse")
    await policy_changed(app.state.ctx, community.id)  # as Kindred's own changes do
    words = "Text me on 07700 900123 for the group"
    sent = await suggest(alice, description=words)
    assert sent.status_code == 422
    assert words in sent.text and 'aria-invalid="true"' in sent.text
    assert "Cruse Bereavement Support" in sent.text  # every field kept
    assert await rows(app) == []


async def test_crisis_words_get_helplines_and_still_wait(app, alice) -> None:
    sent = await suggest(alice, description="I want to die, this is the only place that helped")
    assert sent.status_code == 303 and "notice=crisis" in sent.headers["location"]
    page = await alice.get(sent.headers["location"])
    assert "You're not alone" in page.text and 'class="helplines"' in page.text
    (row,) = await rows(app)
    assert row.status == "suggested"


async def test_crisis_words_in_a_suggestion_reach_the_crisis_queue(app, alice, maple) -> None:
    """Not only the directory's review page: whoever answers crisis cases hears of it, first
    in the queue, as from a post. Acting on the case never lists the entry."""
    await suggest(alice, description="I want to die, this is the only place that helped")
    queue = (await maple.get("/api/v1/moderation/queue")).json()["items"]
    [item] = [i for i in queue if i["kind"] == "resource"]
    assert item["crisis"] is True and item["author"] == "alice-fern"
    assert "only place that helped" in item["content"]["html"]
    page = await maple.get("/moderation")
    assert page.status_code == 200 and "A suggestion for the resource directory" in page.text
    done = await api_post(
        maple, f"/api/v1/moderation/cases/{item['case_id']}/actions", {"action": "approve"}
    )
    assert done.status_code == 200, done.text
    (row,) = await rows(app)
    assert row.status == "suggested"  # still the directory review's to decide


async def test_a_suspended_member_cannot_suggest(app, community, alice) -> None:
    from moderation.models import Sanction

    async with app.state.ctx.db.transaction() as s:
        member = (await s.exec(select(Member).where(Member.pseudonym == "alice-fern"))).one()
        s.add(Sanction(member_id=member.id, kind="suspend", community_id=None, reason="test"))  # type: ignore[arg-type]
    sent = await suggest(alice)
    assert sent.status_code in (403, 422)
    assert await rows(app) == []


async def test_form_fields_are_checked(alice) -> None:
    for fields, said in (
        ({"help_types": []}, "at least one kind of help"),
        ({"kind": "wizard"}, "service, a helpline or a guide"),
        ({"region": "XX"}, "Choose a country"),
        ({"url": "", "phone": ""}, "a web address, a phone number, or both"),
        ({"url": "javascript:alert(1)"}, "must start with https://"),
        ({"phone": "call me maybe"}, "3 to 20 digits"),
        ({"name": ""}, "Give the resource"),
    ):
        sent = await suggest(alice, **fields)
        assert sent.status_code == 422, fields
        assert said in sent.text.replace("&#39;", "'"), fields


async def test_a_member_can_take_back_a_suggestion(app, alice, bob) -> None:
    await suggest(alice)
    (row,) = await rows(app)
    # Someone else can't.
    other = await submit(bob, BASE, f"{BASE}/{row.id}/dismiss", {})
    assert other.status_code == 404
    mine = await submit(alice, BASE, f"{BASE}/{row.id}/dismiss", {})
    assert mine.status_code == 303
    assert await rows(app) == []


# --------------------------------------------------------------------------- moderators


async def test_only_the_communitys_moderators_manage(app, client, alice, maple) -> None:
    await suggest(alice)
    (row,) = await rows(app)
    for path in (f"{BASE}/new", f"{BASE}/review", f"{BASE}/{row.id}/edit"):
        assert (await alice.get(path)).status_code == 403, path
    csrf_page = await alice.get(BASE)
    token = re.search(r'name="csrf_token" value="([^"]+)"', csrf_page.text).group(1)  # type: ignore[union-attr]
    for action in ("checked", "remove", "decline", "edit"):
        sent = await alice.post(
            f"{BASE}/{row.id}/{action}", data={"csrf_token": token, "reason": "x", **entry()}
        )
        assert sent.status_code in (403, 404), action
    # A visitor reads but can't suggest.
    assert (await client.get(BASE)).status_code == 200
    assert (await client.get(f"{BASE}/suggest")).status_code == 303
    # A moderator of another community can't manage this one.
    ctx = app.state.ctx
    from forum.communities import create_community

    async with ctx.db.read() as s:
        admin = (await s.exec(select(Member).where(Member.pseudonym == "Site-Keeper"))).one()
    other = await create_community(ctx, admin, slug="carers", name="Carers")
    async with make_client(app) as elsewhere:
        await join(elsewhere, "oak-tree")
        async with ctx.db.transaction() as s:
            oak = (await s.exec(select(Member).where(Member.pseudonym == "oak-tree"))).one()
            await communities.set_moderator(s, other.id, oak.id, True)  # type: ignore[arg-type]
        assert (await elsewhere.get(f"{BASE}/review")).status_code == 403
        assert (await elsewhere.get("/c/carers/resources/review")).status_code == 200


async def test_a_members_only_directory_is_for_members(app, client, community) -> None:
    ctx = app.state.ctx
    from forum.communities import create_community

    async with ctx.db.read() as s:
        admin = (await s.exec(select(Member).where(Member.pseudonym == "Site-Keeper"))).one()
    await create_community(ctx, admin, slug="quiet", name="Quiet", visibility="members")
    page = await client.get("/c/quiet/resources")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


async def test_approve_edit_check_remove_are_audited(app, community, alice, maple) -> None:
    await suggest(alice)
    (row,) = await rows(app)
    approved = await submit(
        maple, f"{BASE}/{row.id}/edit", f"{BASE}/{row.id}/edit", entry(name="Cruse")
    )
    assert approved.status_code == 303
    (row,) = await rows(app)
    assert row.status == "listed" and row.name == "Cruse"
    assert row.suggested_by_id is None and row.last_checked_at is not None
    page = await alice.get(f"{BASE}?country=all")
    assert "Cruse" in page.text and "Last checked by a moderator" in page.text
    assert "Your suggestions" not in page.text

    # Make it old: moderators see it flagged, then mark it checked.
    async with app.state.ctx.db.transaction() as s:
        stored = await s.get(Resource, row.id)
        stored.last_checked_at = utcnow() - timedelta(days=400)  # type: ignore[union-attr]
        s.add(stored)
    assert "Due a re-check" in (await maple.get(f"{BASE}?country=all")).text
    assert "Due a re-check" not in (await alice.get(f"{BASE}?country=all")).text
    assert "Cruse" in (await maple.get(f"{BASE}/review")).text
    await submit(maple, BASE, f"{BASE}/{row.id}/checked", {})
    assert "Due a re-check" not in (await maple.get(f"{BASE}?country=all")).text

    edited = await submit(
        maple, f"{BASE}/{row.id}/edit", f"{BASE}/{row.id}/edit", entry(name="Cruse UK")
    )
    assert edited.status_code == 303
    removed = await submit(maple, BASE, f"{BASE}/{row.id}/remove", {"reason": "Closed down"})
    assert removed.status_code == 303
    assert await rows(app) == []
    async with app.state.ctx.db.read() as s:
        actions = [e.action for e in await audit_entries(s, community_id=community.id)]
    assert actions[:4] == [
        "resource_remove",
        "resource_edit",
        "resource_checked",
        "resource_approve",
    ]
    log = await alice.get("/c/grief/moderation-log")
    assert "Removed an entry from the resource directory." in log.text
    assert "Closed down" not in log.text  # the reason stays in the private log


async def test_a_declined_suggestion_tells_its_author_why(app, alice, maple) -> None:
    await suggest(alice)
    (row,) = await rows(app)
    empty = await submit(maple, f"{BASE}/{row.id}/edit", f"{BASE}/{row.id}/decline", {})
    assert empty.status_code == 422 and "Say why" in empty.text
    declined = await submit(
        maple,
        f"{BASE}/{row.id}/edit",
        f"{BASE}/{row.id}/decline",
        {"reason": "We list national services only."},
    )
    assert declined.status_code == 303
    page = await alice.get(BASE)
    assert "We list national services only." in page.text
    (row,) = await rows(app)
    assert row.status == "declined"
    assert (await maple.get(f"{BASE}/{row.id}/edit")).status_code == 404


# --------------------------------------------------------------------------- filters


async def test_filters_by_help_type_and_country_defaulting_to_the_members(
    app, client, alice, maple
) -> None:
    await add(maple, name="UK Only Line", region="GB", help_types=["emotional"])
    await add(maple, name="US Only Line", region="US", help_types=["financial"])
    await add(maple, name="Online Guide", region="ANY", kind="guide", help_types=["financial"])

    def names(html: str) -> set[str]:
        return set(re.findall(r"<h2>([^<]+Line|Online Guide)</h2>", html))

    everything = await client.get(f"{BASE}?country=all")
    assert names(everything.text) == {"UK Only Line", "US Only Line", "Online Guide"}
    uk = await client.get(f"{BASE}?country=GB")
    assert names(uk.text) == {"UK Only Line", "Online Guide"}
    assert (uk.text.index("UK Only Line")) < uk.text.index("Online Guide")  # own country first
    online = await client.get(f"{BASE}?country=ANY")
    assert names(online.text) == {"Online Guide"}
    money = await client.get(f"{BASE}?country=all&help_type=financial")
    assert names(money.text) == {"US Only Line", "Online Guide"}
    # The default is the member's own country, as for crisis helplines…
    await submit(alice, "/account", "/account/country", {"country": "US"})
    mine = await alice.get(BASE)
    assert names(mine.text) == {"US Only Line", "Online Guide"}
    assert '<option value="US" selected>' in mine.text
    # …or a visitor's choice; and anything unknown shows everything.
    client.cookies.set("kindred_country", "GB")
    assert names((await client.get(BASE)).text) == {"UK Only Line", "Online Guide"}
    assert len(names((await client.get(f"{BASE}?country=ZZ")).text)) == 3


# --------------------------------------------------------------------------- links


async def test_links_go_out_plainly_and_nothing_is_fetched(
    app, client, alice, maple, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_up: list[object] = []

    def no_network(*args: object, **kwargs: object) -> object:
        looked_up.append(args[:1])
        raise OSError("no outbound connections in this test")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    await suggest(alice, url="https://www.cruse.org.uk/get-support/")
    (row,) = await rows(app)
    await submit(maple, f"{BASE}/{row.id}/edit", f"{BASE}/{row.id}/edit", entry())
    page = await client.get(f"{BASE}?country=all")
    assert looked_up == []
    links = re.findall(r"<a [^>]*href=\"https://www\.cruse\.org\.uk/\"[^>]*>", page.text)
    assert links, page.text
    for link in links:
        assert 'rel="noopener noreferrer"' in link
    # No image, icon, preview or stylesheet from the resource's site.
    assert not re.search(r"<(img|link|script|iframe)[^>]+cruse", page.text)
    assert 'href="tel:08088081677"' in page.text


async def test_the_community_page_links_the_directory(client, community) -> None:
    page = await client.get("/c/grief")
    assert f'href="{BASE}"' in page.text


def test_the_demo_entries_pass_the_directorys_own_checks() -> None:
    import json
    from pathlib import Path

    from forum.resource_entries import MAX_DESCRIPTION, MAX_NAME, EntryForm, check_fields

    demo = json.loads((Path(__file__).parents[2] / "kindred" / "demo_resources.json").read_text())
    entries = [e for slug, listed in demo.items() if slug != "_about" for e in listed]
    assert entries
    for e in entries:
        form = EntryForm(
            name=e["name"],
            kind=e["kind"],
            description=e["description"],
            url=e["url"],
            phone=e.get("phone", ""),
            help_types=tuple(e["help_types"]),
            region=e["region"],
        )
        checked = check_fields(form)
        assert checked.url == e["url"], e["name"]
        assert len(e["name"]) <= MAX_NAME and len(e["description"]) <= MAX_DESCRIPTION


@pytest.mark.parametrize("content", ["keep", "erase"])
async def test_suggestions_are_exported_and_go_with_the_account(app, alice, content) -> None:
    from tests.helpers import PASSPHRASE

    await suggest(alice)
    exported = await alice.get("/api/v1/account/export")
    mine = exported.json()["content"]["resource_suggestions"]
    assert mine[0]["name"] == "Cruse Bereavement Support"
    deleted = await submit(
        alice,
        "/account/delete",
        "/account/delete",
        {"content": content, "confirm": "yes", "passphrase": PASSPHRASE},
    )
    assert deleted.status_code in (200, 303), deleted.text
    assert await rows(app) == []
