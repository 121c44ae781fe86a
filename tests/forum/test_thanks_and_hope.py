"""Private thank-yous for forum replies, the helper's own page, and stories of hope on a
community's shelf: through the real app, as members and moderators use them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import select
from starlette.applications import Starlette

from communities.models import Community, CommunityModerator
from identity import accounts
from moderation.models import AuditEntry
from moderation.policy import set_policy
from moderation.policy_cache import policy_changed
from tests.conftest import make_client
from tests.helpers import PASSPHRASE, api_post, join, submit


@pytest.fixture
async def carol(app: Starlette, community: Community) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as client:
        await join(client, "carol-wren")
        yield client


@pytest.fixture
async def keeper(app: Starlette, community: Community) -> AsyncIterator[httpx.AsyncClient]:
    """A moderator of the community."""
    async with make_client(app) as client:
        await join(client, "lantern-keeper")
        ctx = app.state.ctx
        member = await accounts.find_member(ctx.db, "lantern-keeper")
        async with ctx.db.transaction() as s:
            s.add(CommunityModerator(community_id=community.id, member_id=member.id))
        yield client


async def start(client: httpx.AsyncClient, title: str, body: str, **extra) -> dict:
    response = await api_post(
        client, "/api/v1/communities/grief/threads", {"title": title, "body": body, **extra}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def reply(client: httpx.AsyncClient, thread_id: int, body: str, **extra) -> int:
    response = await api_post(client, f"/api/v1/threads/{thread_id}/posts", {"body": body, **extra})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def thank(client: httpx.AsyncClient, post_id: int, note: str = "") -> httpx.Response:
    return await submit(client, f"/p/{post_id}/thank", f"/p/{post_id}/thank", {"note": note})


async def asked_and_answered(alice, bob, **extra) -> tuple[dict, int]:
    thread = await start(alice, "Nights are the hardest", "I can't sleep since March.", **extra)
    return thread, await reply(bob, thread["id"], "Mornings got easier for me; walking helped.")


# --------------------------------------------------------------------------- thanks


async def test_a_thank_you_reaches_only_the_helper(alice, bob, carol, app) -> None:
    thread, post_id = await asked_and_answered(alice, bob)
    page = await alice.get(f"/t/{thread['id']}")
    assert f'href="/p/{post_id}/thank"' in page.text
    sent = await thank(alice, post_id, "Your walk idea got me outside today.")
    assert sent.status_code == 303 and "done=sent" in sent.headers["location"]
    done = await alice.get(sent.headers["location"])
    assert "on its way" in done.text

    mine = await bob.get("/account/thanks")
    assert mine.status_code == 200
    assert "Your walk idea got me outside today." in mine.text
    assert "alice-fern" in mine.text and "Nights are the hardest" in mine.text
    assert "1 person has" in mine.text

    # Nobody else sees the words or any count: not the sender's page, not a third member's,
    # not the thread page or its JSON, not a signed-out reader.
    for who in (alice, carol):
        other = await who.get("/account/thanks")
        assert "Your walk idea" not in other.text and "person has" not in other.text
    async with make_client(app) as visitor:
        assert (await visitor.get("/account/thanks")).status_code in (302, 303, 401)
        public = [await visitor.get(f"/t/{thread['id']}")]
    public += [
        await carol.get(f"/t/{thread['id']}"),
        await carol.get(f"/api/v1/threads/{thread['id']}"),
    ]
    public += [
        await bob.get(f"/t/{thread['id']}"),
        await bob.get(f"/api/v1/threads/{thread['id']}"),
    ]
    for response in public:
        assert "Your walk idea" not in response.text
        assert "thanked" not in response.text.lower()


async def test_a_wordless_thank_you_is_welcome(alice, bob) -> None:
    _thread, post_id = await asked_and_answered(alice, bob)
    assert (await thank(alice, post_id)).status_code == 303
    assert "Thank you." in (await bob.get("/account/thanks")).text


async def test_one_thank_you_per_reply_and_never_to_yourself(alice, bob) -> None:
    thread, post_id = await asked_and_answered(alice, bob)
    assert (await thank(alice, post_id, "Thank you so much")).status_code == 303
    again = await thank(alice, post_id, "And again")
    assert again.status_code == 409 and "already said thank you" in again.text
    assert "And again" in again.text  # the words come back
    assert "already said thank you" in (await alice.get(f"/p/{post_id}/thank")).text
    own = await thank(bob, post_id, "Me, to me")
    assert own.status_code == 422 and "thank yourself" in own.text
    # The opening post is the question, not a reply: no thank-you form for it.
    opening = thread["posts"][0]["id"]
    assert (await alice.get(f"/p/{opening}/thank")).status_code == 404


async def test_a_note_that_would_be_held_waits_and_the_sender_is_told(alice, bob) -> None:
    _thread, post_id = await asked_and_answered(alice, bob)
    held = await thank(alice, post_id, "Text me any time on 07700 900123, thank you")
    assert held.status_code == 303 and "done=held" in held.headers["location"]
    assert "Waiting for a moderator" in (await alice.get(held.headers["location"])).text
    assert "07700" not in (await bob.get("/account/thanks")).text  # not delivered yet
    assert "person has" not in (await bob.get("/account/thanks")).text


async def test_a_held_note_is_delivered_once_a_moderator_approves(alice, bob, keeper) -> None:
    _thread, post_id = await asked_and_answered(alice, bob)
    await thank(alice, post_id, "Thanks! my number is 07700 900123")
    [item] = [
        i
        for i in (await keeper.get("/api/v1/moderation/queue")).json()["items"]
        if i["kind"] == "thanks"
    ]
    done = await api_post(
        keeper, f"/api/v1/moderation/cases/{item['case_id']}/actions", {"action": "approve"}
    )
    assert done.status_code == 200, done.text
    assert "07700 900123" in (await bob.get("/account/thanks")).text


async def test_a_rejected_note_is_never_delivered(alice, bob, keeper) -> None:
    _thread, post_id = await asked_and_answered(alice, bob)
    await thank(alice, post_id, "Thanks! ring me on 07700 900123")
    queue = (await keeper.get("/api/v1/moderation/queue")).json()["items"]
    [item] = [i for i in queue if i["kind"] == "thanks"]
    assert item["content"]["html"] and item["author"] == "alice-fern"
    done = await api_post(
        keeper, f"/api/v1/moderation/cases/{item['case_id']}/actions", {"action": "delete"}
    )
    assert done.status_code == 200, done.text
    page = (await bob.get("/account/thanks")).text
    assert "07700" not in page and "person has" not in page


async def test_a_refused_note_says_why_and_gives_the_words_back(alice, bob, app, community) -> None:
    _thread, post_id = await asked_and_answered(alice, bob)
    long = "Thank you " * 60
    refused = await thank(alice, post_id, long)
    assert refused.status_code == 422
    assert "500" in refused.text or "too long" in refused.text.lower()
    assert long.strip()[:80] in refused.text
    async with app.state.ctx.db.transaction() as s:
        await set_policy(s, community.id, contact_policy="refuse")
    await policy_changed(app.state.ctx, community.id)  # as Kindred's own changes do
    contact = await thank(alice, post_id, "Thanks, call me on 07700 900123")
    assert contact.status_code == 422 and "contact details" in contact.text
    assert "07700 900123" in contact.text  # in the form, to edit
    assert "Thank you" not in (await bob.get("/account/thanks")).text


async def test_an_anonymous_asker_is_a_member_to_the_helper(alice, bob) -> None:
    _thread, post_id = await asked_and_answered(alice, bob, anonymous=True)
    form = await alice.get(f"/p/{post_id}/thank")
    assert "as from “a member”" in form.text
    await thank(alice, post_id, "From the night owl")
    page = (await bob.get("/account/thanks")).text
    assert "From the night owl" in page and "A member" in page
    assert "alice-fern" not in page and "Anonymous member" not in page


async def test_blocks_stop_a_thank_you_either_way(alice, bob, carol) -> None:
    thread, post_id = await asked_and_answered(alice, bob)
    carol_post = await reply(carol, thread["id"], "Same here, it does get better.")
    await submit(bob, "/account", "/account/blocks", {"block": "alice-fern"})
    blocked = await thank(alice, post_id, "Thank you")
    assert blocked.status_code == 403 and "one of you has blocked the other" in blocked.text
    await submit(alice, "/account", "/account/blocks", {"block": "carol-wren"})
    assert (await thank(alice, carol_post, "Thanks")).status_code == 403
    assert "Thank you" not in (await bob.get("/account/thanks")).text


async def test_a_block_is_never_told_through_an_anonymous_reply(alice, bob, carol) -> None:
    """Blocks are between pseudonyms; an alias hides which pseudonym wrote a reply. Were a
    thank-you to an anonymous reply refused for a block, the sender would learn who wrote
    it. It is answered exactly as any other, and kept from the helper."""
    thread = await start(alice, "Nights are the hardest", "I can't sleep since March.")
    hidden = await reply(bob, thread["id"], "Same for me, it eased.", anonymous=True)
    other = await reply(carol, thread["id"], "Try the radio at night.", anonymous=True)
    await submit(bob, "/account", "/account/blocks", {"block": "alice-fern"})
    withheld = await thank(alice, hidden, "Thank you, truly")
    sent = await thank(alice, other, "Thank you, truly")
    assert withheld.status_code == sent.status_code
    assert withheld.text.replace(str(hidden), "") == sent.text.replace(str(other), "")
    assert "Thank you, truly" not in (await bob.get("/account/thanks")).text
    assert "Thank you, truly" in (await carol.get("/account/thanks")).text
    again = await thank(alice, hidden, "Thank you, truly")
    assert again.status_code == 409  # as for any thank-you sent twice
    export = (await alice.get("/account/export")).json()
    assert {t["status"] for t in export["content"]["thanks"]["sent"]} == {"published"}


async def test_people_helped_counts_this_helped_and_thanks_once_each(alice, bob, carol) -> None:
    thread, post_id = await asked_and_answered(alice, bob, kind="request", help_type="emotional")
    marked = await submit(alice, f"/t/{thread['id']}", f"/p/{post_id}/helped", {})
    assert marked.status_code == 303
    assert "1 person has" in (await bob.get("/account/thanks")).text
    await thank(alice, post_id, "Really, thank you")  # the same person: still one
    assert "1 person has" in (await bob.get("/account/thanks")).text
    await thank(carol, post_id, "This helped me too")
    assert "2 people have" in (await bob.get("/account/thanks")).text


# --------------------------------------------------------------------------- hope


async def test_a_member_shares_a_story_and_a_moderator_shelves_it(alice, bob, keeper, app) -> None:
    story = await start(alice, "A year sober today", "Here is how I got through.", kind="story")
    page = await keeper.get(f"/t/{story['id']}")
    assert "Story of hope" in page.text and "Put on the shelf of stories" in page.text
    # A member who doesn't moderate here can't change the shelf.
    refused = await submit(bob, f"/t/{story['id']}", f"/t/{story['id']}/shelf", {"shelf": "yes"})
    assert refused.status_code == 403
    assert "A year sober today" not in (await bob.get("/c/grief/hope")).text
    added = await submit(keeper, f"/t/{story['id']}", f"/t/{story['id']}/shelf", {"shelf": "yes"})
    assert added.status_code == 303
    shelf = await bob.get("/c/grief/hope")
    assert "A year sober today" in shelf.text and "alice-fern" in shelf.text
    assert "A year sober today" in (await bob.get("/hope")).text
    async with make_client(app) as visitor:
        assert "A year sober today" in (await visitor.get("/hope")).text
    removed = await submit(keeper, f"/t/{story['id']}", f"/t/{story['id']}/shelf", {"shelf": "no"})
    assert removed.status_code == 303
    assert "A year sober today" not in (await bob.get("/c/grief/hope")).text
    async with app.state.ctx.db.read() as s:
        actions = list(
            await s.exec(select(AuditEntry.action).where(AuditEntry.target_id == story["id"]))
        )
    assert "shelve_story" in actions and "unshelve_story" in actions


async def test_only_stories_go_on_the_shelf(alice, keeper) -> None:
    thread = await start(alice, "Just a chat", "Hello.", kind="discussion")
    refused = await submit(
        keeper, f"/t/{thread['id']}", f"/t/{thread['id']}/shelf", {"shelf": "yes"}
    )
    assert refused.status_code == 422


async def test_an_unanswered_request_shows_its_asker_the_shelf(alice, bob) -> None:
    thread = await start(
        alice, "Anyone awake?", "Struggling tonight.", kind="request", help_type="emotional"
    )
    link = 'href="/c/grief/hope"'
    assert link in (await alice.get(f"/t/{thread['id']}")).text
    assert link not in (await bob.get(f"/t/{thread['id']}")).text  # only the asker
    await reply(bob, thread["id"], "I'm here.")
    assert link not in (await alice.get(f"/t/{thread['id']}")).text


async def test_the_help_page_links_to_stories_after_the_helplines(client) -> None:
    page = (await client.get("/help")).text
    assert "Stories from members who came through" in page
    assert page.index("helplines-heading") < page.index("Stories from members who came through")


async def test_the_crisis_card_links_quietly_to_the_communitys_stories(alice) -> None:
    thread = await start(alice, "Tonight", "It is a hard night.")
    page = (await alice.get(f"/t/{thread['id']}?notice=crisis")).text
    link = 'href="/c/grief/hope">Stories from members who came through'
    assert link in page
    # After the whole card (its helplines included), never inside it or before them.
    assert page.index("helplines") < page.index("</section>") < page.index(link)


async def test_thanks_are_in_the_export_and_go_as_the_brief_says(alice, bob, carol) -> None:
    _thread, post_id = await asked_and_answered(alice, bob)
    await thank(alice, post_id, "From alice, with thanks")
    await thank(carol, post_id, "From carol, with thanks")
    sent = (await alice.get("/account/export")).json()["content"]["thanks"]
    assert [t["note"] for t in sent["sent"]] == ["From alice, with thanks"] and not sent["received"]
    got = (await bob.get("/account/export")).json()["content"]["thanks"]["received"]
    assert sorted(t["note"] for t in got) == ["From alice, with thanks", "From carol, with thanks"]
    # Leaving and keeping what you wrote: your thank-you stays, from "[deleted member]".
    left = await submit(
        carol,
        "/account/delete",
        "/account/delete",
        {"content": "keep", "passphrase": PASSPHRASE, "confirm": "yes"},
    )
    assert left.status_code == 200
    page = (await bob.get("/account/thanks")).text
    assert "From carol, with thanks" in page and "[deleted member]" in page
    # Leaving and erasing it: it goes.
    erased = await submit(
        alice,
        "/account/delete",
        "/account/delete",
        {"content": "erase", "passphrase": PASSPHRASE, "confirm": "yes"},
    )
    assert erased.status_code == 200
    assert "From alice" not in (await bob.get("/account/thanks")).text
