"""Contact details in member text: phone numbers, email addresses, street addresses and
social-media accounts.

Kindred is anonymous on purpose. A member who posts their number or their Snapchat can be
found, and "add me on WhatsApp" is how grooming, stalking and scams usually move somewhere we
can't see. So by default such a post is held for a moderator (not refused: the member may not
realise, and a person can judge a false alarm), with a calm message that says why.

Detection is deliberately heuristic and errs towards holding when unsure, because a hold
costs a short wait while a missed number can cost someone their safety. What must *not* be
held is ordinary recovery talk full of numbers (dates, "day 45", "50mg", "£1,200", "18 months
clean") and public crisis lines (Samaritans 116 123, 988, text SHOUT to 85258): members
pointing each other to help is exactly what we want.

Each kind has its module (phones, assembled, emails, addresses, social; helplines lists the
public lines). Most text holds no contact details, so each finder first asks the text's
`Clues` (worked out once per text: its words, its digits, a few cheap searches) whether it
could match at all, and returns at once when it couldn't.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Literal

from core.i18n import N_, gettext
from moderation.contact.addresses import find_addresses
from moderation.contact.assembled import find_assembled_phones
from moderation.contact.clues import Clues
from moderation.contact.emails import find_disguised_emails, find_emails
from moderation.contact.helplines import HELPLINE_NUMBERS, mask_helplines
from moderation.contact.matches import ContactMatch
from moderation.contact.phones import find_lookalike_phones, find_phones
from moderation.contact.social import find_reddit_users, find_social
from moderation.contact.spanish import find_spanish_contact
from moderation.content import (
    Action,
    ContentKind,
    Filter,
    FilterInput,
    FilterResult,
    Reason,
)
from moderation.language import mostly_spanish
from moderation.text import normalise
from moderation.textmodel import Chunk, LinearTextModel

__all__ = [
    "HELPLINE_NUMBERS",
    "ContactMatch",
    "contact_filter",
    "find_by_model",
    "find_by_rules",
    "find_contact_details",
]

Finder = Callable[[str, Clues], Iterator[ContactMatch]]

FINDERS: tuple[Finder, ...] = (
    find_phones,
    find_assembled_phones,
    find_lookalike_phones,
    find_emails,
    find_disguised_emails,
    find_addresses,
    find_social,
    find_reddit_users,
    find_spanish_contact,
)
# The finders that can find something in a text's lower-cased form but not in the text
# itself: look-alike capitals ("O77OO"; the Spanish finder reads "B" as 8 but not "b", so
# "7B 900 900 5O3" and "7b 900 900 5o3" are different numbers to it), a case-sensitive
# "(at)" hint, "u/". Every other
# finder reads upper and lower case alike (IGNORECASE patterns, casefolded comparisons), or
# (addresses) finds in lower case only what it finds with the capitals too.
CASE_SENSITIVE_FINDERS: tuple[Finder, ...] = (
    find_lookalike_phones,
    find_disguised_emails,
    find_reddit_users,
    find_spanish_contact,
)


def find_by_rules(text: str) -> bool:
    """True when the rules find contact details in `text` as typed or as a reader sees it."""
    return any(_finds_any(*look) for look in _looks(text, text))


def find_contact_details(text: str) -> list[ContactMatch]:
    """Every phone number, email address, street address or social-media account found in
    `text`, in order of position (matches of different kinds may overlap)."""
    clues = Clues(text)
    matches = {match for finder in FINDERS for match in finder(text, clues)}
    return sorted(matches, key=lambda m: (m.span, m.kind))


_MODEL_PATH = Path(__file__).parent.parent / "data" / "contact_model.json.gz"


@cache
def _model() -> LinearTextModel:
    return LinearTextModel.load(_MODEL_PATH)


# The model learned English lines; on a text in Spanish its words are mostly noise ("me
# encontró en Facebook" scores 7), so there it flags only what it is very sure of, and the
# Spanish rules (spanish.py) do the rest.
SPANISH_MARGIN = 6.0


def find_by_model(text: str) -> Chunk | None:
    """The chunk of `text` the statistical model reads as sharing contact details, if any:
    what the rules can't spell out ("same name as here, the google one", "flat above the
    chippy on Stephenson Road"). See moderation.textmodel and `make model`."""
    model = _model()
    text = mask_helplines(text)
    found = model.flags(text)
    if found is None or not mostly_spanish(text):
        return found
    best = max(model.scored_chunks(text), key=lambda chunk: chunk.score)
    return best if best.score >= model.threshold + SPANISH_MARGIN else None


def _finds_any(text: str, clues: Clues, finders: tuple[Finder, ...]) -> bool:
    for finder in finders:
        for _ in finder(text, clues):
            return True
    return False


Look = tuple[str, Clues, tuple[Finder, ...]]


def _looks(typed: str, seen: str) -> Iterator[Look]:
    """The texts to search, each with its clues and the finders it needs: the source as
    typed, then what a reader sees (`seen`, normalised), unless that is the source again or
    only its lower-case form, which only the case-sensitive finders could read differently."""
    clues = Clues(typed)
    yield typed, clues, FINDERS
    # For ASCII text, normalise() is str.lower(), without its per-character loop.
    read = seen.lower() if seen.isascii() else normalise(seen)
    if read == typed:
        return
    if read.encode() == typed.encode().lower():  # ASCII letters lower-cased, nothing else
        yield read, clues.lowered(read), CASE_SENSITIVE_FINDERS
    else:
        yield read, Clues(read), FINDERS


def _haystacks(item: FilterInput) -> Iterator[Look]:
    # The source, as typed, and what readers see: entities decoded ("jane&#64;gmail.com"),
    # Markdown gone ("0770**0** 900123") and NFKC applied (full-width digits, "＠"),
    # invisible characters dropped ("07700\u200b900123").
    yield from _looks(item.text, item.visible_text)
    # Link targets aren't visible text but a click takes you there: "[chat](https://wa.me/…)".
    if targets := item.link_targets:
        linked = "\n".join(targets)
        yield linked, Clues(linked), FINDERS


def holds_by_rules(item: FilterInput) -> bool:
    """True when the rules find contact details in what the pipeline hands the filter: the
    source, what a reader sees, or a link's target."""
    return any(_finds_any(*look) for look in _haystacks(item))


# One whole sentence per kind of words, so each language can word it its own way.
_HELD: dict[ContentKind, str] = {
    ContentKind.TITLE: N_(
        "Your title looks like it includes contact details (a phone number, email, "
        "address or social media account). Sharing these can make you identifiable and "
        "open you to contact you didn't want, so a moderator will look at it before it "
        "appears. You can edit it to remove them."
    ),
    ContentKind.POST: N_(
        "Your post looks like it includes contact details (a phone number, email, "
        "address or social media account). Sharing these can make you identifiable and "
        "open you to contact you didn't want, so a moderator will look at it before it "
        "appears. You can edit it to remove them."
    ),
    ContentKind.CHAT: N_(
        "Your message looks like it includes contact details (a phone number, email, "
        "address or social media account). Sharing these can make you identifiable and "
        "open you to contact you didn't want, so a moderator will look at it before it "
        "appears. You can edit it to remove them."
    ),
    ContentKind.PROFILE: N_(
        "Your profile looks like it includes contact details (a phone number, email, "
        "address or social media account). Sharing these can make you identifiable and "
        "open you to contact you didn't want, so a moderator will look at it before it "
        "appears. You can edit it to remove them."
    ),
    ContentKind.NOTE: N_(
        "Your note looks like it includes contact details (a phone number, email, "
        "address or social media account). Sharing these can make you identifiable and "
        "open you to contact you didn't want, so a moderator will look at it before it "
        "appears. You can edit it to remove them."
    ),
}

_REFUSED: dict[ContentKind, str] = {
    ContentKind.TITLE: N_(
        "Your title looks like it includes contact details (a phone number, email, "
        "address or social media account). This community doesn't allow them, because "
        "sharing them can make you identifiable and open you to contact you didn't "
        "want. Please remove them and send it again."
    ),
    ContentKind.POST: N_(
        "Your post looks like it includes contact details (a phone number, email, "
        "address or social media account). This community doesn't allow them, because "
        "sharing them can make you identifiable and open you to contact you didn't "
        "want. Please remove them and send it again."
    ),
    ContentKind.CHAT: N_(
        "Your message looks like it includes contact details (a phone number, email, "
        "address or social media account). This community doesn't allow them, because "
        "sharing them can make you identifiable and open you to contact you didn't "
        "want. Please remove them and send it again."
    ),
    ContentKind.PROFILE: N_(
        "Your profile looks like it includes contact details (a phone number, email, "
        "address or social media account). This community doesn't allow them, because "
        "sharing them can make you identifiable and open you to contact you didn't "
        "want. Please remove them and send it again."
    ),
    ContentKind.NOTE: N_(
        "Your note looks like it includes contact details (a phone number, email, "
        "address or social media account). This community doesn't allow them, because "
        "sharing them can make you identifiable and open you to contact you didn't "
        "want. Please remove them and send it again."
    ),
}


def _hold_reason(kind: ContentKind) -> Reason:
    return Reason("contact_details", gettext(_HELD[kind]))


def _refuse_reason(kind: ContentKind) -> Reason:
    return Reason("contact_details", gettext(_REFUSED[kind]))


def contact_filter(action: Literal["hold", "refuse", "allow"] = "hold") -> Filter:
    """A pipeline filter that holds (or refuses) content containing contact details.

    "allow" gives a filter that never acts, so callers can build the list the same way for
    every community setting.
    """
    if action not in ("hold", "refuse", "allow"):
        raise ValueError(f"action must be 'hold', 'refuse' or 'allow', not {action!r}")

    def filter_(item: FilterInput) -> FilterResult | None:
        if action == "allow":
            return None
        if not holds_by_rules(item) and find_by_model(item.visible_text) is None:
            return None
        if action == "refuse":
            return FilterResult(Action.REFUSE, _refuse_reason(item.kind))
        return FilterResult(Action.HOLD, _hold_reason(item.kind))

    return filter_
