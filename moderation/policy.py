"""A community's content policy, and the pipeline run under it.

What the pipeline does in a community (contact policy, crisis action and sensitivity,
watched words) lives in moderation's own tables; a community that never changed it has the
defaults. `vet` (vetting.py) is the one caller outside tests and the preview: it loads the
policy and the author's trust in one read, then runs `check_text` off the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, replace

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.context import AppContext
from core.db import utcnow
from core.errors import Refusal
from core.i18n import gettext
from identity.models import Member
from moderation.contact import contact_filter
from moderation.content import (
    Content,
    ContentKind,
    ContentPolicy,
    Decision,
    Filter,
    WatchedWord,
)
from moderation.crisis import SENSITIVITY as CRISIS_SENSITIVITIES
from moderation.crisis import crisis_filter
from moderation.crisis.resources import crisis_resources
from moderation.models import CommunityPolicyEntry, WatchedWordEntry
from moderation.pipeline import moderate
from moderation.trust import Trust, link_filter, new_member_filter, trust_of
from moderation.watched import watched_words_filter

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


CONTACT_POLICIES = ("hold", "refuse", "allow")
CRISIS_ACTIONS = ("publish", "hold")


async def load(s: AsyncSession, community_id: int | None) -> CommunityPolicy:
    if community_id is None:
        return CommunityPolicy()
    row = await s.get(CommunityPolicyEntry, community_id)
    words = await s.exec(
        select(WatchedWordEntry).where(WatchedWordEntry.community_id == community_id)
    )
    watched = tuple(
        WatchedWord(w.pattern, w.action, w.replacement)  # type: ignore[arg-type]
        for w in words
    )
    if row is None:  # never changed: the defaults
        return CommunityPolicy(community_id, watched)
    return CommunityPolicy(
        community_id, watched, row.contact_policy, row.crisis_action, row.crisis_sensitivity
    )


async def set_policy(
    s: AsyncSession,
    community_id: int,
    *,
    contact_policy: str = "hold",
    crisis_action: str = "publish",
    crisis_sensitivity: str = "standard",
) -> None:
    """Store what the pipeline does in a community (the settings page, the demo and tests
    all set it here). Refuses a value the pipeline doesn't know, storing nothing."""
    if (
        contact_policy not in CONTACT_POLICIES
        or crisis_action not in CRISIS_ACTIONS
        or crisis_sensitivity not in CRISIS_SENSITIVITIES
    ):
        raise Refusal("invalid", gettext("Choose one of the listed options."))
    row = await s.get(CommunityPolicyEntry, community_id) or CommunityPolicyEntry(
        community_id=community_id
    )
    row.contact_policy = contact_policy
    row.crisis_action = crisis_action
    row.crisis_sensitivity = crisis_sensitivity
    s.add(row)


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
    decision = judge(text, kind, policy, max_chars=max_chars, region=region, trust=trust)
    if (observe := decision_observer.get()) is not None:
        observe(kind, decision)
    return decision


def judge(
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
    # Contact details before the link rule: of two refusals the first one's reason is kept,
    # and "that's an e-mail address" says more than "no links yet" (the link rule leaves
    # e-mail addresses to this filter: trust.has_links).
    if policy.contact_policy != "allow":
        filters.append(contact_filter(policy.contact_policy))  # type: ignore[arg-type]
    if trust is not None:
        filters.append(link_filter(trust))
    if kind is not ContentKind.TITLE:
        filters.append(
            crisis_filter(
                lambda: crisis_resources(region),
                policy.crisis_action,  # type: ignore[arg-type]
                sensitivity=policy.crisis_sensitivity,
                phrases=policy.watched_words,
            )
        )
    if trust is not None:
        # Last: of two holds the first one's reason is kept, so a post held for what it
        # says is never filed as "held only because its author is new" (the review queue
        # proposes no sanction for that one).
        filters.append(new_member_filter(trust))
    content = Content(
        text, kind, ContentPolicy(max_chars=limit, watched_words=policy.watched_words)
    )
    return moderate(content, filters)


async def trust(
    s: AsyncSession,
    member: Member,
    community_id: int | None,
    ctx: AppContext,
    *,
    anonymous: bool | None = None,
) -> Trust:
    """The member's standing for a post (`anonymous` or named: counted apart, trust.py),
    from what they have published on every surface that registered its content."""
    return await trust_of(
        s,
        ctx.extensions["moderation"],
        member,
        community_id,
        hold_first=ctx.settings.new_member_posts,
        link_after=ctx.settings.link_posts,
        anonymous=anonymous,
    )


# Members past both posting rules in a community, per app (ctx.extensions): counts only grow
# as people take part, so once a member is through, later words need no counting. Bounded:
# the oldest entries go first.
_SETTLED = "moderation_settled"
_SETTLED_MAX = 50_000


async def posting_trust(
    s: AsyncSession,
    member: Member,
    community_id: int,
    ctx: AppContext,
    *,
    anonymous: bool,
) -> Trust:
    """Only what posting asks of trust: the new-member hold and the link rule (vetting.py).
    Cheaper than `trust`, which report weights need too: no sanction lookup, counts stop at
    the larger threshold, nothing is counted for staff or where both rules are off, and a
    member already past both is remembered."""
    hold_first, link_after = ctx.settings.new_member_posts, ctx.settings.link_posts
    age = utcnow() - member.created_at
    staff = member.is_admin or member.is_peer_supporter
    if staff or (hold_first == 0 and link_after == 0):
        return Trust(0, 0, age, False, staff, hold_first, link_after)
    settled: dict = ctx.extensions.setdefault(_SETTLED, {})
    key = (member.id, community_id, anonymous)
    if key in settled:
        return Trust(hold_first, link_after, age, False, False, hold_first, link_after)
    registry = ctx.extensions["moderation"]
    enough = max(hold_first, link_after)
    assert member.id is not None
    here = anywhere = 0
    if hold_first:
        here = await registry.published_count(
            s, member.id, community_id, anonymous=anonymous, limit=enough
        )
    if link_after:
        anywhere = await registry.published_count(s, member.id, None, limit=enough)
    found = Trust(here, anywhere, age, False, False, hold_first, link_after)
    if not found.new_here and found.may_link:
        # Remembered only on published counts: a rejection can't take those back.
        if len(settled) >= _SETTLED_MAX:
            settled.pop(next(iter(settled)))
        settled[key] = True
    elif found.new_here:
        # The hold is on the first N posts a member *submits* here, not the first N a
        # moderator gets round to: those still waiting count too, so the next one isn't
        # held only because the queue is slow. A rejected one is removed and counts no more
        # (which is why this count is never remembered in `settled`).
        submitted = await registry.published_count(
            s, member.id, community_id, anonymous=anonymous, limit=hold_first, waiting=True
        )
        found = replace(found, posts_here=submitted)
    return found
