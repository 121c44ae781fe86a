"""The forum part of the JSON API (/api/v1), as PROTOCOL.md describes it.

Publishing answers 201 with the object (plus "notice" when the pipeline has something to
tell the author), 202 {"status": "held", "reason": …} when it waits for a moderator, or the
error's status (422 for refusals) with its code and message.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from communities.models import Community
from core.errors import Refusal
from core.web.jsonapi import field, read_json
from core.web.params import MAX_ID, optional_int
from forum import aliases, been_there, queries, reactions, search, thread_view, threads
from forum.models import Post, Thread
from forum.queries import ThreadSummary
from forum.thread_view import PostView
from forum.web import context, region_of
from identity.api import network_of
from identity.auth import current_member, require_member


def community_json(c: Community) -> dict[str, Any]:
    return {
        "slug": c.slug,
        "name": c.name,
        "description": c.description,
        "visibility": c.visibility,
        "allow_anonymous": c.allow_anonymous,
        "content_warnings": c.warning_list,
    }


def thread_json(t: Thread, author: str, community_slug: str | None = None) -> dict[str, Any]:
    data = {
        "id": t.id,
        "title": t.title,
        "kind": t.kind,
        "help_type": t.help_type,
        "content_warning": t.content_warning,
        "author": author,
        "status": t.status,
        "locked": t.locked,
        "resolved_post_id": t.resolved_post_id,
        "reply_count": t.reply_count,
        "created_at": t.created_at.isoformat(),
        "last_activity_at": t.last_activity_at.isoformat(),
    }
    if community_slug:
        data["community"] = community_slug
    return data


def post_json(p: PostView) -> dict[str, Any]:
    post = p.post
    data: dict[str, Any] = {
        "id": post.id,
        "author": p.author,
        "opening": post.is_opening,
        "status": post.status,
        "html": post.html if post.status in ("published", "held") else "",
        "created_at": post.created_at.isoformat(),
        "edited_at": post.edited_at.isoformat() if post.edited_at else None,
        "reactions": p.reactions,
        "my_reactions": sorted(p.my_reactions),
    }
    if p.author_pseudonym:
        data["author_pseudonym"] = p.author_pseudonym
    return data


def published_response(published: threads.Published, body: dict[str, Any]) -> Response:
    """201 with the post, or 202 when it waits for a moderator. A resent `client_id` is
    answered with the original as it stands now (and `"resent": true`), vetted once."""
    verdict, post = published.verdict, published.post
    notice = verdict.notice if verdict else None
    if published.held:
        reason = {"code": post.hold_reason, "message": post.hold_message}
        held: dict[str, Any] = {
            "status": "held",
            "id": post.id,
            "reason": reason if post.hold_reason else None,
        }
        if notice:  # a crisis post held for a peer supporter: help now, too
            held["notice"] = notice
        if published.resent:
            held["resent"] = True
        return JSONResponse(held, 202)
    if notice:
        body["notice"] = notice
    if published.resent:
        body["resent"] = True
    return JSONResponse(body, 201)


async def _community(request: Request) -> Community:
    return await queries.community_by_slug(
        context(request).db, request.path_params["slug"], current_member(request)
    )


async def communities(request: Request) -> Response:
    found = await queries.list_communities(context(request).db)
    return JSONResponse({"communities": [community_json(c) for c in found]})


async def community_threads(request: Request) -> Response:
    community = await _community(request)
    listed = await queries.list_threads(
        context(request).db,
        community,
        current_member(request),
        kind=request.query_params.get("kind") or None,
        help_type=request.query_params.get("help_type") or None,
        cursor=request.query_params.get("cursor"),
    )
    return JSONResponse(
        {"threads": [_summary_json(s) for s in listed.threads], "next_cursor": listed.next_cursor}
    )


async def community_experiences(request: Request) -> Response:
    """The community's "been there" list, to ask for someone who's been through one: the
    labels alone (who noted which is nobody's to read)."""
    community = await _community(request)
    labels = await been_there.labels_for(context(request).db, community.id)  # type: ignore[arg-type]
    return JSONResponse({"experiences": [{"id": x.id, "label": x.label} for x in labels]})


def _summary_json(summary: ThreadSummary) -> dict[str, Any]:
    return {**thread_json(summary.thread, summary.author), "has_new": summary.has_new}


async def start_thread(request: Request) -> Response:
    member = require_member(request)
    community = await _community(request)
    data = await read_json(request)
    published = await threads.start_thread(
        context(request),
        member,
        community,
        title=field(data, "title", str),
        body=field(data, "body", str),
        kind=field(data, "kind", str, default="discussion"),
        help_type=field(data, "help_type", str, default=None),
        content_warning=field(data, "content_warning", str, default=None),
        anonymous=field(data, "anonymous", bool, default=False),
        region=region_of(request),
        submission_id=field(data, "client_id", str, default=None),
        been_there=field(data, "been_there", int, default=None),
    )
    view = await thread_view.thread_view(context(request).db, published.thread.id, member)  # type: ignore[arg-type]
    body = {**thread_json(view.thread, view.author, community.slug)}
    body["posts"] = [post_json(p) for p in view.posts]
    if asked := await been_there.for_asker(context(request).db, view.thread, member):
        # The asker's own answer: how many were told (never who), or still waiting.
        body["been_there"] = {"told": asked.told, "waiting": asked.waiting}
    return published_response(published, body)


async def thread(request: Request) -> Response:
    after = optional_int(request.query_params.get("after"), "after", 0, high=MAX_ID)
    view = await thread_view.thread_view(
        context(request).db,
        request.path_params["thread_id"],
        current_member(request),
        after=after,
    )
    viewer = current_member(request)
    if viewer is not None:  # audits the anonymous authors shown (none unless they may see them)
        await aliases.audit_anonymous_reveal(context(request).db, viewer, view)
    body = thread_json(view.thread, view.author, view.community.slug)
    body["posts"] = [post_json(p) for p in view.posts]
    body["next_after"] = view.next_after
    if viewer is not None:
        body["hidden_by_block"] = view.hidden_by_block
        body["blocked_labels"] = list(view.blocked_labels)
    return JSONResponse(body)


async def reply(request: Request) -> Response:
    member = require_member(request)
    data = await read_json(request)
    published = await threads.reply(
        context(request),
        member,
        request.path_params["thread_id"],
        body=field(data, "body", str),
        anonymous=field(data, "anonymous", bool, default=False),
        region=region_of(request),
        submission_id=field(data, "client_id", str, default=None),
    )
    return published_response(published, await _post_body(request, published.post, member))


async def _post_body(request: Request, post: Post, member) -> dict[str, Any]:
    author = await aliases.shown_name(context(request).db, post.thread_id, member, post.anonymous)
    view = PostView(post, author, None, True, False)
    return {**post_json(view), "thread_id": post.thread_id}


async def edit_post(request: Request) -> Response:
    member = require_member(request)
    data = await read_json(request)
    published = await threads.edit_post(
        context(request),
        member,
        request.path_params["post_id"],
        body=field(data, "body", str),
        region=region_of(request),
    )
    response = published_response(published, await _post_body(request, published.post, member))
    if response.status_code == 201:
        response.status_code = 200
    return response


async def block_anonymous(request: Request) -> Response:
    """Block one anonymous author in one thread by the label everyone sees."""
    member = require_member(request)
    data = await read_json(request)
    shown = await aliases.block_alias(
        context(request), member, request.path_params["thread_id"], field(data, "label", str)
    )
    return JSONResponse({"status": "blocked", "author": shown}, 201)


async def unblock_anonymous(request: Request) -> Response:
    member = require_member(request)
    await aliases.unblock_alias(
        context(request), member, request.path_params["thread_id"], request.path_params["label"]
    )
    return JSONResponse({"status": "unblocked"})


async def delete_post(request: Request) -> Response:
    member = require_member(request)
    await threads.delete_post(context(request), member, request.path_params["post_id"])
    return JSONResponse({"status": "deleted"})


async def react(request: Request) -> Response:
    member = require_member(request)
    data = await read_json(request)
    await reactions.react(
        context(request), member, request.path_params["post_id"], field(data, "kind", str)
    )
    return JSONResponse({"status": "ok"}, 201)


async def unreact(request: Request) -> Response:
    member = require_member(request)
    await reactions.unreact(
        context(request), member, request.path_params["post_id"], request.path_params["kind"]
    )
    return JSONResponse({"status": "ok"})


async def helped(request: Request) -> Response:
    member = require_member(request)
    thread = await reactions.mark_helped(context(request), member, request.path_params["post_id"])
    return JSONResponse({"thread_id": thread.id, "resolved_post_id": thread.resolved_post_id})


async def preview(request: Request) -> Response:
    blocked = await context(request).rate_limits.hit("preview", network_of(request))
    if blocked:
        raise Refusal(
            "rate_limited",
            f"Too many previews. Wait {blocked.retry_after} seconds; your text is kept.",
            429,
            retry_after=blocked.retry_after,
        )
    data = await read_json(request)
    body = field(data, "body", str)
    slug = field(data, "community", str, default=None)
    community_id = None
    if slug:
        request.path_params["slug"] = slug
        community_id = (await _community(request)).id
    verdict = await threads.preview(
        context(request),
        current_member(request),
        community_id,
        body,
        region=region_of(request),
        anonymous=field(data, "anonymous", bool, default=False),
    )
    return JSONResponse(verdict)


async def search_api(request: Request) -> Response:
    query = request.query_params.get("q", "").strip()[:200]
    hits = await search.find(context(request).db, query, current_member(request))
    return JSONResponse(
        {
            "results": [
                {
                    "post_id": h.post_id,
                    "thread_id": h.thread_id,
                    "title": h.title,
                    "community": h.community_slug,
                    "snippet_html": h.snippet_html,
                    "content_warning": h.content_warning,
                    "folded": h.folded,
                }
                for h in hits
            ]
        }
    )


async def notifications(request: Request) -> Response:
    member = require_member(request)
    items = await queries.notifications(context(request).db, member)
    return JSONResponse(
        {
            "notifications": [
                {
                    "id": i.number,  # the member's own count, never the table's
                    "kind": i.notification.kind,
                    "actor": i.notification.actor,
                    "thread_id": i.notification.thread_id,
                    "thread_title": i.thread_title,
                    "post_id": i.notification.post_id,
                    "read": i.notification.read_at is not None,
                    "created_at": i.notification.created_at.isoformat(),
                }
                for i in items
            ]
        }
    )


routes = [
    Route("/api/v1/communities", communities, methods=["GET"]),
    Route("/api/v1/communities/{slug}/threads", community_threads, methods=["GET"]),
    Route("/api/v1/communities/{slug}/threads", start_thread, methods=["POST"]),
    Route("/api/v1/communities/{slug}/experiences", community_experiences, methods=["GET"]),
    Route("/api/v1/threads/{thread_id:int}", thread, methods=["GET"]),
    Route("/api/v1/threads/{thread_id:int}/posts", reply, methods=["POST"]),
    Route("/api/v1/threads/{thread_id:int}/blocks", block_anonymous, methods=["POST"]),
    Route("/api/v1/threads/{thread_id:int}/blocks/{label}", unblock_anonymous, methods=["DELETE"]),
    Route("/api/v1/posts/{post_id:int}", edit_post, methods=["PATCH"]),
    Route("/api/v1/posts/{post_id:int}", delete_post, methods=["DELETE"]),
    Route("/api/v1/posts/{post_id:int}/reactions", react, methods=["POST"]),
    Route("/api/v1/posts/{post_id:int}/reactions/{kind}", unreact, methods=["DELETE"]),
    Route("/api/v1/posts/{post_id:int}/helped", helped, methods=["POST"]),
    Route("/api/v1/preview", preview, methods=["POST"]),
    Route("/api/v1/search", search_api, methods=["GET"]),
    Route("/api/v1/notifications", notifications, methods=["GET"]),
]
