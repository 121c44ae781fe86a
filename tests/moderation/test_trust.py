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


async def test_preview_gives_the_contents_own_verdict(members) -> None:
    # Standing (new member) is not part of the preview, per PROTOCOL.md.
    response = await api_post(members["the-author"], "/api/v1/preview", {"body": "Hello there"})
    assert response.json()["decision"] == "publish"
