"""The audit log: what moderators, admins and Kindred itself did, and why.

It is append-only. Every action is recorded inside the transaction that takes it, so there is
no action without a row; the public moderation log is the rows given a public summary.
"""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from identity.models import Member
from moderation.models import AuditEntry


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


async def audit_entries(
    s: AsyncSession, *, community_id: int | None = None, limit: int = 200
) -> list[AuditEntry]:
    """The newest entries first, site-wide or for one community (for admins)."""
    query = select(AuditEntry)
    if community_id is not None:
        query = query.where(AuditEntry.community_id == community_id)
    return list(await s.exec(query.order_by(AuditEntry.id.desc()).limit(limit)))  # type: ignore[union-attr]


async def public_entries(
    s: AsyncSession, community_id: int | None, *, limit: int = 200
) -> list[AuditEntry]:
    """A community's public moderation log: the entries written for members to read."""
    query = select(AuditEntry).where(
        AuditEntry.community_id == community_id, AuditEntry.public_summary.is_not(None)
    )  # type: ignore[union-attr]
    return list(await s.exec(query.order_by(AuditEntry.id.desc()).limit(limit)))  # type: ignore[union-attr]
