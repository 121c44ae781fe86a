"""A member's standing: the sanctions in force for them, site-wide or in one community.

Asked before anything a member writes (moderation/vetting.py) and before they take a seat
or sign in; sanctions themselves are given and revoked in moderation/sanctions.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.clock import on_clock
from core.db import utcnow
from core.i18n import gettext
from moderation.models import Sanction


@dataclass(frozen=True)
class Standing:
    """What a member may do right now, given their active sanctions."""

    muted_until: datetime | None = None
    suspended_until: datetime | None = None
    banned: bool = False
    muted: bool = False
    suspended: bool = False

    def refusal(self, *, mutes: bool = True) -> tuple[str, str] | None:
        """(code, message) for the member when they may not post, else None. `mutes=False`
        where a chat mute doesn't apply (forum posts, asking for 1:1 support)."""
        if self.banned:
            return "suspended", gettext("Your account has been banned, so you can't post or chat.")
        if self.suspended:
            if self.suspended_until is None:
                return "suspended", gettext("Your account is suspended.")
            return "suspended", gettext("Your account is suspended until %(when)s.") % {
                "when": _when(self.suspended_until)
            }
        if self.muted and mutes:
            if self.muted_until is None:
                return "muted", gettext("You've been muted in chat.")
            return "muted", gettext("You've been muted in chat until %(when)s.") % {
                "when": _when(self.muted_until)
            }
        return None

    @property
    def suspension_ends(self) -> str:
        """ " until Mon 7 Dec, 18:00 UTC", or nothing for a suspension with no end. In
        English: for a sentence another package builds (refusal() says its own whole)."""
        return f" until {_when(self.suspended_until)}" if self.suspended_until else ""


def _when(when: datetime) -> str:
    # A message, not a page: no member's clock to hand, so UTC, labelled (core/clock.py).
    return on_clock(when, None)


# Built once: every chat message and post asks it, and building a statement costs more than
# running it. A NULL :community matches only site-wide sanctions.
_ACTIVE_SANCTIONS = select(Sanction.kind, Sanction.ends_at).where(
    Sanction.member_id == sa.bindparam("member"),
    Sanction.revoked_at.is_(None),  # type: ignore[union-attr]
    Sanction.confirmed,
    Sanction.kind.in_(("mute", "suspend", "ban")),  # type: ignore[attr-defined]
    Sanction.starts_at <= sa.bindparam("now"),
    or_(Sanction.ends_at.is_(None), Sanction.ends_at > sa.bindparam("now")),  # type: ignore[union-attr]
    or_(
        Sanction.community_id.is_(None),  # type: ignore[union-attr]
        Sanction.community_id == sa.bindparam("community"),
    ),
)


async def standing(s: AsyncSession, member_id: int, community_id: int | None = None) -> Standing:
    params = {"member": member_id, "community": community_id, "now": utcnow()}
    rows = await s.exec(_ACTIVE_SANCTIONS, params=params)  # type: ignore[call-overload]
    muted = suspended = banned = False
    muted_until = suspended_until = None
    for kind, ends_at in rows:
        if kind == "ban":
            banned = True
        elif kind == "suspend":
            suspended = True
            suspended_until = _later(suspended_until, ends_at)
        else:
            muted = True
            muted_until = _later(muted_until, ends_at)
    return Standing(muted_until, suspended_until, banned, muted, suspended)


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None or (b is not None and b > a) else a
