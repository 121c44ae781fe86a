"""Looking behind anonymity: who wrote a case's anonymous content, and what the author sees
of it.

Only those who may see authors where the case is may look; every look is audited, and the
author can see that (and when, and behind what) it happened, never who looked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from communities.roles import Action
from core.context import AppContext
from core.errors import Refusal
from core.i18n import gettext
from identity.models import Member
from moderation.audit import record
from moderation.models import AuditEntry, ModerationCase
from moderation.scope import in_scope, moderation_scope
from moderation.targets import ModerationRegistry

REVEAL = "view_anonymous_author"


async def reveal_author(ctx: AppContext, moderator: Member, case_id: int) -> Member:
    """Who wrote the anonymous content a case is about: for moderators who may act on it,
    each time audited, and the author can see that it happened (never who looked)."""
    async with ctx.db.transaction() as s:
        scope = await moderation_scope(s, moderator, Action.SEE_AUTHORS)
        case = await s.get(ModerationCase, case_id)
        if case is None or case.author_id is None or not in_scope(scope, case.community_id):
            raise Refusal("not_found", gettext("That case doesn't exist."), 404)
        author = await s.get(Member, case.author_id)
        if author is None:
            raise Refusal("not_found", gettext("That case doesn't exist."), 404)
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
                view.context_title if view else gettext("(no longer there)"),
                view.context_url if view else None,
            )
        )
    return reveals
