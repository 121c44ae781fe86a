"""The review queue: which open cases a moderator or peer supporter sees, in what order,
and what is shown beside each.

Crisis first, then report weight, then age. Peer supporters see every crisis flag to reach
out, and act only where they also moderate; beside anonymous content no author history is
shown, since it would say who wrote it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from communities import roles
from communities import service as communities
from communities.models import Community
from communities.roles import Action
from core.context import AppContext
from core.errors import Refusal
from core.i18n import gettext
from identity.models import Member
from moderation import checkins
from moderation.checkins import CheckInItem
from moderation.models import ModerationCase, Report, Sanction
from moderation.sanctions import propose
from moderation.targets import ModerationRegistry, TargetView
from moderation.trust import NEW_MEMBER


@dataclass
class QueueItem:
    case: ModerationCase
    view: TargetView | None
    author: Member | None
    reports: list[Report] = field(default_factory=list)
    prior_sanctions: list[Sanction] = field(default_factory=list)
    proposed: tuple[str, timedelta | None] | None = None
    can_act: bool = True  # False for a peer supporter looking at a crisis flag

    @property
    def only_new(self) -> bool:
        """Held for nothing but its author being new here: no filter matched, nobody
        reported it, no crisis flag. The choice is publish or reject, never a sanction."""
        return (
            self.case.held
            and not self.case.crisis
            and not self.case.auto_hidden
            and not self.reports
            and self.view is not None
            and self.view.status == "held"
            and self.view.hold_reason == NEW_MEMBER
        )


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
        item = QueueItem(
            case,
            view,
            members.get(case.author_id),  # type: ignore[arg-type]
            reports[case.id],  # type: ignore[index]
            sanctions[history] if history else [],
            propose(sanctions[history]) if history else None,
        )
        if item.only_new or (case.crisis and not item.reports):
            # Writing a first post is not a wrong, and nor is saying you are in crisis
            # (whatever else the post held): nothing to escalate. A report still counts.
            item.proposed = None
        items.append(item)
    return items


@dataclass(frozen=True)
class Review:
    """The review page: open cases, open check-in requests, where the member may act (None:
    everywhere) and the communities they can filter by (those)."""

    items: list[QueueItem]
    check_ins: list[CheckInItem]
    moderates: set[int] | None
    communities: list[Community]


async def review(
    ctx: AppContext,
    registry: ModerationRegistry,
    member: Member,
    *,
    community_id: int | None = None,
) -> Review:
    """What the review page shows: open to whoever may reach out somewhere (peer supporters
    see crisis flags); they act on the cases where they may moderate."""
    async with ctx.db.read() as s:
        if not await roles.may_somewhere(s, member, Action.REACH_OUT):
            raise Refusal(
                "forbidden",
                gettext("Only moderators and peer supporters can see the review queue."),
                403,
            )
        scope = await roles.communities_where(s, member, Action.MODERATE)
    items = await queue(ctx, registry, member, community_id=community_id)
    check_ins = await checkins.open_requests(ctx, registry, member)
    async with ctx.db.read() as s:
        choices = await communities.all_communities(s)
    return Review(items, check_ins, scope, [c for c in choices if scope is None or c.id in scope])
