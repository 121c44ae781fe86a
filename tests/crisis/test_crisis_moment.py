"""The crisis moment: right after a member's words read as a crisis, the thread page opens on
the crisis card (at the top of the page, the redirect's target), with helplines for their
country, a way to talk to someone here, and the truth about their post. A new member's
crisis post is held like any first post, but it carries the crisis flag, so it is first in
the review queue, and the member is told so."""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import delete, select, update

from communities.models import CommunityModerator
from core.db import utcnow
from forum.models import Post
from identity import accounts
from identity.country import COUNTRY_COOKIE
from identity.models import Member
from moderation.models import ModerationCase
from tests.chat.conftest import next_frame, send, serve
from tests.conftest import make_client
from tests.crisis.conftest import start_thread
from tests.helpers import api_post, form_token, join, submit

CRISIS = "I can't go on anymore, I want to die"
UK, US, DE = "en-GB,en;q=0.8", "en-US,en;q=0.9", "de-DE,de;q=0.9,en;q=0.5"


@pytest.fixture
def settings(settings):
    # The site's default: a member's first two posts in a community wait for a moderator.
    return dataclasses.replace(settings, new_member_posts=2)


async def post_thread(client, body: str = CRISIS):
    """Start a thread in "recovery" through the form, as a browser does."""
    return await submit(
        client,
        "/c/recovery/new",
        "/c/recovery/new",
        {"kind": "discussion", "title": "Tonight", "body": body, "action": "post"},
    )


def card(html: str) -> str:
    """The crisis card's text, tags dropped: what the member reads."""
    found = re.search(r'<section class="crisis-panel crisis-card".*?</section>', html, re.S)
    assert found, "no crisis card on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group()).split())


async def establish_here(app, people, name: str) -> None:
    """Two first posts, approved by the community's moderator: an established member."""
    for day in ("Monday", "Tuesday"):
        held = await start_thread(people[name], f"Checking in on {day}.", status=202)
        [case] = [c for c in await cases(app) if c.target_id == held["id"]]
        approved = await api_post(
            people["rowan"], f"/api/v1/moderation/cases/{case.id}/actions", {"action": "approve"}
        )
        assert approved.status_code == 200, approved.text


def held_id(location: str) -> int:
    return int(parse_qs(urlsplit(location).query)["held"][0])


async def cases(app) -> list[ModerationCase]:
    async with app.state.ctx.db.read() as s:
        return list(await s.exec(select(ModerationCase).order_by(ModerationCase.id)))


async def test_a_new_members_crisis_post_opens_on_the_card_which_says_it_is_waiting(
    app, people
) -> None:
    posted = await post_thread(people["alder"])
    assert posted.status_code == 303
    location = posted.headers["location"]
    # The page opens at the card, not 800 px below it at the post.
    assert location.endswith("#crisis") and "notice=crisis" in location and "held=" in location
    page = await people["alder"].get(location)
    main = page.text[page.text.index('<main id="main"') :]
    # First thing in the page's main content, focusable for the browser's move to #crisis.
    assert main.index('id="crisis"') < main.index('class="breadcrumb"')
    assert 'tabindex="-1" id="crisis"' in main
    said = card(page.text)
    assert "Your post is waiting to be read." in said
    assert "peer supporter or moderator will see it first" in said
    assert "front of the queue" in said and "within a few hours" in said
    assert "You don't have to wait to get help" in said
    assert "is up" not in said and "Your post is here" not in page.text
    assert 'href="/support"' in main[: main.index("</section>")]
    # Safe-messaging: the card never says "committed" nor talks of how.
    assert "committed" not in said.lower()
    # The post itself, for its author, says the same: waiting, first in line, help now.
    assert "Waiting to be read." in page.text and "front of their queue" in page.text


async def test_the_held_crisis_post_is_first_in_the_queue_even_held_as_new(app, people) -> None:
    calm = await post_thread(people["birch"], "A quiet day, thinking of my mum.")
    assert calm.status_code == 303
    crisis = await post_thread(people["alder"])
    [calm_case, crisis_case] = await cases(app)
    async with app.state.ctx.db.read() as s:
        post = await s.get(Post, crisis_case.target_id)
    # Held for being new (not for the crisis: the community publishes crisis posts), but
    # flagged as crisis all the same.
    assert post.status == "held" and post.hold_reason == "new_member" and post.crisis
    assert crisis_case.held and crisis_case.crisis and crisis_case.crisis_why
    assert calm_case.held and not calm_case.crisis
    items = (await people["rowan"].get("/api/v1/moderation/queue")).json()["items"]
    assert [(i["target_id"], i["crisis"], i["held"]) for i in items] == [
        (crisis_case.target_id, True, True),
        (calm_case.target_id, False, True),
    ]
    assert crisis.headers["location"].endswith("#crisis")


async def test_a_new_members_crisis_reply_opens_on_the_card_too(app, people) -> None:
    await establish_here(app, people, "birch")
    thread = await start_thread(people["birch"], "How is everyone doing this week?")
    page = await people["alder"].get(f"/t/{thread['id']}")
    replied = await people["alder"].post(
        f"/t/{thread['id']}/reply",
        data={"csrf_token": form_token(page.text), "body": CRISIS, "action": "post"},
    )
    assert replied.status_code == 303
    location = replied.headers["location"]
    assert location.endswith("#crisis") and "held=" in location
    said = card((await people["alder"].get(location)).text)
    assert "Your post is waiting to be read." in said
    [case] = [c for c in await cases(app) if c.closed_at is None]
    assert case.held and case.crisis and case.target_id == held_id(location)


async def test_once_approved_the_same_address_says_it_is_up(app, people) -> None:
    location = (await post_thread(people["alder"])).headers["location"]
    [case] = await cases(app)
    approved = await submit(
        people["rowan"], "/moderation", f"/moderation/cases/{case.id}", {"action": "approve"}
    )
    assert approved.status_code == 303
    said = card((await people["alder"].get(location)).text)
    assert "Your post is up" in said and "waiting" not in said


async def test_the_api_tells_a_held_crisis_post_the_truth(app, people) -> None:
    held = await start_thread(people["alder"], CRISIS, status=202)
    assert held["status"] == "held" and held["reason"]["code"] == "new_member"
    notice = held["notice"]
    assert notice["code"] == "crisis" and notice["resources"]
    assert "is waiting" in notice["message"] and "front of their queue" in notice["message"]
    assert "is up" not in notice["message"]
    preview = await api_post(
        people["alder"], "/api/v1/preview", {"body": CRISIS, "community": "recovery"}
    )
    assert preview.json()["decision"] == "hold"
    assert "is up" not in preview.json()["notice"]["message"]


async def test_an_established_members_crisis_post_says_it_is_up(app, people) -> None:
    await establish_here(app, people, "birch")
    posted = await post_thread(people["birch"])
    location = posted.headers["location"]
    assert location.endswith("#crisis") and "held=" not in location
    said = card((await people["birch"].get(location)).text)
    assert "Your post is up" in said and "waiting" not in said
    thread = await start_thread(people["birch"], CRISIS, status=201)
    assert "is up" in thread["notice"]["message"]


async def nobody_reads_crisis_posts(app) -> None:
    """No admin, no peer supporter, no moderator of the community (as in the demo)."""
    async with app.state.ctx.db.transaction() as s:
        await s.exec(update(Member).values(is_admin=False, is_peer_supporter=False))
        await s.exec(delete(CommunityModerator))


async def crisis_card_for(client) -> str:
    """Post a crisis thread as `client` and read the card its redirect opens on."""
    location = (await post_thread(client)).headers["location"]
    return card((await client.get(location)).text)


async def test_the_card_promises_a_reader_soon_only_where_someone_reads_crisis_posts(
    app, people, community
) -> None:
    ctx = app.state.ctx
    await establish_here(app, people, "birch")  # while rowan still moderates here
    await nobody_reads_crisis_posts(app)
    held = await crisis_card_for(people["alder"])
    assert "Your post is waiting for a moderator" in held
    assert "it may be a while before one reads it." in held
    assert "You don't have to wait to get help: the people above are there for you now." in held
    assert "few hours" not in held and "will see it first" not in held
    up = await crisis_card_for(people["birch"])
    assert "Your post is up" in up and "so people here can read it and reply." in up
    assert "peer supporters" not in up and "soon" not in up
    # A moderator of this community reads them: the promise holds again.
    rowan = await accounts.find_member(ctx.db, "rowan")
    async with ctx.db.transaction() as s:
        s.add(CommunityModerator(community_id=community.id, member_id=rowan.id))
    assert "usually read within a few hours" in await crisis_card_for(people["alder"])
    # So does any peer supporter, wherever they are; but not one who has left.
    async with ctx.db.transaction() as s:
        await s.exec(delete(CommunityModerator))
    await accounts.set_roles(ctx.db, "hazel", peer_supporter=True)
    assert "usually read within a few hours" in await crisis_card_for(people["cedar"])
    async with ctx.db.transaction() as s:
        await s.exec(update(Member).where(Member.pseudonym == "hazel").values(deleted_at=utcnow()))
    assert "usually read within a few hours" not in await crisis_card_for(people["cedar"])


# --------------------------------------------------------------------------- countries


@pytest.mark.parametrize(
    ("language", "shown", "not_shown", "country"),
    [
        (UK, "Samaritans", "988", "Helplines for the United Kingdom."),
        (US, "988 Suicide &amp; Crisis Lifeline", "Samaritans", "Helplines for the United States."),
        (DE, "TelefonSeelsorge", "Samaritans", "Helplines for Germany."),
        ("en", "Befrienders Worldwide", "Samaritans", "these are international"),
    ],
)
async def test_the_card_follows_the_browsers_language(
    app, community, language, shown, not_shown, country
) -> None:
    async with make_client(app, headers={"accept-language": language}) as member:
        await join(member, "wren-hollow")
        location = (await post_thread(member)).headers["location"]
        page = await member.get(location)
    said = card(page.text)
    assert shown in page.text and country in said
    assert not_shown not in said
    assert 'href="/help#choose"' in page.text


async def test_a_members_own_country_beats_the_browser(app, community) -> None:
    async with make_client(app, headers={"accept-language": UK}) as member:
        await join(member, "moss-hill")
        member.cookies.set(COUNTRY_COOKIE, "US")  # a visitor's choice, before the setting
        await submit(member, "/account", "/account/country", {"country": "AU"})
        said = card((await member.get((await post_thread(member)).headers["location"])).text)
    assert "Lifeline" in said and "Helplines for Australia." in said
    assert "Samaritans" not in said and "988" not in said


async def test_chat_and_support_follow_the_same_country(app, people) -> None:
    """The crisis notice in a chat room (the page without JavaScript) and a support
    request's waiting page give the member's country's helplines, from the same rule."""
    alder = people["alder"]
    page = await alder.get("/chat/recovery", headers={"accept-language": UK})
    sent = await alder.post(
        "/chat/recovery",
        data={"csrf_token": form_token(page.text), "body": "I want to die tonight"},
        headers={"accept-language": UK},
    )
    # A new member's first message waits, first in the queue; the helplines don't.
    assert sent.status_code == 202 and "crisis-panel" in sent.text
    # Read the panel, not the page: a random CSRF token can hold "988".
    panel = re.search(r'<section class="crisis-panel[^"]*".*?</section>', sent.text, re.S)
    assert panel and "Samaritans" in panel.group() and "988" not in panel.group()
    assert "Helplines for the United Kingdom." in panel.group()  # the forum's card, whose too
    [case] = await cases(app)
    assert (case.target_kind, case.held, case.crisis) == ("chat_message", True, True)
    form = await alder.get("/support", headers={"accept-language": DE})
    asked = await alder.post(
        "/support",
        data={
            "csrf_token": form_token(form.text),
            "community": str(await _community_id(app)),
            "note": "I want to end my life tonight.",
        },
        headers={"accept-language": DE},
    )
    assert asked.status_code == 303
    waiting = await alder.get(asked.headers["location"], headers={"accept-language": DE})
    assert "TelefonSeelsorge" in waiting.text and "Samaritans" not in waiting.text


async def _community_id(app) -> int:
    from communities.models import Community

    async with app.state.ctx.db.read() as s:
        found = (await s.exec(select(Community).where(Community.slug == "recovery"))).one()
    return found.id


@pytest.mark.parametrize(
    ("language", "shown", "not_shown"),
    [(UK, "Samaritans", "988 Suicide & Crisis Lifeline"), (DE, "TelefonSeelsorge", "Samaritans")],
)
async def test_the_live_chat_notice_follows_the_browsers_language(
    settings, language, shown, not_shown
) -> None:
    """The WebSocket's own handshake carries the browser's language: the notice frame's
    helplines follow it, as the pages' do."""
    async with serve(settings) as live:
        await live.room()
        member = await live.member("Heron")
        async with live.connect(member, additional_headers={"Accept-Language": language}) as ws:
            await next_frame(ws, "hello")
            await send(ws, "I want to kill myself tonight", "x1")
            notice = await next_frame(ws, "notice")
    names = [r["name"] for r in notice["resources"]]
    assert notice["code"] == "crisis" and shown in names and not_shown not in names
