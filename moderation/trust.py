"""New-member trust: how much standing a member has, and what that allows.

Levels (documented for members and moderators in docs/moderators.md):
- **new** — fewer than 2 (KINDRED_NEW_MEMBER_POSTS) posts in this community, published
  or still waiting for a moderator (one a moderator rejected doesn't count): posts are held
  for a moderator. The hold is on the first posts a member submits, so a slow queue never
  holds a third.
- **links** — links are refused until a member has 3 (KINDRED_LINK_POSTS) published posts
  anywhere on Kindred and a day-old account (spam and grooming both start with a link).
- **established** — past the link rule (a day-old account with 3 published posts) and no
  sanction in the last 90 days: their reports count towards hiding content. Reports from
  anyone newer still reach the review queue but weigh nothing, so accounts made to hide
  someone's posts can't do it.
- **trusted** — 20 published posts, 30 days, and no sanction in the last 90 days: their
  reports weigh double towards hiding content.
Standing relaxes by itself as a member takes part without being sanctioned.

What counts as a published post is each surface's own: forum (posts) and chat (messages
in a community's rooms) count their own through the ModerationRegistry (targets.py), and
trust adds them up (moderation never imports either).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import utcnow
from core.i18n import N_, gettext
from identity.models import Member
from moderation.content import Action, ContentKind, Filter, FilterInput, FilterResult, Reason
from moderation.models import Sanction
from moderation.targets import ModerationRegistry

LINK_AGE = timedelta(days=1)
TRUSTED_POSTS = 20
TRUSTED_AGE = timedelta(days=30)


@dataclass(frozen=True)
class Trust:
    posts_here: int
    posts_anywhere: int
    account_age: timedelta
    recently_sanctioned: bool
    staff: bool = False
    hold_first: int = 2  # KINDRED_NEW_MEMBER_POSTS
    link_after: int = 3  # KINDRED_LINK_POSTS

    @property
    def new_here(self) -> bool:
        return not self.staff and self.posts_here < self.hold_first

    @property
    def may_link(self) -> bool:
        if self.staff or self.link_after == 0:
            return True
        return self.posts_anywhere >= self.link_after and self.account_age >= LINK_AGE

    @property
    def established(self) -> bool:
        # The account age holds even where the link rule is off (KINDRED_LINK_POSTS=0):
        # turning links on for everyone must not let a fresh account's report hide content.
        return self.staff or (
            self.account_age >= LINK_AGE
            and self.posts_anywhere >= self.link_after
            and not self.recently_sanctioned
        )

    @property
    def trusted(self) -> bool:
        return self.staff or (
            self.posts_anywhere >= TRUSTED_POSTS
            and self.account_age >= TRUSTED_AGE
            and not self.recently_sanctioned
        )


async def trust_of(
    s: AsyncSession,
    registry: ModerationRegistry,
    member: Member,
    community_id: int | None,
    *,
    hold_first: int = 2,
    link_after: int = 3,
    anonymous: bool | None = None,
) -> Trust:
    """`anonymous`: whether the post being judged is anonymous. Its `posts_here` then counts
    only the member's posts of the same kind: whether a post waits for a moderator is seen by
    everyone, so counting named posts for an anonymous one (or the other way round) would
    tell them that its author has posts of the other kind here."""
    # No level asks for more than this many posts: counting further only costs time.
    enough = max(TRUSTED_POSTS, hold_first, link_after)
    assert member.id is not None
    anywhere = await registry.published_count(s, member.id, None, limit=enough)
    here = 0
    if community_id is not None:
        here = await registry.published_count(
            s, member.id, community_id, anonymous=anonymous, limit=enough
        )
    since = utcnow() - timedelta(days=90)
    sanctioned = (
        await s.exec(
            select(Sanction.id).where(Sanction.member_id == member.id, Sanction.starts_at >= since)
        )
    ).first() is not None
    staff = member.is_admin or member.is_peer_supporter
    age = utcnow() - member.created_at
    return Trust(here, anywhere, age, sanctioned, staff, hold_first, link_after)


async def report_weight(
    s: AsyncSession, registry: ModerationRegistry, reporter: Member, *, link_after: int = 3
) -> int:
    """How much a report counts towards hiding content before a moderator looks: 2 from a
    trusted member, 1 from an established one, 0 from anyone newer or recently sanctioned."""
    trust = await trust_of(s, registry, reporter, None, link_after=link_after)
    if trust.trusted:
        return 2
    return 1 if trust.established else 0


def has_links(item: FilterInput) -> bool:
    """Whether the words hold a link the link rule is about. An e-mail address (which
    linkify turns into a mailto: link) is contact details, not a link: the contact filter
    holds or refuses it with that reason, as the community's policy says."""
    return any(not t.strip().casefold().startswith("mailto:") for t in item.link_targets)


def link_filter(trust: Trust) -> Filter:
    """Refuse links (not e-mail addresses: see has_links) until the author has standing."""

    def check(item: FilterInput) -> FilterResult | None:
        if item.kind is ContentKind.TITLE or trust.may_link or not has_links(item):
            return None
        return FilterResult(
            Action.REFUSE,
            Reason(
                "links_not_allowed",
                gettext(
                    "New members can't post links yet — it keeps spam and scams out. Take the "
                    "link out (you can describe where to find it) and send again. Links open "
                    "up once you've taken part for a little while."
                ),
            ),
        )

    return check


NEW_MEMBER = "new_member"  # the reason code of a hold for nothing but being new


def new_member_filter(trust: Trust) -> Filter:
    """Hold a new member's first posts in a community. Its reason, `new_member`, means held
    for nothing but being new: policy.judge runs it after every content filter."""

    def check(item: FilterInput) -> FilterResult | None:
        if trust.new_here and item.kind in _HELD_WHILE_NEW:
            return FilterResult(
                Action.HOLD, Reason(NEW_MEMBER, gettext(_HELD_WHILE_NEW[item.kind]))
            )
        return None

    return check


# Marked here, translated as each text is judged (the member's language).
_HELD_WHILE_NEW = {
    ContentKind.POST: N_(
        "Welcome! Your first posts in each community are read by a moderator before they "
        "appear — usually within a few hours. You'll get a notification when it's up."
    ),
    ContentKind.CHAT: N_(
        "Welcome! Your first messages in this community are read by a moderator before "
        "others see them, so this one is waiting. After your first couple, your messages "
        "appear straight away."
    ),
}
