"""Cases and reports: how content comes before moderators, and how much a report weighs.

A case opens when vetting holds or flags content, or when a member reports content or a
member; one case per piece of content stays open until a moderator closes it. A report adds
its reporter's weight (trust.py) towards hiding the content before a moderator looks; a
crisis report, a reporter the author has blocked, and a reporter without standing yet weigh
nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from communities import service as communities
from core.context import AppContext
from core.errors import Refusal
from core.i18n import N_, gettext
from identity.models import Member, MemberBlock
from moderation.audit import record
from moderation.models import ModerationCase, Report
from moderation.targets import AfterCommit, ModerationRegistry, TargetView
from moderation.trust import report_weight
from moderation.vetting import REPORT_NOTE, Place, vet, wait_words

# Marked here, translated where shown (templates/moderation/report.html).
REPORT_REASONS = {
    "harassment": N_("Harassment or bullying"),
    "contact_details": N_("Sharing contact details"),
    "crisis": N_("Someone may be in crisis"),
    "spam": N_("Spam or advertising"),
    "off_topic": N_("Off-topic"),
    "other": N_("Something else"),
}
AUTO_HIDE_WEIGHT = 3  # reports from this much combined trust hide content pending review
# Once a moderator has looked at content and left it up, reports no longer hide it by
# themselves: a second wave of reports goes to the queue instead.
REVIEWED = ("approve", "dismiss", "edit")

# The one answer for content that isn't there and content the member may not see.
_UNSEEN = N_("That content doesn't exist or you can't see it.")
# The public log's sentence when reports hide content, by the content's label: stored in
# English, translated as the log is read (moderation/public_log.py).
_HIDDEN_BY_REPORTS = {
    "post": N_("A post was hidden after several members reported it; a moderator will review it."),
    "chat message": N_(
        "A chat message was hidden after several members reported it; a moderator will review it."
    ),
    "thank-you": N_(
        "A thank-you was hidden after several members reported it; a moderator will review it."
    ),
}


async def open_case(
    s: AsyncSession,
    *,
    kind: str,
    target_id: int,
    community_id: int | None,
    author_id: int | None,
    held: bool = False,
    crisis: bool = False,
    crisis_why: str | None = None,
) -> ModerationCase:
    """Find or open the case for a piece of content (inside the caller's transaction).
    `crisis_why` is the pipeline's reason for a crisis flag; the newest one is kept."""
    case = (
        await s.exec(
            select(ModerationCase).where(
                ModerationCase.target_kind == kind,
                ModerationCase.target_id == target_id,
                ModerationCase.closed_at.is_(None),  # type: ignore[union-attr]
            )
        )
    ).first()
    if case is None:
        case = ModerationCase(
            target_kind=kind, target_id=target_id, community_id=community_id, author_id=author_id
        )
    case.held = case.held or held
    case.crisis = case.crisis or crisis
    if crisis and crisis_why:
        case.crisis_why = crisis_why[:500]
    s.add(case)
    await s.flush()
    return case


async def report(
    ctx: AppContext,
    registry: ModerationRegistry,
    reporter: Member,
    *,
    kind: str,
    public_id: str,
    reason: str,
    note: str = "",
    rule: str | None = None,
) -> Report:
    """A member reports content (or a member): vetted note, rate limit, case, weight."""
    if reason not in REPORT_REASONS:
        raise Refusal("invalid", gettext("Choose a reason for the report."))
    if reason == "other" and not note.strip():
        raise Refusal("invalid", gettext("Tell the moderators a little about what's wrong."))
    # Counted first (before any CPU is spent on the note) and before the write transaction:
    # no waiting on Redis while holding the writer. The note is given back either way.
    blocked = await ctx.rate_limits.hit("report", f"m:{reporter.id}")
    if blocked:
        raise Refusal(
            "rate_limited",
            gettext(
                "You've sent a lot of reports. Please wait %(wait)s and send it again — your "
                "note is kept."
            )
            % {"wait": wait_words(blocked.retry_after)},
            status=429,
            retry_after=blocked.retry_after,
            draft=note,
        )
    if note.strip():
        # The note is a member's words: vetted like any other (a sanction never stops a
        # report; what would be held is refused with its reason, the note kept).
        verdict = await vet(ctx, reporter, Place(REPORT_NOTE, None), note)
        if verdict.refused:
            raise verdict.refusal(draft=note)
        note = verdict.text
    after: AfterCommit = []
    try:
        async with ctx.db.transaction() as s:
            target_id = await _resolve(s, registry, kind, public_id, reporter)
            community_id, author_id, target, anonymous = await _reportable(
                s, registry, reporter, kind, target_id
            )
            case = await open_case(
                s,
                kind=kind,
                target_id=target_id,
                community_id=community_id,
                author_id=author_id,
                crisis=reason == "crisis",
            )
            # An anonymous author's blocks (made by pseudonym) don't reach reports of their
            # anonymous posts: hidden for one author's post and not another's, after the same
            # reports, would tell everyone whose it is.
            blocking = None if anonymous else author_id
            weight = await _weight(ctx, registry, s, reporter, reason, blocking)
            filed = Report(
                case_id=case.id,  # type: ignore[arg-type]
                reporter_id=reporter.id,  # type: ignore[arg-type]
                target_kind=kind,
                target_id=target_id,
                reason=reason,
                rule=(rule or None) and rule[:200],
                note=note[:2000],
                weight=weight,
            )
            s.add(filed)
            await s.flush()
            case.report_weight += weight
            if (
                target is not None
                and case.report_weight >= AUTO_HIDE_WEIGHT
                and not case.auto_hidden
                and not await _reviewed(s, kind, target_id)
            ):
                case.auto_hidden = True
                await target.set_hidden(s, target_id, True, after)
                await record(
                    s,
                    None,
                    "auto_hide",
                    kind,
                    target_id,
                    community_id,
                    f"{case.report_weight} report weight",
                    _HIDDEN_BY_REPORTS.get(target.label)
                    or (
                        f"A {target.label} was hidden after several members reported it; "
                        "a moderator will review it."
                    ),
                )
            s.add(case)
    except IntegrityError:
        raise Refusal(
            "already_reported",
            gettext("You've already reported this. Moderators will look at it."),
            409,
        ) from None
    for effect in after:
        await effect()
    return filed


async def _weight(
    ctx: AppContext,
    registry: ModerationRegistry,
    s: AsyncSession,
    reporter: Member,
    reason: str,
    author_id: int | None,
) -> int:
    """What this report adds towards hiding the content before a moderator looks. Every
    report reaches the queue; these weigh nothing towards hiding:
    - "someone may be in crisis": it asks for help for the author, and hiding their words
      would silence them when they most need an answer (the case goes first in the queue);
    - a reporter the author (`author_id`: None for anonymous content) has blocked: a block
      must not be answered by hiding their posts;
    - a reporter without standing yet (trust.py): sock-puppet accounts can't hide anything.
    """
    if reason == "crisis":
        return 0
    if author_id is not None and await s.get(MemberBlock, (author_id, reporter.id)):
        return 0
    return await report_weight(s, registry, reporter, link_after=ctx.settings.link_posts)


async def _reviewed(s: AsyncSession, kind: str, target_id: int) -> bool:
    """Has a moderator already looked at this content and left it up?"""
    found = await s.exec(
        select(ModerationCase.id).where(
            ModerationCase.target_kind == kind,
            ModerationCase.target_id == target_id,
            ModerationCase.resolution.in_(REVIEWED),  # type: ignore[union-attr]
        )
    )
    return found.first() is not None


async def _resolve(
    s: AsyncSession, registry: ModerationRegistry, kind: str, public_id: str, reporter: Member
) -> int:
    if kind == "member":
        found = int(public_id) if public_id.isdigit() else None
    elif kind in registry.targets:
        found = await registry.targets[kind].lookup(s, public_id, reporter)
    else:
        raise Refusal("invalid", gettext("That kind of content can't be reported."))
    if found is None:
        raise Refusal("not_found", gettext(_UNSEEN), 404)
    return found


async def _reportable(
    s: AsyncSession, registry: ModerationRegistry, reporter: Member, kind: str, target_id: int
):
    if kind == "member":
        member = await s.get(Member, target_id)
        if member is None or member.deleted_at is not None:
            raise Refusal("not_found", gettext("There's no such member."), 404)
        if member.id == reporter.id:
            raise Refusal("invalid", gettext("You can't report yourself."))
        return None, member.id, None, False
    target = registry.targets.get(kind)
    if target is None:
        raise Refusal("invalid", gettext("That kind of content can't be reported."))
    view = (await target.view(s, [target_id])).get(target_id)
    # Content you cannot see (held, hidden, removed, or not there) cannot be reported by you.
    if view is None or view.status != "published":
        raise Refusal("not_found", gettext(_UNSEEN), 404)
    if view.author_id == reporter.id:
        raise Refusal("invalid", gettext("You can't report your own post."))
    return view.community_id, view.author_id, target, view.anonymous


@dataclass(frozen=True)
class ReportForm:
    """What the report form shows: the content (None for a member) and the numbered rules
    of its community, which a report can cite."""

    view: TargetView | None
    rules: list[str]


async def report_form(
    ctx: AppContext, registry: ModerationRegistry, reporter: Member, kind: str, public_id: str
) -> ReportForm:
    """The content a member is about to report, when they can see it (else the same 404 as
    for content that isn't there), and the rules they may cite."""
    if kind not in (*registry.targets, "member"):
        raise Refusal("not_found", gettext("There's nothing to report there."), 404)
    if kind == "member":
        return ReportForm(None, [])
    async with ctx.db.read() as s:
        target_id = await _resolve(s, registry, kind, public_id, reporter)
        view = (await registry.targets[kind].view(s, [target_id])).get(target_id)
        if view is None or view.status != "published":
            raise Refusal("not_found", gettext(_UNSEEN), 404)
        rules: list[str] = []
        if view.community_id is not None:
            community = await communities.get(s, view.community_id)
            rules = rule_lines(community.rules if community else "")
    return ReportForm(view, rules)


def rule_lines(rules: str) -> list[str]:
    """The numbered rules of a community's Markdown rules text, for citing in a report."""
    return [re.sub(r"[*_`]", "", m) for m in re.findall(r"^\s*\d+\.\s+(.+)$", rules or "", re.M)]
