"""Moderation's rules: reports, the review queue, actions, sanctions, notes and the audit log.

No HTTP here. Every action a moderator or admin takes writes an audit row in the same
transaction, so there is no action without a row; effects outside the database (telling
chat clients) run only after commit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from communities import roles
from communities.roles import Action
from core.context import AppContext
from core.db import utcnow
from core.errors import Refusal
from identity.models import Member, MemberBlock, MemberSession
from moderation.models import AuditEntry, ModerationCase, ModeratorNote, Report, Sanction
from moderation.pipeline import Content, ContentKind, moderate
from moderation.standing import Standing, standing
from moderation.targets import AfterCommit, ModerationRegistry, TargetView
from moderation.trust import report_weight
from moderation.vetting import REPORT_NOTE, Place, vet

REPORT_REASONS = {
    "harassment": "Harassment or bullying",
    "contact_details": "Sharing contact details",
    "crisis": "Someone may be in crisis",
    "spam": "Spam or advertising",
    "off_topic": "Off-topic",
    "other": "Something else",
}
AUTO_HIDE_WEIGHT = 3  # reports from this much combined trust hide content pending review
# Once a moderator has looked at content and left it up, reports no longer hide it by
# themselves: a second wave of reports goes to the queue instead.
REVIEWED = ("approve", "dismiss", "edit")
SANCTIONS = ("warn", "mute", "suspend", "ban")
MAX_DURATION = timedelta(days=365)
# The default escalation ladder, proposed from a member's sanctions in the last 90 days.
LADDER: list[tuple[str, timedelta | None]] = [
    ("warn", None),
    ("mute", timedelta(hours=24)),
    ("suspend", timedelta(days=7)),
    ("ban", None),
]
CONTENT_ACTIONS = ("approve", "dismiss", "hide", "delete", "edit", "lock")


# --------------------------------------------------------------------------- audit


async def record(
    s: AsyncSession,
    actor: Member | None,
    action: str,
    target_kind: str,
    target_id: int | None,
    community_id: int | None,
    reason: str = "",
    public_summary: str | None = None,
    *,
    subject_id: int | None = None,
    actor_name: str | None = None,
) -> None:
    """Append to the audit log. It is append-only and keeps the name staff acted under
    (they answer for what they did); a member acting on their own things passes
    `actor_name` (e.g. "the member"), so their pseudonym can go with their account."""
    s.add(
        AuditEntry(
            actor_id=actor.id if actor else None,
            actor_name=actor_name or (actor.pseudonym if actor else "Kindred (automatic)"),
            action=action,
            target_kind=target_kind,
            target_id=target_id,
            community_id=community_id,
            reason=reason[:2000],
            public_summary=public_summary,
            subject_id=subject_id,
        )
    )


# --------------------------------------------------------------------------- permissions


async def require_moderator(s: AsyncSession, member: Member, community_id: int | None) -> None:
    """communities.roles decides; this says no the way moderation's callers expect."""
    if not await roles.may(s, member, Action.MODERATE, community_id):
        raise Refusal("forbidden", "Only this community's moderators can do that.", status=403)


async def moderation_scope(
    s: AsyncSession, member: Member, action: Action = Action.MODERATE
) -> set[int] | None:
    """Where a member may take `action` (None: everywhere), for a call about one case,
    sanction or record: a member who may nowhere is refused the same way whatever its id.
    Callers then answer 404 for what lies outside the scope, as for what doesn't exist: a
    403 there would confirm to a moderator elsewhere that it exists."""
    scope = await roles.communities_where(s, member, action)
    if scope is not None and not scope:
        raise Refusal("forbidden", "Only moderators can do that.", status=403)
    return scope


def in_scope(scope: set[int] | None, community_id: int | None) -> bool:
    return scope is None or community_id in scope


# --------------------------------------------------------------------------- cases


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
    if reason not in REPORT_REASONS:
        raise Refusal("invalid", "Choose a reason for the report.")
    if reason == "other" and not note.strip():
        raise Refusal("invalid", "Tell the moderators a little about what's wrong.")
    if note.strip():
        # The note is a member's words: vetted like any other (a sanction never stops a
        # report; what would be held is refused with its reason, the note kept).
        verdict = await vet(ctx, reporter, Place(REPORT_NOTE, None), note)
        if verdict.refused:
            raise verdict.refusal(draft=note)
        note = verdict.text
    # Counted before the write transaction: no waiting on Redis while holding the writer.
    blocked = await ctx.rate_limits.hit("report", f"m:{reporter.id}")
    if blocked:
        raise Refusal(
            "rate_limited",
            f"You've sent a lot of reports. Please wait {blocked.minutes} minutes.",
            status=429,
        )
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
                    f"A {target.label} was hidden after several members reported it; "
                    "a moderator will review it.",
                )
            s.add(case)
    except IntegrityError:
        raise Refusal(
            "already_reported", "You've already reported this. Moderators will look at it.", 409
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
        raise Refusal("invalid", "That kind of content can't be reported.")
    if found is None:
        raise Refusal("not_found", "That content doesn't exist or you can't see it.", 404)
    return found


async def _reportable(
    s: AsyncSession, registry: ModerationRegistry, reporter: Member, kind: str, target_id: int
):
    if kind == "member":
        member = await s.get(Member, target_id)
        if member is None or member.deleted_at is not None:
            raise Refusal("not_found", "There's no such member.", 404)
        if member.id == reporter.id:
            raise Refusal("invalid", "You can't report yourself.")
        return None, member.id, None, False
    target = registry.targets.get(kind)
    if target is None:
        raise Refusal("invalid", "That kind of content can't be reported.")
    view = (await target.view(s, [target_id])).get(target_id)
    # Content you cannot see (held, hidden, removed, or not there) cannot be reported by you.
    if view is None or view.status != "published":
        raise Refusal("not_found", "That content doesn't exist or you can't see it.", 404)
    if view.author_id == reporter.id:
        raise Refusal("invalid", "You can't report your own post.")
    return view.community_id, view.author_id, target, view.anonymous


# --------------------------------------------------------------------------- the queue


@dataclass
class QueueItem:
    case: ModerationCase
    view: TargetView | None
    author: Member | None
    reports: list[Report] = field(default_factory=list)
    prior_sanctions: list[Sanction] = field(default_factory=list)
    proposed: tuple[str, timedelta | None] | None = None
    can_act: bool = True  # False for a peer supporter looking at a crisis flag


async def queue(
    ctx: AppContext,
    registry: ModerationRegistry,
    moderator: Member,
    *,
    community_id: int | None = None,
    limit: int = 50,
) -> list[QueueItem]:
    """Open cases the moderator may act on: crisis first, then report weight, then age."""
    async with ctx.db.read() as s:
        scope = await roles.communities_where(s, moderator, Action.MODERATE)
        query = select(ModerationCase).where(ModerationCase.closed_at.is_(None))  # type: ignore[union-attr]
        if scope is not None:
            allowed = scope if community_id is None else scope & {community_id}
            visible = ModerationCase.community_id.in_(allowed)  # type: ignore[union-attr]
            if roles.holds(moderator, Action.REACH_OUT):
                # Peer supporters see every crisis flag, to reach out; they act only where
                # they also moderate.
                crisis = ModerationCase.crisis
                if community_id is not None:
                    crisis = crisis & (ModerationCase.community_id == community_id)  # type: ignore[assignment]
                visible = or_(visible, crisis)  # type: ignore[assignment]
            query = query.where(visible)
        elif community_id is not None:
            query = query.where(ModerationCase.community_id == community_id)
        query = query.order_by(
            ModerationCase.crisis.desc(),  # type: ignore[attr-defined]
            ModerationCase.report_weight.desc(),  # type: ignore[attr-defined]
            ModerationCase.opened_at,
        ).limit(limit)
        cases = list(await s.exec(query))
        items = await _queue_items(s, registry, cases)
    for item in items:
        item.can_act = scope is None or item.case.community_id in scope
        if not item.can_act:
            # A peer supporter is here to reach out, not to act: a member's sanctions (some
            # earned by what they wrote anonymously, which a named case's history would then
            # tie to them) are not theirs to read.
            item.prior_sanctions, item.proposed = [], None
    return items


async def _queue_items(
    s: AsyncSession, registry: ModerationRegistry, cases: list[ModerationCase]
) -> list[QueueItem]:
    views = await registry.views(s, ((c.target_kind, c.target_id) for c in cases))
    case_ids = [c.id for c in cases]
    author_ids = {c.author_id for c in cases if c.author_id}
    reports: dict[int, list[Report]] = defaultdict(list)
    for r in await s.exec(select(Report).where(Report.case_id.in_(case_ids))):  # type: ignore[attr-defined]
        reports[r.case_id].append(r)
    members = {
        m.id: m
        for m in await s.exec(select(Member).where(Member.id.in_(author_ids)))  # type: ignore[union-attr]
    }
    sanctions: dict[int, list[Sanction]] = defaultdict(list)
    for sanction in await s.exec(
        select(Sanction).where(Sanction.member_id.in_(author_ids)).order_by(Sanction.id.desc())  # type: ignore[attr-defined, union-attr]
    ):
        sanctions[sanction.member_id].append(sanction)
    items = []
    for case in cases:
        view = views.get((case.target_kind, case.target_id))
        # Beside anonymous content the author's sanction history (and the ladder's next step)
        # would be a fingerprint of who wrote it, for peer supporters and for moderators who
        # haven't asked: it is on the member's record, which "Show who wrote this" opens.
        history = None if view is not None and view.anonymous else case.author_id
        items.append(
            QueueItem(
                case,
                view,
                members.get(case.author_id),  # type: ignore[arg-type]
                reports[case.id],  # type: ignore[index]
                sanctions[history] if history else [],
                propose(sanctions[history]) if history else None,
            )
        )
    return items


# --------------------------------------------------------------------------- reveals

REVEAL = "view_anonymous_author"


async def reveal_author(ctx: AppContext, moderator: Member, case_id: int) -> Member:
    """Who wrote the anonymous content a case is about: for moderators who may act on it,
    each time audited, and the author can see that it happened (never who looked)."""
    async with ctx.db.transaction() as s:
        scope = await moderation_scope(s, moderator, Action.SEE_AUTHORS)
        case = await s.get(ModerationCase, case_id)
        if case is None or case.author_id is None or not in_scope(scope, case.community_id):
            raise Refusal("not_found", "That case doesn't exist.", 404)
        author = await s.get(Member, case.author_id)
        if author is None:
            raise Refusal("not_found", "That case doesn't exist.", 404)
        await record(
            s,
            moderator,
            REVEAL,
            case.target_kind,
            case.target_id,
            case.community_id,
            f"case {case.id}",
            subject_id=author.id,
        )
    return author


@dataclass(frozen=True)
class Reveal:
    """A moderator looked behind one of the member's anonymous posts (not who)."""

    at: datetime
    label: str  # "post", "chat message"
    title: str
    url: str | None


async def reveals_of(
    ctx: AppContext, registry: ModerationRegistry, member: Member, limit: int = 100
) -> list[Reveal]:
    """When moderators looked behind the member's anonymous posts, newest first."""
    async with ctx.db.read() as s:
        rows = list(
            await s.exec(
                select(AuditEntry)
                .where(AuditEntry.subject_id == member.id, AuditEntry.action == REVEAL)
                .order_by(AuditEntry.id.desc())  # type: ignore[union-attr]
                .limit(limit)
            )
        )
        views = await registry.views(s, ((r.target_kind, r.target_id) for r in rows))
    reveals = []
    for row in rows:
        view = views.get((row.target_kind, row.target_id))  # type: ignore[arg-type]
        target = registry.targets.get(row.target_kind)
        reveals.append(
            Reveal(
                row.created_at,
                target.label if target else row.target_kind.replace("_", " "),
                view.context_title if view else "(no longer there)",
                view.context_url if view else None,
            )
        )
    return reveals


def propose(history: list[Sanction]) -> tuple[str, timedelta | None]:
    """The next step on the ladder, from the member's sanctions in the last 90 days."""
    since = utcnow() - timedelta(days=90)
    recent = [x for x in history if x.starts_at >= since and x.revoked_at is None]
    return LADDER[min(len(recent), len(LADDER) - 1)]


# --------------------------------------------------------------------------- actions


def parse_duration(hours: int | None, kind: str) -> timedelta | None:
    if kind in ("warn", "ban"):
        return None
    if hours is None or hours <= 0:
        raise Refusal("invalid_duration", "Choose how long the sanction lasts.")
    duration = timedelta(hours=hours)
    if duration > MAX_DURATION:
        raise Refusal(
            "invalid_duration", "A sanction can last at most a year; use a ban for longer."
        )
    return duration


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
        raise Refusal("invalid", "Unknown moderation action.")
    if action in SANCTIONS:
        parse_duration(hours, action)
    html = ""
    if action == "edit":
        if not (text and text.strip()):
            raise Refusal("invalid", "Give the edited text.")
        # A moderator's edit is rendered and sanitised like any text, without the filters
        # that would hold it.
        html = moderate(Content(text, ContentKind.POST), filters=()).html
    after: AfterCommit = []
    async with ctx.db.transaction() as s:
        scope = await moderation_scope(s, moderator)
        case = await s.get(ModerationCase, case_id)
        if case is None or case.closed_at is not None or not in_scope(scope, case.community_id):
            raise Refusal("not_found", "That case is already closed or doesn't exist.", 404)
        target = registry.targets.get(case.target_kind)
        label = target.label if target else "member"
        if action in SANCTIONS:
            if case.author_id is None:
                raise Refusal("invalid", "This case has no member to sanction.")
            await _sanction(
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
            raise Refusal("invalid", "Only dismiss or sanction applies to a member report.")
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


def _public_summary(action: str, label: str, reason: str) -> str | None:
    summary = {
        "hide": f"A {label} was hidden",
        "delete": f"A {label} was removed",
        "edit": f"A {label} was edited by a moderator",
        "lock": "A thread was locked",
    }.get(action)
    return f"{summary}: {reason}" if summary and reason else summary


async def sanction_member(
    ctx: AppContext,
    registry: ModerationRegistry,
    moderator: Member,
    member_id: int,
    kind: str,
    *,
    hours: int | None = None,
    community_id: int | None = None,
    reason: str = "",
) -> Sanction:
    if kind not in SANCTIONS:
        raise Refusal("invalid", "Sanctions are warn, mute, suspend or ban.")
    parse_duration(hours, kind)
    after: AfterCommit = []
    async with ctx.db.transaction() as s:
        await require_moderator(s, moderator, community_id)
        sanction = await _sanction(
            s, registry, moderator, member_id, kind, hours, community_id, reason, after
        )
    for effect in after:
        await effect()
    return sanction


async def _sanction(
    s: AsyncSession,
    registry: ModerationRegistry,
    moderator: Member,
    member_id: int,
    kind: str,
    hours: int | None,
    community_id: int | None,
    reason: str,
    after: AfterCommit,
) -> Sanction:
    target = await s.get(Member, member_id)
    if target is None or target.deleted_at is not None:
        raise Refusal("not_found", "There's no such member.", 404)
    if target.is_admin:
        raise Refusal("forbidden", "Site admins can't be sanctioned.", 403)
    if target.id == moderator.id:
        raise Refusal("invalid", "You can't sanction yourself.")
    if not moderator.is_admin and await roles.may(s, target, Action.MODERATE, community_id):
        raise Refusal(
            "forbidden", "Only an admin can sanction another moderator of this community.", 403
        )
    duration = parse_duration(hours, kind)
    now = utcnow()
    # A ban proposed by a moderator waits for a second moderator (or an admin) to confirm.
    confirmed = kind != "ban" or moderator.is_admin
    sanction = Sanction(
        member_id=member_id,
        community_id=community_id,
        kind=kind,
        reason=reason[:2000],
        moderator_id=moderator.id,
        starts_at=now,
        ends_at=now + duration if duration else None,
        confirmed=confirmed,
    )
    s.add(sanction)
    if kind == "ban" and confirmed and community_id is None:
        await s.exec(  # type: ignore[call-overload]
            MemberSession.__table__.delete().where(MemberSession.member_id == member_id)  # type: ignore[attr-defined]
        )
    words = {"warn": "warned", "mute": "muted in chat", "suspend": "suspended", "ban": "banned"}
    span = f" for {_span(duration)}" if duration else ""
    await record(
        s,
        moderator,
        kind if confirmed else "propose_ban",
        "member",
        member_id,
        community_id,
        reason,
        f"A member was {words[kind]}{span}" + (f": {reason}" if reason else "")
        if confirmed
        else None,
    )
    await s.flush()

    async def notify() -> None:
        for listener in registry.sanction_listeners:
            await listener(member_id, kind, reason, community_id)

    if confirmed:
        after.append(notify)
    return sanction


def _span(duration: timedelta) -> str:
    hours = int(duration.total_seconds() // 3600)
    if hours % 24 == 0:
        days = hours // 24
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{hours} hour{'s' if hours != 1 else ''}"


async def confirm_ban(
    ctx: AppContext, registry: ModerationRegistry, moderator: Member, sanction_id: int
) -> Sanction:
    async with ctx.db.transaction() as s:
        scope = await moderation_scope(s, moderator)
        sanction = await s.get(Sanction, sanction_id)
        if (
            sanction is None
            or sanction.kind != "ban"
            or sanction.confirmed
            or not in_scope(scope, sanction.community_id)
        ):
            raise Refusal("not_found", "There's no ban waiting for confirmation.", 404)
        if sanction.moderator_id == moderator.id and not moderator.is_admin:
            raise Refusal("forbidden", "Another moderator must confirm a ban you proposed.", 403)
        sanction.confirmed = True
        s.add(sanction)
        await record(
            s,
            moderator,
            "confirm_ban",
            "member",
            sanction.member_id,
            sanction.community_id,
            sanction.reason,
            "A member was banned" + (f": {sanction.reason}" if sanction.reason else ""),
        )
    for listener in registry.sanction_listeners:
        await listener(sanction.member_id, "ban", sanction.reason, sanction.community_id)
    return sanction


async def revoke_sanction(
    ctx: AppContext, moderator: Member, sanction_id: int, reason: str
) -> None:
    async with ctx.db.transaction() as s:
        scope = await moderation_scope(s, moderator)
        sanction = await s.get(Sanction, sanction_id)
        if (
            sanction is None
            or sanction.revoked_at is not None
            or not in_scope(scope, sanction.community_id)
        ):
            raise Refusal("not_found", "That sanction isn't active.", 404)
        sanction.revoked_at = utcnow()
        s.add(sanction)
        await record(
            s,
            moderator,
            "revoke_" + sanction.kind,
            "member",
            sanction.member_id,
            sanction.community_id,
            reason,
            "A sanction was lifted",
        )


# --------------------------------------------------------------------------- notes & history


async def set_peer_supporter(
    ctx: AppContext, admin: Member, member_id: int, peer_supporter: bool
) -> Member:
    """Admins give or take the peer supporter role (trained members who facilitate
    sessions, take 1:1 requests and see crisis flags)."""
    if not roles.holds(admin, Action.GRANT_ROLES):
        raise Refusal("forbidden", "Only admins change roles.", 403)
    async with ctx.db.transaction() as s:
        member = await s.get(Member, member_id)
        if member is None or member.deleted_at is not None:
            raise Refusal("not_found", "There's no such member.", 404)
        member.is_peer_supporter = peer_supporter
        s.add(member)
        action = "grant_peer_supporter" if peer_supporter else "revoke_peer_supporter"
        await record(s, admin, action, "member", member_id, None)
    return member


async def add_note(
    ctx: AppContext, moderator: Member, member_id: int, community_id: int | None, body: str
) -> ModeratorNote:
    if not body.strip():
        raise Refusal("invalid", "Write the note first.")
    async with ctx.db.transaction() as s:
        await require_moderator(s, moderator, community_id)
        note = ModeratorNote(
            member_id=member_id, community_id=community_id, author_id=moderator.id, body=body[:4000]
        )
        s.add(note)
        await record(s, moderator, "add_note", "member", member_id, community_id)
    return note


@dataclass
class MemberRecord:
    member: Member
    sanctions: list[Sanction]
    notes: list[ModeratorNote]
    reports_against: int
    standing: Standing
    proposed: tuple[str, timedelta | None]


async def member_record(ctx: AppContext, moderator: Member, member_id: int) -> MemberRecord:
    async with ctx.db.read() as s:
        scope = await moderation_scope(s, moderator)  # first: no oracle for member ids
        member = await s.get(Member, member_id)
        if member is None:
            raise Refusal("not_found", "There's no such member.", 404)
        sanctions = list(
            await s.exec(
                select(Sanction).where(Sanction.member_id == member_id).order_by(Sanction.id.desc())  # type: ignore[union-attr]
            )
        )
        notes_query = select(ModeratorNote).where(ModeratorNote.member_id == member_id)
        if scope is not None:
            notes_query = notes_query.where(ModeratorNote.community_id.in_(scope))  # type: ignore[union-attr]
            sanctions = [x for x in sanctions if x.community_id is None or x.community_id in scope]
        notes = list(await s.exec(notes_query.order_by(ModeratorNote.id.desc())))  # type: ignore[union-attr]
        reports = await s.exec(
            select(func.count())
            .select_from(ModerationCase)
            .where(ModerationCase.author_id == member_id, ModerationCase.report_weight > 0)
        )
        now_standing = await standing(s, member_id)
        return MemberRecord(
            member, sanctions, notes, int(reports.one()), now_standing, propose(sanctions)
        )


async def audit_entries(
    s: AsyncSession, *, community_id: int | None = None, limit: int = 200
) -> list[AuditEntry]:
    query = select(AuditEntry)
    if community_id is not None:
        query = query.where(AuditEntry.community_id == community_id)
    return list(await s.exec(query.order_by(AuditEntry.id.desc()).limit(limit)))  # type: ignore[union-attr]
