"""Where in a text a phone number put together from parts (assembled.py) could be, so that
only those stretches are read piece by piece; in most text, none.

`assembled._assemble` reads a text as a stream of pieces and joins number pieces into chunks
and chunks into numbers. A stretch is a run of number pieces (digits, or words such as
"seven" or "double") with fewer than fourteen other words between neighbours, widened by
three words either side. Reading only the stretches gives what reading the whole text gives:
after ten words without a number piece `_assemble` has handed on and forgotten every chunk,
the words between two runs change nothing but whether the next number is `blocked` (which
the three words before a run settle again), and the three words after it are all its
look-ahead reads.

A run is read only if nine digits (the fewest in a phone number) could come from pieces
that `_assemble` could join into one number: it never joins across a number it blocks (an
amount, a time, a room number), a lone short number, year or helpline ("I'm 25", "in 2019",
"ring 116 123"), or a chunk of more digits than any phone number has.
"""

from __future__ import annotations

import re

from moderation.contact.clues import Clues
from moderation.contact.helplines import HELPLINE_NUMBERS
from moderation.contact.matches import ascii_digits
from moderation.contact.numerals import BEFORE_NOT_PHONE, DIGIT_WORDS, TENS, UNITS, YEARS

# What each piece of a number can add to it at most, beyond the digits written as digits:
# "twenty" (with "one" after it, "21"), "double" (one more of the digit after it), "hundred".
WORD_DIGITS = {
    **dict.fromkeys(DIGIT_WORDS, 1),
    **dict.fromkeys(TENS, 2),
    "double": 1,
    "triple": 2,
    "hundred": 2,
}
_NUMBER_WORDS = frozenset(WORD_DIGITS)
# Fourteen words, from the start of one.
_FOURTEEN_WORDS = re.compile(r"(?<![^\W_])(?:[^\W_]++[\W_]*+){14}")
_LOOK_AROUND = 3
# The piece `_PIECE` finds next, past the characters it skips.
_NEXT_PIECE = re.compile(r"[\s_]*+([^\W_]++|[^\w\s])")
# What may stand between two groups of digits that `_assemble` joins into one chunk.
_JOINING = re.compile(r"[\s_\-/]*+(?:\.[\s_]*+)?")
# Pieces after which `_assemble` starts a new chunk, and before which it ends one.
_ENDS_CHUNK = frozenset(",;!?)")
_MOST_DIGITS = 15
_BREAK = -1  # a unit no assembled number spans


def stretches(masked: str, clues: Clues) -> list[tuple[int, int]]:
    """The (start, end) stretches of `masked` (the text, dates masked) worth reading."""
    if clues.everything or len(clues.folded) != len(masked) or clues.has_other_digits:
        # Positions in the folded text wouldn't be positions in `masked`, or digits "\d"
        # doesn't see could be pieces: read it all.
        return [(0, len(masked))]
    return [
        _widen(masked, run[0][0], run[-1][1])
        for run in _runs(masked, _number_pieces(masked, clues))
        if sum(digits for _, _, digits in run) >= 9 and _most_joined(masked, run) >= 9
    ]


def _runs(masked: str, pieces: list[tuple[int, int, int]]) -> list[list[tuple[int, int, int]]]:
    """The pieces in runs, with fewer than fourteen words between neighbours."""
    runs: list[list[tuple[int, int, int]]] = []
    for piece in pieces:
        if runs and not (
            piece[0] - runs[-1][-1][1] > 28
            and _FOURTEEN_WORDS.search(masked, runs[-1][-1][1], piece[0]) is not None
        ):
            runs[-1].append(piece)
        else:
            runs.append([piece])
    return runs


def _most_joined(masked: str, run: list[tuple[int, int, int]]) -> int:
    """The most digits that pieces of `run` with no break between them could add up to."""
    since_break = most = 0
    for _, _, digits in _units(masked, run):
        since_break = 0 if digits == _BREAK else since_break + digits
        most = max(most, since_break)
    return most


def _number_pieces(masked: str, clues: Clues) -> list[tuple[int, int, int]]:
    """(start, end, most digits) of every piece `_PIECE` would find in `masked` that
    `_spoken_tokens` could read as (part of) a number, in order (and a few more: the digits
    of masked dates)."""
    size = len(masked)
    pieces = [
        (start, end, end - start)
        for start, end in clues.digit_runs
        if not (start and masked[start - 1].isalnum())
        and not (end < size and masked[end].isalnum())
    ]
    folded = clues.folded
    for word in clues.words & _NUMBER_WORDS:
        digits = WORD_DIGITS[word]
        at = folded.find(word)
        while at >= 0:
            end = at + len(word)
            if not (at and masked[at - 1].isalnum()) and not (end < size and masked[end].isalnum()):
                pieces.append((at, end, digits))
            # A whole-piece match can't start inside this one, whatever this one was.
            at = folded.find(word, end)
    pieces.sort()
    return pieces


def _units(masked: str, pieces: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """The pieces, with the digits `_assemble` surely won't join into a number made breaks:
    numbers it blocks, chunks too long for any number, and chunks set apart on their own."""
    units = []
    i = 0
    while i < len(pieces):
        start = pieces[i][0]
        if not masked[start].isdigit():  # a number word (or a masked date)
            units.append(pieces[i])
            i += 1
            continue
        last = i
        while (
            last + 1 < len(pieces)
            and masked[pieces[last + 1][0]].isdigit()
            and _joins(masked, pieces[last][1], pieces[last + 1][0])
        ):
            last += 1
        group, i = pieces[i : last + 1], last + 1
        units.extend(_group_units(masked, group))
    return units


def _joins(masked: str, end: int, start: int) -> bool:
    """Whether `_assemble` keeps the digits either side of masked[end:start] in one chunk."""
    if start - end == 1:
        return masked[end] in " -/._" or masked[end].isspace()
    return _JOINING.fullmatch(masked, end, start) is not None


def _group_units(masked: str, group: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Units for digit pieces with only blanks, "-", "/" or "." between: `_assemble` blocks
    the first (and then all of them) or joins all but the last into one chunk (blocking the
    last only for what follows it)."""
    start, end = group[0][0], group[-1][1]
    whole = [(start, end, _BREAK)]
    sizes = [size for _, _, size in group]
    if max(sizes) > _MOST_DIGITS or sum(sizes[:-1]) > _MOST_DIGITS:
        return whole  # a chunk longer than any phone number
    before = _piece_before(masked, start)
    if before is not None and _blocks_after(masked, before, start):
        return whole  # "room 12", "10:30": blocked
    after = _NEXT_PIECE.match(masked, end)
    word = after.group(1) if after is not None else None
    following = _NEXT_PIECE.match(masked, after.end()) if word in (":", ".") else None
    if (
        word == "%"
        or (word is not None and word.casefold() in UNITS)
        or (word == ":" and following is not None and following.group(1).isdigit())
    ):
        # "50 mg", "20 %", "10:30": the last is blocked, so the rest is a chunk on its own.
        return [*group[:-1], (group[-1][0], end, _BREAK)]
    fresh = before is None or before in _ENDS_CHUNK or _is_word(before)
    ended = (
        word is None
        or word in _ENDS_CHUNK
        or _is_word(word)
        or (word == "." and not (following is not None and following.group(1).isdigit()))
    )
    if fresh and ended and _set_apart(ascii_digits("".join(masked[s:e] for s, e, _ in group))):
        return whole  # a chunk of its own that `_assembled` sets apart
    return group


def _blocks_after(masked: str, before: str, start: int) -> bool:
    """Whether `before`, the piece before masked[start], blocks the number there: a word
    such as "room" or "step", or the ":" of a time after its hours."""
    if before == ":":
        hours = _piece_before(masked, masked.rindex(":", 0, start))
        return hours is not None and hours.isdigit()
    return before.casefold() in BEFORE_NOT_PHONE


def _set_apart(digits: str) -> bool:
    """Whether `_assembled` sets a chunk of these digits apart: short, a year, a helpline."""
    return (
        (len(digits) <= 2 and digits[0] != "0")
        or (len(digits) == 4 and YEARS.fullmatch(digits) is not None)
        or digits in HELPLINE_NUMBERS
    )


def _is_word(piece: str) -> bool:
    """Whether `piece` is a word `_assemble` reads as no part of a number."""
    return piece.isalnum() and not piece.isdigit() and piece.casefold() not in _NUMBER_WORDS


def _piece_before(masked: str, start: int) -> str | None:
    """The piece `_PIECE` finds last before `start`. (Each piece is looked back at from the
    next number piece only, so this stays linear in the text.)"""
    at = start
    while at and (masked[at - 1].isspace() or masked[at - 1] == "_"):
        at -= 1
    if not at:
        return None
    if not masked[at - 1].isalnum():
        return masked[at - 1]
    end = at
    while at and masked[at - 1].isalnum():
        at -= 1
    return masked[at:end]


def _widen(masked: str, start: int, end: int) -> tuple[int, int]:
    for _ in range(_LOOK_AROUND):
        while start and not masked[start - 1].isalnum():
            start -= 1
        while start and masked[start - 1].isalnum():
            start -= 1
    for _ in range(_LOOK_AROUND):
        while end < len(masked) and not masked[end].isalnum():
            end += 1
        while end < len(masked) and masked[end].isalnum():
            end += 1
    return start, end
