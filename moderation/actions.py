"""A moderator's decision on a case: approve, dismiss, hide, remove, edit or lock the
content, or sanction its author.

All or nothing and always audited; what a case's content becomes is done through the
content's `ContentTarget`, and chat clients hear of it only after commit.
"""

from __future__ import annotations

from core.context import AppContext
from core.db import utcnow
from core.errors import Refusal
from core.i18n import N_, gettext
from identity.models import Member
from moderation.audit import record
from moderation.content import Content, ContentKind
from moderation.models import ModerationCase
from moderation.pipeline import moderate
from moderation.sanctions import SANCTIONS, impose, parse_duration
from moderation.scope import in_scope, moderation_scope
from moderation.targets import AfterCommit, ModerationRegistry

CONTENT_ACTIONS = ("approve", "dismiss", "hide", "delete", "edit", "lock")


async def act(
    ctx: AppContext,
    registry: ModerationRegistry,
    moderator: Member,
    case_id: int,
    action: str,
    *,
    reason: str = "",
    hours: int | None = None,
    text: str | None = None,
) -> ModerationCase:
    """Apply a moderator's decision on a case. All or nothing, always audited."""
    if action not in CONTENT_ACTIONS + SANCTIONS:
        raise Refusal("invalid", gettext("Unknown moderation action."))
    if action in SANCTIONS:
        parse_duration(hours, action)
    html = ""
    if action == "edit":
        if not (text and text.strip()):
            raise Refusal("invalid", gettext("Give the edited text."))
        # A moderator's edit is rendered and sanitised like any text, without the filters
        # that would hold it.
        edited = moderate(Content(text, ContentKind.POST), filters=())
        if edited.refused and edited.reason:  # too long, or nothing a reader would see
            raise Refusal(edited.reason.code, edited.reason.message, draft=text)
        html = edited.html
    after: AfterCommit = []
    async with ctx.db.transaction() as s:
        scope = await moderation_scope(s, moderator)
        case = await s.get(ModerationCase, case_id)
        if case is None or case.closed_at is not None or not in_scope(scope, case.community_id):
            raise Refusal(
                "not_found", gettext("That case is already closed or doesn't exist."), 404
            )
        target = registry.targets.get(case.target_kind)
        label = target.label if target else "member"
        if action in SANCTIONS:
            if case.author_id is None:
                raise Refusal("invalid", gettext("This case has no member to sanction."))
            await impose(
                s,
                registry,
                moderator,
                case.author_id,
                action,
                hours,
                case.community_id,
                reason,
                after,
            )
        elif target is None and action != "dismiss":
            raise Refusal(
                "invalid", gettext("Only dismiss or sanction applies to a member report.")
            )
        elif action == "approve":
            await target.approve(s, case.target_id, after)  # type: ignore[union-attr]
            if case.auto_hidden:
                await target.set_hidden(s, case.target_id, False, after)  # type: ignore[union-attr]
        elif action == "hide":
            await target.set_hidden(s, case.target_id, True, after)  # type: ignore[union-attr]
        elif action == "delete":
            await target.remove(s, case.target_id, after)  # type: ignore[union-attr]
        elif action == "edit":
            await target.edit(s, case.target_id, text, html, after)  # type: ignore[arg-type, union-attr]
            if case.auto_hidden or case.held:
                await target.approve(s, case.target_id, after)  # type: ignore[union-attr]
                await target.set_hidden(s, case.target_id, False, after)  # type: ignore[union-attr]
        elif action == "lock":
            await target.lock(s, case.target_id, after)  # type: ignore[union-attr]
        elif action == "dismiss" and case.auto_hidden and target is not None:
            await target.set_hidden(s, case.target_id, False, after)
        if action not in SANCTIONS:
            await record(
                s,
                moderator,
                action,
                case.target_kind,
                case.target_id,
                case.community_id,
                reason,
                _public_summary(action, label, reason),
            )
        # A sanction or a lock leaves the content's case open for its own decision.
        if action not in SANCTIONS and action != "lock":
            case.closed_at, case.resolution = utcnow(), action
        s.add(case)
    for effect in after:
        await effect()
    return case


# The public log's sentences, by action and the target's label: stored in English, translated
# as the log is read (moderation/public_log.py). A label not here is said in English.
_SUMMARIES = {
    ("hide", "post"): N_("A post was hidden"),
    ("hide", "chat message"): N_("A chat message was hidden"),
    ("hide", "thank-you"): N_("A thank-you was hidden"),
    ("delete", "post"): N_("A post was removed"),
    ("delete", "chat message"): N_("A chat message was removed"),
    ("delete", "thank-you"): N_("A thank-you was removed"),
    ("edit", "post"): N_("A post was edited by a moderator"),
    ("edit", "chat message"): N_("A chat message was edited by a moderator"),
    ("edit", "thank-you"): N_("A thank-you was edited by a moderator"),
}
_LOCKED = N_("A thread was locked")


def _public_summary(action: str, label: str, reason: str) -> str | None:
    summary = _SUMMARIES.get((action, label)) or {
        "hide": f"A {label} was hidden",
        "delete": f"A {label} was removed",
        "edit": f"A {label} was edited by a moderator",
        "lock": _LOCKED,
    }.get(action)
    return f"{summary}: {reason}" if summary and reason else summary
