"""A community's moderation settings: its watched words, its moderators and its policy.

One function per setting, each validating, writing and auditing in one transaction; the
settings page (moderation/pages.py) parses the form and calls one of them. Who may open the
page at all (the community's moderators) is the page's check; appointing moderators is an
admin's alone, checked here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from communities import experiences, roles
from communities import service as communities
from communities.roles import Action
from core.context import AppContext
from core.errors import Refusal
from core.i18n import gettext
from identity.accounts import member_named
from identity.models import Member
from moderation.audit import record
from moderation.content import WatchedWord
from moderation.models import WatchedWordEntry
from moderation.policy import CommunityPolicy, set_policy
from moderation.policy import load as load_policy
from moderation.policy_cache import policy_changed
from moderation.vetting import EXPERIENCE_LABEL, Place, vet


@dataclass(frozen=True)
class CommunitySettings:
    words: list[WatchedWordEntry]
    moderators: list[Member]
    policy: CommunityPolicy


async def settings_of(s: AsyncSession, community_id: int) -> CommunitySettings:
    words = await s.exec(
        select(WatchedWordEntry).where(WatchedWordEntry.community_id == community_id)
    )
    return CommunitySettings(
        list(words),
        await communities.moderators(s, community_id),
        await load_policy(s, community_id),
    )


async def add_watched_word(
    ctx: AppContext,
    moderator: Member,
    community_id: int,
    pattern: str,
    action: str,
    replacement: str = "***",
) -> None:
    try:
        word = WatchedWord(pattern, action, replacement)  # type: ignore[arg-type]
    except ValueError as exc:
        raise Refusal(
            "invalid", gettext("That watched word can't be used: %(why)s.") % {"why": exc}
        ) from None
    async with ctx.db.transaction() as s:
        s.add(
            WatchedWordEntry(
                community_id=community_id,
                pattern=word.pattern,
                action=word.action,
                replacement=word.replacement,
            )
        )
        await record(
            s,
            moderator,
            "add_watched_word",
            "community",
            community_id,
            community_id,
            f"{word.action}: {word.pattern}",
        )
    await policy_changed(ctx, community_id)


async def remove_watched_word(
    ctx: AppContext, moderator: Member, community_id: int, word_id: int
) -> None:
    async with ctx.db.transaction() as s:
        entry = await s.get(WatchedWordEntry, word_id)
        if entry is None or entry.community_id != community_id:
            raise Refusal("not_found", gettext("That watched word is already gone."), 404)
        await s.delete(entry)
        await record(
            s,
            moderator,
            "remove_watched_word",
            "community",
            community_id,
            community_id,
            entry.pattern,
        )
    await policy_changed(ctx, community_id)


async def appoint_moderator(
    ctx: AppContext, admin: Member, community_id: int, pseudonym: str, *, appointed: bool
) -> None:
    """Appoint the member with this pseudonym as a moderator here (or stand them down)."""
    if not roles.holds(admin, Action.GRANT_ROLES):
        raise Refusal("forbidden", gettext("Only admins appoint moderators."), 403)
    async with ctx.db.transaction() as s:
        target = await member_named(s, pseudonym)  # never an account that has been deleted
        if target is None:
            raise Refusal("not_found", gettext("There's no member with that pseudonym."), 404)
        await communities.set_moderator(s, community_id, target.id, appointed)  # type: ignore[arg-type]
        action = "add_moderator" if appointed else "remove_moderator"
        await record(s, admin, action, "member", target.id, community_id)


async def change_policy(
    ctx: AppContext,
    moderator: Member,
    community_id: int,
    *,
    contact_policy: str,
    crisis_action: str,
    crisis_sensitivity: str,
) -> None:
    async with ctx.db.transaction() as s:
        await set_policy(
            s,
            community_id,
            contact_policy=contact_policy,
            crisis_action=crisis_action,
            crisis_sensitivity=crisis_sensitivity,
        )
        await record(
            s,
            moderator,
            "set_policy",
            "community",
            community_id,
            community_id,
            f"contact: {contact_policy}, crisis: {crisis_action}, "
            f"sensitivity: {crisis_sensitivity}",
        )
    await policy_changed(ctx, community_id)


async def add_experience_label(
    ctx: AppContext, moderator: Member, community_id: int, text: str
) -> None:
    """Add an experience to the community's "been there" list: vetted like any words
    members read (refused with the reason where it would be held), then audited."""
    place = Place(EXPERIENCE_LABEL, community_id)
    verdict = await vet(ctx, moderator, place, " ".join(text.split()))
    if verdict.refused:
        raise verdict.refusal(draft=text)
    async with ctx.db.transaction() as s:
        label = await experiences.add_label(s, community_id, verdict.text)
        await record(
            s,
            moderator,
            "add_experience_label",
            "community",
            community_id,
            community_id,
            label.label,
        )


async def remove_experience_label(
    ctx: AppContext, moderator: Member, community_id: int, label_id: int
) -> None:
    """Take an experience off the list (members' records of it go too), audited."""
    async with ctx.db.transaction() as s:
        label = await experiences.remove_label(s, community_id, label_id)
        await record(
            s,
            moderator,
            "remove_experience_label",
            "community",
            community_id,
            community_id,
            label.label,
        )
