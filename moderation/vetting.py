"""One way in for every member's words: `vet`.

Forum threads, replies and edits, chat rooms, group-session rooms and pins, support notes,
reports' notes: each surface hands what a member wrote to `vet` with a `Place` (which
surface, in which community, named or anonymous), and gets back one `Verdict`. The steps
run in one fixed order, whatever the surface:

1. **standing**: a ban or suspension stops everything; a chat mute stops what the surface
   declares it stops; then the place's own rules (a locked room, slow mode, the floor);
2. **policy**: the community's contact policy, crisis action and watched words (read once
   per process and kept until it changes: moderation/policy_cache.py);
3. **trust**: the new-member hold and the link rule, where the surface declares them;
4. **rate limit**: one attempt counted, before any CPU is spent on the words;
5. **the pipeline** (moderation/pipeline.py): limits, Markdown, bleach, filters, off the
   event loop (it is CPU work);
6. **the verdict**: publish, hold (the member is told, moderators see it in the queue), or
   refuse with a reason the member can act on.

Where a surface must differ it says so in its `Surface` below (a declared parameter, never
a copy of this code): a 1:1 support conversation, which no moderator reads before the
supporter does, refuses what elsewhere would be held; a session summary, a record others
keep, refuses crisis details. Adding a surface is adding a `Surface` and calling `vet`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import anyio.to_thread
from sqlmodel.ext.asyncio.session import AsyncSession

from core.context import AppContext
from core.errors import Refusal
from core.i18n import N_, gettext, ngettext
from identity.models import Member
from moderation import policy as policies
from moderation.content import Action, ContentKind, Decision, Outcome, Reason, noun
from moderation.crisis import CRISIS_CODE, held_notice, passed_on
from moderation.crisis.resources import crisis_resources
from moderation.policy_cache import policy_cache
from moderation.standing import standing
from moderation.trust import NEW_MEMBER, Trust

# The part of a text that is a title, when a surface vets several parts at once.
TITLE = "title"


@dataclass(frozen=True)
class Surface:
    """What one kind of place declares about the words written there."""

    name: str  # "forum post": in metrics, logs and docs/architecture.md
    kind: ContentKind
    max_chars: int
    field: str = "body"  # the form field a refusal points at
    # A core/ratelimit action: one attempt is counted per vet, before the pipeline runs.
    rate_limit: str | None = None
    # Sanctions: a ban or a suspension stops words wherever `sanctions`; a chat mute only
    # where `mutes`. Not for words only moderators read (a report, feedback on a
    # conversation): a sanction must never stop someone telling them something is wrong.
    sanctions: bool = True
    mutes: bool = False
    # The new-member hold: a member's first posts in a community wait for a moderator.
    new_member_hold: bool = False
    # The link rule: no links from accounts without standing yet (spam and grooming both
    # start with a link).
    link_rule: bool = False
    # False where nobody can review words before they are read (a 1:1 conversation, a pin):
    # what would be held is refused instead, with a reason the member can act on.
    reviewed: bool = True
    # "policy": the community's crisis action. "let_through": never held, whatever the
    # community says (a peer supporter reads it now, and holding it would silence someone
    # asking for help). "refuse": not in a record others keep.
    crisis: Literal["policy", "let_through", "refuse"] = "policy"
    # Said to a member turned away by a sanction: where else to find help (someone asking
    # for support must never be left with nothing).
    resources_on_refusal: bool = False
    # What a refusal of crisis details says, where `crisis` is "refuse" (marked with N_ where
    # declared, translated when said).
    crisis_refusal: str = ""
    # How the member's words are named in what vet itself says ("note", "pseudonym"); the
    # kind's noun ("post", "message") when empty.
    noun: str = ""


FORUM_POST = Surface(
    "forum post",
    ContentKind.POST,
    20_000,
    rate_limit="post",
    new_member_hold=True,
    link_rule=True,
)
# An edit is not a new post: no hold for being new, and not counted, but no new links.
FORUM_EDIT = Surface("forum edit", ContentKind.POST, 20_000, link_rule=True)
CHAT_ROOM = Surface(
    "chat message",
    ContentKind.CHAT,
    4_000,
    rate_limit="chat_send",
    mutes=True,
    new_member_hold=True,
    link_rule=True,
)
# The facilitator lets each member in: no new-member hold in a session's room.
SESSION_ROOM = Surface(
    "group-session message",
    ContentKind.CHAT,
    4_000,
    rate_limit="chat_send",
    mutes=True,
    link_rule=True,
)
SESSION_PIN = Surface("pinned message", ContentKind.CHAT, 500, field="text", reviewed=False)
SESSION_DETAILS = Surface(
    "group-session details", ContentKind.POST, 4_000, field="description", reviewed=False
)
SESSION_SUMMARY = Surface(
    "session summary",
    ContentKind.NOTE,
    4_000,
    field="text",
    reviewed=False,
    crisis="refuse",
    crisis_refusal=N_(
        "The summary can't include anything about a person in crisis: it's kept as a "
        "record. Please take that part out and save it again. Your text is kept."
    ),
)
SUPPORT_NOTE = Surface(
    "support request note",
    ContentKind.NOTE,
    1_000,
    field="note",
    reviewed=False,
    crisis="let_through",
    resources_on_refusal=True,
)
SUPPORT_ROOM = Surface(
    "support conversation message",
    ContentKind.CHAT,
    4_000,
    rate_limit="chat_send",
    link_rule=True,
    reviewed=False,
    crisis="let_through",
)
SUPPORT_FEEDBACK = Surface(
    "support feedback",
    ContentKind.NOTE,
    2_000,
    field="note",
    sanctions=False,
    reviewed=False,
    crisis="let_through",
)
REPORT_NOTE = Surface(
    "report note",
    ContentKind.NOTE,
    2_000,
    field="note",
    sanctions=False,
    reviewed=False,
    crisis="let_through",
)
# An entry for a community's resource directory: a member's suggestion (always kept for
# the community's moderators to check, whatever the verdict) or a moderator's own entry.
# Its name and description are vetted; its link and phone number are checked as data
# (forum/resources.py), never rendered from the text.
RESOURCE_ENTRY = Surface(
    "resource entry",
    ContentKind.NOTE,
    400,
    field="description",
    rate_limit="post",
    noun="suggestion",
)
COMMUNITY_RULES = Surface("community rules", ContentKind.POST, 20_000, field="rules")
# A label on a community's list of lived experiences ("lost a parent"), written by its
# moderators and read by every member who records theirs. Nobody reviews it before it is
# listed, so what would be held is refused with the reason.
EXPERIENCE_LABEL = Surface(
    "experience label",
    ContentKind.TITLE,
    60,
    field="label",
    reviewed=False,
    crisis="let_through",
    noun="label",
)
# A private thank-you to a helper: one person reads it, but only after this pipeline, so
# what would be held waits for a moderator like a post (the sender is told).
THANKS_NOTE = Surface(
    "thank-you note", ContentKind.NOTE, 500, field="note", rate_limit="thanks", link_rule=True
)
# A pseudonym, checked as identity chooses it (at sign-up, before the account exists, so no
# sanctions and no author). Nobody reviews a name before others see it: what would be held
# (contact details) is refused with the reason. Identity keeps its own form of the name;
# only the verdict is used (kindred.app registers the check).
PSEUDONYM = Surface(
    "pseudonym",
    ContentKind.PROFILE,
    40,
    field="pseudonym",
    sanctions=False,
    reviewed=False,
    crisis="let_through",
    noun="pseudonym",
)

SURFACES = (
    FORUM_POST,
    FORUM_EDIT,
    CHAT_ROOM,
    SESSION_ROOM,
    SESSION_PIN,
    SESSION_DETAILS,
    SESSION_SUMMARY,
    SUPPORT_NOTE,
    SUPPORT_ROOM,
    SUPPORT_FEEDBACK,
    REPORT_NOTE,
    RESOURCE_ENTRY,
    COMMUNITY_RULES,
    EXPERIENCE_LABEL,
    THANKS_NOTE,
    PSEUDONYM,
)


@dataclass(frozen=True)
class Place:
    """Where a member's words are going: a surface, in a community (None: site-wide)."""

    surface: Surface
    community_id: int | None
    # Anonymous posts are counted apart from named ones (trust and rate limits): one count
    # holding both would tie an anonymous post to its author's named ones.
    anonymous: bool = False
    max_chars: int | None = None  # a tighter limit than the surface's, if any
    # The place's own rules (a locked room, slow mode, a session's floor), asked right after
    # the member's standing, in the same read; they raise Refusal. The pipeline's rules are
    # the same everywhere; these are what makes a place itself.
    rules: Callable[[AsyncSession], Awaitable[None]] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Verdict(Outcome):
    """What happens to a member's words: one type, whatever the surface.

    `parts` holds the pipeline's decision for each part vetted (`body`, `title`…); a
    refusal before the pipeline (a sanction, the rate limit) has no parts."""

    place: Place
    action: Action
    reason: Reason | None = None
    parts: Mapping[str, Decision] = field(default_factory=dict)
    notice: dict[str, Any] | None = None
    status: int = 200
    retry_after: int | None = None
    part: str | None = None  # the part a refusal or hold is about

    def __getitem__(self, part: str) -> Decision:
        return self.parts[part]

    @property
    def main(self) -> Decision:
        """The decision on the text itself (not its title)."""
        body = [d for name, d in self.parts.items() if name != TITLE]
        return body[0] if body else next(iter(self.parts.values()))

    @property
    def text(self) -> str:
        return self.main.text

    @property
    def html(self) -> str:
        return self.main.html

    @property
    def crisis(self) -> bool:
        """The crisis filter flagged the words: resources for the author, and the case goes
        to the top of the review queue."""
        return any(d.notice and d.notice.get("code") == "crisis" for d in self.parts.values())

    @property
    def crisis_why(self) -> str | None:
        """Why the crisis filter flagged the words, for peer supporters (never the author)."""
        for decision in self.parts.values():
            if decision.notice and decision.notice.get("code") == "crisis":
                return (decision.flags or {}).get("crisis") or None
        return None

    def refusal(self, *, draft: str = "") -> Refusal:
        """The one error type, for a refused verdict: every field the member needs."""
        assert self.reason is not None, "only a refused verdict has a refusal"
        field_name = self.part if self.part and self.part != "text" else self.place.surface.field
        return Refusal(
            self.reason.code,
            self.reason.message,
            status=self.status if self.status >= 400 else 422,
            field=field_name,
            retry_after=self.retry_after,
            notice=self.notice,
            draft=draft,
        )


async def vet(
    ctx: AppContext,
    author: Member | None,
    place: Place,
    text: str | Mapping[str, str],
    *,
    region: str | None = None,
    preview: bool = False,
) -> Verdict:
    """Standing, policy, trust, rate limit, the pipeline and the verdict, in that order.

    `text` is one text, or several parts of one piece (a thread's `title` and `body`): they
    are judged together, counted once, and the verdict is the strictest of theirs. `region`
    picks the crisis helplines shown with the verdict (the member's country). A `preview`
    (`author` None for a visitor) counts nothing: no rate limit, no decision metrics."""
    surface = place.surface
    parts = {surface.field: text} if isinstance(text, str) else dict(text)
    trust = None
    async with ctx.db.read() as s:
        if author is not None and surface.sanctions:
            now = await standing(s, author.id, place.community_id)  # type: ignore[arg-type]
            if refusal := now.refusal(mutes=surface.mutes):
                notice = _resources(region) if surface.resources_on_refusal else None
                return Verdict(place, Action.REFUSE, Reason(*refusal), notice=notice, status=403)
        if place.rules is not None and not preview:
            await place.rules(s)
        policy = await policy_cache(ctx).load(s, place.community_id)  # kept till it changes
        newcomers = surface.new_member_hold or surface.link_rule
        if author is not None and newcomers and place.community_id is not None:
            trust = await policies.posting_trust(
                s, author, place.community_id, ctx, anonymous=place.anonymous
            )
            if not surface.new_member_hold:
                trust = replace(trust, hold_first=0)
    counts = author is not None and surface.rate_limit is not None and not preview
    if counts and (
        blocked := await ctx.rate_limits.hit(surface.rate_limit, _rate_key(author, place))
    ):
        return Verdict(
            place,
            Action.REFUSE,
            Reason("rate_limited", _slow_down(surface, blocked.retry_after)),
            status=429,
            retry_after=blocked.retry_after,
        )
    judge = functools.partial(
        _judge,
        parts,
        surface,
        _as_declared(policy, surface),
        place.max_chars,
        region=region,
        trust=trust,
        counted=not preview,
    )
    return _verdict(place, await anyio.to_thread.run_sync(judge))


def _judge(
    parts: Mapping[str, str],
    surface: Surface,
    policy: policies.CommunityPolicy,
    max_chars: int | None,
    *,
    region: str | None,
    trust: Trust | None,
    counted: bool,
) -> dict[str, Decision]:
    check = policies.check_text if counted else policies.judge
    decisions = {}
    for name, text in parts.items():
        kind = ContentKind.TITLE if name == TITLE else surface.kind
        limit = None if kind is ContentKind.TITLE else (max_chars or surface.max_chars)
        decisions[name] = check(text, kind, policy, max_chars=limit, region=region, trust=trust)
    return decisions


def _as_declared(policy: policies.CommunityPolicy, surface: Surface) -> policies.CommunityPolicy:
    if surface.crisis == "let_through":
        return replace(policy, crisis_action="publish")
    if surface.crisis == "refuse":
        return replace(policy, crisis_action="hold")
    return policy


def _verdict(place: Place, decisions: dict[str, Decision]) -> Verdict:
    """The strictest part decides; a hold where nobody reviews becomes a refusal."""
    surface = place.surface
    order = {Action.REFUSE: 2, Action.HOLD: 1, Action.PUBLISH: 0}
    name, worst = max(decisions.items(), key=lambda item: order[item[1].action])
    notice = next((d.notice for d in decisions.values() if d.notice), None)
    if worst.refused:
        reason = worst.reason
        if not surface.reviewed and reason is not None:  # said where the form stays open
            kept = gettext("Your text is kept.")
            reason = Reason(reason.code, f"{reason.message} {kept}")
        return Verdict(place, Action.REFUSE, reason, decisions, notice, 422, part=name)
    if worst.held and not surface.reviewed:
        reason = _unreviewed(worst.reason, surface)
        notice = notice if reason.code == "crisis" or surface.crisis == "let_through" else None
        return Verdict(place, Action.REFUSE, reason, decisions, notice, 422, part=name)
    if worst.held:
        reason = worst.reason
        if notice and notice.get("code") == CRISIS_CODE:
            notice = held_notice(notice, surface.kind)  # never "your post is up" when held
            if reason is not None and reason.code == NEW_MEMBER:  # not "Welcome!" in crisis
                reason = Reason(reason.code, passed_on(surface.kind))
        return Verdict(place, Action.HOLD, reason, decisions, notice, 202, part=name)
    return Verdict(place, Action.PUBLISH, None, decisions, notice)


# Whole sentences for each name a surface gives the words where nobody reviews them (see
# `Surface.noun`), translated when said; any other name is said in English.
_CONTACT_UNREVIEWED = {
    "message": N_(
        "Your message looks like it includes contact details (a phone number, email, address or "
        "social media account). They can't be shared here: sharing them can make you "
        "identifiable. Please remove them and send it again. Your text is kept."
    ),
    "post": N_(
        "Your post looks like it includes contact details (a phone number, email, address or "
        "social media account). They can't be shared here: sharing them can make you "
        "identifiable. Please remove them and send it again. Your text is kept."
    ),
    "note": N_(
        "Your note looks like it includes contact details (a phone number, email, address or "
        "social media account). They can't be shared here: sharing them can make you "
        "identifiable. Please remove them and send it again. Your text is kept."
    ),
    "label": N_(
        "Your label looks like it includes contact details (a phone number, email, address or "
        "social media account). They can't be shared here: sharing them can make you "
        "identifiable. Please remove them and send it again. Your text is kept."
    ),
    "pseudonym": N_(
        "Your pseudonym looks like it includes contact details (a phone number, email, address or "
        "social media account). They can't be shared here: sharing them can make you "
        "identifiable. Please remove them and send it again. Your text is kept."
    ),
}
_WATCHED_UNREVIEWED = {
    "message": N_(
        "Your message contains words this community asks moderators to check first, and nobody "
        "can check a message here before it's read. Please reword it and send it again. Your "
        "text is kept."
    ),
    "post": N_(
        "Your post contains words this community asks moderators to check first, and nobody "
        "can check a post here before it's read. Please reword it and send it again. Your "
        "text is kept."
    ),
    "note": N_(
        "Your note contains words this community asks moderators to check first, and nobody "
        "can check a note here before it's read. Please reword it and send it again. Your "
        "text is kept."
    ),
    "label": N_(
        "Your label contains words this community asks moderators to check first, and nobody "
        "can check a label here before it's read. Please reword it and send it again. Your "
        "text is kept."
    ),
    "pseudonym": N_(
        "Your pseudonym contains words this community asks moderators to check first, and nobody "
        "can check a pseudonym here before it's read. Please reword it and send it again. Your "
        "text is kept."
    ),
}


def _unreviewed(reason: Reason | None, surface: Surface) -> Reason:
    """Why words that would wait for a moderator can't be sent where nobody reviews them."""
    code = reason.code if reason else "held"
    named = surface.noun or noun(surface.kind)
    if code == "contact_details":
        message = (
            gettext(_CONTACT_UNREVIEWED[named])
            if named in _CONTACT_UNREVIEWED
            else (
                f"Your {named} looks like it includes contact details (a phone number, email, "
                "address or social media account). They can't be shared here: sharing them can "
                "make you identifiable. Please remove them and send it again. Your text is kept."
            )
        )
    elif code == "crisis" and surface.crisis_refusal:
        message = gettext(surface.crisis_refusal)
    elif code == "watched_word":
        message = (
            gettext(_WATCHED_UNREVIEWED[named])
            if named in _WATCHED_UNREVIEWED
            else (
                f"Your {named} contains words this community asks moderators to check first, "
                f"and nobody can check a {named} here before it's read. Please reword it and "
                "send it again. Your text is kept."
            )
        )
    else:
        kept = gettext("Your text is kept.")
        message = f"{reason.message if reason else ''} {kept}".strip()
    return Reason(code, message)


def _rate_key(author: Member, place: Place) -> str:
    return f"m:{author.id}" + (":anonymous" if place.anonymous else "")


def _slow_down(surface: Surface, seconds: int) -> str:
    wait = wait_words(seconds)
    if surface.kind is ContentKind.CHAT:
        said = gettext(
            "You're sending messages faster than we allow. Please wait %(wait)s and send it "
            "again — your text is kept."
        )
    else:
        said = gettext(
            "You're posting faster than we allow. Please wait %(wait)s and send it again — "
            "your text is kept."
        )
    return said % {"wait": wait}


def wait_words(seconds: int) -> str:
    """How long to wait, rounded up, in the member's language: "3 minutes"."""
    if seconds >= 3600:
        count = -(-seconds // 3600)  # round up: never tell someone to come back too early
        return ngettext("%(num)d hour", "%(num)d hours", count) % {"num": count}
    if seconds >= 60:
        count = -(-seconds // 60)
        return ngettext("%(num)d minute", "%(num)d minutes", count) % {"num": count}
    return ngettext("%(num)d second", "%(num)d seconds", seconds) % {"num": seconds}


def _resources(region: str | None) -> dict[str, Any]:
    return {"code": "resources", "resources": crisis_resources(region)}
