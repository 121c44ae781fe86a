"""Moderation pages: report, the review queue, member records, community settings, the
audit log (admins), the public moderation log and the dashboard. Plain forms throughout."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from communities import experiences, roles
from communities import service as communities
from communities.models import Community
from communities.roles import Action
from core.context import AppContext, get_context
from core.errors import Refusal
from core.i18n import N_, gettext
from core.web.csvexport import csv_response
from core.web.errors import form_errors
from core.web.forms import form_text
from core.web.params import optional_int
from identity.auth import SignInRequired, current_member, require_member
from identity.models import Member
from moderation import audit, cases, checkins, members, public_log, reveals, sanctions
from moderation import community_settings as setting
from moderation.actions import act
from moderation.charts import bar_chart
from moderation.dashboard import dashboard
from moderation.queue import review
from moderation.web_api import registry

# Labels are marked here and translated where shown (the templates' _()).
DURATIONS = [
    (1, N_("1 hour")),
    (24, N_("24 hours")),
    (72, N_("3 days")),
    (168, N_("7 days")),
    (720, N_("30 days")),
]
ACTIONS = {
    "approve": N_("Approve (publish / restore)"),
    "dismiss": N_("Dismiss the reports"),
    "hide": N_("Hide"),
    "delete": N_("Remove"),
    "edit": N_("Edit with a note"),
    "lock": N_("Lock the thread"),
    "warn": N_("Warn the author"),
    "mute": N_("Mute the author in chat"),
    "suspend": N_("Suspend the author"),
    "ban": N_("Ban the author"),
}
# What "Done: %(action)s." names after each action (its key, in English), in the reader's
# language; any other `done` is shown as it came.
DONE = {
    "approve": N_("approve"),
    "dismiss": N_("dismiss"),
    "hide": N_("hide"),
    "delete": N_("delete"),
    "edit": N_("edit"),
    "lock": N_("lock"),
    "warn": N_("warn"),
    "mute": N_("mute"),
    "suspend": N_("suspend"),
    "ban": N_("ban"),
    "check-in": N_("check-in"),
}


def render(request: Request, template: str, data: dict[str, Any], status: int = 200) -> Response:
    return get_context(request).templates.TemplateResponse(
        request, template, data, status_code=status
    )


def _int(value: str, name: str = "value") -> int | None:
    # Empty is "none given"; anything else that is not a whole number in range is a 422.
    return optional_int(value, name, None)


async def _community_by_slug(request: Request, slug: str) -> Community:
    async with get_context(request).db.read() as s:
        community = await communities.by_slug(s, slug)
    if community is None:
        raise HTTPException(404)
    return community


# --------------------------------------------------------------------------- reports


async def report_page(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    source = await request.form() if request.method == "POST" else request.query_params
    kind = str(source.get("kind") or "post")
    public_id = str(source.get("id") or "")
    subject = await cases.report_form(ctx, registry(request), member, kind, public_id)
    values = {"reason": "", "note": "", "rule": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {k: str(source.get(k) or "") for k in values}
        try:
            await cases.report(
                ctx,
                registry(request),
                member,
                kind=kind,
                public_id=public_id,
                reason=values["reason"],
                note=values["note"],
                rule=values["rule"] or None,
            )
        except Refusal as exc:
            if exc.status == 404:
                raise
            errors = form_errors(exc, fields=())  # the form shows its errors at the top
        else:
            back = subject.view.context_url if subject.view else "/"
            return render(request, "moderation/reported.html", {"back": back})
    return render(
        request,
        "moderation/report.html",
        {
            "kind": kind,
            "target_id": public_id,
            "view": subject.view,
            "reasons": cases.REPORT_REASONS,
            "rules": subject.rules,
            "values": values,
            "errors": errors,
        },
        422 if errors else 200,
    )


# --------------------------------------------------------------------------- queue


async def queue_page(request: Request) -> Response:
    member = require_member(request)
    community_id = _int(request.query_params.get("community", ""), "community")
    found = await review(get_context(request), registry(request), member, community_id=community_id)
    return render(
        request,
        "moderation/queue.html",
        {
            "items": found.items,
            "check_ins": found.check_ins,
            "check_in_resolutions": checkins.RESOLUTIONS,
            "moderates": found.moderates,
            "communities": found.communities,
            "community_id": community_id,
            "actions": ACTIONS,
            "durations": DURATIONS,
            "done": _done(request.query_params.get("done")),
        },
    )


def _done(action: str | None) -> str | None:
    return gettext(DONE[action]) if action in DONE else action


async def act_page(request: Request) -> Response:
    member = require_member(request)
    form = await request.form()
    action = form_text(form, "action")
    text = form_text(form, "text") or None
    await act(
        get_context(request),
        registry(request),
        member,
        request.path_params["case_id"],
        action,
        reason=form_text(form, "reason"),
        hours=_int(form_text(form, "hours"), "hours"),
        text=text,
    )
    return RedirectResponse(f"/moderation?done={action}", 303)


async def reveal_page(request: Request) -> Response:
    """Show who wrote a case's anonymous content: audited; the author is told (not who)."""
    member = require_member(request)
    author = await reveals.reveal_author(
        get_context(request), member, request.path_params["case_id"]
    )
    return RedirectResponse(f"/moderation/members/{author.id}?done=revealed", 303)


async def anonymity_page(request: Request) -> Response:
    """For the member: when moderators looked behind their anonymous posts."""
    member = require_member(request)
    looks = await reveals.reveals_of(get_context(request), registry(request), member)
    return render(request, "moderation/reveals.html", {"reveals": looks})


# --------------------------------------------------------------------------- members


async def member_page(request: Request) -> Response:
    member = require_member(request)
    record = await members.member_record(
        get_context(request), member, request.path_params["member_id"]
    )
    return render(
        request,
        "moderation/member.html",
        {
            "record": record,
            "communities": record.communities,
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
    if what == "sanctions":
        await sanctions.sanction_member(
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
        await members.add_note(ctx, member, member_id, community_id, form_text(form, "body"))
    elif what == "role":
        await members.set_peer_supporter(
            ctx, member, member_id, form_text(form, "peer_supporter") == "yes"
        )
    else:
        raise HTTPException(404)
    return RedirectResponse(f"/moderation/members/{member_id}?done={what}", 303)


async def sanction_action(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    form = await request.form()
    sanction_id = request.path_params["sanction_id"]
    if request.path_params["what"] not in ("confirm", "revoke"):
        raise HTTPException(404)
    if request.path_params["what"] == "confirm":
        sanction = await sanctions.confirm_ban(ctx, registry(request), member, sanction_id)
    else:
        await sanctions.revoke_sanction(ctx, member, sanction_id, form_text(form, "reason"))
        sanction = None
    target = _int(form_text(form, "member_id"), "member_id") or (
        sanction.member_id if sanction else 0
    )
    return RedirectResponse(f"/moderation/members/{target}?done=sanction", 303)


# --------------------------------------------------------------------------- communities


async def community_settings(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    community = await _community_by_slug(request, request.path_params["slug"])
    assert community.id is not None
    errors: dict[str, str] = {}
    async with ctx.db.read() as s:
        if not await roles.may(s, member, Action.MODERATE, community.id):
            raise HTTPException(
                403, gettext("Only this community's moderators can change its settings.")
            )
    if request.method == "POST":
        form = await request.form()
        try:
            await _apply_setting(ctx, member, community.id, form)
        except Refusal as exc:
            errors = form_errors(exc, fields=())  # the form shows its errors at the top
            errors["label_draft"] = form_text(form, "label")  # a refused label comes back
        else:
            return RedirectResponse(f"/moderation/communities/{community.slug}?saved=1", 303)
    async with ctx.db.read() as s:
        now = await setting.settings_of(s, community.id)
        experience_counts = await experiences.counts(s, community.id)
    return render(
        request,
        "moderation/community.html",
        {
            "community": community,
            "words": now.words,
            "moderators": now.moderators,
            "policy": now.policy,
            "experience_counts": experience_counts,
            "errors": errors,
            "saved": "saved" in request.query_params,
        },
        422 if errors else 200,
    )


async def _apply_setting(
    ctx: AppContext, member: Member, community_id: int, form: FormData
) -> None:
    """Which setting the form changes: each is one call to moderation/community_settings.py."""
    what = form_text(form, "what")
    if what == "add_word":
        await setting.add_watched_word(
            ctx,
            member,
            community_id,
            form_text(form, "pattern"),
            form_text(form, "action"),
            form_text(form, "replacement") or "***",
        )
    elif what == "remove_word":
        word_id = _int(form_text(form, "word_id"), "word_id") or 0
        await setting.remove_watched_word(ctx, member, community_id, word_id)
    elif what in ("add_moderator", "remove_moderator"):
        await setting.appoint_moderator(
            ctx,
            member,
            community_id,
            form_text(form, "pseudonym"),
            appointed=what == "add_moderator",
        )
    elif what == "add_experience":
        await setting.add_experience_label(ctx, member, community_id, form_text(form, "label"))
    elif what == "remove_experience":
        label_id = _int(form_text(form, "label_id"), "label_id") or 0
        await setting.remove_experience_label(ctx, member, community_id, label_id)
    elif what == "policy":
        await setting.change_policy(
            ctx,
            member,
            community_id,
            contact_policy=form_text(form, "contact_policy"),
            crisis_action=form_text(form, "crisis_action"),
            crisis_sensitivity=form_text(form, "crisis_sensitivity") or "standard",
        )
    else:
        raise Refusal("invalid", gettext("Unknown setting."))


# --------------------------------------------------------------------------- logs


async def audit_page(request: Request) -> Response:
    member = require_member(request)
    if not roles.holds(member, Action.RUN_SITE):
        raise HTTPException(403, gettext("Only admins can read the full audit log."))
    async with get_context(request).db.read() as s:
        entries = await audit.audit_entries(s, limit=500)
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
        stored = await audit.public_entries(s, community.id)
    # Stored in English; each line in the reader's language (moderation/public_log.py).
    entries = [
        public_log.PublicEntry(e.created_at, public_log.shown(e.public_summary or ""))
        for e in stored
    ]
    return render(
        request, "moderation/public_log.html", {"community": community, "entries": entries}
    )


async def dashboard_page(request: Request) -> Response:
    figures = await dashboard(get_context(request), require_member(request))
    return render(
        request,
        "moderation/dashboard.html",
        {
            "queue_size": figures.queue_size,
            "actions_chart": bar_chart(
                gettext("Moderator actions per day"), figures.days, figures.actions
            ),
            "crisis_chart": bar_chart(
                gettext("Crisis flags per day"), figures.days, figures.crises
            ),
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
