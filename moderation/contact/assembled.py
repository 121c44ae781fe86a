"""Phone numbers put together by the reader: split across words ("07700 ... then 900 461"),
the area code given apart ("area code 415, the rest is 555 0192"), digits as words with
"double", "triple" and tens ("ninety eight four fifty"). The text becomes a stream of chunks
(digits said together) and the words between them; nearby chunks are joined, and a joined
number that a phone plan would issue (checked with `phonenumbers`) is a phone, if something
says it is one: a trunk 0 or "+", or words like "number", "area code", "half".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from moderation.contact.clues import Clues
from moderation.contact.helplines import HELPLINE_NUMBERS, is_helpline
from moderation.contact.matches import ContactMatch, ascii_digits
from moderation.contact.numerals import BEFORE_NOT_PHONE, DIGIT_WORDS, TENS, UNITS, YEARS
from moderation.contact.phones import mask_dates, plausible_phone
from moderation.contact.stretches import WORD_DIGITS, stretches

_PIECE = re.compile(r"[^\W_]+|[^\w\s]")
# A cheap test that a text could hold a number said in parts at all (asked as a search for
# a digit first, which is quicker, then for a number word).
_ANY_DIGIT = re.compile(r"\d")
_MAY_HOLD_DIGITS = re.compile(
    r"\d|\b(?:zero|nought|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty"
    r"|fifty|sixty|seventy|eighty|ninety)\b",
    re.IGNORECASE,
)
# Words that say the digits around them are (parts of) a phone number.
_PHONE_CUE = re.compile(
    r"\b(?:number|no|num|nmbr|digits?|mobile|mob|cell|cellphone|phone|ph|tel|landline|call"
    r"|ring|text|txt|whats[ \t]?app|wa|signal|telegram|dial|area|code|prefix|half|part|bit"
    r"|first|second|last|rest|remaining|then|followed|starts?|begins?|ends?|middle)\b",
    re.IGNORECASE,
)
# Before a number word, these make it a label: "part one", "day two", "step three".
_LABEL_WORDS = frozenset(
    {
        "part", "half", "step", "day", "days", "chapter", "number", "no", "page", "week", "round",
        "level", "season", "episode", "book", "volume", "phase", "stage", "option", "plan",
        "point", "rule", "lesson", "module", "unit", "class", "grade", "year", "act", "scene",
    }
)  # fmt: skip
# A digit word followed by one of these counts digits rather than being one: "the last
# four are 0192", "three more digits".
_COUNTED = frozenset({"digits", "digit", "numbers", "are", "more", "of", "bits", "parts"})
# At most this many words may stand between two chunks of one number.
_MAX_GAP_WORDS = 9


@dataclass
class _Chunk:
    digits: str
    start: int
    end: int
    # Said at least partly in words ("seven seven double oh"), so short is fine.
    spoken: bool
    plus: bool


def _spoken_tokens(pieces: list[str]) -> Iterator[tuple[int, int, str | None]]:
    """(first piece, last piece, digits or None) for each word or number in `pieces`, with
    "double oh", "ninety eight" and "seven hundred" read as the digits they stand for."""
    i, repeat = 0, 1
    while i < len(pieces):
        word = pieces[i].casefold()
        following = pieces[i + 1].casefold() if i + 1 < len(pieces) else ""
        previous = pieces[i - 1].casefold() if i else ""
        if word in ("double", "triple") and (following in DIGIT_WORDS or following.isdigit()):
            repeat = 2 if word == "double" else 3
            i += 1
            continue
        digits: str | None = None
        last = i
        if previous in _LABEL_WORDS and not word.isdigit():
            pass  # "part one", "step two": a label, not a digit
        elif word.isdigit():
            digits = ascii_digits(word)
        elif word in DIGIT_WORDS and following not in _COUNTED:
            spoken_oh = following in DIGIT_WORDS or previous in DIGIT_WORDS or repeat > 1
            if word != "oh" or spoken_oh or previous in ("double", "triple"):
                digits = DIGIT_WORDS[word]
        elif word in TENS and following not in _COUNTED:
            digits = TENS[word]
            if len(digits) == 1:
                unit = DIGIT_WORDS.get(following)
                if unit not in (None, "0") and following != "oh":
                    digits, last = digits + unit, i + 1
                else:
                    digits += "0"
        if (
            digits is not None
            and last + 1 < len(pieces)
            and pieces[last + 1].casefold() == "hundred"
        ):
            digits, last = digits + "00", last + 1
        if digits is not None:
            digits = digits[:1] * (repeat - 1) + digits
        repeat = 1
        yield i, last, digits
        i = last + 1


def find_assembled_phones(text: str, clues: Clues) -> Iterator[ContactMatch]:
    # A phone number has 9 digits at the least; fewer can't be put together.
    if clues.weighted_word_count(WORD_DIGITS) + clues.digit_count < 9:
        return
    if _ANY_DIGIT.search(text) is None and _MAY_HOLD_DIGITS.search(text) is None:
        return
    masked = mask_dates(text, clues)
    for start, end in stretches(masked, clues):
        yield from _assemble(text, masked, start, end)


def _assemble(text: str, masked: str, start: int, end: int) -> Iterator[ContactMatch]:
    found = list(_PIECE.finditer(masked, start, end))
    pieces = [piece.group() for piece in found]
    chunks: list[_Chunk] = []
    gap_words = 0  # words since the last chunk
    joined = False  # the last token was a digit group, so the next one continues its chunk
    blocked = False  # after "room", "step", "ISBN" ...: the number that follows isn't a phone
    for first, last, digits in _spoken_tokens(pieces):
        word = pieces[first].casefold()
        before = pieces[first - 1].casefold() if first else ""
        after = pieces[last + 1].casefold() if last + 1 < len(pieces) else ""
        if digits is not None and (
            blocked
            or after in UNITS
            or after == "%"
            or (before in ("£", "$", "€", "₹", "#") and not joined)
            or (before == ":" and first >= 2 and pieces[first - 2].isdigit())
            or (after == ":" and last + 2 < len(pieces) and pieces[last + 2].isdigit())
        ):
            digits = None
            blocked = True
            # An amount, dose, time or room number ends any number being assembled.
            yield from _assembled(text, chunks)
            chunks.clear()
            if after in UNITS:
                joined = False
            continue
        if digits is not None:
            spoken = not pieces[first].isdigit()
            if joined and chunks:
                chunk = chunks[-1]
                chunk.digits += digits
                chunk.end = found[last].end()
                chunk.spoken = chunk.spoken or spoken
            else:
                chunks.append(
                    _Chunk(digits, found[first].start(), found[last].end(), spoken, before == "+")
                )
            joined, gap_words = True, 0
            continue
        if not word.isalnum():
            # Punctuation between digit groups keeps them in one chunk ("555-0192"), except
            # a full stop or comma after a group that is then followed by a word.
            blocked = blocked and word in "-/.:#"
            if word in ",;!?)" or (word == "." and not after.isdigit()):
                joined = False
            continue
        joined = False
        blocked = word in BEFORE_NOT_PHONE
        gap_words += 1
        if chunks and gap_words > _MAX_GAP_WORDS:
            yield from _assembled(text, chunks)
            chunks.clear()
    yield from _assembled(text, chunks)


def _assembled(text: str, chunks: list[_Chunk]) -> Iterator[ContactMatch]:
    """Phone numbers made of two or more consecutive chunks (or one spoken one)."""
    usable: list[list[_Chunk]] = [[]]
    for chunk in chunks:
        # A lone small number ("I'm 25", "a 6") or a year ends a run of chunks.
        # "02 first, then 9555 0147": a short group with a trunk 0 is an area code.
        small = len(chunk.digits) <= 2 and not (
            chunk.spoken or chunk.plus or chunk.digits[0] == "0"
        )
        year = len(chunk.digits) == 4 and YEARS.fullmatch(chunk.digits)
        # "UK: 999, 111. Crisis Text Line 741741": helplines listed in a row aren't one number.
        if small or year or (chunk.digits in HELPLINE_NUMBERS and not chunk.spoken):
            usable.append([])
        else:
            usable[-1].append(chunk)
    for run in usable:
        start = 0
        while start < len(run):
            window = _longest_phone(text, run, start)
            if window is None:
                start += 1
                continue
            yield ContactMatch("phone", (run[start].start, run[window].end))
            start = window + 1


def _longest_phone(text: str, run: list[_Chunk], start: int) -> int | None:
    for end in range(min(len(run), start + 5) - 1, start - 1, -1):
        if end == start and not run[start].spoken:
            continue  # one plain chunk is _find_phones' business
        digits = "".join(chunk.digits for chunk in run[start : end + 1])
        if not 9 <= len(digits) <= 15 or is_helpline(digits):
            continue
        if run[start].plus:
            digits = "00" + digits
        cued = (
            digits.startswith("0")
            or run[start].spoken
            or _PHONE_CUE.search(text, max(0, run[start].start - 60), run[end].end) is not None
        )
        if cued and plausible_phone(digits):
            return end
    return None
