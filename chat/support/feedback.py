"""The member's private answer to "Did this help?" once a conversation has ended, and the
moderators' reading of it. Only the member who asked answers, once; a note with it is vetted
as support feedback (crisis language is let through and answered with resources). There is
no public score: moderators of the request's community (admins: all) read the answers to
know how supporters are doing, and the member who gave one is never named to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import update
from sqlmodel import col

from chat.support.models import SupportRequest
from chat.support.requests import name_of
from communities import roles
from communities import service as communities
from communities.roles import Action
from core.context import AppContext
from core.db import Database, utcnow
from core.errors import Refusal
from core.i18n import gettext as _
from core.i18n import number
from identity.models import Member
from moderation import api as moderation

FEEDBACK_MAX = 500


@dataclass(frozen=True)
class FeedbackItem:
    id: int
    community: str
    supporter: str
    helped: bool | None
    feedback: str | None
    ended_at: datetime | None


async def give_feedback(
    ctx: AppContext,
    member: Member,
    request_id: int,
    helped: bool | None,
    note: str,
    *,
    region: str | None = None,
) -> dict[str, Any] | None:
    """The member's private answer to "Did this help?" (moderators read it; no public
    score). Returns crisis resources when the note calls for them."""
    note = note.strip()
    if len(note) > FEEDBACK_MAX:
        raise Refusal(
            "too_long",
            _("Keep the note to %(limit)s characters. Your text is kept.")
            % {"limit": number(FEEDBACK_MAX)},
        )
    async with ctx.db.read() as s:
        request = await s.get(SupportRequest, request_id)
        if request is None or request.member_id != member.id:
            raise Refusal("not_found", _("There's no conversation of yours here."), status=404)
        if request.status != "ended":
            raise Refusal(
                "not_ended", _("You can say whether it helped once the conversation has ended.")
            )
        if request.feedback_at is not None:
            raise Refusal("already_given", _("You've already told us — thank you."), status=409)
    notice = None
    text = None
    if note:
        place = moderation.Place(
            moderation.SUPPORT_FEEDBACK, request.community_id, max_chars=FEEDBACK_MAX
        )
        verdict = await moderation.vet(ctx, member, place, note, region=region)
        if verdict.refused:
            raise verdict.refusal(draft=note)
        text = verdict.text
        notice = verdict.notice if verdict.crisis else None
    async with ctx.db.transaction() as s:
        await s.exec(
            update(SupportRequest)
            .where(col(SupportRequest.id) == request_id, col(SupportRequest.feedback_at).is_(None))
            .values(helped=helped, feedback=text, feedback_at=utcnow())
        )
    return notice


async def may_read_feedback(db: Database, member: Member) -> bool:
    """Does this member moderate somewhere (admins: everywhere), and so read feedback?"""
    async with db.read() as s:
        return await roles.may_somewhere(s, member, Action.MODERATE)


async def feedback_for(db: Database, viewer: Member) -> list[FeedbackItem]:
    """Feedback in the communities the viewer moderates (all for admins), newest first.
    The member who gave it is not named: moderators need to know how supporters are doing,
    not who asked for help."""
    async with db.read() as s:
        scope = await roles.communities_where(s, viewer, Action.MODERATE)
        if scope is not None and not scope:
            raise Refusal(
                "forbidden", _("Only moderators and admins can read support feedback."), status=403
            )
        query = (
            sa.select(SupportRequest, Member)
            .outerjoin(Member, col(Member.id) == SupportRequest.supporter_id)
            .where(col(SupportRequest.feedback_at).is_not(None))
            .order_by(col(SupportRequest.feedback_at).desc())
            .limit(200)
        )
        if scope is not None:
            query = query.where(col(SupportRequest.community_id).in_(scope))
        rows = list(await s.exec(query))  # type: ignore[call-overload]
        names = await communities.by_ids(s, (r.community_id for r, _ in rows))
    return [
        FeedbackItem(
            r.id, names[r.community_id].name, name_of(supporter), r.helped, r.feedback, r.ended_at
        )
        for r, supporter in rows
        if r.community_id in names
    ]
