"""Lived experiences: each community's list of them, and the private record of the ones a
member has been through.

A member's experiences are theirs alone. Nothing here returns who has which experience to
anyone but that member: moderators get counts per label (`counts`), and the one function
that names members (`members_with`) exists for forum/been_there.py, which tells a few of
them about a request and shows nobody the list. Each function takes the caller's session.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from communities.models import EXPERIENCE_SINCE, Community, ExperienceLabel, LivedExperience
from core.errors import Refusal
from identity.models import Member

MAX_LABEL = 60
MAX_LABELS = 40  # a community's list stays short enough to read through on a phone


@dataclass(frozen=True)
class MyExperience:
    """One of the member's own experiences, as their page shows it."""

    label_id: int
    label: str
    community_name: str
    since: str  # a key of EXPERIENCE_SINCE

    @property
    def since_words(self) -> str:
        return EXPERIENCE_SINCE.get(self.since, "")


async def labels(s: AsyncSession, community_id: int) -> list[ExperienceLabel]:
    """A community's list, alphabetically."""
    rows = await s.exec(
        select(ExperienceLabel)
        .where(ExperienceLabel.community_id == community_id)
        .order_by(col(ExperienceLabel.label))
    )
    return list(rows)


async def label(s: AsyncSession, label_id: int) -> ExperienceLabel | None:
    return await s.get(ExperienceLabel, label_id)


async def label_in(s: AsyncSession, community_id: int, label_id: int) -> ExperienceLabel | None:
    """The label with this id if it is on this community's list."""
    label = await s.get(ExperienceLabel, label_id)
    return label if label is not None and label.community_id == community_id else None


async def add_label(s: AsyncSession, community_id: int, text: str) -> ExperienceLabel:
    """Add a label to a community's list (moderation audits who did)."""
    text = " ".join(text.split())
    if not text:
        raise Refusal(
            "invalid", "Write the experience, for example “lost a parent”.", field="label"
        )
    if len(text) > MAX_LABEL:
        raise Refusal("invalid", f"Keep it short: at most {MAX_LABEL} characters.", field="label")
    existing = await labels(s, community_id)
    if any(label.label.casefold() == text.casefold() for label in existing):
        raise Refusal("invalid", f"“{text}” is already on the list.", field="label")
    if len(existing) >= MAX_LABELS:
        raise Refusal(
            "invalid",
            f"The list can have at most {MAX_LABELS} experiences; remove one first.",
            field="label",
        )
    label = ExperienceLabel(community_id=community_id, label=text)
    s.add(label)
    await s.flush()
    return label


async def remove_label(s: AsyncSession, community_id: int, label_id: int) -> ExperienceLabel:
    """Take a label off the list; members' records of it go with it (they can't be matched
    on an experience the community no longer lists)."""
    label = await label_in(s, community_id, label_id)
    if label is None:
        raise Refusal("not_found", "That experience is already off the list.", status=404)
    await s.exec(sa.delete(LivedExperience).where(col(LivedExperience.label_id) == label_id))  # type: ignore[call-overload]
    await s.delete(label)
    return label


async def counts(s: AsyncSession, community_id: int) -> list[tuple[ExperienceLabel, int]]:
    """Each label on a community's list with how many members recorded it: all moderators
    ever see of members' experiences."""
    how_many = sa.func.count(col(LivedExperience.member_id))
    rows = await s.exec(
        select(ExperienceLabel, how_many)
        .outerjoin(LivedExperience, col(LivedExperience.label_id) == ExperienceLabel.id)
        .where(ExperienceLabel.community_id == community_id)
        .group_by(col(ExperienceLabel.id))
        .order_by(col(ExperienceLabel.label))
    )
    return [(label, n) for label, n in rows]


async def mine(s: AsyncSession, member: Member) -> list[MyExperience]:
    """The member's own experiences, by community then label."""
    rows = await s.exec(
        select(LivedExperience, ExperienceLabel.label, Community.name)
        .join(ExperienceLabel, col(ExperienceLabel.id) == LivedExperience.label_id)
        .join(Community, col(Community.id) == ExperienceLabel.community_id)
        .where(LivedExperience.member_id == member.id)
        .order_by(col(Community.name), col(ExperienceLabel.label))
    )
    return [MyExperience(e.label_id, label, name, e.since) for e, label, name in rows]


async def record(s: AsyncSession, member: Member, label_id: int, since: str) -> None:
    """Record (or change how long ago) one experience of the member's."""
    if since not in EXPERIENCE_SINCE:
        raise Refusal("invalid", "Choose roughly how long ago.", field="since")
    if await s.get(ExperienceLabel, label_id) is None:
        raise Refusal("invalid", "Choose an experience from the list.", field="label")
    existing = await s.get(LivedExperience, (member.id, label_id))
    if existing is None:
        s.add(LivedExperience(member_id=member.id, label_id=label_id, since=since))  # type: ignore[arg-type]
    else:
        existing.since = since
        s.add(existing)


async def forget(s: AsyncSession, member: Member, label_id: int) -> None:
    """Remove one of the member's experiences (nothing of it is kept)."""
    await s.exec(
        sa.delete(LivedExperience).where(  # type: ignore[call-overload]
            col(LivedExperience.member_id) == member.id,
            col(LivedExperience.label_id) == label_id,
        )
    )


async def members_with(s: AsyncSession, label_id: int) -> list[int]:
    """The members (not deleted) who recorded this experience. Only forum/been_there.py
    calls this, to tell a few of them about one request; no page or API shows it."""
    rows = await s.exec(
        select(LivedExperience.member_id)
        .join(Member, col(Member.id) == LivedExperience.member_id)
        .where(LivedExperience.label_id == label_id, col(Member.deleted_at).is_(None))
    )
    return list(rows)


async def forget_all(s: AsyncSession, member_id: int) -> None:
    """Every experience a member recorded, when their account is deleted."""
    await s.exec(sa.delete(LivedExperience).where(col(LivedExperience.member_id) == member_id))  # type: ignore[call-overload]
