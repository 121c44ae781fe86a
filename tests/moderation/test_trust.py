"""New-member trust: first posts held, links refused until the member has standing."""

from __future__ import annotations

import dataclasses

import pytest

from tests.helpers import api_post


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, new_member_posts=2, link_posts=3)


async def test_first_two_posts_in_a_community_are_held(members, moderator) -> None:
    author = members["the-author"]
    first = await api_post(
        author, "/api/v1/communities/recovery/threads", {"title": "Hi", "body": "I'm new here."}
    )
    assert first.status_code == 202
    assert first.json()["reason"]["code"] == "new_member"
    queue = (await moderator.get("/api/v1/moderation/queue")).json()["items"]
    for item in queue:
        await api_post(
            moderator, f"/api/v1/moderation/cases/{item['case_id']}/actions", {"action": "approve"}
        )
    thread_id = first.json()["id"]
    second = await api_post(author, f"/api/v1/threads/{thread_id}/posts", {"body": "Still new."})
    assert second.status_code == 202
    queue = (await moderator.get("/api/v1/moderation/queue")).json()["items"]
    await api_post(
        moderator, f"/api/v1/moderation/cases/{queue[0]['case_id']}/actions", {"action": "approve"}
    )
    third = await api_post(author, f"/api/v1/threads/{thread_id}/posts", {"body": "Now I'm in."})
    assert third.status_code == 201


async def test_links_are_refused_for_new_members(members) -> None:
    response = await api_post(
        members["the-author"],
        "/api/v1/communities/recovery/threads",
        {"title": "Look", "body": "See https://example.org/offer"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "links_not_allowed"


async def test_preview_without_a_community_gives_the_contents_own_verdict(members) -> None:
    response = await api_post(members["the-author"], "/api/v1/preview", {"body": "Hello there"})
    assert response.json()["decision"] == "publish"


async def test_preview_in_a_community_answers_as_the_real_post_will(members) -> None:
    # A preview that says "publish" for a post that is then refused misleads the member.
    author = members["the-author"]
    link = {"body": "See https://example.org/offer", "community": "recovery"}
    previewed = (await api_post(author, "/api/v1/preview", link)).json()
    posted = await api_post(
        author, "/api/v1/communities/recovery/threads", {"title": "Look", "body": link["body"]}
    )
    assert previewed["decision"] == "refuse"
    assert previewed["reason"]["code"] == posted.json()["error"]["code"] == "links_not_allowed"
    plain = {"body": "I'm new here.", "community": "recovery"}
    held = (await api_post(author, "/api/v1/preview", plain)).json()
    assert (held["decision"], held["reason"]["code"]) == ("hold", "new_member")


async def test_the_reply_forms_preview_shows_the_new_member_rules(members, moderator) -> None:
    from tests.helpers import submit

    author = members["the-author"]
    started = await api_post(
        moderator,
        "/api/v1/communities/recovery/threads",
        {"title": "Hi", "body": "I'm new here."},
    )
    thread_id = started.json()["id"]
    [item] = (await moderator.get("/api/v1/moderation/queue")).json()["items"]
    await api_post(
        moderator, f"/api/v1/moderation/cases/{item['case_id']}/actions", {"action": "approve"}
    )
    page = await submit(
        author,
        f"/t/{thread_id}",
        f"/t/{thread_id}/reply",
        {"body": "Try https://example.org/x", "action": "preview"},
    )
    assert page.status_code == 200
    assert "notice-error" in page.text and "post links yet" in page.text
