"""Moderation's public face: the only module forum and chat import.

Checking member text is two steps: load the community's policy (a read), then run the
pipeline (pure CPU, no I/O), so callers can keep the check out of their write transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

import anyio.to_thread
import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from communities.models import CommunityModerator
from core.settings import Settings
from identity.models import Member
from moderation.contact import contact_filter
from moderation.crisis import crisis_filter, crisis_resources
from moderation.models import ModerationCase, WatchedWordEntry
from moderation.pipeline import (
    Action,
    Content,
    ContentKind,
    ContentPolicy,
    Decision,
    Filter,
    Reason,
    WatchedWord,
    _visible_text,
    moderate,
    watched_words_filter,
)
from moderation.service import (
    ModerationError,
    Standing,
    can_moderate,
    open_case,
    record,
    standing,
)
from moderation.targets import AfterCommit, ContentTarget, ModerationRegistry, TargetView
from moderation.trust import Trust, trust_filter, trust_of

__all__ = [
    "Action",
    "AfterCommit",
    "CommunityPolicy",
    "ContentKind",
    "ContentTarget",
    "Decision",
    "ModerationError",
    "ModerationRegistry",
    "Reason",
    "Standing",
    "TargetView",
    "Trust",
    "check_text",
    "community_rules_html",
    "crisis_resources",
    "crisis_why",
    "decision_observer",
    "is_crisis",
    "is_moderator",
    "load_policy",
    "moderated_community_ids",
    "moderator_pseudonyms",
    "open_case",
    "open_case_targets",
    "preview",
    "record",
    "standing",
    "trust_for",
    "visible_text",
]

# The community table belongs to forum; moderation reads the two policy columns it needs
# by name rather than importing forum.
_community = sa.table(
    "community",
    sa.column("id", sa.Integer),
    sa.column("contact_policy", sa.String),
    sa.column("crisis_action", sa.String),
    sa.column("crisis_sensitivity", sa.String),
)

MAX_POST_CHARS = 20_000
MAX_TITLE_CHARS = 200

# Told of each decision check_text makes, with the kind of content (the app's metrics count
# them by reason). Set per request by the composition root; a context variable because the
# pipeline runs in worker threads, which carry the request's context with them.
decision_observer: ContextVar[Callable[[ContentKind, Decision], None] | None] = ContextVar(
    "kindred_decision_observer", default=None
)


@dataclass(frozen=True)
class CommunityPolicy:
    community_id: int | None = None
    watched_words: tuple[WatchedWord, ...] = ()
    contact_policy: str = "hold"  # hold | refuse | allow
    crisis_action: str = "publish"  # publish | hold
    crisis_sensitivity: str = "standard"  # more | standard | fewer


async def load_policy(s: AsyncSession, community_id: int | None) -> CommunityPolicy:
    if community_id is None:
        return CommunityPolicy()
    row = (
        await s.exec(
            sa.select(
                _community.c.contact_policy,
                _community.c.crisis_action,
                _community.c.crisis_sensitivity,
            ).where(_community.c.id == community_id)
        )
    ).first()
    words = await s.exec(
        select(WatchedWordEntry).where(WatchedWordEntry.community_id == community_id)
    )
    watched = tuple(
        WatchedWord(w.pattern, w.action, w.replacement)  # type: ignore[arg-type]
        for w in words
    )
    if row is None:
        return CommunityPolicy(community_id, watched)
    return CommunityPolicy(community_id, watched, row[0], row[1], row[2])


def check_text(
    text: str,
    kind: ContentKind,
    policy: CommunityPolicy,
    *,
    max_chars: int | None = None,
    region: str | None = None,
    trust: Trust | None = None,
) -> Decision:
    """Run member text through the whole pipeline under a community's policy. With `trust`
    (the author's standing), new-member holds and the link rule apply too; without it the
    verdict is the content's own (as the preview gives it)."""
    decision = _decide(text, kind, policy, max_chars=max_chars, region=region, trust=trust)
    if (observe := decision_observer.get()) is not None:
        observe(kind, decision)
    return decision


def _decide(
    text: str,
    kind: ContentKind,
    policy: CommunityPolicy,
    *,
    max_chars: int | None = None,
    region: str | None = None,
    trust: Trust | None = None,
) -> Decision:
    limit = max_chars or (MAX_TITLE_CHARS if kind is ContentKind.TITLE else MAX_POST_CHARS)
    filters: list[Filter] = [watched_words_filter]
    if trust is not None:
        filters.append(trust_filter(trust))
    if policy.contact_policy != "allow":
        filters.append(contact_filter(policy.contact_policy))  # type: ignore[arg-type]
    if kind is not ContentKind.TITLE:
        filters.append(
            crisis_filter(
                lambda: crisis_resources(region),
                policy.crisis_action,  # type: ignore[arg-type]
                sensitivity=policy.crisis_sensitivity,
                phrases=policy.watched_words,
            )
        )
    content = Content(
        text, kind, ContentPolicy(max_chars=limit, watched_words=policy.watched_words)
    )
    return moderate(content, filters)


async def preview(
    text: str, policy: CommunityPolicy, *, region: str | None = None, trust: Trust | None = None
) -> dict:
    """The verdict the real post would get, as POST /api/v1/preview returns it: with the
    author's `trust`, new-member holds and the link rule apply as they will on posting (a
    preview that says "publish" for a post that is then refused is worse than none).
    Markdown and bleach are CPU work, so they run on a worker thread, never on the loop."""
    # Not check_text: a preview decides nothing, so it is not counted as a decision.
    run = functools.partial(_decide, text, ContentKind.POST, policy, region=region, trust=trust)
    decision = await anyio.to_thread.run_sync(run)
    body: dict = {"html": decision.html, "decision": decision.action.value}
    if decision.reason:
        body["reason"] = {"code": decision.reason.code, "message": decision.reason.message}
    if decision.notice:
        body["notice"] = decision.notice
    return body


async def is_moderator(s: AsyncSession, member: Member | None, community_id: int) -> bool:
    """Admins moderate everywhere; moderators where they are appointed. The same check
    guards pages, the JSON API and chat frames."""
    return await can_moderate(s, member, community_id)


async def moderator_pseudonyms(s: AsyncSession) -> list[str]:
    """Every community moderator's pseudonym: identity refuses new pseudonyms that read as
    one, as it does for admins and peer supporters (kindred.app passes this in)."""
    rows = await s.exec(
        select(Member.pseudonym)
        .join(CommunityModerator, CommunityModerator.member_id == Member.id)  # type: ignore[arg-type]
        .where(Member.deleted_at.is_(None))  # type: ignore[union-attr]
        .distinct()
    )
    return list(rows)


async def moderated_community_ids(s: AsyncSession, member: Member) -> set[int]:
    rows = await s.exec(
        select(CommunityModerator.community_id).where(CommunityModerator.member_id == member.id)
    )
    return set(rows)


async def open_case_targets(s: AsyncSession, target_kind: str) -> set[int]:
    """The ids of content of one kind that a still-open case is about. Read-only: features
    that delete content on a schedule keep what a moderator may still need to see."""
    rows = await s.exec(
        select(ModerationCase.target_id).where(
            ModerationCase.target_kind == target_kind,
            ModerationCase.closed_at.is_(None),  # type: ignore[union-attr]
        )
    )
    return set(rows)


def is_crisis(decision: Decision) -> bool:
    """True when the crisis filter flagged the text: it goes to the top of the review queue."""
    return bool(decision.notice and decision.notice.get("code") == "crisis")


def crisis_why(decision: Decision) -> str | None:
    """Why the crisis filter flagged the text, for the case (peer supporters read it in the
    queue); None when it didn't, or gave no reason."""
    if not is_crisis(decision):
        return None
    return (decision.flags or {}).get("crisis") or None


def visible_text(html: str) -> str:
    """The text a reader sees in stored HTML (for search indexing and snippets)."""
    return _visible_text(html)


async def trust_for(
    s: AsyncSession,
    member: Member,
    community_id: int | None,
    settings: Settings,
    *,
    anonymous: bool | None = None,
) -> Trust:
    """The member's standing for a post (`anonymous` or named: counted apart, trust.py)."""
    return await trust_of(
        s,
        member,
        community_id,
        hold_first=settings.new_member_posts,
        link_after=settings.link_posts,
        anonymous=anonymous,
    )


_community_rules = sa.table(
    "community", sa.column("id", sa.Integer), sa.column("rules_html", sa.Text)
)


async def community_rules_html(s: AsyncSession, community_id: int | None) -> str:
    """A community's rules (sanitised HTML), shown when a member first posts or joins its
    room; reports can cite them."""
    if community_id is None:
        return ""
    row = (
        await s.exec(
            sa.select(_community_rules.c.rules_html).where(_community_rules.c.id == community_id)
        )
    ).first()
    return row[0] if row else ""
