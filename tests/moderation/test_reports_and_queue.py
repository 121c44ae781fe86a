"""Reports, auto-hide, the review queue and moderator actions, through the real app."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from moderation.models import AuditEntry, Sanction
from tests.helpers import api_post, establish, submit
from tests.moderation.xss_oracle import assert_script_free


async def post(
    client: httpx.AsyncClient, body: str = "Day 45 today.", *, status: int = 201
) -> dict:
    """Start a thread; `status` is the one answer it must get (201 published, 202 held)."""
    response = await api_post(
        client, "/api/v1/communities/recovery/threads", {"title": "Update", "body": body}
    )
    assert response.status_code == status, response.text
    return response.json()


async def report(
    client: httpx.AsyncClient, post_id: int, reason: str = "harassment"
) -> httpx.Response:
    return await api_post(
        client, "/api/v1/reports", {"kind": "post", "id": post_id, "reason": reason}
    )


async def test_three_reports_hide_a_post_pending_review(members, moderator, app) -> None:
    # Reports from accounts under a day old weigh nothing (tests/security/test_abuse.py).
    await establish(app.state.ctx, "reporter-one", "reporter-two", "reporter-three")
    thread = await post(members["the-author"], "You are all idiots.")
    post_id = thread["posts"][0]["id"]
    for name in ("reporter-one", "reporter-two"):
        assert (await report(members[name], post_id)).status_code == 201
    seen = (await members["reporter-three"].get(f"/api/v1/threads/{thread['id']}")).json()
    assert seen["posts"][0]["status"] == "published"
    assert (await report(members["reporter-three"], post_id)).status_code == 201
    page = await members["reporter-three"].get(f"/t/{thread['id']}")
    assert "hidden while a moderator reviews it" in page.text
    assert "You are all idiots" not in page.text
    queue = (await moderator.get("/api/v1/moderation/queue")).json()["items"]
    assert [(i["target_id"], i["auto_hidden"], i["report_weight"]) for i in queue] == [
        (post_id, True, 3)
    ]
    async with app.state.ctx.db.read() as s:
        actions = [e.action for e in await s.exec(select(AuditEntry))]
    assert "auto_hide" in actions


async def test_bad_reports_are_refused_clearly(members, app) -> None:
    thread = await post(members["the-author"])
    post_id = thread["posts"][0]["id"]
    first = await report(members["reporter-one"], post_id)
    assert first.status_code == 201
    again = await report(members["reporter-one"], post_id)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_reported"
    missing = await report(members["reporter-one"], 99999)
    assert missing.status_code == 404
    own = await report(members["the-author"], post_id)
    assert own.status_code == 422
    other = await api_post(
        members["reporter-two"],
        "/api/v1/reports",
        {"kind": "post", "id": post_id, "reason": "other"},
    )
    assert other.status_code == 422 and "Tell the moderators" in other.json()["error"]["message"]


async def test_crisis_is_first_in_the_queue(members, moderator, app) -> None:
    await establish(app.state.ctx, "reporter-one", "reporter-two")
    calm = await post(members["the-author"], "Spam spam spam, buy now.")
    await report(members["reporter-one"], calm["posts"][0]["id"], "spam")
    await report(members["reporter-two"], calm["posts"][0]["id"], "spam")
    crisis = await post(members["reporter-three"], "I want to end my life tonight.")
    assert crisis["notice"]["code"] == "crisis"
    queue = (await moderator.get("/api/v1/moderation/queue")).json()["items"]
    assert queue[0]["crisis"] is True
    assert queue[0]["target_id"] == crisis["posts"][0]["id"]
    assert queue[1]["report_weight"] == 2


async def test_held_content_appears_and_approving_publishes_it(members, moderator) -> None:
    held = await post(members["the-author"], "Call me on 07700 900123", status=202)
    assert held["status"] == "held"
    queue = (await moderator.get("/api/v1/moderation/queue")).json()["items"]
    assert queue[0]["held"] is True
    done = await api_post(
        moderator, f"/api/v1/moderation/cases/{queue[0]['case_id']}/actions", {"action": "approve"}
    )
    assert done.status_code == 200 and done.json()["closed"] is True
    listing = (await members["reporter-one"].get("/api/v1/communities/recovery/threads")).json()
    assert listing["threads"][0]["status"] == "published"
    notes = (await members["the-author"].get("/api/v1/notifications")).json()["notifications"]
    assert notes[0]["kind"] == "approved"


async def test_delete_and_public_log_names_nobody(members, moderator, client) -> None:
    thread = await post(members["the-author"], "Something cruel")
    await report(members["reporter-one"], thread["posts"][0]["id"])
    queue = (await moderator.get("/api/v1/moderation/queue")).json()["items"]
    await api_post(
        moderator,
        f"/api/v1/moderation/cases/{queue[0]['case_id']}/actions",
        {"action": "delete", "reason": "Rule 1: be kind"},
    )
    page = await members["reporter-two"].get(f"/t/{thread['id']}")
    assert "removed by a moderator" in page.text and "Something cruel" not in page.text
    log = await client.get("/c/recovery/moderation-log")
    assert "A post was removed: Rule 1: be kind" in log.text
    assert "the-author" not in log.text and "river-keeper" not in log.text


async def test_mute_suspend_and_the_ladder(members, moderator, app) -> None:
    thread = await post(members["the-author"], "rude words")
    await report(members["reporter-one"], thread["posts"][0]["id"])
    [item] = (await moderator.get("/api/v1/moderation/queue")).json()["items"]
    assert item["proposed_sanction"] == "warn"
    case = f"/api/v1/moderation/cases/{item['case_id']}/actions"
    bad = await api_post(moderator, case, {"action": "suspend", "hours": 24 * 400})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_duration"
    none = await api_post(moderator, case, {"action": "mute"})
    assert none.status_code == 422
    ok = await api_post(moderator, case, {"action": "suspend", "hours": 168, "reason": "repeat"})
    assert ok.status_code == 200
    refused = await api_post(
        members["the-author"],
        f"/api/v1/threads/{thread['id']}/posts",
        {"body": "Can I still post?"},
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "suspended"
    [item] = (await moderator.get("/api/v1/moderation/queue")).json()["items"]
    assert item["proposed_sanction"] == "mute"
    async with app.state.ctx.db.read() as s:
        audit = [(e.action, e.actor_name) for e in await s.exec(select(AuditEntry))]
    assert ("suspend", "river-keeper") in audit


async def test_moderators_cannot_sanction_admins_or_act_elsewhere(members, moderator, app) -> None:
    from forum.communities import create_community
    from identity import accounts

    ctx = app.state.ctx
    admin = await accounts.find_member(ctx.db, "Site-Admin")
    other = await create_community(ctx, admin, slug="grief", name="Grief")
    response = await api_post(
        moderator,
        f"/api/v1/moderation/members/{admin.id}/sanctions",
        {"kind": "warn", "community_id": 1},
    )
    assert response.status_code == 403
    author = await accounts.find_member(ctx.db, "the-author")
    elsewhere = await api_post(
        moderator,
        f"/api/v1/moderation/members/{author.id}/sanctions",
        {"kind": "warn", "community_id": other.id},
    )
    assert elsewhere.status_code == 403
    async with ctx.db.read() as s:
        assert (await s.exec(select(Sanction))).all() == []


async def test_a_member_cannot_reach_moderator_actions(members, moderator, app) -> None:
    """Through pages and the JSON API (chat frames are tested with chat)."""
    thread = await post(members["the-author"], "rude words")
    await report(members["reporter-one"], thread["posts"][0]["id"])
    [item] = (await moderator.get("/api/v1/moderation/queue")).json()["items"]
    member = members["reporter-two"]
    assert (await member.get("/api/v1/moderation/queue")).status_code == 403
    act = await api_post(
        member, f"/api/v1/moderation/cases/{item['case_id']}/actions", {"action": "delete"}
    )
    assert act.status_code == 403
    assert (await member.get("/moderation")).status_code == 403
    page_act = await submit(
        member, "/account", f"/moderation/cases/{item['case_id']}", {"action": "delete"}
    )
    assert page_act.status_code == 403
    assert (await member.get("/moderation/communities/recovery")).status_code == 403
    assert (await member.get("/moderation/audit")).status_code == 403
    seen = (await members["reporter-three"].get(f"/api/v1/threads/{thread['id']}")).json()
    assert seen["posts"][0]["status"] == "published"


async def test_audit_log_is_append_only(members, moderator, admin, app) -> None:
    thread = await post(members["the-author"], "rude words")
    await report(members["reporter-one"], thread["posts"][0]["id"])
    [item] = (await moderator.get("/api/v1/moderation/queue")).json()["items"]
    await api_post(
        moderator,
        f"/api/v1/moderation/cases/{item['case_id']}/actions",
        {"action": "hide", "reason": "r"},
    )
    for statement in ("UPDATE audit_entry SET reason = 'x'", "DELETE FROM audit_entry"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with app.state.ctx.db.transaction() as s:
                await s.exec(text(statement))
    csv = await admin.get("/moderation/audit.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "hide" in csv.text and "river-keeper" in csv.text


async def test_report_page_and_watched_words_page(members, moderator) -> None:
    thread = await post(members["the-author"], "Hello")
    post_id = thread["posts"][0]["id"]
    page = await members["reporter-one"].get(f"/report?kind=post&id={post_id}")
    assert "Be kind." in page.text  # rules can be cited
    done = await submit(
        members["reporter-one"],
        f"/report?kind=post&id={post_id}",
        "/report",
        {"kind": "post", "id": str(post_id), "reason": "off_topic", "rule": "Be kind."},
    )
    assert "Thank you" in done.text
    added = await submit(
        moderator,
        "/moderation/communities/recovery",
        "/moderation/communities/recovery",
        {"what": "add_word", "pattern": "miracle cure", "action": "block"},
    )
    assert added.status_code == 303
    refused = await api_post(
        members["the-author"],
        "/api/v1/communities/recovery/threads",
        {"title": "x", "body": "A miracle cure!"},
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "watched_word"
    dashboard = await moderator.get("/moderation/dashboard")
    assert dashboard.status_code == 200 and "<svg" in dashboard.text


async def test_peer_supporters_see_crisis_flags_and_wear_a_badge(members, admin, app) -> None:
    from identity import accounts

    supporter = await accounts.find_member(app.state.ctx.db, "reporter-one")
    made = await submit(
        admin,
        f"/moderation/members/{supporter.id}",
        f"/moderation/members/{supporter.id}/role",
        {"peer_supporter": "yes"},
    )
    assert made.status_code == 303
    calm = await post(members["the-author"], "Spam!")
    await report(members["reporter-two"], calm["posts"][0]["id"], "spam")
    crisis = await post(members["reporter-three"], "I want to end my life.")
    queue = (await members["reporter-one"].get("/api/v1/moderation/queue")).json()["items"]
    assert [(i["target_id"], i["can_act"]) for i in queue] == [(crisis["posts"][0]["id"], False)]
    denied = await api_post(
        members["reporter-one"],
        f"/api/v1/moderation/cases/{queue[0]['case_id']}/actions",
        {"action": "delete"},
    )
    assert denied.status_code == 403
    reply = await api_post(
        members["reporter-one"],
        f"/api/v1/threads/{crisis['id']}/posts",
        {"body": "I'm here. Can we talk?"},
    )
    assert reply.status_code == 201
    page = await members["reporter-three"].get(f"/t/{crisis['id']}")
    assert "Peer supporter" in page.text
    async with app.state.ctx.db.read() as s:
        actions = [e.action for e in await s.exec(select(AuditEntry))]
    assert "grant_peer_supporter" in actions


async def test_edit_with_a_note_is_sanitised_and_restores_hidden_content(
    members, moderator
) -> None:
    thread = await post(members["the-author"], "Meet me at 14 Elm Street tonight", status=202)
    assert thread["status"] == "held"
    [item] = (await moderator.get("/api/v1/moderation/queue")).json()["items"]
    case = f"/api/v1/moderation/cases/{item['case_id']}/actions"
    empty = await api_post(moderator, case, {"action": "edit", "text": "  "})
    assert empty.status_code == 422
    done = await api_post(
        moderator,
        case,
        {
            "action": "edit",
            "text": "Meet up [here](javascript:alert(1)) <script>x</script>",
            "reason": "address removed",
        },
    )
    assert done.status_code == 200
    seen = (await members["reporter-one"].get(f"/api/v1/threads/{thread['id']}")).json()
    html = seen["posts"][0]["html"]
    assert seen["posts"][0]["status"] == "published"
    assert "Elm Street" not in html
    assert_script_free(html)  # judged by parsing: the javascript: link is only text now
