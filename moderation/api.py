"""Moderation's public face: the only module forum and chat import.

Every member's words come in through one call, `vet` (vetting.py), with a `Place` naming
the surface; nothing here lets a surface run the pipeline's steps one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from communities import service as communities
from communities.models import CommunityModerator
from core.context import AppContext
from identity.models import Member
from moderation.audit import record
from moderation.cases import open_case
from moderation.content import Action, ContentKind, Decision, Reason
from moderation.crisis.resources import crisis_resources
from moderation.models import ModerationCase, Report
from moderation.policy import CommunityPolicy, decision_observer, judge, set_policy, trust
from moderation.standing import Standing, standing
from moderation.targets import AfterCommit, ContentTarget, ModerationRegistry, TargetView
from moderation.text import visible_text
from moderation.thanks import SentThanks, ThanksFor, send_thanks
from moderation.vetting import (
    CHAT_ROOM,
    COMMUNITY_RULES,
    FORUM_EDIT,
    FORUM_POST,
    PSEUDONYM,
    REPORT_NOTE,
    RESOURCE_ENTRY,
    SESSION_DETAILS,
    SESSION_PIN,
    SESSION_ROOM,
    SESSION_SUMMARY,
    SUPPORT_FEEDBACK,
    SUPPORT_NOTE,
    SUPPORT_ROOM,
    Place,
    Surface,
    Verdict,
    vet,
    wait_words,
)

__all__ = [
    "CHAT_ROOM",
    "COMMUNITY_RULES",
    "FORUM_EDIT",
    "FORUM_POST",
    "PSEUDONYM",
    "REPORT_NOTE",
    "RESOURCE_ENTRY",
    "SESSION_DETAILS",
    "SESSION_PIN",
    "SESSION_ROOM",
    "SESSION_SUMMARY",
    "SUPPORT_FEEDBACK",
    "SUPPORT_NOTE",
    "SUPPORT_ROOM",
    "Action",
    "AfterCommit",
    "ContentKind",
    "ContentTarget",
    "Decision",
    "ModerationRegistry",
    "Place",
    "Reason",
    "ReportedCase",
    "SentThanks",
    "Standing",
    "Surface",
    "TargetView",
    "ThanksFor",
    "Verdict",
    "community_rules_html",
    "crisis_resources",
    "decision_observer",
    "has_taken_part",
    "moderator_pseudonyms",
    "open_case",
    "open_case_targets",
    "preview",
    "record",
    "reported_cases",
    "send_thanks",
    "set_policy",
    "standing",
    "vet",
    "visible_text",
    "wait_words",
    "warm_up",
]


def warm_up() -> None:
    """Load the safety filters' models and run the whole pipeline once, before the server
    takes its first member. Lazily, the first message paid about half a second of work that
    held the interpreter (and with it the event loop): a stall every room felt at once."""
    samples = (
        "Warming up: call me on 07700 900123, I can't go on.",
        "Hello, everyone.",
        "Hoy fue un día largo, pero mi hermana me llamó.",  # the Spanish rules, then model
    )
    for sample in samples:
        for kind in (ContentKind.TITLE, ContentKind.POST, ContentKind.CHAT):
            judge(sample, kind, CommunityPolicy())


async def preview(
    ctx: AppContext, author: Member | None, place: Place, text: str, *, region: str | None = None
) -> dict:
    """What sending `text` to `place` would do, as POST /api/v1/preview returns it: the
    verdict `vet` would give, with the new-member rules for a signed-in member, counting
    nothing (a preview that says "publish" for a post then refused is worse than none)."""
    verdict = await vet(ctx, author, place, text, region=region, preview=True)
    body: dict = {"html": verdict.html if verdict.parts else "", "decision": verdict.action.value}
    if verdict.reason:
        body["reason"] = {"code": verdict.reason.code, "message": verdict.reason.message}
    if verdict.notice:
        body["notice"] = verdict.notice
    return body


async def moderator_pseudonyms(s: AsyncSession) -> list[str]:
    """Every community moderator's pseudonym: identity refuses new pseudonyms that read as
    one, as it does for admins and peer supporters (kindred.app passes this in)."""
    rows = await s.exec(
        select(Member.pseudonym)
        .join(CommunityModerator, CommunityModerator.member_id == Member.id)  # type: ignore[arg-type]
        .where(Member.deleted_at.is_(None))  # type: ignore[union-attr]
        .distinct()
    )
    return list(rows)


async def open_case_targets(s: AsyncSession, target_kind: str) -> set[int]:
    """The ids of content of one kind that a still-open case is about. Read-only: features
    that delete content on a schedule keep what a moderator may still need to see."""
    rows = await s.exec(
        select(ModerationCase.target_id).where(
            ModerationCase.target_kind == target_kind,
            ModerationCase.closed_at.is_(None),  # type: ignore[union-attr]
        )
    )
    return set(rows)


async def crisis_flagged(s: AsyncSession, target_kind: str, target_ids: sa.Select) -> bool:
    """Did the pipeline flag any of this content as crisis (a case, open or closed)?
    `target_ids` selects the content's ids (one column), as in `reported_cases`. Chat asks
    it to know a support conversation was a heavy one; nothing about the case is returned."""
    query = select(ModerationCase.id).where(
        col(ModerationCase.target_kind) == target_kind,
        col(ModerationCase.target_id).in_(target_ids.scalar_subquery()),
        col(ModerationCase.crisis).is_(True),
    )
    return (await s.exec(query.limit(1))).first() is not None


async def has_taken_part(
    s: AsyncSession, ctx: AppContext, member: Member, community_id: int
) -> bool:
    """Has the member anything published in this community yet (pages show a newcomer the
    community's rules before their first post)?"""
    return (await trust(s, member, community_id, ctx)).posts_here > 0


async def community_rules_html(s: AsyncSession, community_id: int | None) -> str:
    """A community's rules (sanitised HTML), shown when a member first posts or joins its
    room; reports can cite them."""
    return await communities.rules_html(s, community_id)


@dataclass(frozen=True)
class ReportedCase:
    id: int
    reports: int
    open: bool


async def reported_cases(
    s: AsyncSession, target_kind: str, target_ids: sa.Select, *, closed_since: datetime
) -> list[ReportedCase]:
    """Cases about content of one kind, open or closed after `closed_since`, that at least
    one member reported, newest first. `target_ids` selects the content's ids (one column):
    its table stays its owner's, as a subquery moderation never names."""
    query = (
        sa.select(ModerationCase.id, sa.func.count(col(Report.id)), ModerationCase.closed_at)
        .join(Report, col(Report.case_id) == ModerationCase.id)
        .where(
            col(ModerationCase.target_kind) == target_kind,
            col(ModerationCase.target_id).in_(target_ids.scalar_subquery()),
            sa.or_(
                col(ModerationCase.closed_at).is_(None),
                col(ModerationCase.closed_at) > closed_since,
            ),
        )
        .group_by(ModerationCase.id, ModerationCase.closed_at)
        .order_by(col(ModerationCase.id).desc())
    )
    rows = await s.exec(query)  # type: ignore[call-overload]
    return [ReportedCase(row[0], row[1], row[2] is None) for row in rows]
