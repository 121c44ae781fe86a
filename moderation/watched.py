"""A community's watched words: the patterns moderators write, compiled to regexes that stay
linear, and the filter that refuses, holds or rewrites member text containing them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from core.i18n import N_, gettext
from moderation.content import (
    WATCHED_ACTIONS,
    Action,
    ContentKind,
    FilterInput,
    FilterResult,
    Reason,
    WatchedWord,
)
from moderation.render import render_content
from moderation.text import normalise, normalise_with_map, visible_text

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
    by_action: dict[str, list[WatchedWord]] = {action: [] for action in WATCHED_ACTIONS}
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
    normalised, starts, ends = normalise_with_map(text)
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


# Whole sentences for each kind of content (see content.noun), translated as each text is
# judged. Deliberately doesn't say which word: quoting it back teaches people how to dodge it.
_REFUSED = {
    ContentKind.TITLE: N_(
        "Your title contains a word this community doesn't allow, so we couldn't accept it. "
        "Please edit it and try again."
    ),
    ContentKind.POST: N_(
        "Your post contains a word this community doesn't allow, so we couldn't accept it. "
        "Please edit it and try again."
    ),
    ContentKind.CHAT: N_(
        "Your message contains a word this community doesn't allow, so we couldn't accept it. "
        "Please edit it and try again."
    ),
    ContentKind.PROFILE: N_(
        "Your profile contains a word this community doesn't allow, so we couldn't accept it. "
        "Please edit it and try again."
    ),
    ContentKind.NOTE: N_(
        "Your note contains a word this community doesn't allow, so we couldn't accept it. "
        "Please edit it and try again."
    ),
}
_HELD = {
    ContentKind.TITLE: N_(
        "Your title is being held for a moderator to look at before it appears. "
        "You'll be told when they've reviewed it."
    ),
    ContentKind.POST: N_(
        "Your post is being held for a moderator to look at before it appears. "
        "You'll be told when they've reviewed it."
    ),
    ContentKind.CHAT: N_(
        "Your message is being held for a moderator to look at before it appears. "
        "You'll be told when they've reviewed it."
    ),
    ContentKind.PROFILE: N_(
        "Your profile is being held for a moderator to look at before it appears. "
        "You'll be told when they've reviewed it."
    ),
    ContentKind.NOTE: N_(
        "Your note is being held for a moderator to look at before it appears. "
        "You'll be told when they've reviewed it."
    ),
}


def _refuse_reason(kind: ContentKind) -> Reason:
    return Reason("watched_word", gettext(_REFUSED[kind]))


def _hold_reason(kind: ContentKind) -> Reason:
    return Reason("watched_word", gettext(_HELD[kind]))


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
            item.visible_text
            if rewritten is None
            else visible_text(render_content(new_text, item.kind))
        )
        if found(compiled.replace, normalise(visible)):
            return FilterResult(Action.HOLD, _hold_reason(item.kind), text=rewritten)
    return FilterResult(text=rewritten) if rewritten is not None else None
