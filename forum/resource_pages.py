"""The resource directory's pages (forum/resources.py has the rules): the directory with
its filters (a GET form), a member's suggestion form, and the moderators' review, add and
edit pages. Plain forms and links throughout; a refused form comes back with every word."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from communities.models import Community
from core.errors import Refusal
from core.web.errors import form_errors
from core.web.forms import form_text
from forum import queries
from forum import resources as directory
from forum.models import ANYWHERE, HELP_TYPES, RESOURCE_KINDS
from forum.resource_entries import EntryForm
from forum.resource_links import dial, site_of
from forum.web import context, region_of, render
from identity.auth import current_member, require_member
from identity.country import COUNTRIES, choices, country_name
from moderation import api as moderation

_FIELDS = ("name", "kind", "description", "url", "phone", "help_types", "region")


async def _community(request: Request) -> Community:
    return await queries.community_by_slug(
        context(request).db, request.path_params["slug"], current_member(request)
    )


def _base(community: Community) -> str:
    return f"/c/{community.slug}/resources"


def _page(request: Request, template: str, data: dict[str, Any], status: int = 200) -> Response:
    data.setdefault("resource_kinds", RESOURCE_KINDS)
    data.setdefault("countries", choices(elsewhere=False))
    data.setdefault("country_names", COUNTRIES)
    data.setdefault("anywhere", ANYWHERE)
    data.setdefault("dial", dial)
    data.setdefault("site_of", site_of)
    data.setdefault("is_stale", directory.is_stale)
    return render(request, template, data, status)


def _default_region(request: Request) -> str:
    """The member's chosen country (or a visitor's), by the crisis helplines' rule; every
    country when it is none we list."""
    region = region_of(request)
    return region if region in COUNTRIES else directory.EVERY_COUNTRY


async def directory_page(request: Request) -> Response:
    community = await _community(request)
    params = request.query_params
    help_type = params.get("help_type") if params.get("help_type") in HELP_TYPES else None
    region = params.get("country", _default_region(request))
    if region not in COUNTRIES and region not in (ANYWHERE, directory.EVERY_COUNTRY):
        region = directory.EVERY_COUNTRY
    found = await directory.directory(
        context(request).db, community, current_member(request), help_type=help_type, region=region
    )
    crisis = None
    if params.get("notice") == "crisis":
        where = region_of(request)
        crisis = {"resources": moderation.crisis_resources(where), "country": country_name(where)}
    return _page(
        request,
        "forum/resources.html",
        {
            "community": community,
            "found": found,
            "filter_help_type": help_type,
            "filter_region": region,
            "region_name": COUNTRIES.get(region),
            "suggested": params.get("suggested") == "1",
            "done": params.get("done", "")[:20],
            "crisis": crisis,
        },
    )


def _form(form: Any) -> EntryForm:
    return EntryForm(
        name=form_text(form, "name"),
        kind=form_text(form, "kind"),
        description=form_text(form, "description"),
        url=form_text(form, "url"),
        phone=form_text(form, "phone"),
        help_types=tuple(v for v in form.getlist("help_types") if isinstance(v, str)),
        region=form_text(form, "region"),
    )


def _errors(exc: Refusal) -> dict[str, str]:
    return form_errors(exc, _FIELDS)


def _entry_page(
    request: Request,
    community: Community,
    values: EntryForm,
    errors: dict[str, str],
    *,
    mode: str,
    entry: Any = None,
) -> Response:
    return _page(
        request,
        "forum/resource_form.html",
        {"community": community, "values": values, "errors": errors, "mode": mode, "entry": entry},
        422 if errors else 200,
    )


async def suggest_page(request: Request) -> Response:
    member = require_member(request)
    community = await _community(request)
    region = region_of(request)
    values = EntryForm(region=region if region in COUNTRIES else ANYWHERE)
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = _form(await request.form())
        try:
            suggested = await directory.suggest(
                context(request), member, community, values, region=region
            )
        except Refusal as exc:
            errors = _errors(exc)
        else:
            query = {"suggested": "1"}
            if suggested.verdict.crisis:
                query["notice"] = "crisis"
            return RedirectResponse(f"{_base(community)}?{urlencode(query)}#suggested", 303)
    return _entry_page(request, community, values, errors, mode="suggest")


async def new_entry_page(request: Request) -> Response:
    member = require_member(request)
    community = await _community(request)
    ctx = context(request)
    values = EntryForm()
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = _form(await request.form())
        try:
            await directory.add_entry(ctx, member, community, values)
        except Refusal as exc:
            if exc.status == 403:
                raise
            errors = _errors(exc)
        else:
            return RedirectResponse(f"{_base(community)}?country=all&done=added", 303)
    else:
        await directory.require_moderator(ctx.db, member, community)
    return _entry_page(request, community, values, errors, mode="new")


async def edit_entry_page(request: Request) -> Response:
    member = require_member(request)
    community = await _community(request)
    ctx = context(request)
    entry_id = request.path_params["entry_id"]
    entry = await directory.entry_for_moderator(ctx.db, member, community, entry_id)
    values = EntryForm.of(entry)
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        values = _form(form)
        try:
            saved = await directory.save_entry(
                ctx,
                member,
                community,
                entry_id,
                values,
                checked_now=form_text(form, "checked") == "yes",
            )
        except Refusal as exc:
            if exc.status in (403, 404):
                raise
            errors = _errors(exc)
        else:
            done = "approved" if entry.status == directory.SUGGESTED else "saved"
            return RedirectResponse(f"{_base(community)}?country=all&done={done}#r{saved.id}", 303)
    mode = "approve" if entry.status == directory.SUGGESTED else "edit"
    return _entry_page(request, community, values, errors, mode=mode, entry=entry)


async def review_page(request: Request) -> Response:
    member = require_member(request)
    community = await _community(request)
    found = await directory.review(context(request).db, member, community)
    return _page(
        request,
        "forum/resource_review.html",
        {"community": community, "review": found, "done": request.query_params.get("done", "")},
    )


async def checked(request: Request) -> Response:
    member = require_member(request)
    community = await _community(request)
    entry_id = request.path_params["entry_id"]
    await directory.mark_checked(context(request), member, community, entry_id)
    form = await request.form()
    back = "review" if form_text(form, "back") == "review" else ""
    if back:
        return RedirectResponse(f"{_base(community)}/review?done=checked", 303)
    return RedirectResponse(f"{_base(community)}?country=all&done=checked#r{entry_id}", 303)


async def remove(request: Request) -> Response:
    member = require_member(request)
    community = await _community(request)
    form = await request.form()
    await directory.remove_entry(
        context(request),
        member,
        community,
        request.path_params["entry_id"],
        form_text(form, "reason"),
    )
    return RedirectResponse(f"{_base(community)}?country=all&done=removed", 303)


async def decline(request: Request) -> Response:
    member = require_member(request)
    community = await _community(request)
    form = await request.form()
    entry_id = request.path_params["entry_id"]
    ctx = context(request)
    try:
        await directory.decline(ctx, member, community, entry_id, form_text(form, "reason"))
    except Refusal as exc:
        if exc.code != "invalid":
            raise
        entry = await directory.entry_for_moderator(ctx.db, member, community, entry_id)
        values = EntryForm.of(entry)
        return _entry_page(
            request, community, values, {"reason": exc.message}, mode="approve", entry=entry
        )
    return RedirectResponse(f"{_base(community)}/review?done=declined", 303)


async def dismiss(request: Request) -> Response:
    member = require_member(request)
    community = await _community(request)
    await directory.dismiss(context(request), member, community, request.path_params["entry_id"])
    return RedirectResponse(f"{_base(community)}#mine", 303)


routes = [
    Route("/c/{slug}/resources", directory_page, methods=["GET"]),
    Route("/c/{slug}/resources/suggest", suggest_page, methods=["GET", "POST"]),
    Route("/c/{slug}/resources/new", new_entry_page, methods=["GET", "POST"]),
    Route("/c/{slug}/resources/review", review_page, methods=["GET"]),
    Route("/c/{slug}/resources/{entry_id:int}/edit", edit_entry_page, methods=["GET", "POST"]),
    Route("/c/{slug}/resources/{entry_id:int}/checked", checked, methods=["POST"]),
    Route("/c/{slug}/resources/{entry_id:int}/remove", remove, methods=["POST"]),
    Route("/c/{slug}/resources/{entry_id:int}/decline", decline, methods=["POST"]),
    Route("/c/{slug}/resources/{entry_id:int}/dismiss", dismiss, methods=["POST"]),
]
