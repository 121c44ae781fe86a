"""What the contact finders report, and the scanning helpers they share."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

ContactKind = Literal["phone", "email", "address", "social"]


@dataclass(frozen=True)
class ContactMatch:
    kind: ContactKind
    # Character offsets into the text that was searched.
    span: tuple[int, int]


def scan(
    pattern: re.Pattern[str], text: str, accept: Callable[[re.Match[str]], bool]
) -> Iterator[re.Match[str]]:
    """The matches of `pattern` that `accept` approves. Unlike finditer, a rejected candidate
    doesn't consume its text: the search resumes one character after it began, so "I'm at"
    in "I'm at lostsoul (at) hotmail (dot) com" can't swallow the address after it. The
    patterns can't start inside a word, so this costs at most one retry per word."""
    pos = 0
    while (match := pattern.search(text, pos)) is not None:
        if accept(match):
            yield match
            pos = max(match.end(), match.start() + 1)
        else:
            pos = match.start() + 1


def ascii_digits(text: str) -> str:
    # \d also matches e.g. full-width and Devanagari digits; compare in one form.
    if text.isascii():
        return text
    return "".join(str(unicodedata.digit(ch)) for ch in text)


def scan_from(
    pattern: re.Pattern[str],
    text: str,
    accept: Callable[[re.Match[str]], bool],
    starts: Iterable[int],
) -> Iterator[re.Match[str]]:
    """What `scan` finds, given (in order) every position a match of `pattern` could start
    at: a pattern found only near a clue (a digit, say) is then tried only there, rather
    than at every character of a long text. Look-behinds still see the text before each
    start. Positions inside a match already found are skipped, as a search would."""
    pos = 0
    for start in starts:
        if start < pos:
            continue
        match = pattern.match(text, start)
        if match is not None and accept(match):
            yield match
            pos = max(match.end(), start + 1)


def finditer_from(
    pattern: re.Pattern[str], text: str, starts: Iterable[int]
) -> Iterator[re.Match[str]]:
    """What `pattern.finditer(text)` finds (for a pattern that can't match empty), given (in
    order) every position a match could start at."""
    return scan_from(pattern, text, _anything, starts)


def _anything(match: re.Match[str]) -> bool:
    return True
