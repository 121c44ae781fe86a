"""Moderators see who wrote an anonymous post only by asking, each time audited, and the
author can see that it happened (never who looked)."""

from __future__ import annotations

import httpx
from sqlmodel import select

from communities.models import CommunityModerator
from forum.communities import create_community
from identity import accounts
from moderation.models import AuditEntry
from tests.helpers import api_post, submit

HELD = "Call me on 07700 900123 if you want to talk"  # contact details: held for review


async def anonymous_held_post(author: httpx.AsyncClient) -> dict:
    response = await api_post(
        author,
        "/api/v1/communities/recovery/threads",
        {"title": "Reaching out", "body": HELD, "anonymous": True},
    )
    assert response.status_code == 202, response.text
    return response.json()


async def reveals(app) -> list[AuditEntry]:
    async with app.state.ctx.db.read() as s:
        rows = await s.exec(select(AuditEntry).where(AuditEntry.action == "view_anonymous_author"))
        return list(rows)


async def test_the_queue_keeps_anonymous_authors_anonymous_until_asked(
    members, moderator, app
) -> None:
    held = await anonymous_held_post(members["the-author"])
    [item] = (await moderator.get("/api/v1/moderation/queue")).json()["items"]
    assert item["target_id"] == held["id"]
    assert (item["author"], item["anonymous"], item["author_label"]) == (
        None,
        True,
        "Anonymous member A",
    )
    page = await moderator.get("/moderation")
    assert "the-author" not in page.text and "Anonymous member A" in page.text
    assert "Show who wrote this" in page.text
    assert await reveals(app) == []  # looking at the queue reveals nothing, so logs nothing

    asked = await api_post(moderator, f"/api/v1/moderation/cases/{item['case_id']}/reveal")
    assert asked.status_code == 200 and asked.json()["author"] == "the-author"
    [entry] = await reveals(app)
    assert (entry.target_kind, entry.target_id, entry.actor_name) == (
        "post",
        held["id"],
        "river-keeper",
    )
    assert entry.subject_id == asked.json()["member_id"]


async def test_revealing_from_the_queue_page_is_audited_and_leads_to_the_record(
    members, moderator, app
) -> None:
    await anonymous_held_post(members["the-author"])
    [item] = (await moderator.get("/api/v1/moderation/queue")).json()["items"]
    done = await submit(moderator, "/moderation", f"/moderation/cases/{item['case_id']}/reveal", {})
    assert done.status_code == 303
    record = await moderator.get(done.headers["location"])
    assert "the-author" in record.text and "recorded in the audit log" in record.text
    assert len(await reveals(app)) == 1


async def test_the_author_sees_that_a_moderator_looked_but_not_who(members, moderator, app) -> None:
    author = members["the-author"]
    held = await anonymous_held_post(author)
    assert (await author.get("/api/v1/account/reveals")).json() == {"reveals": []}
    [item] = (await moderator.get("/api/v1/moderation/queue")).json()["items"]
    await api_post(moderator, f"/api/v1/moderation/cases/{item['case_id']}/reveal")
    # Reading the thread as a moderator shows the author too: that is a reveal as well.
    await moderator.get(f"/t/{held['id']}")
    seen = (await author.get("/api/v1/account/reveals")).json()["reveals"]
    assert [(r["kind"], r["title"]) for r in seen] == [("post", "Reaching out")] * 2
    page = await author.get("/account/anonymity")
    assert "Reaching out" in page.text and "river-keeper" not in page.text
    assert "/account/anonymity" in (await author.get("/account")).text
    # Nobody else's reveals show up on another member's page.
    other = (await members["reporter-one"].get("/api/v1/account/reveals")).json()
    assert other == {"reveals": []}


async def test_only_moderators_who_may_act_can_reveal(members, moderator, app) -> None:
    await anonymous_held_post(members["the-author"])
    [item] = (await moderator.get("/api/v1/moderation/queue")).json()["items"]
    # Members who moderate nowhere are refused the same way whatever the id.
    for outsider in ("reporter-one", "the-author"):
        refused = await api_post(
            members[outsider], f"/api/v1/moderation/cases/{item['case_id']}/reveal"
        )
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "forbidden"
        assert "the-author" not in refused.text
    # A moderator elsewhere learns nothing, not even that the case exists.
    ctx = app.state.ctx
    keeper = await accounts.find_member(ctx.db, "Site-Admin")
    elsewhere = await create_community(ctx, keeper, slug="carers", name="Carers")
    other = await accounts.find_member(ctx.db, "reporter-two")
    async with ctx.db.transaction() as s:
        s.add(CommunityModerator(community_id=elsewhere.id, member_id=other.id))
    refused = await api_post(
        members["reporter-two"], f"/api/v1/moderation/cases/{item['case_id']}/reveal"
    )
    assert refused.status_code == 404, refused.text
    assert "the-author" not in refused.text
    missing = await api_post(moderator, "/api/v1/moderation/cases/999999/reveal")
    assert missing.status_code == 404
    assert await reveals(app) == []
