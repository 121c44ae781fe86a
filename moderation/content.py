"""What goes into the content pipeline and what comes out of it, and what its filters see.

    Content (text, kind, policy) -> moderate -> Decision (action, html, text, reason, ...)
    filter(FilterInput) -> FilterResult | None

A community's rules (`ContentPolicy`, with its `WatchedWord`s) travel with the content. The
types are here, under everything else in the pipeline, so a filter module (contact details,
crisis language, new-member trust) can name them without importing the pipeline itself.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any, Literal
from urllib.parse import unquote

from core.i18n import gettext
from moderation.text import normalise, visible_text


class Action(StrEnum):
    PUBLISH = "publish"
    HOLD = "hold"
    REFUSE = "refuse"


@dataclass(frozen=True)
class Reason:
    code: str
    # Written for the member: what happened and what they can do about it.
    message: str


# "crisis": a phrase a community adds to the crisis filter's own (see moderation.crisis); the
# watched-words filter itself passes over those.
WatchedAction = Literal["block", "hold", "replace", "crisis"]
WATCHED_ACTIONS: tuple[WatchedAction, ...] = ("block", "hold", "replace", "crisis")
MAX_PATTERN_CHARS = 100


@dataclass(frozen=True)
class WatchedWord:
    """A word or phrase a community watches for. `*` matches any run of letters/digits within
    a word (a lone `*` is any one word); words of a phrase match across any whitespace.
    Never a regular expression. Action "crisis" makes it one of the community's own crisis
    phrases."""

    pattern: str
    action: WatchedAction
    replacement: str = "***"

    def __post_init__(self) -> None:
        # Validated here so a moderator's mistake is reported when they save the word, not
        # discovered when a member's post fails.
        if self.action not in WATCHED_ACTIONS:
            raise ValueError(f"action must be one of {WATCHED_ACTIONS}, not {self.action!r}")
        normalised = normalise(self.pattern).strip()
        if len(normalised) > MAX_PATTERN_CHARS:
            raise ValueError(
                gettext("a watched word can be at most %(max)d characters")
                % {"max": MAX_PATTERN_CHARS}
            )
        if not normalised.replace("*", "").strip():
            raise ValueError(gettext("a watched word needs at least one character other than *"))


@dataclass(frozen=True)
class ContentPolicy:
    """Per-community rules."""

    max_chars: int = 20_000
    watched_words: tuple[WatchedWord, ...] = ()


class ContentKind(StrEnum):
    TITLE = "title"
    POST = "post"
    CHAT = "chat"
    PROFILE = "profile"
    NOTE = "note"


# How each kind is named in messages to members.
_NOUNS: dict[ContentKind, str] = {
    ContentKind.TITLE: "title",
    ContentKind.POST: "post",
    ContentKind.CHAT: "message",
    ContentKind.PROFILE: "profile",
    ContentKind.NOTE: "note",
}


def noun(kind: ContentKind) -> str:
    """How a kind of content is named in messages to members ("post", "message")."""
    return _NOUNS[kind]


@dataclass(frozen=True)
class Content:
    text: str
    kind: ContentKind
    policy: ContentPolicy = ContentPolicy()


class Outcome:
    """What became of some words: a pipeline `Decision`, or vet's `Verdict` (vetting.py)."""

    action: Action

    @property
    def published(self) -> bool:
        return self.action is Action.PUBLISH

    @property
    def held(self) -> bool:
        return self.action is Action.HOLD

    @property
    def refused(self) -> bool:
        return self.action is Action.REFUSE


@dataclass(frozen=True)
class Decision(Outcome):
    action: Action
    # Sanitised HTML, safe to insert as element content. Empty when refused, so refused
    # content can't be shown by accident.
    html: str
    # The source text as it will be stored: line endings normalised, control characters
    # removed, titles collapsed to one line, 'replace' watched words substituted.
    text: str
    reason: Reason | None = None
    # Extra information for the member from filters (e.g. support resources); merged across
    # filters, the first filter to set a key wins.
    notice: dict[str, Any] | None = None
    # Why filters flagged the text, for moderators and peer supporters only, never shown to
    # the author: {"crisis": 'phrase "i want to die"'}. Merged like `notice`.
    flags: dict[str, str] | None = None


# A link's target in sanitised HTML (the sanitiser always writes href="...").
_HREF = re.compile(r"""\bhref="([^"]{0,2000})\"""")


@dataclass(frozen=True)
class FilterInput:
    """What a filter sees: the (possibly already rewritten) source text and its HTML."""

    text: str
    html: str
    kind: ContentKind
    policy: ContentPolicy

    @cached_property
    def normalised_text(self) -> str:
        return normalise(self.text)

    @cached_property
    def visible_text(self) -> str:
        """The text a reader sees once the HTML is rendered, e.g. entities decoded and
        emphasis markers gone, so "b**a**d" or "b&#97;d" can't slip past a filter."""
        return visible_text(self.html)

    @cached_property
    def link_targets(self) -> list[str]:
        """Where the HTML's links go, entities and percent-escapes decoded as a browser
        reads them ("wa%2Eme"): not visible text, but a click takes you there."""
        # (A search for the literal first: _HREF, opening with \b, is tried at every character.)
        if 'href="' not in self.html:
            return []
        return [unquote(html_lib.unescape(href)) for href in _HREF.findall(self.html)]


@dataclass(frozen=True)
class FilterResult:
    action: Action = Action.PUBLISH
    reason: Reason | None = None
    # The rewritten source text, when the filter rewrote it; the HTML is re-rendered from it.
    text: str | None = None
    notice: dict[str, Any] | None = None
    # For moderators only (see Decision.flags).
    flags: dict[str, str] | None = None

    def __post_init__(self) -> None:
        # A member is always told why their content was held or refused.
        if self.action is not Action.PUBLISH and self.reason is None:
            raise ValueError("a hold or refuse result needs a reason for the member")


Filter = Callable[[FilterInput], FilterResult | None]
