"""Moderation pages: report, the review queue, member records, community settings, the
audit log (admins), the public moderation log and the dashboard. Plain forms throughout."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from communities.models import CommunityModerator
from core.context import get_context
from core.db import utcnow
from core.web.csvexport import csv_response
from core.web.forms import form_text
from core.web.params import optional_int
from identity.auth import SignInRequired, current_member, require_member
from identity.models import Member
from moderation import checkins, service
from moderation.charts import bar_chart
from moderation.crisis import SENSITIVITY as CRISIS_SENSITIVITIES
from moderation.models import AuditEntry, ModerationCase, WatchedWordEntry
from moderation.pipeline import WatchedWord
from moderation.service import REPORT_REASONS, ModerationError
from moderation.web_api import registry

# Moderation reads the community table by name (it never imports forum).
_community = sa.table(
    "community",
    sa.column("id", sa.Integer),
    sa.column("slug", sa.String),
    sa.column("name", sa.String),
    sa.column("rules", sa.Text),
    sa.column("contact_policy", sa.String),
    sa.column("crisis_action", sa.String),
    sa.column("crisis_sensitivity", sa.String),
    sa.column("visibility", sa.String),
)
DURATIONS = [(1, "1 hour"), (24, "24 hours"), (72, "3 days"), (168, "7 days"), (720, "30 days")]
ACTIONS = {
    "approve": "Approve (publish / restore)",
    "dismiss": "Dismiss the reports",
    "hide": "Hide",
    "delete": "Remove",
    "edit": "Edit with a note",
    "lock": "Lock the thread",
    "warn": "Warn the author",
    "mute": "Mute the author in chat",
    "suspend": "Suspend the author",
    "ban": "Ban the author",
}


def render(request: Request, template: str, data: dict[str, Any], status: int = 200) -> Response:
    return get_context(request).templates.TemplateResponse(
        request, template, data, status_code=status
    )


def _int(value: str, name: str = "value") -> int | None:
    # Empty is "none given"; anything else that is not a whole number in range is a 422.
    return optional_int(value, name, None)


def _fail(exc: ModerationError) -> HTTPException:
    return HTTPException(exc.status, exc.message)


async def _communities(request: Request) -> list[Any]:
    async with get_context(request).db.read() as s:
        return list(await s.exec(sa.select(_community).order_by(_community.c.name)))


async def _community_by_slug(request: Request, slug: str) -> Any:
    async with get_context(request).db.read() as s:
        row = (await s.exec(sa.select(_community).where(_community.c.slug == slug))).first()
    if row is None:
        raise HTTPException(404)
    return row


def rule_lines(rules: str) -> list[str]:
    """The numbered rules of a community's Markdown rules text, for citing in a report."""
    return [re.sub(r"[*_`]", "", m) for m in re.findall(r"^\s*\d+\.\s+(.+)$", rules or "", re.M)]


# --------------------------------------------------------------------------- reports


async def report_page(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    source = await request.form() if request.method == "POST" else request.query_params
    kind = str(source.get("kind") or "post")
    public_id = str(source.get("id") or "")
    if kind not in (*registry(request).targets, "member"):
        raise HTTPException(404, "There's nothing to report there.")
    view = None
    rules: list[str] = []
    if kind != "member":
        async with ctx.db.read() as s:
            target_id = await registry(request).targets[kind].lookup(s, public_id, member)
            if target_id is None:
                raise HTTPException(404, "That content doesn't exist or you can't see it.")
            view = (await registry(request).targets[kind].view(s, [target_id])).get(target_id)
            if view is None or view.status != "published":
                raise HTTPException(404, "That content doesn't exist or you can't see it.")
            if view.community_id is not None:
                row = (
                    await s.exec(
                        sa.select(_community.c.rules).where(_community.c.id == view.community_id)
                    )
                ).first()
                rules = rule_lines(row[0] if row else "")
    values = {"reason": "", "note": "", "rule": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {k: str(source.get(k) or "") for k in values}
        try:
            await service.report(
                ctx,
                registry(request),
                member,
                kind=kind,
                public_id=public_id,
                reason=values["reason"],
                note=values["note"],
                rule=values["rule"] or None,
            )
        except ModerationError as exc:
            if exc.status == 404:
                raise _fail(exc) from None
            errors = {"form": exc.message}
        else:
            back = view.context_url if view else "/"
            return render(request, "moderation/reported.html", {"back": back})
    return render(
        request,
        "moderation/report.html",
        {
            "kind": kind,
            "target_id": public_id,
            "view": view,
            "reasons": REPORT_REASONS,
            "rules": rules,
            "values": values,
            "errors": errors,
        },
        422 if errors else 200,
    )


# --------------------------------------------------------------------------- queue


async def queue_page(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    async with ctx.db.read() as s:
        scope = await service.moderated_communities(s, member)
    if scope is not None and not scope and not member.is_peer_supporter:
        raise HTTPException(403, "Only moderators and peer supporters can see the review queue.")
    community_id = _int(request.query_params.get("community", ""), "community")
    items = await service.queue(ctx, registry(request), member, community_id=community_id)
    check_ins = await checkins.open_requests(ctx, registry(request), member)
    communities = [c for c in await _communities(request) if scope is None or c.id in scope]
    return render(
        request,
        "moderation/queue.html",
        {
            "items": items,
            "check_ins": check_ins,
            "check_in_resolutions": checkins.RESOLUTIONS,
            "moderates": scope,
            "communities": communities,
            "community_id": community_id,
            "actions": ACTIONS,
            "durations": DURATIONS,
            "done": request.query_params.get("done"),
        },
    )


async def act_page(request: Request) -> Response:
    member = require_member(request)
    form = await request.form()
    action = form_text(form, "action")
    text = form_text(form, "text") or None
    try:
        await service.act(
            get_context(request),
            registry(request),
            member,
            request.path_params["case_id"],
            action,
            reason=form_text(form, "reason"),
            hours=_int(form_text(form, "hours"), "hours"),
            text=text,
        )
    except ModerationError as exc:
        raise _fail(exc) from None
    return RedirectResponse(f"/moderation?done={action}", 303)


async def reveal_page(request: Request) -> Response:
    """Show who wrote a case's anonymous content: audited; the author is told (not who)."""
    member = require_member(request)
    try:
        author = await service.reveal_author(
            get_context(request), member, request.path_params["case_id"]
        )
    except ModerationError as exc:
        raise _fail(exc) from None
    return RedirectResponse(f"/moderation/members/{author.id}?done=revealed", 303)


async def anonymity_page(request: Request) -> Response:
    """For the member: when moderators looked behind their anonymous posts."""
    member = require_member(request)
    reveals = await service.reveals_of(get_context(request), registry(request), member)
    return render(request, "moderation/reveals.html", {"reveals": reveals})


# --------------------------------------------------------------------------- members


async def member_page(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    try:
        record = await service.member_record(ctx, member, request.path_params["member_id"])
    except ModerationError as exc:
        raise _fail(exc) from None
    async with ctx.db.read() as s:
        scope = await service.moderated_communities(s, member)
    communities = [c for c in await _communities(request) if scope is None or c.id in scope]
    return render(
        request,
        "moderation/member.html",
        {
            "record": record,
            "communities": communities,
            "durations": DURATIONS,
            "done": request.query_params.get("done"),
        },
    )


async def member_action(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    member_id = request.path_params["member_id"]
    form = await request.form()
    what = request.path_params["what"]
    community_id = _int(form_text(form, "community_id"), "community_id")
    try:
        if what == "sanctions":
            await service.sanction_member(
                ctx,
                registry(request),
                member,
                member_id,
                form_text(form, "kind"),
                hours=_int(form_text(form, "hours"), "hours"),
                community_id=community_id,
                reason=form_text(form, "reason"),
            )
        elif what == "notes":
            await service.add_note(ctx, member, member_id, community_id, form_text(form, "body"))
        elif what == "role":
            await service.set_peer_supporter(
                ctx, member, member_id, form_text(form, "peer_supporter") == "yes"
            )
        else:
            raise HTTPException(404)
    except ModerationError as exc:
        raise _fail(exc) from None
    return RedirectResponse(f"/moderation/members/{member_id}?done={what}", 303)


async def sanction_action(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    form = await request.form()
    sanction_id = request.path_params["sanction_id"]
    if request.path_params["what"] not in ("confirm", "revoke"):
        raise HTTPException(404)
    try:
        if request.path_params["what"] == "confirm":
            sanction = await service.confirm_ban(ctx, registry(request), member, sanction_id)
        else:
            await service.revoke_sanction(ctx, member, sanction_id, form_text(form, "reason"))
            sanction = None
    except ModerationError as exc:
        raise _fail(exc) from None
    target = _int(form_text(form, "member_id"), "member_id") or (
        sanction.member_id if sanction else 0
    )
    return RedirectResponse(f"/moderation/members/{target}?done=sanction", 303)


# --------------------------------------------------------------------------- communities


async def community_settings(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    community = await _community_by_slug(request, request.path_params["slug"])
    errors: dict[str, str] = {}
    async with ctx.db.read() as s:
        if not await service.can_moderate(s, member, community.id):
            raise HTTPException(403, "Only this community's moderators can change its settings.")
    if request.method == "POST":
        form = await request.form()
        try:
            await _apply_setting(request, member, community, form)
        except ModerationError as exc:
            errors = {"form": exc.message}
        else:
            return RedirectResponse(f"/moderation/communities/{community.slug}?saved=1", 303)
    async with ctx.db.read() as s:
        words = list(
            await s.exec(
                select(WatchedWordEntry).where(WatchedWordEntry.community_id == community.id)
            )
        )
        moderators = list(
            await s.exec(
                select(Member)
                .join(CommunityModerator, CommunityModerator.member_id == Member.id)  # type: ignore[arg-type]
                .where(CommunityModerator.community_id == community.id)
            )
        )
    return render(
        request,
        "moderation/community.html",
        {
            "community": community,
            "words": words,
            "moderators": moderators,
            "errors": errors,
            "saved": "saved" in request.query_params,
        },
        422 if errors else 200,
    )


async def _apply_setting(request: Request, member: Member, community: Any, form: FormData) -> None:
    ctx = get_context(request)
    what = form_text(form, "what")
    async with ctx.db.transaction() as s:
        if what == "add_word":
            try:
                word = WatchedWord(
                    form_text(form, "pattern"),
                    form_text(form, "action"),
                    form_text(form, "replacement") or "***",
                )  # type: ignore[arg-type]
            except ValueError as exc:
                raise ModerationError(
                    "invalid", f"That watched word can't be used: {exc}."
                ) from None
            s.add(
                WatchedWordEntry(
                    community_id=community.id,
                    pattern=word.pattern,
                    action=word.action,
                    replacement=word.replacement,
                )
            )
            await service.record(
                s,
                member,
                "add_watched_word",
                "community",
                community.id,
                community.id,
                f"{word.action}: {word.pattern}",
            )
        elif what == "remove_word":
            entry = await s.get(WatchedWordEntry, _int(form_text(form, "word_id"), "word_id") or 0)
            if entry is None or entry.community_id != community.id:
                raise ModerationError("not_found", "That watched word is already gone.", 404)
            await s.delete(entry)
            await service.record(
                s,
                member,
                "remove_watched_word",
                "community",
                community.id,
                community.id,
                entry.pattern,
            )
        elif what in ("add_moderator", "remove_moderator"):
            if not member.is_admin:
                raise ModerationError("forbidden", "Only admins appoint moderators.", 403)
            target = (
                await s.exec(
                    select(Member).where(
                        Member.pseudonym_key == form_text(form, "pseudonym").strip().casefold()
                    )
                )
            ).first()
            if target is None:
                raise ModerationError("not_found", "There's no member with that pseudonym.", 404)
            existing = await s.get(CommunityModerator, (community.id, target.id))
            if what == "add_moderator" and existing is None:
                s.add(CommunityModerator(community_id=community.id, member_id=target.id))  # type: ignore[arg-type]
            elif what == "remove_moderator" and existing is not None:
                await s.delete(existing)
            await service.record(s, member, what, "member", target.id, community.id)
        elif what == "policy":
            contact = form_text(form, "contact_policy")
            crisis = form_text(form, "crisis_action")
            sensitivity = form_text(form, "crisis_sensitivity") or "standard"
            if (
                contact not in ("hold", "refuse", "allow")
                or crisis not in ("publish", "hold")
                or sensitivity not in CRISIS_SENSITIVITIES
            ):
                raise ModerationError("invalid", "Choose one of the listed options.")
            await s.exec(
                sa.update(_community)
                .where(_community.c.id == community.id)
                .values(
                    contact_policy=contact,
                    crisis_action=crisis,
                    crisis_sensitivity=sensitivity,
                )
            )
            await service.record(
                s,
                member,
                "set_policy",
                "community",
                community.id,
                community.id,
                f"contact: {contact}, crisis: {crisis}, sensitivity: {sensitivity}",
            )
        else:
            raise ModerationError("invalid", "Unknown setting.")


# --------------------------------------------------------------------------- logs


async def audit_page(request: Request) -> Response:
    member = require_member(request)
    if not member.is_admin:
        raise HTTPException(403, "Only admins can read the full audit log.")
    async with get_context(request).db.read() as s:
        entries = await service.audit_entries(s, limit=500)
    if request.url.path.endswith(".csv"):
        header = ["id", "when", "who", "action", "target_kind", "target_id", "community_id"]
        rows = (
            [
                e.id,
                e.created_at.isoformat(),
                e.actor_name,
                e.action,
                e.target_kind,
                e.target_id,
                e.community_id,
                e.reason,
            ]
            for e in reversed(entries)
        )
        return csv_response([*header, "reason"], rows, "kindred-audit.csv")
    return render(request, "moderation/audit.html", {"entries": entries})


async def public_log_page(request: Request) -> Response:
    community = await _community_by_slug(request, request.path_params["slug"])
    if community.visibility == "members" and current_member(request) is None:
        raise SignInRequired  # as the community itself: members only
    async with get_context(request).db.read() as s:
        entries = list(
            await s.exec(
                select(AuditEntry)
                .where(
                    AuditEntry.community_id == community.id, AuditEntry.public_summary.is_not(None)
                )  # type: ignore[union-attr]
                .order_by(AuditEntry.id.desc())  # type: ignore[union-attr]
                .limit(200)
            )
        )
    return render(
        request, "moderation/public_log.html", {"community": community, "entries": entries}
    )


async def dashboard_page(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    async with ctx.db.read() as s:
        scope = await service.moderated_communities(s, member)
        if scope is not None and not scope:
            raise HTTPException(403, "Only moderators can see the dashboard.")
        today = utcnow().date()
        days = [today - timedelta(days=n) for n in range(29, -1, -1)]
        since = utcnow() - timedelta(days=30)
        open_cases = (
            select(sa.func.count())
            .select_from(ModerationCase)
            .where(ModerationCase.closed_at.is_(None))
        )  # type: ignore[union-attr]
        actions = select(AuditEntry.created_at).where(
            AuditEntry.created_at >= since, AuditEntry.actor_id.is_not(None)
        )  # type: ignore[union-attr]
        crises = select(ModerationCase.opened_at).where(
            ModerationCase.opened_at >= since, ModerationCase.crisis
        )
        if scope is not None:
            open_cases = open_cases.where(ModerationCase.community_id.in_(scope))  # type: ignore[union-attr]
            actions = actions.where(AuditEntry.community_id.in_(scope))  # type: ignore[union-attr]
            crises = crises.where(ModerationCase.community_id.in_(scope))  # type: ignore[union-attr]
        queue_size = int((await s.exec(open_cases)).one())
        action_days = [when.date() for when in await s.exec(actions)]
        crisis_days = [when.date() for when in await s.exec(crises)]
    per_day = lambda dates: [dates.count(d) for d in days]  # noqa: E731
    return render(
        request,
        "moderation/dashboard.html",
        {
            "queue_size": queue_size,
            "actions_chart": bar_chart("Moderator actions per day", days, per_day(action_days)),
            "crisis_chart": bar_chart("Crisis flags per day", days, per_day(crisis_days)),
        },
    )


routes = [
    Route("/report", report_page, methods=["GET", "POST"]),
    Route("/moderation", queue_page, methods=["GET"]),
    Route("/moderation/dashboard", dashboard_page, methods=["GET"]),
    Route("/moderation/cases/{case_id:int}", act_page, methods=["POST"]),
    Route("/moderation/cases/{case_id:int}/reveal", reveal_page, methods=["POST"]),
    Route("/account/anonymity", anonymity_page, methods=["GET"]),
    Route("/moderation/members/{member_id:int}", member_page, methods=["GET"]),
    Route("/moderation/members/{member_id:int}/{what}", member_action, methods=["POST"]),
    Route("/moderation/sanctions/{sanction_id:int}/{what}", sanction_action, methods=["POST"]),
    Route("/moderation/communities/{slug}", community_settings, methods=["GET", "POST"]),
    Route("/moderation/audit", audit_page, methods=["GET"]),
    Route("/moderation/audit.csv", audit_page, methods=["GET"]),
    Route("/c/{slug}/moderation-log", public_log_page, methods=["GET"]),
]
