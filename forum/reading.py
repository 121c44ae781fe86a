"""What a member's reading keeps for them: how far they have read each thread (for "new
since your last visit") and how each content warning shows for them."""

from __future__ import annotations

from core.context import AppContext
from core.db import Database
from core.errors import Refusal
from forum.models import WARNING_MODES, ThreadVisit, WarningPreference
from identity.models import Member


async def record_visit(db: Database, viewer: Member, thread_id: int, last_post_id: int) -> None:
    """Remember the newest post the member has now seen (for "new since your last visit")."""
    async with db.transaction() as s:
        visit = await s.get(ThreadVisit, (thread_id, viewer.id))
        if visit is None:
            s.add(ThreadVisit(thread_id=thread_id, member_id=viewer.id, last_post_id=last_post_id))  # type: ignore[arg-type]
        elif visit.last_post_id < last_post_id:
            visit.last_post_id = last_post_id
            s.add(visit)


async def set_warning_preference(ctx: AppContext, member: Member, warning: str, mode: str) -> None:
    if mode not in WARNING_MODES:
        raise Refusal("invalid", "Choose collapse, show or hide.")
    warning = warning.strip()[:60]
    async with ctx.db.transaction() as s:
        existing = await s.get(WarningPreference, (member.id, warning))
        if existing is None:
            s.add(WarningPreference(member_id=member.id, warning=warning, mode=mode))  # type: ignore[arg-type]
        else:
            existing.mode = mode
            s.add(existing)
