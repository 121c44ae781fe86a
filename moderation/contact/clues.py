"""Clues: what a text could hold, worked out once per text so that each contact finder runs
only where it could possibly match (issue 13: most messages hold no contact details, and
running every pattern over every message cost hundreds of microseconds).

Every question a finder asks here means "could it be there?". A wrong yes only costs time;
a wrong no would let contact details through. So each answer errs towards yes: words are
split at every character that isn't an ASCII letter or digit (so "o'neil" also offers
"neil", and "café" offers "caf"), and they are casefolded with the few characters that
re.IGNORECASE treats as an ASCII letter ("ſ" as "s", the Kelvin sign as "k", dotted and
dotless I as "i") read as that letter, so a word an IGNORECASE pattern or a casefold
comparison could see is always among them. tests/moderation/test_contact_gates.py checks
that gated and ungated finders agree.
"""

from __future__ import annotations

import re
from functools import cached_property
from itertools import pairwise

# The non-ASCII characters re.IGNORECASE matches to an ASCII letter (Python 3.11; a test
# re-derives this list from the running interpreter).
IGNORECASE_TWINS = (("\u0130", "i"), ("\u0131", "i"), ("\u017f", "s"), ("\u212a", "k"))

# ASCII letters and digits stay (lower-cased), every other byte becomes a space.
_WORD_BYTES = bytes(
    b + 32 if 65 <= b <= 90 else b if (48 <= b <= 57 or 97 <= b <= 122) else 32 for b in range(256)
)
_DIGIT_RUN = re.compile(r"\d+")
_IGNORECASE = int(re.IGNORECASE)  # (an int: RegexFlag's own "&" is slow)


# Digits become "1", everything else "0": runs of digits are then runs of "1".
_DIGIT_MASK = bytes(49 if 48 <= b <= 57 else 48 for b in range(256))


def _ascii_digit_runs(text: str) -> list[tuple[int, int]]:
    # The same as \d+ on ASCII text, found with bytes.find rather than a regex, which
    # would test every character in Python's slower matching loop.
    mask = text.encode().translate(_DIGIT_MASK)
    runs = []
    start = mask.find(b"1")
    while start >= 0:
        end = mask.find(b"0", start)
        if end < 0:
            runs.append((start, len(mask)))
            break
        runs.append((start, end))
        start = mask.find(b"1", end)
    return runs


def is_word_char(ch: str) -> bool:
    """Whether `ch` is one that \\w matches."""
    return ch.isalnum() or ch == "_"


class Clues:
    """Cheap facts about one text, each worked out on first use (and then an attribute of
    the instance, read without a call: the finders ask dozens of these questions per text)."""

    # True for `AnyText`, whose every answer is yes: finders use it to run ungated.
    everything = False
    # The facts `lowered` shares: the same for a text and its ASCII capitals lower-cased.
    _CASELESS = ("folded", "word_list", "words", "digit_runs", "digit_count")

    def __init__(self, text: str) -> None:
        self.text = text
        self._found: dict[re.Pattern[str], bool] = {}
        self._has_text: dict[tuple[str, ...], bool] = {}

    def lowered(self, text: str) -> Clues:
        """Clues for `text`, which is this text with its ASCII capitals lower-cased: the
        words and digits are the same, so they are shared (the searches aren't)."""
        clues = type(self)(text)
        known = self.__dict__
        clues.__dict__.update((name, known[name]) for name in self._CASELESS if name in known)
        clues._has_text = self._has_text  # (asked of the folded text, which is the same)
        # An IGNORECASE pattern reads a capital as its lower-case letter, so it finds the same
        # in both texts (hint patterns without letters are compiled IGNORECASE to share too).
        clues._found = {
            pattern: hit for pattern, hit in self._found.items() if pattern.flags & _IGNORECASE
        }
        return clues

    # ----------------------------------------------------------------------------- words

    @cached_property
    def folded(self) -> str:
        """The text casefolded, IGNORECASE twins read as their ASCII letter."""
        text = self.text
        if not text.isascii():
            for twin, letter in IGNORECASE_TWINS:
                if twin in text:
                    text = text.replace(twin, letter)
        return text.casefold()

    @cached_property
    def word_list(self) -> list[str]:
        return self.folded.encode().translate(_WORD_BYTES).decode().split()

    @cached_property
    def words(self) -> frozenset[str]:
        return frozenset(self.word_list)

    def has_word(self, words: frozenset[str]) -> bool:
        """Whether any of `words` is a whole word of the text."""
        return not self.words.isdisjoint(words)

    def word_count(self, words: frozenset[str]) -> int:
        """How many times words from `words` occur (at least as often as any pattern sees)."""
        present = self.words & words
        return sum(map(self.word_list.count, present)) if present else 0

    def weighted_word_count(self, weights: dict[str, int]) -> int:
        """The sum of `weights[word]` over every occurrence of a word from `weights`."""
        present = self.words.intersection(weights)
        return sum(self.word_list.count(word) * weights[word] for word in present)

    def has_pair(self, first: frozenset[str], second: frozenset[str]) -> bool:
        """Whether a word of `first` is followed straight away by a word of `second` (as
        they are by a pattern that allows only blanks between them)."""
        word_list = self.word_list
        last = len(word_list) - 1
        for word in self.words & first:
            at = word_list.index(word)
            while at < last:
                if word_list[at + 1] in second:
                    return True
                try:
                    at = word_list.index(word, at + 1)
                except ValueError:
                    break
        return False

    def has_text(self, *pieces: str) -> bool:
        """Whether any of `pieces` (lower case) occurs in the folded text, inside words too
        (remembered, and shared with the `lowered` text's clues)."""
        if (hit := self._has_text.get(pieces)) is None:
            folded = self.folded
            hit = False
            # (A loop rather than any() over a generator: asked a dozen times per text.)
            for piece in pieces:
                if piece in folded:
                    hit = True
                    break
            self._has_text[pieces] = hit
        return hit

    def has_char(self, chars: str) -> bool:
        """Whether any of `chars` (uncased, such as "@" or "/") occurs in the text."""
        text = self.text
        for ch in chars:  # noqa: SIM110 (as in has_text)
            if ch in text:
                return True
        return False

    def found(self, pattern: re.Pattern[str]) -> bool:
        """Whether `pattern` matches anywhere in the text (remembered per pattern, and for
        IGNORECASE patterns shared with the `lowered` text's clues)."""
        if (hit := self._found.get(pattern)) is None:
            hit = self._found[pattern] = pattern.search(self.text) is not None
        return hit

    # ---------------------------------------------------------------------------- digits

    @cached_property
    def digit_runs(self) -> list[tuple[int, int]]:
        """(start, end) of every run of decimal digits, as \\d+ finds them (any script)."""
        text = self.text
        if text.isascii():
            return _ascii_digit_runs(text)
        return [match.span() for match in _DIGIT_RUN.finditer(text)]

    @property
    def has_digit(self) -> bool:
        """Whether the text has a decimal digit, as \\d sees them (any script)."""
        return bool(self.digit_runs)

    @cached_property
    def digit_count(self) -> int:
        """How many characters str.isdigit() accepts (a superset of \\d: also "²", "①")."""
        count = sum(end - start for start, end in self.digit_runs)
        text = self.text
        if not text.isascii():
            others = {ch for ch in set(text) if ch.isdigit() and not ch.isdecimal()}
            count += sum(map(text.count, others))
        return count

    @property
    def has_other_digits(self) -> bool:
        """Whether the text has digits that \\d doesn't match but str.isdigit() does ("²")."""
        return self.digit_count > sum(end - start for start, end in self.digit_runs)

    def digits_close(self, count: int, gap: int) -> bool:
        """Whether `count` digits stand with at most `gap` other characters, none of them a
        letter, between neighbours ("07700 900-123", not "14/03 at 10:30")."""
        text, total, last_end = self.text, 0, None
        for start, end in self.digit_runs:
            if (
                last_end is None
                or start - last_end > gap
                or any(ch.isalnum() for ch in text[last_end:start])
            ):
                total = 0
            total += end - start
            if total >= count:
                return True
            last_end = end
        return False

    def lone_digit_count(self, enough: int) -> int:
        """How many digits stand alone, with no word character either side (counting stops
        at `enough`)."""
        text, size, count = self.text, len(self.text), 0
        for start, end in self.digit_runs:
            if (
                end - start == 1
                and not (start and is_word_char(text[start - 1]))
                and not (end < size and is_word_char(text[end]))
            ):
                count += 1
                if count >= enough:
                    break
        return count

    def digit_beside(self, chars: str) -> bool:
        """Whether one of `chars` stands right before or after a digit."""
        text, size = self.text, len(self.text)
        return any(
            (start and text[start - 1] in chars) or (end < size and text[end] in chars)
            for start, end in self.digit_runs
        )

    def digits_then(self, *suffixes: str) -> bool:
        """Whether a run of digits is followed by one of `suffixes` ("st ", "nd ")."""
        text = self.text
        return any(text.startswith(suffixes, end) for _, end in self.digit_runs)

    def digits_joined_by(self, separators: str) -> bool:
        """Whether two runs of digits have just one of `separators` between them ("3/4")."""
        text, runs = self.text, self.digit_runs
        return any(
            following == end + 1 and text[end] in separators
            for (_, end), (following, _) in pairwise(runs)
        )

    @cached_property
    def longest_digit_run(self) -> int:
        return max((e - s for s, e in self.digit_runs), default=0)


class AnyText(Clues):
    """Clues that say yes to everything: the finders then do all their work, as they did
    before there were clues. For tests and for measuring what the clues save."""

    everything = True

    def lowered(self, text: str) -> Clues:
        return AnyText(text)

    def has_word(self, words: frozenset[str]) -> bool:
        return True

    def word_count(self, words: frozenset[str]) -> int:
        return 1_000_000

    def weighted_word_count(self, weights: dict[str, int]) -> int:
        return 1_000_000

    def has_pair(self, first: frozenset[str], second: frozenset[str]) -> bool:
        return True

    def has_text(self, *pieces: str) -> bool:
        return True

    def has_char(self, chars: str) -> bool:
        return True

    def found(self, pattern: re.Pattern[str]) -> bool:
        return True

    @property
    def has_digit(self) -> bool:
        return True

    @property
    def digit_count(self) -> int:
        return 1_000_000

    def digits_close(self, count: int, gap: int) -> bool:
        return True

    def lone_digit_count(self, enough: int) -> int:
        return enough

    def digit_beside(self, chars: str) -> bool:
        return True

    def digits_then(self, *suffixes: str) -> bool:
        return True

    def digits_joined_by(self, separators: str) -> bool:
        return True

    @property
    def longest_digit_run(self) -> int:
        return 1_000_000
