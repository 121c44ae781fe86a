"""A community's resource directory: services, helplines and guides people can turn to.

Moderators keep it (add, edit, re-check, remove: every action audited); members suggest
entries, and a suggestion always waits for the community's moderators, whatever the
pipeline says of its words (a link to somewhere is only as good as the person who checked
it). An entry's name and description are a member's words and go through `vet` like any
other; its link and phone number are data, checked in forum/resource_links.py. Kindred
never fetches anything from an entry's site: no previews, no icons, no link checking. The
"last checked" date is a moderator saying they looked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from communities import roles
from communities.models import Community
from communities.roles import Action
from core.context import AppContext
from core.db import Database, utcnow
from core.errors import Refusal, not_found
from core.i18n import gettext as _
from core.i18n import ngettext
from forum.models import ANYWHERE, HELP_TYPES, Resource
from forum.resource_entries import EntryForm, apply, check_fields, vetted, words
from identity.models import Member
from moderation import api as moderation

# An entry nobody has re-checked for this long is flagged to the community's moderators.
STALE_AFTER = timedelta(days=180)
# Suggestions one member may have waiting in one community at a time.
MAX_WAITING = 5
# The country filter's choices besides a country: everything, or only what serves anywhere.
EVERY_COUNTRY = "all"

LISTED, SUGGESTED, DECLINED = "listed", "suggested", "declined"


# --------------------------------------------------------------------------- reading


def is_stale(entry: Resource, now: datetime | None = None) -> bool:
    """Not re-checked for a long while (or never): moderators see it flagged."""
    checked = entry.last_checked_at
    return checked is None or checked < (now or utcnow()) - STALE_AFTER


@dataclass(frozen=True)
class Directory:
    entries: list[Resource]
    moderator: bool
    mine: list[Resource] = field(default_factory=list)  # the viewer's own suggestions
    waiting: int = 0  # suggestions waiting (moderators only)
    stale: int = 0  # entries due a re-check (moderators only)


def _in_region(region: str) -> Iterable:
    if region == EVERY_COUNTRY:
        return ()
    if region == ANYWHERE:
        return (col(Resource.region) == ANYWHERE,)
    return (col(Resource.region).in_([region, ANYWHERE]),)


async def directory(
    db: Database,
    community: Community,
    viewer: Member | None,
    *,
    help_type: str | None = None,
    region: str = EVERY_COUNTRY,
) -> Directory:
    """The listed entries that match the filters (a country's own first, then those for
    anywhere, each by name), and for a moderator what waits for them."""
    query = select(Resource).where(
        Resource.community_id == community.id, Resource.status == LISTED, *_in_region(region)
    )
    if help_type in HELP_TYPES:
        query = query.where(col(Resource.help_types).contains(f",{help_type},"))
    query = query.order_by(col(Resource.region) == ANYWHERE, func.lower(Resource.name))
    async with db.read() as s:
        entries = list(await s.exec(query))
        moderator = await roles.may(s, viewer, Action.MODERATE, community.id)
        mine = await _suggestions_of(s, viewer, community) if viewer else []
        waiting = stale = 0
        if moderator:
            waiting = await _count(s, community, Resource.status == SUGGESTED)
            stale = await _count(s, community, *_stale_where())
    return Directory(entries, moderator, mine, waiting, stale)


def _stale_where() -> tuple:
    cutoff = utcnow() - STALE_AFTER
    return (
        Resource.status == LISTED,
        col(Resource.last_checked_at).is_(None) | (col(Resource.last_checked_at) < cutoff),
    )


async def _count(s: AsyncSession, community: Community, *where: object) -> int:
    query = select(func.count()).where(Resource.community_id == community.id, *where)  # type: ignore[arg-type]
    return (await s.exec(query)).one()


async def _suggestions_of(s: AsyncSession, member: Member, community: Community) -> list[Resource]:
    rows = await s.exec(
        select(Resource)
        .where(
            Resource.community_id == community.id,
            Resource.suggested_by_id == member.id,
            col(Resource.status).in_([SUGGESTED, DECLINED]),
        )
        .order_by(col(Resource.id).desc())
    )
    return list(rows)


@dataclass(frozen=True)
class Review:
    waiting: list[Resource]
    stale: list[Resource]


async def review(db: Database, moderator: Member, community: Community) -> Review:
    """What the community's moderators have to do: suggestions to check, oldest first, and
    entries not checked for a long time, least recently checked first."""
    async with db.read() as s:
        await _require_moderator(s, moderator, community)
        waiting = await s.exec(
            select(Resource)
            .where(Resource.community_id == community.id, Resource.status == SUGGESTED)
            .order_by(col(Resource.id))
        )
        stale = await s.exec(
            select(Resource)
            .where(Resource.community_id == community.id, *_stale_where())
            .order_by(col(Resource.last_checked_at).is_not(None), col(Resource.last_checked_at))
        )
        return Review(list(waiting), list(stale))


async def require_moderator(db: Database, member: Member, community: Community) -> None:
    """Refuse (403) anyone but the community's moderators (and admins)."""
    async with db.read() as s:
        await _require_moderator(s, member, community)


async def entry_for_moderator(
    db: Database, moderator: Member, community: Community, entry_id: int
) -> Resource:
    async with db.read() as s:
        await _require_moderator(s, moderator, community)
        return await _entry(s, community, entry_id, (LISTED, SUGGESTED))


async def _require_moderator(s: AsyncSession, member: Member, community: Community) -> None:
    if not await roles.may(s, member, Action.MODERATE, community.id):
        raise Refusal(
            "forbidden", _("Only this community's moderators can change its directory."), 403
        )


async def _entry(
    s: AsyncSession, community: Community, entry_id: int, statuses: tuple[str, ...]
) -> Resource:
    entry = await s.get(Resource, entry_id)
    if entry is None or entry.community_id != community.id or entry.status not in statuses:
        raise not_found("resource")
    return entry


# --------------------------------------------------------------------------- members


@dataclass(frozen=True)
class Suggested:
    entry: Resource
    verdict: moderation.Verdict


async def suggest(
    ctx: AppContext,
    member: Member,
    community: Community,
    form: EntryForm,
    *,
    region: str | None = None,
) -> Suggested:
    """A member's suggestion: checked, vetted, then always kept for the community's
    moderators (published or held by the pipeline alike; the reason it would have been
    held goes with it, for them). Refused words come back with the reason."""
    try:
        checked = check_fields(form)
    except Refusal as exc:
        exc.draft = form.draft
        raise
    async with ctx.db.read() as s:
        if (
            await _count(
                s, community, Resource.suggested_by_id == member.id, Resource.status == SUGGESTED
            )
            >= MAX_WAITING
        ):
            raise Refusal(
                "too_many",
                ngettext(
                    "You have %(num)d suggestion waiting for this community's moderators "
                    "already. Please wait until they've looked at it.",
                    "You have %(num)d suggestions waiting for this community's moderators "
                    "already. Please wait until they've looked at those.",
                    MAX_WAITING,
                )
                % {"num": MAX_WAITING},
                429,
                draft=form.draft,
            )
    verdict = await vetted(ctx, member, community, form, region)
    entry = Resource(community_id=community.id, status=SUGGESTED, suggested_by_id=member.id)  # type: ignore[arg-type]
    apply(entry, checked, *words(verdict, form))
    entry.hold_reason = verdict.reason.code if verdict.held and verdict.reason else None
    async with ctx.db.transaction() as s:
        s.add(entry)
        await s.flush()
        if verdict.crisis:  # whoever answers crisis cases hears of it, as from anywhere
            await moderation.open_case(
                s,
                kind="resource",  # forum/resource_target.py
                target_id=entry.id,  # type: ignore[arg-type]
                community_id=community.id,  # type: ignore[arg-type]
                author_id=member.id,  # type: ignore[arg-type]
                held=False,
                crisis=True,
                crisis_why=verdict.crisis_why,
            )
    return Suggested(entry, verdict)


async def dismiss(ctx: AppContext, member: Member, community: Community, entry_id: int) -> None:
    """A member takes back a suggestion still waiting, or clears one that was declined."""
    async with ctx.db.transaction() as s:
        entry = await _entry(s, community, entry_id, (SUGGESTED, DECLINED))
        if entry.suggested_by_id != member.id:
            raise not_found("resource")
        await s.delete(entry)


# --------------------------------------------------------------------------- moderators


async def add_entry(
    ctx: AppContext, moderator: Member, community: Community, form: EntryForm
) -> Resource:
    """A moderator adds an entry; adding it is checking it."""
    async with ctx.db.read() as s:
        await _require_moderator(s, moderator, community)
    checked = check_fields(form)
    verdict = await vetted(ctx, moderator, community, form, None)
    entry = Resource(community_id=community.id, status=LISTED, last_checked_at=utcnow())  # type: ignore[arg-type]
    apply(entry, checked, *words(verdict, form))
    async with ctx.db.transaction() as s:
        s.add(entry)
        await s.flush()
        await _audit(
            s, moderator, "resource_add", entry, "Added an entry to the resource directory."
        )
    return entry


async def save_entry(
    ctx: AppContext,
    moderator: Member,
    community: Community,
    entry_id: int,
    form: EntryForm,
    *,
    checked_now: bool,
) -> Resource:
    """A moderator edits an entry, or a suggestion and lists it (approving is checking:
    the suggester's link to it goes, as it is the community's entry now)."""
    async with ctx.db.read() as s:
        await _require_moderator(s, moderator, community)
    checked = check_fields(form)
    verdict = await vetted(ctx, moderator, community, form, None)
    async with ctx.db.transaction() as s:
        entry = await _entry(s, community, entry_id, (LISTED, SUGGESTED))
        approving = entry.status == SUGGESTED
        apply(entry, checked, *words(verdict, form))
        if approving:
            entry.status, entry.suggested_by_id, entry.hold_reason = LISTED, None, None
        if approving or checked_now:
            entry.last_checked_at = utcnow()
        s.add(entry)
        if approving:
            summary = "Added a member's suggestion to the resource directory."
            await _audit(s, moderator, "resource_approve", entry, summary)
        else:
            summary = "Updated an entry in the resource directory."
            await _audit(s, moderator, "resource_edit", entry, summary, checked=checked_now)
    return entry


async def mark_checked(
    ctx: AppContext, moderator: Member, community: Community, entry_id: int
) -> Resource:
    """A moderator has looked at the entry's site or called its number, and it still is
    what it says: today becomes its "last checked" date."""
    async with ctx.db.transaction() as s:
        await _require_moderator(s, moderator, community)
        entry = await _entry(s, community, entry_id, (LISTED,))
        entry.last_checked_at = utcnow()
        s.add(entry)
        await _audit(s, moderator, "resource_checked", entry, None)
    return entry


async def remove_entry(
    ctx: AppContext, moderator: Member, community: Community, entry_id: int, reason: str
) -> None:
    """Take an entry out of the directory (gone for good; the audit log keeps its name)."""
    async with ctx.db.transaction() as s:
        await _require_moderator(s, moderator, community)
        entry = await _entry(s, community, entry_id, (LISTED,))
        summary = "Removed an entry from the resource directory."
        await _audit(s, moderator, "resource_remove", entry, summary, why=reason)
        await s.delete(entry)


async def decline(
    ctx: AppContext, moderator: Member, community: Community, entry_id: int, reason: str
) -> None:
    """Decline a suggestion: its suggester sees it declined, with the reason, until they
    clear it."""
    reason = " ".join(reason.split())[:500]
    if not reason:
        raise Refusal(
            "invalid", _("Say why, so the member who suggested it knows."), field="reason"
        )
    async with ctx.db.transaction() as s:
        await _require_moderator(s, moderator, community)
        entry = await _entry(s, community, entry_id, (SUGGESTED,))
        entry.status, entry.decline_reason = DECLINED, reason
        s.add(entry)
        await _audit(s, moderator, "resource_decline", entry, None, why=reason)


async def _audit(
    s: AsyncSession,
    moderator: Member,
    action: str,
    entry: Resource,
    public_summary: str | None,
    *,
    why: str = "",
    checked: bool = False,
) -> None:
    # The entry's name and link go to the private log (what was acted on), never to the
    # public one, which says only what was done.
    said = f"“{entry.name}” ({entry.url or entry.phone})"
    if checked:
        said += ", marked as checked"
    reason = f"{said}: {why}" if why else said
    await moderation.record(
        s, moderator, action, "resource", entry.id, entry.community_id, reason, public_summary
    )


# --------------------------------------------------------------------------- accounts


async def export_suggestions(s: AsyncSession, member_id: int) -> list[dict]:
    """A member's suggestions still theirs (waiting or declined) in their data export."""
    rows = await s.exec(select(Resource).where(Resource.suggested_by_id == member_id))
    return [
        {
            "name": r.name,
            "description": r.description,
            "url": r.url,
            "phone": r.phone,
            "status": r.status,
            "decline_reason": r.decline_reason,
            "created_at": r.created_at.isoformat(),
        }
        for r in rows
    ]


async def forget_suggestions(s: AsyncSession, member_id: int) -> None:
    """On any account deletion: suggestions still waiting or declined go with the account
    (nobody could be told about them); listed entries were never tied to it."""
    await s.exec(delete(Resource).where(col(Resource.suggested_by_id) == member_id))  # type: ignore[call-overload]
