"""Forum pages for communities, threads and posts. Everything works with plain forms and
links; JavaScript only adds previews and conveniences. On an error the form comes back with
the member's draft in it. The member's own pages are in forum/member_pages.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from communities import roles
from communities.roles import Action
from core import i18n
from core.context import AppContext
from core.errors import Refusal, not_found
from core.i18n import N_
from core.i18n import gettext as _
from core.web.csrf import token_used
from core.web.errors import draft_of, form_errors
from core.web.forms import form_text
from core.web.params import MAX_ID, loose_int, optional_int
from forum import (
    aliases,
    been_there,
    hope,
    notifications,
    queries,
    reactions,
    reading,
    thread_view,
    threads,
)
from forum.communities import create_community
from forum.models import HELP_TYPES, THREAD_KINDS
from forum.rendered import RenderedPages
from forum.web import context, region_of, render
from identity.auth import current_member, require_member
from identity.country import country_name
from identity.models import Member
from moderation import api as moderation


async def _community(request: Request):
    return await queries.community_by_slug(
        context(request).db, request.path_params["slug"], current_member(request)
    )


def _thread_url(thread_id: int, **params: object) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"/t/{thread_id}" + (f"?{query}" if query else "")


# Refusals that mean there is nothing left to write to: the thread or post went (deleted,
# removed, hidden for review) or closed while the member was writing. No form can come back,
# so the error page says what happened and gives their words back to copy.
_GONE = ("not_found", "locked", "not_open")
_GONE_WORDS = {
    ("not_found", "reply"): N_(
        "This thread isn't here any more: it may have been deleted, or hidden while a "
        "moderator looks at it."
    ),
    ("not_found", "edit"): N_(
        "This post isn't here any more: it may have been deleted or removed, or its thread "
        "hidden while a moderator looks at it."
    ),
    ("deleted", "edit"): N_("This post was deleted, so it can't be edited any more."),
    ("removed", "edit"): N_("A moderator removed this post, so it can't be edited any more."),
}
_NOT_SAVED = {
    "reply": N_("Your reply wasn't posted. Here it is, so you can copy it and keep it."),
    "edit": N_("Your changes weren't saved. Here is your text, so you can copy it and keep it."),
}


def _gone(refusal: Refusal, draft: str, writing: str, why: str | None = None) -> Refusal:
    """The page for words with nowhere to go (`writing`: "reply" or "edit"): what happened,
    and the member's text back, never a bare "not found"."""
    words = _GONE_WORDS.get((why or refusal.code, writing))
    said = _(words) if words else refusal.message
    if draft.strip():
        said = f"{said} {_(_NOT_SAVED[writing])}"
    return Refusal(refusal.code, said, refusal.status, draft=draft)


def _after_publish_url(published: threads.Published) -> str:
    """Back to the thread, at the member's post; after words that read as a crisis, at the
    crisis card instead (the top of the page, focused, with or without JavaScript)."""
    post = published.post
    crisis = post.crisis
    held = post.id if published.held else None
    url = _thread_url(published.thread.id, held=held, notice="crisis" if crisis else None)  # type: ignore[arg-type]
    return url + ("#crisis" if crisis else f"#p{post.id}")


# --------------------------------------------------------------------------- communities


async def community_page(request: Request) -> Response:
    community = await _community(request)
    kind = request.query_params.get("kind") or None
    help_type = request.query_params.get("help_type") or None
    kind = kind if kind in THREAD_KINDS else None
    help_type = help_type if help_type in HELP_TYPES else None
    listed = await queries.list_threads(
        context(request).db,
        community,
        current_member(request),
        kind=kind,
        help_type=help_type,
        cursor=request.query_params.get("cursor"),
    )
    next_url = None
    if listed.next_cursor:
        params = {"kind": kind, "help_type": help_type, "cursor": listed.next_cursor}
        next_url = "?" + urlencode({k: v for k, v in params.items() if v})
    return render(
        request,
        "forum/community.html",
        {
            "community": community,
            "moderator": listed.moderator,
            "threads": listed.threads,
            "next_url": next_url,
            "filter_kind": kind,
            "filter_help_type": help_type,
        },
    )


async def rules_page(request: Request) -> Response:
    return render(request, "forum/rules.html", {"community": await _community(request)})


async def new_thread_page(request: Request) -> Response:
    member = require_member(request)
    try:
        community = await _community(request)
    except Refusal as exc:
        if request.method == "POST":  # the community went while they wrote: words back
            exc.draft = draft_of(await request.form())
        raise
    ctx = context(request)
    # The form opens on "asking for help" with "emotional support" chosen: a member who just
    # writes and presses Post is never sent back over a form detail.
    values: dict[str, Any] = {
        "kind": request.query_params.get("kind", "request"),
        "help_type": request.query_params.get("help_type", "emotional"),
    }
    errors: dict[str, str] = {}
    preview = None
    if request.method == "POST":
        form = await request.form()
        values = {
            name: form_text(form, name)
            for name in ("title", "body", "kind", "help_type", "content_warning", "been_there")
        }
        values["anonymous"] = form_text(form, "anonymous") == "yes"
        if form_text(form, "action") == "preview":
            preview = await _preview(request, member, community.id, values)  # type: ignore[arg-type]
        else:
            try:
                published = await threads.start_thread(
                    ctx,
                    member,
                    community,
                    title=values["title"],
                    body=values["body"],
                    kind=values["kind"],
                    help_type=values["help_type"] or None,
                    content_warning=values["content_warning"] or None,
                    anonymous=values["anonymous"],
                    region=region_of(request),
                    submission_id=form_text(form, "submission_id") or None,
                    been_there=optional_int(values["been_there"], "been_there", None),
                )
            except Refusal as exc:
                errors = form_errors(exc)
            else:
                return RedirectResponse(_after_publish_url(published), 303)
    first_post = await threads.is_first_post(ctx, member, community.id)  # type: ignore[arg-type]
    return render(
        request,
        "forum/new_thread.html",
        {
            "community": community,
            "values": values,
            "errors": errors,
            "preview": preview,
            "first_post": first_post,
            "been_there_labels": await been_there.labels_for(ctx.db, community.id),  # type: ignore[arg-type]
        },
        422 if errors else 200,
    )


# --------------------------------------------------------------------------- threads


async def thread_page(request: Request, **extra: Any) -> Response:
    ctx = context(request)
    viewer = current_member(request)
    after = optional_int(request.query_params.get("after"), "after", 0, high=MAX_ID)
    thread_id = request.path_params["thread_id"]
    source = await thread_view.thread_source(ctx.db, thread_id, viewer, after=after)
    # Signed-out readers of a plain thread URL all get the same page: reuse it while the
    # data it was rendered from is unchanged (compared in full on every request).
    reuse = viewer is None and not extra and request.query_params.keys() <= {"after"}
    pages, key = _rendered_pages(ctx), (thread_id, after, i18n.current().code)
    if reuse and (html := pages.get(key, source.signed_out_key)) is not None:
        return HTMLResponse(html)
    view = thread_view.view_of(source)
    if viewer is not None and view.posts:
        newest = max(p.post.id for p in view.posts)  # type: ignore[type-var]
        await reading.record_visit(ctx.db, viewer, view.thread.id, newest)  # type: ignore[arg-type]
        # Audits whatever anonymous authors the page shows (none unless they may see them).
        await aliases.audit_anonymous_reveal(ctx.db, viewer, view)
    data = {
        "view": view,
        "held_id": request.query_params.get("held"),
        "just_blocked": request.query_params.get("blocked", "")[:40] if viewer else "",
        "crisis_card": await _crisis_card(request, ctx, view),
        # The asker alone sees whether "someone who's been there" was told, and how many.
        "been_there_ask": await been_there.for_asker(ctx.db, view.thread, viewer),
        # Moderators of a story of hope see whether it is on the community's shelf.
        "on_shelf": view.moderator
        and view.thread.kind == "story"
        and await hope.on_shelf(ctx.db, view.thread.id),  # type: ignore[arg-type]
        "page_after": after or None,
        "values": {},
        "errors": {},
        "preview": None,
    }
    data.update(extra)
    status = data.pop("status", 200)
    response = render(request, "forum/thread.html", data, status)
    # A page holding this visitor's CSRF token is theirs alone, whatever the template says.
    if reuse and status == 200 and not token_used(request):
        pages.put(key, source.signed_out_key, response.body)
    return response


async def _crisis_card(
    request: Request, ctx: AppContext, view: thread_view.ThreadView
) -> dict[str, Any] | None:
    """What the crisis card shows after a member's words read as a crisis: helplines for
    their country, and the truth about their post: waiting (held, and still held now) or
    up, and whether anyone reads crisis posts here at all (a moderator of the community,
    or any peer supporter or admin): only then does it say someone will see it soon."""
    if request.query_params.get("notice") != "crisis":
        return None
    region = region_of(request)
    held_id = loose_int(request.query_params.get("held"), high=MAX_ID)
    shown = next((p.post for p in view.posts if p.post.id == held_id), None)
    async with ctx.db.read() as s:
        readers = await roles.anyone_may(s, Action.REACH_OUT, view.community.id)
    return {
        "resources": moderation.crisis_resources(region),
        "country": country_name(region),
        "held": held_id is not None and (shown is None or shown.status == "held"),
        "readers": readers,
        "hope_url": f"/c/{view.community.slug}/hope",
    }


async def _preview(
    request: Request, member: Member, community_id: int, values: dict[str, Any]
) -> dict:
    return await threads.preview(
        context(request),
        member,
        community_id,
        values["body"],
        region=region_of(request),
        anonymous=values["anonymous"],
    )


def _rendered_pages(ctx: AppContext) -> RenderedPages:
    # One per app, made on first use (nothing is created at import time).
    return ctx.extensions.setdefault("forum.rendered_pages", RenderedPages())


async def reply_page(request: Request) -> Response:
    member = require_member(request)
    ctx = context(request)
    thread_id = request.path_params["thread_id"]
    form = await request.form()
    values = {"body": form_text(form, "body"), "anonymous": form_text(form, "anonymous") == "yes"}
    try:
        if form_text(form, "action") == "preview":
            preview = await threads.preview_reply(
                ctx,
                member,
                thread_id,
                values["body"],
                region=region_of(request),
                anonymous=values["anonymous"],
            )
            return await thread_page(request, values=values, preview=preview)
        published = await threads.reply(
            ctx,
            member,
            thread_id,
            body=values["body"],
            anonymous=values["anonymous"],
            region=region_of(request),
            submission_id=form_text(form, "submission_id") or None,
        )
    except Refusal as exc:
        if exc.code in _GONE:  # the thread page would show no form to keep the reply in
            raise _gone(exc, values["body"], "reply") from None
        return await thread_page(request, values=values, errors=form_errors(exc), status=exc.status)
    return RedirectResponse(_after_publish_url(published), 303)


async def follow(request: Request) -> Response:
    member = require_member(request)
    form = await request.form()
    thread_id = request.path_params["thread_id"]
    await notifications.set_follow(
        context(request), member, thread_id, form_text(form, "follow") == "yes"
    )
    return RedirectResponse(_thread_url(thread_id), 303)


async def block_anonymous(request: Request) -> Response:
    """Block one anonymous author in this thread, by the label everyone sees."""
    member = require_member(request)
    form = await request.form()
    thread_id = request.path_params["thread_id"]
    shown = await aliases.block_alias(context(request), member, thread_id, form_text(form, "label"))
    return RedirectResponse(_thread_url(thread_id, blocked=shown) + "#blocks", 303)


async def unblock_anonymous(request: Request) -> Response:
    member = require_member(request)
    form = await request.form()
    thread_id = request.path_params["thread_id"]
    await aliases.unblock_alias(context(request), member, thread_id, form_text(form, "label"))
    return RedirectResponse(_thread_url(thread_id) + "#blocks", 303)


# --------------------------------------------------------------------------- posts


async def edit_page(request: Request) -> Response:
    member = require_member(request)
    ctx = context(request)
    post_id = request.path_params["post_id"]
    # The member's edit, read first: if the post went while they were writing, it comes back.
    draft = form_text(await request.form(), "body") if request.method == "POST" else ""
    try:
        found = await queries.post_in_context(ctx.db, post_id, member)
    except Refusal as exc:
        raise _gone(exc, draft, "edit") from None
    if found.post.author_id != member.id:
        raise HTTPException(403, _("You can only edit your own posts."))
    if found.post.status in ("deleted", "removed"):
        raise _gone(not_found(), draft, "edit", why=found.post.status)
    values = {"body": found.post.body}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {"body": draft}
        try:
            published = await threads.edit_post(
                ctx, member, post_id, body=values["body"], region=region_of(request)
            )
        except Refusal as exc:
            if exc.code in _GONE:
                raise _gone(exc, draft, "edit") from None
            errors = form_errors(exc)
        else:
            return RedirectResponse(_after_publish_url(published), 303)
    return render(
        request,
        "forum/edit.html",
        {"thread": found.thread, "post": found.post, "values": values, "errors": errors},
        422 if errors else 200,
    )


async def delete_post(request: Request) -> Response:
    member = require_member(request)
    thread = await threads.delete_post(context(request), member, request.path_params["post_id"])
    return RedirectResponse(_thread_url(thread.id), 303)  # type: ignore[arg-type]


async def react(request: Request) -> Response:
    member = require_member(request)
    form = await request.form()
    post_id = request.path_params["post_id"]
    kind, remove = form_text(form, "kind"), form_text(form, "remove")
    if remove not in ("", "yes"):  # a chosen reaction's button: remove=<kind> (forum/thread.html)
        kind, remove = remove, "yes"
    ctx = context(request)
    if remove == "yes":
        await reactions.unreact(ctx, member, post_id, kind)
    else:
        await reactions.react(ctx, member, post_id, kind)
    thread_id = await queries.post_thread_id(ctx.db, post_id)
    return RedirectResponse(_at_post(thread_id, post_id, form_text(form, "after")), 303)


async def helped(request: Request) -> Response:
    member = require_member(request)
    form = await request.form()
    post_id = request.path_params["post_id"]
    thread = await reactions.mark_helped(context(request), member, post_id)
    return RedirectResponse(_at_post(thread.id, post_id, form_text(form, "after")), 303)  # type: ignore[arg-type]


def _at_post(thread_id: int, post_id: int, after: str) -> str:
    """Back to the post a member just answered, on the page of the thread it is on (the
    form says which), so the browser lands on it and focuses it (#p<id>, focusable), not at
    the top of the thread."""
    page = loose_int(after, high=MAX_ID) or None
    return _thread_url(thread_id, after=page) + f"#p{post_id}"


async def history_page(request: Request) -> Response:
    member = require_member(request)
    ctx = context(request)
    post_id = request.path_params["post_id"]
    found = await queries.post_in_context(ctx.db, post_id, member)
    if not found.moderator:
        raise HTTPException(403, _("Only this community's moderators can read edit histories."))
    revisions = await queries.edit_history(ctx.db, post_id)
    return render(
        request,
        "forum/history.html",
        {"thread": found.thread, "post": found.post, "revisions": revisions},
    )


# --------------------------------------------------------------------------- admin


async def new_community_page(request: Request) -> Response:
    member = require_member(request)
    if not roles.holds(member, Action.RUN_SITE):
        raise HTTPException(403, _("Only site admins can create communities."))
    values: dict[str, Any] = {"visibility": "public", "allow_anonymous": True}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        values = {
            name: form_text(form, name)
            for name in ("slug", "name", "description", "rules", "visibility", "content_warnings")
        }
        values["allow_anonymous"] = form_text(form, "allow_anonymous") == "yes"
        values["visibility"] = values["visibility"] or "public"
        try:
            community = await create_community(context(request), member, **values)
        except Refusal as exc:
            errors = form_errors(exc)
        else:
            hook = context(request).extensions.get("community_created")
            if hook:
                await hook(community)
            return RedirectResponse(f"/c/{community.slug}", 303)
    return render(
        request,
        "forum/new_community.html",
        {"values": values, "errors": errors},
        422 if errors else 200,
    )


routes = [
    Route("/c/{slug}", community_page, methods=["GET"]),
    Route("/c/{slug}/rules", rules_page, methods=["GET"]),
    Route("/c/{slug}/new", new_thread_page, methods=["GET", "POST"]),
    Route("/t/{thread_id:int}", thread_page, methods=["GET"]),
    Route("/t/{thread_id:int}/reply", reply_page, methods=["POST"]),
    Route("/t/{thread_id:int}/follow", follow, methods=["POST"]),
    Route("/t/{thread_id:int}/block-anonymous", block_anonymous, methods=["POST"]),
    Route("/t/{thread_id:int}/unblock-anonymous", unblock_anonymous, methods=["POST"]),
    Route("/p/{post_id:int}/edit", edit_page, methods=["GET", "POST"]),
    Route("/p/{post_id:int}/delete", delete_post, methods=["POST"]),
    Route("/p/{post_id:int}/react", react, methods=["POST"]),
    Route("/p/{post_id:int}/helped", helped, methods=["POST"]),
    Route("/p/{post_id:int}/history", history_page, methods=["GET"]),
    Route("/admin/communities/new", new_community_page, methods=["GET", "POST"]),
]
