"""Sanctions: warning, muting, suspending and banning a member, and lifting it again.

Decides who may be sanctioned and by whom (never an admin, never yourself; another moderator
only by an admin), how long a sanction may last, that a moderator's ban waits for a second
moderator to confirm it, and the ladder the next step is proposed from. What is in force
for a member right now is moderation/standing.py's to say.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from communities import roles
from communities.roles import Action
from core.context import AppContext
from core.db import utcnow
from core.errors import Refusal
from core.i18n import N_, gettext
from identity.models import Member, MemberSession
from moderation.audit import record
from moderation.models import Sanction
from moderation.scope import in_scope, moderation_scope, require_moderator
from moderation.targets import AfterCommit, ModerationRegistry

SANCTIONS = ("warn", "mute", "suspend", "ban")
MAX_DURATION = timedelta(days=365)
# The default escalation ladder, proposed from a member's sanctions in the last 90 days.
LADDER: list[tuple[str, timedelta | None]] = [
    ("warn", None),
    ("mute", timedelta(hours=24)),
    ("suspend", timedelta(days=7)),
    ("ban", None),
]
# The public log's sentences, stored in English and translated as the log is read
# (moderation/public_log.py, which also says "... for 3 days" whole).
_SANCTIONED = {
    "warn": N_("A member was warned"),
    "mute": N_("A member was muted in chat"),
    "suspend": N_("A member was suspended"),
    "ban": N_("A member was banned"),
}
_LIFTED = N_("A sanction was lifted")


def propose(history: list[Sanction]) -> tuple[str, timedelta | None]:
    """The next step on the ladder, from the member's sanctions in the last 90 days."""
    since = utcnow() - timedelta(days=90)
    recent = [x for x in history if x.starts_at >= since and x.revoked_at is None]
    return LADDER[min(len(recent), len(LADDER) - 1)]


def parse_duration(hours: int | None, kind: str) -> timedelta | None:
    """How long a sanction of `kind` lasts (None: until lifted), or a refusal to fix."""
    if kind in ("warn", "ban"):
        return None
    if hours is None or hours <= 0:
        raise Refusal("invalid_duration", gettext("Choose how long the sanction lasts."))
    duration = timedelta(hours=hours)
    if duration > MAX_DURATION:
        raise Refusal(
            "invalid_duration",
            gettext("A sanction can last at most a year; use a ban for longer."),
        )
    return duration


async def sanction_member(
    ctx: AppContext,
    registry: ModerationRegistry,
    moderator: Member,
    member_id: int,
    kind: str,
    *,
    hours: int | None = None,
    community_id: int | None = None,
    reason: str = "",
) -> Sanction:
    """A sanction given from a member's record (not from a case), audited."""
    if kind not in SANCTIONS:
        raise Refusal("invalid", gettext("Sanctions are warn, mute, suspend or ban."))
    parse_duration(hours, kind)
    after: AfterCommit = []
    async with ctx.db.transaction() as s:
        await require_moderator(s, moderator, community_id)
        sanction = await impose(
            s, registry, moderator, member_id, kind, hours, community_id, reason, after
        )
    for effect in after:
        await effect()
    return sanction


async def impose(
    s: AsyncSession,
    registry: ModerationRegistry,
    moderator: Member,
    member_id: int,
    kind: str,
    hours: int | None,
    community_id: int | None,
    reason: str,
    after: AfterCommit,
) -> Sanction:
    """Sanction a member inside the caller's transaction (a case's action, or
    `sanction_member`); listeners hear of it after commit, through `after`."""
    target = await s.get(Member, member_id)
    if target is None or target.deleted_at is not None:
        raise Refusal("not_found", gettext("There's no such member."), 404)
    if target.is_admin:
        raise Refusal("forbidden", gettext("Site admins can't be sanctioned."), 403)
    if target.id == moderator.id:
        raise Refusal("invalid", gettext("You can't sanction yourself."))
    if not moderator.is_admin and await roles.may(s, target, Action.MODERATE, community_id):
        raise Refusal(
            "forbidden",
            gettext("Only an admin can sanction another moderator of this community."),
            403,
        )
    duration = parse_duration(hours, kind)
    now = utcnow()
    # A ban proposed by a moderator waits for a second moderator (or an admin) to confirm.
    confirmed = kind != "ban" or moderator.is_admin
    sanction = Sanction(
        member_id=member_id,
        community_id=community_id,
        kind=kind,
        reason=reason[:2000],
        moderator_id=moderator.id,
        starts_at=now,
        ends_at=now + duration if duration else None,
        confirmed=confirmed,
    )
    s.add(sanction)
    if kind == "ban" and confirmed and community_id is None:
        await s.exec(  # type: ignore[call-overload]
            MemberSession.__table__.delete().where(MemberSession.member_id == member_id)  # type: ignore[attr-defined]
        )
    span = f" for {_span(duration)}" if duration else ""
    await record(
        s,
        moderator,
        kind if confirmed else "propose_ban",
        "member",
        member_id,
        community_id,
        reason,
        f"{_SANCTIONED[kind]}{span}" + (f": {reason}" if reason else "") if confirmed else None,
    )
    await s.flush()

    async def notify() -> None:
        for listener in registry.sanction_listeners:
            await listener(member_id, kind, reason, community_id)

    if confirmed:
        after.append(notify)
    return sanction


def _span(duration: timedelta) -> str:
    # English, stored: the public log says the whole sentence in its reader's language.
    hours = int(duration.total_seconds() // 3600)
    if hours % 24 == 0:
        days = hours // 24
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{hours} hour{'s' if hours != 1 else ''}"


async def confirm_ban(
    ctx: AppContext, registry: ModerationRegistry, moderator: Member, sanction_id: int
) -> Sanction:
    """A second moderator (or an admin) confirms a moderator's ban; it is heard of then."""
    async with ctx.db.transaction() as s:
        scope = await moderation_scope(s, moderator)
        sanction = await s.get(Sanction, sanction_id)
        if (
            sanction is None
            or sanction.kind != "ban"
            or sanction.confirmed
            or not in_scope(scope, sanction.community_id)
        ):
            raise Refusal("not_found", gettext("There's no ban waiting for confirmation."), 404)
        if sanction.moderator_id == moderator.id and not moderator.is_admin:
            raise Refusal(
                "forbidden", gettext("Another moderator must confirm a ban you proposed."), 403
            )
        sanction.confirmed = True
        s.add(sanction)
        await record(
            s,
            moderator,
            "confirm_ban",
            "member",
            sanction.member_id,
            sanction.community_id,
            sanction.reason,
            _SANCTIONED["ban"] + (f": {sanction.reason}" if sanction.reason else ""),
        )
    for listener in registry.sanction_listeners:
        await listener(sanction.member_id, "ban", sanction.reason, sanction.community_id)
    return sanction


async def revoke_sanction(
    ctx: AppContext, moderator: Member, sanction_id: int, reason: str
) -> None:
    """Lift a sanction before it ends, audited with the moderator's reason."""
    async with ctx.db.transaction() as s:
        scope = await moderation_scope(s, moderator)
        sanction = await s.get(Sanction, sanction_id)
        if (
            sanction is None
            or sanction.revoked_at is not None
            or not in_scope(scope, sanction.community_id)
        ):
            raise Refusal("not_found", gettext("That sanction isn't active."), 404)
        sanction.revoked_at = utcnow()
        s.add(sanction)
        await record(
            s,
            moderator,
            "revoke_" + sanction.kind,
            "member",
            sanction.member_id,
            sanction.community_id,
            reason,
            _LIFTED,
        )
