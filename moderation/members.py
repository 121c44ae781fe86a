"""A member as moderators see them: their record (sanctions, notes, reports against them,
standing, the ladder's next step), moderators' notes, and the peer supporter role.

A moderator sees only the notes and sanctions of their own communities (and site-wide
sanctions); only admins give or take the peer supporter role.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import select

from communities import roles
from communities import service as communities
from communities.models import Community
from communities.roles import Action
from core.context import AppContext
from core.errors import Refusal
from core.i18n import gettext
from identity.models import Member
from moderation.audit import record
from moderation.models import ModerationCase, ModeratorNote, Sanction
from moderation.sanctions import propose
from moderation.scope import moderation_scope, require_moderator
from moderation.standing import Standing, standing


async def set_peer_supporter(
    ctx: AppContext, admin: Member, member_id: int, peer_supporter: bool
) -> Member:
    """Admins give or take the peer supporter role (trained members who facilitate
    sessions, take 1:1 requests and see crisis flags)."""
    if not roles.holds(admin, Action.GRANT_ROLES):
        raise Refusal("forbidden", gettext("Only admins change roles."), 403)
    async with ctx.db.transaction() as s:
        member = await s.get(Member, member_id)
        if member is None or member.deleted_at is not None:
            raise Refusal("not_found", gettext("There's no such member."), 404)
        member.is_peer_supporter = peer_supporter
        s.add(member)
        action = "grant_peer_supporter" if peer_supporter else "revoke_peer_supporter"
        await record(s, admin, action, "member", member_id, None)
    return member


async def add_note(
    ctx: AppContext, moderator: Member, member_id: int, community_id: int | None, body: str
) -> ModeratorNote:
    """A moderator's private note on a member, for the moderators of one community."""
    if not body.strip():
        raise Refusal("invalid", gettext("Write the note first."))
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
    # Where the moderator reading it may sanction the member or leave a note.
    communities: list[Community]


async def member_record(ctx: AppContext, moderator: Member, member_id: int) -> MemberRecord:
    """A member's record as `moderator` may read it: only their communities' notes and
    sanctions (and site-wide sanctions)."""
    async with ctx.db.read() as s:
        scope = await moderation_scope(s, moderator)  # first: no oracle for member ids
        member = await s.get(Member, member_id)
        if member is None:
            raise Refusal("not_found", gettext("There's no such member."), 404)
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
        choices = await communities.all_communities(s)
        return MemberRecord(
            member,
            sanctions,
            notes,
            int(reports.one()),
            now_standing,
            propose(sanctions),
            [c for c in choices if scope is None or c.id in scope],
        )
