"""The content pipeline: the one place member-written text becomes something we store and show.

    moderate(Content) -> Decision

Stages, in order: clean up the source (line endings, control characters), size limits, render
(Markdown, or escaped plain text for titles), sanitise, then policy filters. Filters are plain
callables so other modules (contact details, crisis language, new-member trust) can add theirs:

    moderate(content, filters=(*DEFAULT_FILTERS, my_filter))

A filter that needs per-request data (say, the author's trust level) is built per request as a
closure; FilterInput deliberately carries only the content itself.
"""

from __future__ import annotations

import html as html_lib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property, lru_cache
from html.parser import HTMLParser
from typing import Any, Literal

from moderation.render import render_markdown
from moderation.sanitise import sanitise_html

# --------------------------------------------------------------------------- public types


class Action(StrEnum):
    PUBLISH = "publish"
    HOLD = "hold"
    REFUSE = "refuse"


# Strictest wins when filters disagree.
_SEVERITY = {Action.PUBLISH: 0, Action.HOLD: 1, Action.REFUSE: 2}


@dataclass(frozen=True)
class Reason:
    code: str
    # Written for the member: what happened and what they can do about it.
    message: str


# "crisis": a phrase a community adds to the crisis filter's own (see moderation.crisis); the
# watched-words filter itself passes over those.
WatchedAction = Literal["block", "hold", "replace", "crisis"]
_WATCHED_ACTIONS: tuple[WatchedAction, ...] = ("block", "hold", "replace", "crisis")
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
        if self.action not in _WATCHED_ACTIONS:
            raise ValueError(f"action must be one of {_WATCHED_ACTIONS}, not {self.action!r}")
        normalised = normalise(self.pattern).strip()
        if len(normalised) > MAX_PATTERN_CHARS:
            raise ValueError(f"a watched word can be at most {MAX_PATTERN_CHARS} characters")
        if not normalised.replace("*", "").strip():
            raise ValueError("a watched word needs at least one character other than *")


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


@dataclass(frozen=True)
class Decision:
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
        return _visible_text(self.html)


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


# --------------------------------------------------------------------------- text helpers

# C0/C1 controls other than tab and newline: invisible, never typed on purpose, and they
# confuse other consumers (JSON, terminals, search). Carriage returns are handled separately.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Characters that render as nothing, so a post made only of these is empty.
_INVISIBLE = frozenset("\u2800\u3164\u115f\u1160\uffa0")


def _clean_source(text: str, kind: ContentKind) -> str:
    # Browsers submit textarea newlines as CRLF; counting those twice would make the length
    # limit disagree with what the member's own counter shows.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL_CHARS.sub("", text)
    if kind is ContentKind.TITLE:
        text = " ".join(text.split())
    return text


def _is_blank(text: str) -> bool:
    return all(
        ch.isspace() or ch in _INVISIBLE or unicodedata.category(ch) in ("Cc", "Cf") for ch in text
    )


def _normalise_segment(segment: str) -> str:
    folded = unicodedata.normalize("NFKC", segment).casefold()
    if folded.isascii():
        # No ASCII character is a format character: nothing to drop.
        return folded
    # Format characters (zero-width space/joiner, soft hyphen, bidi controls) are invisible,
    # so they are dropped before matching: "b\u200bad" reads as "bad".
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")


def normalise(text: str) -> str:
    """NFKC + casefold, format characters removed: the form watched words are matched in."""
    return _normalise_segment(text)


def _starts_segment(ch: str) -> bool:
    # Normalisation can compose a base character with the marks after it (and Hangul jamo
    # with each other), so those are normalised together as one segment.
    return unicodedata.combining(ch) == 0 and not ("\u1160" <= ch <= "\u11ff")


def _normalise_with_map(text: str) -> tuple[str, list[int], list[int]]:
    """Normalise `text`, also returning for each normalised character the source span it came
    from, so a match found in the normalised text can be replaced in the member's own text."""
    if text.isascii():
        # Fast path for most posts: ASCII casefolds one character to one character.
        return text.casefold(), list(range(len(text))), list(range(1, len(text) + 1))
    normalised: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i < len(text) and not _starts_segment(text[i]):
            continue
        piece = _normalise_segment(text[start:i])
        normalised.append(piece)
        starts.extend([start] * len(piece))
        ends.extend([i] * len(piece))
        start = i
    return "".join(normalised), starts, ends


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _visible_text(html: str) -> str:
    # The plain-text path's HTML is paragraphs and nothing else: no parser needed.
    bare = html.replace("<p>", "").replace("</p>", "")
    if "<" not in bare:
        return html_lib.unescape(bare)
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return "".join(extractor.parts)


# --------------------------------------------------------------------------- watched words
#
# Regular-expression safety: moderators never write regex. We build it from re.escape'd
# literal parts, and shape it so matching stays linear in the text length:
#   * every pattern word is an atomic group (?>...), so once a word has matched the engine
#     never comes back to try it another way;
#   * inside a word, each middle part is found by its own atomic lazy scan (?>\w*?part) - the
#     leftmost occurrence is always the right choice for a glob - and only the final part
#     uses a backtracking \w*, a single O(word length) scan;
#   * a trailing * is possessive (\w*+) and the gap between phrase words is \s++ (pattern
#     words never start with whitespace or match nothing, so giving back couldn't help).
# "No nested quantifiers" alone is not enough: a\w*a\w*a\w*b is unnested yet polynomial.


def _is_word_char(ch: str) -> bool:
    return ch == "_" or ch.isalnum()


def _word_regex(word: str) -> str:
    parts = re.sub(r"\*+", "*", word).split("*")
    if len(parts) == 1:
        return re.escape(word)
    if parts == ["", ""]:
        # A lone * is "any one word": at least one character, so phrase gaps stay \s++.
        return r"\w++"
    middle = "".join(rf"(?>\w*?{re.escape(part)})" for part in parts[1:-1])
    tail = r"\w*+" if parts[-1] == "" else rf"\w*{re.escape(parts[-1])}"
    return f"(?>{re.escape(parts[0])}{middle}{tail})"


def pattern_regex(pattern: str) -> str:
    """The regular expression (source) for one watched-word pattern, matched against
    normalised text."""
    words = normalise(pattern).split()
    regex = r"\s++".join(_word_regex(word) for word in words)
    # Word boundaries only where the pattern itself starts/ends with a word character, so
    # patterns such as "c++" or an emoji still match.
    first, last = words[0][0], words[-1][-1]
    if first == "*" or _is_word_char(first):
        regex = r"(?<!\w)" + regex
    if last == "*" or _is_word_char(last):
        regex += r"(?!\w)"
    return regex


@dataclass(frozen=True)
class _CompiledWords:
    block: re.Pattern[str] | None
    hold: re.Pattern[str] | None
    # One capturing group per replace word, in the order of `replacements`.
    replace: re.Pattern[str] | None
    replacements: tuple[str, ...]
    # The community's own crisis phrases, for the crisis filter.
    crisis: re.Pattern[str] | None = None


def _alternation(words: Sequence[WatchedWord], capture: bool) -> re.Pattern[str] | None:
    if not words:
        return None
    group = "({})" if capture else "(?:{})"
    return re.compile("|".join(group.format(pattern_regex(w.pattern)) for w in words), re.I)


@lru_cache(maxsize=1024)
def compile_watched_words(words: tuple[WatchedWord, ...]) -> _CompiledWords:
    """All of a community's words, compiled once per word list (cached). One regex per
    action rather than one overall: a single alternation consumes text as it matches, so a
    'replace' match could hide an overlapping 'block' phrase."""
    by_action: dict[str, list[WatchedWord]] = {action: [] for action in _WATCHED_ACTIONS}
    for word in words:
        by_action[word.action].append(word)
    # Longest first, so at any position the most specific phrase is the one replaced.
    replace = sorted(by_action["replace"], key=lambda w: len(w.pattern), reverse=True)
    return _CompiledWords(
        crisis=_alternation(by_action["crisis"], capture=False),
        block=_alternation(by_action["block"], capture=False),
        hold=_alternation(by_action["hold"], capture=False),
        replace=_alternation(replace, capture=True),
        replacements=tuple(w.replacement for w in replace),
    )


# Backslash-escaping every ASCII punctuation character is always valid CommonMark, so a
# replacement like "***" stays literal text instead of becoming a rule or emphasis.
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def _substitute(text: str, compiled: _CompiledWords, kind: ContentKind) -> str:
    if compiled.replace is None:
        return text
    normalised, starts, ends = _normalise_with_map(text)
    out: list[str] = []
    pos = 0
    for match in compiled.replace.finditer(normalised):
        start, end = starts[match.start()], ends[match.end() - 1]
        if start < pos:  # two matches inside one source character (e.g. a ligature)
            continue
        replacement = compiled.replacements[(match.lastindex or 1) - 1]
        if kind is not ContentKind.TITLE:
            replacement = _MARKDOWN_PUNCTUATION.sub(r"\\\1", replacement)
        out += [text[pos:start], replacement]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _refuse_reason(kind: ContentKind) -> Reason:
    # Deliberately doesn't say which word: quoting it back teaches people how to dodge it.
    return Reason(
        "watched_word",
        f"Your {_NOUNS[kind]} contains a word this community doesn't allow, so we couldn't "
        "accept it. Please edit it and try again.",
    )


def _hold_reason(kind: ContentKind) -> Reason:
    return Reason(
        "watched_word",
        f"Your {_NOUNS[kind]} is being held for a moderator to look at before it appears. "
        "You'll be told when they've reviewed it.",
    )


def watched_words_filter(item: FilterInput) -> FilterResult | None:
    words = item.policy.watched_words
    if not words:
        return None
    compiled = compile_watched_words(words)
    # Checked against what the member typed and against what readers will see.
    haystacks = (item.normalised_text, normalise(item.visible_text))

    def found(regex: re.Pattern[str] | None, *texts: str) -> bool:
        return regex is not None and any(regex.search(text) for text in texts)

    new_text = _substitute(item.text, compiled, item.kind)
    rewritten = new_text if new_text != item.text else None
    if found(compiled.block, *haystacks):
        return FilterResult(Action.REFUSE, _refuse_reason(item.kind), text=rewritten)
    if found(compiled.hold, *haystacks):
        return FilterResult(Action.HOLD, _hold_reason(item.kind), text=rewritten)
    if compiled.replace is not None:
        # A word hidden from the source by Markdown ("b**a**d", "b&#97;d") can't be replaced
        # in the source text, so a person decides instead.
        visible = (
            item.visible_text if rewritten is None else _visible_text(_render(new_text, item.kind))
        )
        if found(compiled.replace, normalise(visible)):
            return FilterResult(Action.HOLD, _hold_reason(item.kind), text=rewritten)
    return FilterResult(text=rewritten) if rewritten is not None else None


DEFAULT_FILTERS: tuple[Filter, ...] = (watched_words_filter,)


# --------------------------------------------------------------------------- the pipeline


def _empty_reason(kind: ContentKind) -> Reason:
    return Reason("empty", f"Your {_NOUNS[kind]} is empty. Write something, then send it again.")


def _size_reason(text: str, content: Content) -> Reason | None:
    noun = _NOUNS[content.kind]
    if _is_blank(text):
        return _empty_reason(content.kind)
    limit = content.policy.max_chars
    if len(text) > limit:
        over = len(text) - limit
        return Reason(
            "too_long",
            f"Your {noun} is {len(text):,} characters long and the limit here is {limit:,}. "
            f"Please shorten it by {over:,} character{'s' if over != 1 else ''} and send it "
            "again.",
        )
    return None


# A paragraph Markdown leaves exactly as typed: it starts with a letter (so never a list
# number) and holds only ASCII letters, digits, spaces and , ; ? ! ' — plus full stops
# followed by a space or the end, so no link can be read into it ("example.org") — and it
# doesn't end in a space (two would be a line break). No character in it starts Markdown,
# HTML, an entity or a link, and none needs escaping.
_PLAIN_PARAGRAPH = re.compile(r"[A-Za-z](?:[A-Za-z0-9,;?!' ]|\.(?= |\Z))*(?<! )")


def _plain_paragraphs(text: str) -> list[str] | None:
    """`text` as its paragraphs when every one is plain (see above), else None."""
    paragraphs = text.split("\n\n")
    if all(_PLAIN_PARAGRAPH.fullmatch(paragraph) for paragraph in paragraphs):
        return paragraphs
    return None


# Cached because a rewriting filter renders its result to check it, and the pipeline then
# needs the same HTML; sanitising is the slowest stage (html5lib is pure Python).
@lru_cache(maxsize=16)
def _render(text: str, kind: ContentKind) -> str:
    if kind is ContentKind.TITLE:
        # Titles are plain text: no Markdown, so "#1 tip" or "*sigh*" read as typed. Fully
        # escaped (quotes too), which is also exactly what sanitise_html leaves unchanged.
        return sanitise_html(html_lib.escape(text, quote=True))
    if (paragraphs := _plain_paragraphs(text)) is not None:
        # What Markdown and the sanitiser would make of it, without running them (tested
        # to be identical): most chat messages and many posts are plain sentences.
        return "".join(f"<p>{paragraph}</p>\n" for paragraph in paragraphs)
    return sanitise_html(render_markdown(text))


def moderate(content: Content, filters: Sequence[Filter] = DEFAULT_FILTERS) -> Decision:
    """Decide whether member content is published, held for a moderator, or refused, and
    produce the sanitised HTML to store with it."""
    text = _clean_source(content.text, content.kind)
    # Size first: over-long text is refused before we spend any time rendering it.
    if (reason := _size_reason(text, content)) is not None:
        return Decision(Action.REFUSE, html="", text=text, reason=reason)

    html = _render(text, content.kind)
    # One FilterInput for all the filters (until one rewrites the text), so the visible and
    # normalised text each filter may ask for are worked out once, not once per filter.
    item = FilterInput(text, html, content.kind, content.policy)
    if _is_blank(item.visible_text):
        # Markdown that renders to nothing a reader can see, e.g. only a link reference
        # definition ("[a]: https://...") or a lone "---", is as empty as no text at all.
        return Decision(Action.REFUSE, html="", text=text, reason=_empty_reason(content.kind))
    action, reason = Action.PUBLISH, None
    notice: dict[str, Any] = {}
    flags: dict[str, str] = {}
    for filter_ in filters:
        result = filter_(item)
        if result is None:
            continue
        if result.text is not None and result.text != text:
            text = _clean_source(result.text, content.kind)
            html = _render(text, content.kind)
            item = FilterInput(text, html, content.kind, content.policy)
        if _SEVERITY[result.action] > _SEVERITY[action]:
            action, reason = result.action, result.reason
        for key, value in (result.notice or {}).items():
            notice.setdefault(key, value)
        for key, why in (result.flags or {}).items():
            flags.setdefault(key, why)

    return Decision(
        action,
        html="" if action is Action.REFUSE else html,
        text=text,
        reason=reason,
        notice=notice or None,
        flags=flags or None,
    )
