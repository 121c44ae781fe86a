"""Asking a peer supporter to check on someone: kind to the person asked about, and not a
tool for harassing them."""

from __future__ import annotations

import re

import httpx
from sqlmodel import select

from moderation.models import AuditEntry, CheckInAsk, CheckInRequest
from tests.crisis.conftest import start_thread
from tests.helpers import api_post, form_token, submit


async def ask(client: httpx.AsyncClient, kind: str, public_id: str) -> httpx.Response:
    page = await client.get(f"/check-in?kind={kind}&id={public_id}")
    assert page.status_code == 200, page.text
    return await client.post(
        "/check-in", data={"csrf_token": form_token(page.text), "kind": kind, "id": public_id}
    )


async def requests(app) -> list[CheckInRequest]:
    async with app.state.ctx.db.read() as s:
        return list(await s.exec(select(CheckInRequest).order_by(CheckInRequest.id)))


async def test_ask_from_a_post_reaches_supporters_without_the_askers_name(app, people) -> None:
    thread = await start_thread(people["alder"], "Everything feels pointless lately.")
    post_id = thread["posts"][0]["id"]
    page = await people["birch"].get(f"/t/{thread['id']}")
    assert f"/check-in?kind=post&amp;id={post_id}" in page.text
    done = await ask(people["birch"], "post", str(post_id))
    assert done.status_code == 200
    assert "A peer supporter will check in with them soon" in done.text
    assert "be told who asked" in done.text
    # A second worried member: supporters already know; the count goes up.
    again = await ask(people["cedar"], "post", str(post_id))
    assert "Peer supporters already know" in again.text
    [request] = await requests(app)
    assert request.ask_count == 2 and request.closed_at is None
    # The same member asking again changes nothing but is answered the same kind way.
    more = await api_post(people["cedar"], "/api/v1/check-ins", {"kind": "post", "id": post_id})
    assert more.status_code == 201 and more.json()["status"] == "already_known"
    assert (await requests(app))[0].ask_count == 2
    # The peer supporter sees it next to the crisis queue, with a link, never who asked.
    queue = await people["hazel"].get("/moderation")
    assert 'id="check-ins"' in queue.text and f"/t/{thread['id']}#p{post_id}" in queue.text
    assert "2 members asked" in queue.text
    assert "birch" not in queue.text and "cedar" not in queue.text
    assert "Who asked?" not in queue.text  # hazel moderates nowhere
    items = (await people["hazel"].get("/api/v1/moderation/check-ins")).json()["items"]
    assert [(i["ask_count"], i["content"]["context_url"]) for i in items] == [
        (2, f"/t/{thread['id']}#p{post_id}")
    ]
    assert "birch" not in str(items) and "cedar" not in str(items)
    # The person asked about sees nothing of it, and can't open the list.
    own = (await people["alder"].get(f"/t/{thread['id']}")).text
    assert "check-in" not in own and "asked" not in own
    assert (await people["alder"].get("/api/v1/moderation/check-ins")).status_code == 403


async def test_an_anonymous_author_stays_anonymous_to_the_asker(app, people, community) -> None:
    community.allow_anonymous = True
    async with app.state.ctx.db.transaction() as s:
        s.add(community)
    thread = await start_thread(people["alder"], "I don't know how to go on.", anonymous=True)
    post_id = thread["posts"][0]["id"]
    page = await people["birch"].get(f"/check-in?kind=post&id={post_id}")
    assert "alder" not in page.text and "Anonymous member" in page.text
    done = await ask(people["birch"], "post", str(post_id))
    assert "alder" not in done.text
    queue = await people["hazel"].get("/moderation")
    assert "Anonymous member" in queue.text and "by alder" not in queue.text


async def test_one_request_a_day_and_closing_it(app, people) -> None:
    thread = await start_thread(people["alder"], "Rough night.")
    post_id = thread["posts"][0]["id"]
    await ask(people["birch"], "post", str(post_id))
    queue = await people["hazel"].get("/moderation")
    [request] = await requests(app)
    closed = await people["hazel"].post(
        f"/moderation/check-ins/{request.id}/close",
        data={"csrf_token": form_token(queue.text), "resolution": "checked_in"},
    )
    assert closed.status_code == 303
    # Later the same day another member asks about a different post by the same person:
    # it folds into today's request; supporters aren't asked twice in a day.
    second = await start_thread(people["alder"], "Still rough.")
    again = await ask(people["cedar"], "post", str(second["posts"][0]["id"]))
    assert "Peer supporters already know" in again.text
    found = await requests(app)
    assert len(found) == 1 and found[0].resolution == "checked_in"
    assert 'id="check-ins"' not in (await people["hazel"].get("/moderation")).text
    async with app.state.ctx.db.read() as s:
        audit = list(await s.exec(select(AuditEntry).where(AuditEntry.action == "close_check_in")))
    assert len(audit) == 1 and audit[0].actor_name == "hazel"
    # A member who isn't a supporter or moderator can't close one.
    page = await people["birch"].get("/")
    refused = await people["birch"].post(
        f"/moderation/check-ins/{request.id}/close",
        data={"csrf_token": form_token(page.text), "resolution": "no_need"},
    )
    assert refused.status_code == 403  # whatever the id: not theirs to close


async def test_not_about_yourself_not_deleted_content_not_hidden_things(app, people) -> None:
    thread = await start_thread(people["alder"], "A long week.")
    post_id = thread["posts"][0]["id"]
    own = await people["alder"].get(f"/check-in?kind=post&id={post_id}")
    assert own.status_code == 422 and "/support" in own.text
    refused = await api_post(people["alder"], "/api/v1/check-ins", {"kind": "post", "id": post_id})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "yourself"
    missing = await people["birch"].get("/check-in?kind=post&id=99999")
    assert missing.status_code == 404
    reply = await api_post(people["cedar"], f"/api/v1/threads/{thread['id']}/posts", {"body": "x"})
    reply_id = reply.json()["id"]
    token = (await people["cedar"].get("/api/v1/session")).json()["csrf_token"]
    deleted = await people["cedar"].delete(
        f"/api/v1/posts/{reply_id}", headers={"x-csrf-token": token}
    )
    assert deleted.status_code == 200 and deleted.json() == {"status": "deleted"}
    gone = await api_post(people["birch"], "/api/v1/check-ins", {"kind": "post", "id": reply_id})
    assert gone.status_code == 404
    assert await requests(app) == []


async def test_a_block_is_not_worked_round(app, people) -> None:
    # alder has blocked birch: birch's ask is kept for moderators, never sent to supporters,
    # and birch is told nothing that would reveal the block.
    await submit(people["alder"], "/account", "/account/blocks", {"block": "birch"})
    thread = await start_thread(people["alder"], "Not great today.")
    post_id = thread["posts"][0]["id"]
    done = await ask(people["birch"], "post", str(post_id))
    assert "A peer supporter will check in with them soon" in done.text
    assert await requests(app) == []
    async with app.state.ctx.db.read() as s:
        [kept] = list(await s.exec(select(CheckInAsk)))
    assert kept.withheld and kept.request_id is None


async def test_each_asker_is_rate_limited(app, people) -> None:
    thread = await start_thread(people["alder"], "Tired.")
    post_id = thread["posts"][0]["id"]
    statuses = []
    for _ in range(6):
        r = await api_post(people["birch"], "/api/v1/check-ins", {"kind": "post", "id": post_id})
        statuses.append(r.status_code)
    assert statuses == [201] * 5 + [429]
    assert "call your local emergency number" in r.json()["error"]["message"]


async def test_a_chat_message_can_be_asked_about(app, people) -> None:
    sent = await submit(people["alder"], "/chat/recovery", "/chat/recovery", {"body": "so tired"})
    assert sent.status_code == 303
    seq = re.search(r"#m(\d+)", sent.headers["location"]).group(1)
    room = await people["birch"].get("/chat/recovery")
    assert f"/check-in?kind=chat_message&amp;id=recovery:{seq}" in room.text
    done = await ask(people["birch"], "chat_message", f"recovery:{seq}")
    assert "A peer supporter will check in" in done.text
    [request] = await requests(app)
    assert request.target_kind == "chat_message"
    queue = await people["hazel"].get("/moderation")
    assert "/chat/recovery" in queue.text


async def test_moderators_see_who_asked_and_it_is_audited(app, people) -> None:
    thread = await start_thread(people["alder"], "Nothing matters.")
    post_id = thread["posts"][0]["id"]
    await ask(people["birch"], "post", str(post_id))
    await ask(people["cedar"], "post", str(post_id))
    [request] = await requests(app)
    queue = await people["rowan"].get("/moderation")  # the community's moderator
    assert "Who asked?" in queue.text
    revealed = await people["rowan"].post(
        f"/moderation/check-ins/{request.id}/who-asked",
        data={"csrf_token": form_token(queue.text)},
    )
    assert revealed.status_code == 200
    assert "birch" in revealed.text and "cedar" in revealed.text and "alder" in revealed.text
    async with app.state.ctx.db.read() as s:
        audit = list(
            await s.exec(select(AuditEntry).where(AuditEntry.action == "reveal_check_in_askers"))
        )
    assert [(a.actor_name, a.target_kind, a.public_summary) for a in audit] == [
        ("rowan", "member", None)
    ]
    # A peer supporter who moderates nowhere may not look.
    page = await people["hazel"].get("/moderation")
    refused = await people["hazel"].post(
        f"/moderation/check-ins/{request.id}/who-asked",
        data={"csrf_token": form_token(page.text)},
    )
    assert refused.status_code == 403


async def test_a_supporter_never_sees_requests_about_themselves(app, people) -> None:
    thread = await start_thread(people["hazel"], "Supporters struggle too.")
    await ask(people["birch"], "post", str(thread["posts"][0]["id"]))
    assert len(await requests(app)) == 1
    assert 'id="check-ins"' not in (await people["hazel"].get("/moderation")).text
    assert 'id="check-ins"' in (await people["rowan"].get("/moderation")).text


async def test_export_and_erasure(app, people) -> None:
    thread = await start_thread(people["alder"], "Low.")
    post_id = thread["posts"][0]["id"]
    await ask(people["birch"], "post", str(post_id))
    export = (await people["birch"].get("/account/export")).json()
    assert export["content"]["check_ins_asked"][0]["id"] == post_id
    assert "alder" not in str(export)
    erased = await submit(
        people["alder"],
        "/account/delete",
        "/account/delete",
        {"content": "erase", "confirm": "yes", "passphrase": "correct horse battery staple"},
    )
    assert erased.status_code == 200
    assert await requests(app) == []
