"""The moderators' dashboard: how many cases are open, and moderator actions and crisis flags
per day over the last 30 days, counted only in the communities the moderator moderates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import select

from communities import roles
from communities.roles import Action
from core.context import AppContext
from core.db import utcnow
from core.errors import Refusal
from core.i18n import gettext
from identity.models import Member
from moderation.models import AuditEntry, ModerationCase

DAYS = 30


@dataclass(frozen=True)
class Dashboard:
    queue_size: int
    days: list[date]  # oldest first, ending today
    actions: list[int]  # moderator actions on each of `days` (not Kindred's own)
    crises: list[int]  # crisis flags raised on each of `days`


async def dashboard(ctx: AppContext, moderator: Member) -> Dashboard:
    """The figures for where `moderator` moderates (everywhere, for an admin)."""
    async with ctx.db.read() as s:
        scope = await roles.communities_where(s, moderator, Action.MODERATE)
        if scope is not None and not scope:
            raise Refusal("forbidden", gettext("Only moderators can see the dashboard."), 403)
        today = utcnow().date()
        days = [today - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
        since = utcnow() - timedelta(days=DAYS)
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
    return Dashboard(
        queue_size,
        days,
        [action_days.count(day) for day in days],
        [crisis_days.count(day) for day in days],
    )
