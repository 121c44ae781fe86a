"""Phone numbers written as numbers: in the usual shapes, with a phone word before them,
spread out digit by digit, spelled digit by digit, or with letters that look like digits.
(Numbers put together from parts are in assembled.py.)

Regular-expression safety: every pattern here runs on up to 20,000 characters of untrusted
text, so all quantifiers are bounded, repeated groups are separated by characters the group
itself can't match (so there is only one way to split a run), and the riskiest ones are
possessive. Candidates are found with a cheap regex and then judged in Python.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import accumulate

import phonenumbers

from moderation.contact.clues import AnyText, Clues
from moderation.contact.helplines import HELPLINE_NUMBERS, is_helpline
from moderation.contact.matches import ContactMatch, ascii_digits
from moderation.contact.numerals import DIGIT_WORDS, YEARS

BLANK = "[ \t\u00a0\u202f]"
# One run of digits with the separators people put in phone numbers between the groups.
# Groups are possessive and separators can't contain digits, so a run splits one way only.
# Not after "/", "=" and the like (a number in a URL), nor glued to a word by a hyphen
# ("issuecomment-1302557034").
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w+@/=?&#%~])(?<!\w-)(?P<plus>\+" + BLANK + r"?)?\(?\d{1,13}+"
    r"(?:[ \t\u00a0\u202f.\-/()\u2010-\u2015]{1,4}+\d{1,13}+){0,9}(?![\w@])"
)
# Dates are masked before looking for phones, so "01.02.2024 0930" isn't one long number.
# The look-arounds keep a dotted French number (06.12.34.56.78) from looking like a date.
# The first digit comes before the look-behind so that the engine can skip straight to
# digits (a pattern that opens with a look-behind is tried at every character); the
# look-behind then checks the character before that digit, as (?<![\d./\-]) before it would.
_DATE = re.compile(
    r"\d(?<![\d./\-]\d)(?:\d?([./\-])\d{1,2}\1\d{2,4}|\d{3}([./\-])\d{1,2}\2\d{1,2})"
    r"(?![\d]|[./\-]\d)"
)


def mask_dates(text: str, clues: Clues) -> str:
    # A date has two runs of digits with one of "./-" between them.
    if not clues.digits_joined_by("./-"):
        return text
    return _DATE.sub(lambda m: "#" * len(m.group()), text)


_CURRENCY_BEFORE = re.compile(r"[£$€¥₹]" + BLANK + r"?$")
_ISBN_PREFIXES = ("978", "979")

_TOKEN = r"(?:zero|nought|oh|one|two|three|four|five|six|seven|eight|nine|double|triple|\d)"
# A number said digit by digit ("oh seven seven ...", "0 7 7 0 0 ...").
_SPELLED_NUMBER = re.compile(
    rf"(?<!\w)(?:{_TOKEN}(?!\w)[\s,.\-]{{1,3}}+){{9,30}}{_TOKEN}(?!\w)", re.IGNORECASE
)
_TOKEN_WORDS = frozenset({*DIGIT_WORDS, "double", "triple"})
_DIGIT = re.compile(r"\d")


def _looks_like_thousands(groups: list[str]) -> bool:
    # 1 234 567 890 / 10.000.000: grouped by threes like an amount, not like a phone number.
    return (
        len(groups) >= 3
        and 1 <= len(groups[0]) <= 3
        and not groups[0].startswith("0")
        and all(len(g) == 3 for g in groups[1:])
    )


# The most digits `is_helpline` accepts ("00", a 1-3 digit country code, a listed number).
_MOST_HELPLINE_DIGITS = 2 + 3 + max(map(len, HELPLINE_NUMBERS))


def _is_phone(groups: list[str], international: bool) -> bool:
    digits = "".join(groups)
    count = len(digits)
    if international:
        # E.164 allows at most 15 digits; 8 is about the shortest real +CC number.
        return 8 <= count <= 15
    if groups[0] == "0":
        # "0.99999999 (8 9s)" is a decimal; no national format starts with a lone 0 group.
        return False
    if digits.startswith("0"):
        # A national trunk prefix (UK 07..., IE 08..., AU 04..., FR 06..., DE 01...) or an
        # international 00 prefix.
        return 9 <= count <= (17 if digits.startswith("00") else 12) and len(groups) <= 6
    if not 10 <= count <= 13:
        return False
    if len(groups) == 1:
        return not (count == 13 and digits.startswith(_ISBN_PREFIXES))
    # US 555 123 4567, 1-555-123-4567, IN 98765 43210, 44 7700 900123: few groups, at most one
    # short one. A list of scores ("12 14 16 18 20") or years fails this.
    return (
        len(groups) <= 4
        and sum(len(g) <= 2 for g in groups) <= 1
        and not _looks_like_thousands(groups)
        and not all(len(g) == 4 and YEARS.fullmatch(g) for g in groups)
    )


_ISBN_BEFORE = re.compile(r"isbn(?:-?1[03])?:?" + BLANK + r"{0,2}$", re.IGNORECASE)
# Phone words just before a number ("my number's 612 345 678"): with one of these, a number of
# any country our members write from counts, not just the shapes `_is_phone` knows.
_CUE_BEFORE = re.compile(
    r"\b(?:number|num|mobile|mob|cell|phone|ph|tel|call|ring|text|txt|whats[ \t]?app|wa"
    r"|signal|telegram|viber|contact|reach)\b[^\w\n]{0,4}(?:(?:is|on|me|at|it['’]?s|s)\W{1,3}){0,3}$",
    re.IGNORECASE,
)
_FOREIGN_REGIONS = ("ES", "FR", "DE", "IT", "NL", "PT", "BE", "ZA", "PH", "PK", "NG", "MX", "SG")


def _cued_foreign_phone(text: str, start: int, digits: str) -> bool:
    if not 9 <= len(digits) <= 13 or _CUE_BEFORE.search(text, max(0, start - 30), start) is None:
        return False
    if plausible_phone(digits):
        return True
    for region in _FOREIGN_REGIONS:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(digits, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


# Digits spread out one or two at a time to get past a filter: "4 1 5 - 5 5 5 - 0 1 9 2",
# "9_8_7_6_5_4_3_2_1_0", "98.45.01.23.45", "0~2~1~5 ...". Separators can't be digits, so a
# run splits one way only.
_SPREAD_DIGITS = re.compile(r"(?<![\w.])\d{1,4}(?:[ \t._~*\-·•|/\\+=]{1,5}+\d{1,4}){4,15}+(?!\d)")
_PHONE_CUE_NEAR = re.compile(
    r"\b(?:number|no|num|digits|mobile|mob|cell|phone|ph|tel|call|ring|text|texts|txt"
    r"|whats[ \t]?app"
    r"|wa|signal|telegram|contact|reach|dial)\b",
    re.IGNORECASE,
)


def _is_spread_phone(text: str, match: re.Match[str]) -> bool:
    if not 9 <= _DIGIT.subn("", match.group(), 14)[1] <= 13:
        return False  # (the first test below, asked without splitting the match)
    groups = re.findall(r"\d+", match.group())
    digits = ascii_digits("".join(groups))
    if not 9 <= len(digits) <= 13 or sum(len(g) <= 2 for g in groups) * 3 < len(groups) * 2:
        return False
    if is_helpline(digits):
        return False
    separators = set(re.sub(r"[\d \t]", "", match.group()))
    pairs = all(len(g) == 2 for g in groups)
    # Mood scores said one by one ("5 6 4 7 5 6 8 7 6 5") are spaces only and have no cue;
    # a deliberate disguise has odd separators, a trunk 0, a cue, or an Indian mobile's shape.
    signalled = (
        digits.startswith("0")
        or bool(separators)
        or (pairs and len(digits) == 10 and digits[0] in "6789")
        or _PHONE_CUE_NEAR.search(text, max(0, match.start() - 40), match.end() + 40) is not None
    )
    return signalled and plausible_phone(digits)


# Look-alike letters for digits: "O77OO 9OO 46l", "4l5-555-Ol92", "2l2.SSS.Ol98". A word made
# only of digits and such letters is read as digits when it has a digit in it, or is two or
# more capitals (and "l"), so "SSS" in "O2l SSS Ol92" counts but "so" and "lol" don't.
_LOOKALIKE = str.maketrans("OoIlSsBZz", "001155822")
_LOOKALIKE_WORD = re.compile(r"(?<![^\W\d_])[0-9OoIlSsBZz]{1,14}+(?![^\W\d_])")


def _read_lookalikes(text: str) -> str | None:
    """`text` with look-alike words turned into digits (same length), or None if none."""

    def as_digits(match: re.Match[str]) -> str:
        word = match.group()
        if word.isdigit():
            return word
        has_digit = any(ch.isdigit() for ch in word)
        capitals = len(word) >= 2 and all(ch in "OISBZl" for ch in word) and word != "l" * len(word)
        return word.translate(_LOOKALIKE) if has_digit or capitals else word

    if not any(ch.isdigit() for ch in text):
        return None
    read = _LOOKALIKE_WORD.sub(as_digits, text)
    return read if read != text else None


# A look-alike word is read as digits only with a digit next to a look-alike letter, or two
# look-alike capitals side by side (at least one of them not "l"): Clues.digit_beside and
# this mask (capitals "2", "l" "1", anything else "0", in UTF-8) find every such place.
_CAPITALS_MASK = bytes(50 if b in b"OISBZ" else 49 if b == ord("l") else 48 for b in range(256))


def _lookalike_capitals(text: str) -> bool:
    if text.encode().islower():
        # No ASCII capitals (as in a text's lower-cased form, searched again). (bytes.islower
        # reads only ASCII letters, and much faster than str.islower.)
        return False
    mask = text.encode().translate(_CAPITALS_MASK)
    return b"22" in mask or b"21" in mask or b"12" in mask


def find_lookalike_phones(text: str, clues: Clues) -> Iterator[ContactMatch]:
    if not clues.digit_count or not (
        clues.digit_beside("OoIlSsBZz") or clues.everything or _lookalike_capitals(text)
    ):
        return
    read = _read_lookalikes(text)
    if read is not None:
        yield from find_phones(read, AnyText(read) if clues.everything else Clues(read))


def find_phones(text: str, clues: Clues) -> Iterator[ContactMatch]:
    # Eight digits with at most five other characters, none a letter, between neighbours:
    # every written phone number (8 digits at the least, groups at most 4 separators apart)
    # and spread-out one (9 digits, at most 5 separators apart) has them; most text doesn't.
    if clues.digits_close(8, 5):
        masked = mask_dates(text, clues)
        yield from _written_numbers(masked)
        yield from _spread_numbers(masked)
    if _may_spell_number(clues):
        yield from _spelled_numbers(text)


def _may_spell_number(clues: Clues) -> bool:
    # Ten tokens at the least, each a lone digit or a digit word.
    words = clues.word_count(_TOKEN_WORDS)
    return words >= 10 or (clues.has_digit and words + clues.lone_digit_count(10 - words) >= 10)


def _written_numbers(masked: str) -> Iterator[ContactMatch]:
    # Candidates with the same digit groups have the same windows (repeated ones are cheap).
    windows: dict[tuple[tuple[str, ...], bool], tuple[list[tuple[int, int]], bool]] = {}
    for candidate in _PHONE_CANDIDATE.finditer(masked):
        if _DIGIT.subn("", candidate.group(), 8)[1] < 8:
            continue  # no window of fewer than 8 digits is a phone number or a helpline
        if _CURRENCY_BEFORE.search(masked, max(0, candidate.start() - 2), candidate.start()):
            continue
        if _ISBN_BEFORE.search(masked, max(0, candidate.start() - 12), candidate.start()):
            continue
        international = candidate.group("plus") is not None
        runs = list(re.finditer(r"\d+", candidate.group()))
        groups = [ascii_digits(run.group()) for run in runs]
        key = (tuple(groups), international)
        if (found := windows.get(key)) is None:
            found = windows[key] = _phone_windows(groups, international)
        valid, protected = found
        if valid:
            # The span to report: one starting at a "+" or a trunk 0 if there is one (so the
            # age in "I'm 25 07700 900123" isn't part of it), else the widest.
            i, j = min(
                valid,
                key=lambda w: (
                    not ((international and w[0] == 0) or groups[w[0]][0] == "0"),
                    w[0],
                    -w[1],
                ),
            )
            start = candidate.start() if i == 0 else candidate.start() + runs[i].start()
            yield ContactMatch("phone", (start, candidate.start() + runs[j - 1].end()))
        elif not protected and _cued_foreign_phone(masked, candidate.start(), "".join(groups)):
            yield ContactMatch("phone", candidate.span())


def _phone_windows(groups: list[str], international: bool) -> tuple[list[tuple[int, int]], bool]:
    """The windows (i, j) of groups[i:j] that are phone numbers, and whether any window is a
    helpline.

    A candidate can run a phone number into neighbouring numbers ("I'm 25 07700 900123"), so
    every window of consecutive groups is tried; windows that contain a helpline number are
    left alone so "1-800-273-8255" doesn't yield "800-273-8255". Only numbers long enough to
    pass as a phone need protecting: a short code such as 999 inside "0412 999 888" is just
    part of a personal number. (Windows of more digits than a helpline with a prefix, or of
    a size `_is_phone` rejects at once, aren't joined up to ask.)"""
    ends = list(accumulate(map(len, groups), initial=0))
    protected: set[int] = set()
    for i in range(len(groups)):
        for j in range(i + 1, len(groups) + 1):
            if ends[j] - ends[i] > _MOST_HELPLINE_DIGITS:
                break
            window = "".join(groups[i:j])
            if len(window) >= 8 and is_helpline(window, international and i == 0):
                protected.update(range(i, j))
    valid = [
        (i, j)
        for i in range(len(groups))
        for j in range(len(groups), i, -1)
        if _phone_sized(ends[j] - ends[i], j - i, groups[i], international and i == 0)
        and not protected.intersection(range(i, j))
        and _is_phone(groups[i:j], international and i == 0)
    ]
    return valid, bool(protected)


def _phone_sized(count: int, size: int, first: str, international: bool) -> bool:
    # What `_is_phone` asks first of the number of digits and of groups.
    if international:
        return 8 <= count <= 15
    if first[0] == "0":
        return 9 <= count <= 17 and size <= 6
    return 10 <= count <= 13 and size <= 4


def _spread_numbers(masked: str) -> Iterator[ContactMatch]:
    for match in _SPREAD_DIGITS.finditer(masked):
        if _is_spread_phone(masked, match):
            yield ContactMatch("phone", match.span())


def _spelled_numbers(text: str) -> Iterator[ContactMatch]:
    for match in _SPELLED_NUMBER.finditer(text):
        tokens = re.findall(r"\w+", match.group().casefold())
        digits, words, repeat = [], 0, 1
        for token in tokens:
            if token in ("double", "triple"):
                repeat = 2 if token == "double" else 3
                words += 1
                continue
            if token in DIGIT_WORDS:
                words += 1
            digits.append(DIGIT_WORDS.get(token, token) * repeat)
            repeat = 1
        number = "".join(digits)
        # Said digit by digit, a phone number starts with 0 or is spelled out in words; a run
        # of single-digit mood scores ("5 6 4 7 5 6 8 7 6 5") is neither.
        if (
            10 <= len(number) <= 13
            and (number.startswith("0") or words >= 3)
            and not is_helpline(number, international=False)
        ):
            yield ContactMatch("phone", match.span())


_PHONE_REGIONS = ("GB", "US", "IN", "AU", "CA", "IE", "NZ")
# Ofcom's range for drama (07700 900000-999): made up, but members copy the shape.
_DRAMA_PREFIX = "07700900"


def plausible_phone(digits: str) -> bool:
    """Whether a phone plan of one of our members' countries would issue `digits`."""
    if digits.startswith("00"):
        digits = digits[2:]
        return len(digits) >= 8 and _valid_international(digits)
    if digits.startswith(_DRAMA_PREFIX) and len(digits) == 11:
        return True
    for region in _PHONE_REGIONS:
        try:
            number = phonenumbers.parse(digits, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return True
    return len(digits) >= 11 and not digits.startswith("0") and _valid_international(digits)


def _valid_international(digits: str) -> bool:
    # "+44 7700 900..." is the drama range too, dialled from abroad.
    if digits.startswith("44" + _DRAMA_PREFIX[1:]) and len(digits) == 12:
        return True
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse("+" + digits, None))
    except phonenumbers.NumberParseException:
        return False
