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

Regular-expression safety: every pattern here runs on up to 20,000 characters of untrusted
text, so all quantifiers are bounded, repeated groups are separated by characters the group
itself can't match (so there is only one way to split a run), and the riskiest ones are
possessive or atomic. Candidates are found with a cheap regex and then judged in Python.
"""

from __future__ import annotations

import html as html_lib
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

import phonenumbers

from moderation.pipeline import (
    Action,
    ContentKind,
    Filter,
    FilterInput,
    FilterResult,
    Reason,
    normalise,
)

__all__ = ["HELPLINE_NUMBERS", "ContactMatch", "contact_filter", "find_contact_details"]

ContactKind = Literal["phone", "email", "address", "social"]


@dataclass(frozen=True)
class ContactMatch:
    kind: ContactKind
    # Character offsets into the text that was searched.
    span: tuple[int, int]


# --------------------------------------------------------------------------- phone numbers

# Public crisis and support lines, as dialled nationally (digits only). Members sharing these
# is help, not a privacy risk. Short codes (116 123, 988, 999, 85258 ...) are listed for
# completeness although they are too short to look like a personal number anyway.
HELPLINE_NUMBERS: frozenset[str] = frozenset(
    {
        "116123",  # Samaritans (UK, IE); also TelefonSeelsorge DE
        "116111",  # Childline and other EU child helplines
        "116006",  # EU victim support
        "988",  # US/CA Suicide & Crisis Lifeline
        "911",
        "999",
        "112",
        "111",  # NHS 111
        "000",  # AU emergency
        "85258",  # Shout (UK)
        "741741",  # Crisis Text Line (US)
        "50808",  # Text 50808 (IE)
        "18002738255",  # old US National Suicide Prevention Lifeline, still widely quoted
        "8002738255",
        "131114",  # Lifeline Australia
        "0477131114",  # Lifeline Australia text
        "1300224636",  # Beyond Blue (AU)
        "1300659467",  # Suicide Call Back Service (AU)
        "1800551800",  # Kids Helpline (AU)
        "1737",  # Need to talk? (NZ)
        "0800543354",  # Lifeline Aotearoa (NZ)
        "14416",  # Tele-MANAS (IN)
        "18008914416",
        "08001110111",  # TelefonSeelsorge (DE)
        "08001110222",
        "3114",  # numéro national de prévention du suicide (FR)
        "0800585858",  # CALM (UK)
        "03001233393",  # Mind infoline (UK)
        "08000684141",  # Papyrus HOPELINE247 (UK)
        "08082000247",  # National Domestic Abuse Helpline (UK)
        "08001111",  # Childline (UK)
        "1800247247",  # Pieta (IE)
        "18007997233",  # US National Domestic Violence Hotline
        "8007997233",
        "18006564673",  # RAINN (US)
        "8006564673",
        "18006624357",  # SAMHSA helpline (US)
        "8006624357",
        "18664887386",  # The Trevor Project (US)
        "8664887386",
        "18775658860",  # Trans Lifeline (US)
        "8775658860",
        "18009506264",  # NAMI HelpLine (US)
        "8009506264",
        "18334564566",  # Talk Suicide Canada (formerly Crisis Services Canada)
        "8334564566",
        "18006686868",  # Kids Help Phone (CA)
        "8006686868",
        "686868",  # Kids Help Phone text line (CA)
        "18552423310",  # Hope for Wellness (CA)
        "8552423310",
        "03003300630",  # Switchboard LGBT+ (UK)
        "08088010677",  # Beat eating disorders helpline (UK)
        "03003047000",  # SANEline (UK)
        "03444775774",  # Anxiety UK
        "08085002222",  # Rape Crisis England & Wales
        "08088010327",  # Men's Advice Line (UK)
        "1800804848",  # Aware (IE)
        "1800666666",  # Childline (IE)
        "1800341900",  # Women's Aid (IE)
        "1800737732",  # 1800RESPECT (AU)
        "1800184527",  # QLife (AU)
        "1300789978",  # MensLine Australia
        "139276",  # 13YARN (AU)
        "1800011046",  # Open Arms veterans (AU)
        "0800376633",  # Youthline (NZ)
        "0800111757",  # Depression Helpline (NZ)
        "0508828865",  # Suicide Crisis Helpline (NZ)
        "9152987821",  # iCall, TISS (IN)
        "9820466726",  # AASRA (IN)
        "02227546669",  # AASRA landline (IN)
        "9999666555",  # Vandrevala Foundation (IN)
        "18602662345",  # Vandrevala Foundation (IN)
        "18002333330",  # Vandrevala Foundation (IN)
        "18005990019",  # KIRAN (IN)
        "04424640050",  # Sneha (IN)
        "04424640060",  # Sneha (IN)
        "08046110007",  # NIMHANS (IN)
        "8376804102",  # Fortis Stress Helpline (IN)
        "9922001122",  # Connecting Trust (IN)
        "9922004305",  # Connecting Trust (IN)
        "1098",  # Childline (IN)
        "181",  # Women helpline (IN)
    }
)

# The national numbers as dialled after a country code: without the trunk 0, and only the
# ones long enough not to be the tail of an ordinary number.
_HELPLINES_WITHOUT_TRUNK = frozenset(
    number.lstrip("0") for number in HELPLINE_NUMBERS if len(number.lstrip("0")) >= 8
)

# Email domains of public services (e.g. jo@samaritans.org) are not personal contact details.
_HELPLINE_EMAIL_DOMAINS = frozenset({"samaritans.org"})

_BLANK = "[ \t\u00a0\u202f]"
# One run of digits with the separators people put in phone numbers between the groups.
# Groups are possessive and separators can't contain digits, so a run splits one way only.
# Not after "/", "=" and the like (a number in a URL), nor glued to a word by a hyphen
# ("issuecomment-1302557034").
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w+@/=?&#%~])(?<!\w-)(?P<plus>\+" + _BLANK + r"?)?\(?\d{1,13}+"
    r"(?:[ \t\u00a0\u202f.\-/()\u2010-\u2015]{1,4}+\d{1,13}+){0,9}(?![\w@])"
)
# Dates are masked before looking for phones, so "01.02.2024 0930" isn't one long number.
# The look-arounds keep a dotted French number (06.12.34.56.78) from looking like a date.
_DATE = re.compile(
    r"(?<![\d./\-])(?:\d{1,2}([./\-])\d{1,2}\1\d{2,4}|\d{4}([./\-])\d{1,2}\2\d{1,2})"
    r"(?![\d]|[./\-]\d)"
)
_CURRENCY_BEFORE = re.compile(r"[£$€¥₹]" + _BLANK + r"?$")
_YEARS = re.compile(r"(?:19|20)\d\d")
_ISBN_PREFIXES = ("978", "979")

_DIGIT_WORDS = {
    "zero": "0",
    "nought": "0",
    "oh": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_TOKEN = r"(?:zero|nought|oh|one|two|three|four|five|six|seven|eight|nine|double|triple|\d)"
# A number said digit by digit ("oh seven seven ...", "0 7 7 0 0 ...").
_SPELLED_NUMBER = re.compile(
    rf"(?<!\w)(?:{_TOKEN}(?!\w)[\s,.\-]{{1,3}}+){{9,30}}{_TOKEN}(?!\w)", re.IGNORECASE
)


def _scan(
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


def _ascii_digits(text: str) -> str:
    # \d also matches e.g. full-width and Devanagari digits; compare in one form.
    return "".join(str(unicodedata.digit(ch)) for ch in text)


def _is_helpline(digits: str, international: bool = True) -> bool:
    """Whether `digits` dial a public helpline, as listed or with a country code before the
    national number ("+91 91529 87821", "0091 9152987821", "64 800 543 354", "0 9152987821").
    A personal number ending in a listed line after a 1-3 digit prefix is too unlikely to
    matter, so the prefix needn't be a "+"; `international` is kept for callers' clarity."""
    if digits in HELPLINE_NUMBERS:
        return True
    if digits.startswith("00"):
        digits = digits[2:]
    return any(digits[k:] in _HELPLINES_WITHOUT_TRUNK for k in range(1, 4))


def _looks_like_thousands(groups: list[str]) -> bool:
    # 1 234 567 890 / 10.000.000: grouped by threes like an amount, not like a phone number.
    return (
        len(groups) >= 3
        and 1 <= len(groups[0]) <= 3
        and not groups[0].startswith("0")
        and all(len(g) == 3 for g in groups[1:])
    )


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
        and not all(len(g) == 4 and _YEARS.fullmatch(g) for g in groups)
    )


_ISBN_BEFORE = re.compile(r"isbn(?:-?1[03])?:?" + _BLANK + r"{0,2}$", re.IGNORECASE)
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
    if _plausible_phone(digits):
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
    groups = re.findall(r"\d+", match.group())
    digits = _ascii_digits("".join(groups))
    if not 9 <= len(digits) <= 13 or sum(len(g) <= 2 for g in groups) * 3 < len(groups) * 2:
        return False
    if _is_helpline(digits):
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
    return signalled and _plausible_phone(digits)


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


def _find_lookalike_phones(text: str) -> Iterator[ContactMatch]:
    read = _read_lookalikes(text)
    if read is not None:
        yield from _find_phones(read)


def _find_phones(text: str) -> Iterator[ContactMatch]:
    masked = _DATE.sub(lambda m: "#" * len(m.group()), text)
    for candidate in _PHONE_CANDIDATE.finditer(masked):
        if _CURRENCY_BEFORE.search(masked, max(0, candidate.start() - 2), candidate.start()):
            continue
        if _ISBN_BEFORE.search(masked, max(0, candidate.start() - 12), candidate.start()):
            continue
        international = candidate.group("plus") is not None
        runs = list(re.finditer(r"\d+", candidate.group()))
        groups = [_ascii_digits(run.group()) for run in runs]
        # A candidate can run a phone number into neighbouring numbers ("I'm 25 07700 900123"),
        # so every window of consecutive groups is tried; windows that contain a helpline
        # number are left alone so "1-800-273-8255" doesn't yield "800-273-8255". Only numbers
        # long enough to pass as a phone need protecting: a short code such as 999 inside
        # "0412 999 888" is just part of a personal number.
        protected: set[int] = set()
        for i in range(len(groups)):
            for j in range(i + 1, len(groups) + 1):
                window = "".join(groups[i:j])
                if len(window) >= 8 and _is_helpline(window, international and i == 0):
                    protected.update(range(i, j))
        valid = [
            (i, j)
            for i in range(len(groups))
            for j in range(len(groups), i, -1)
            if not protected.intersection(range(i, j))
            and _is_phone(groups[i:j], international and i == 0)
        ]
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

    for match in _SPREAD_DIGITS.finditer(masked):
        if _is_spread_phone(masked, match):
            yield ContactMatch("phone", match.span())

    for match in _SPELLED_NUMBER.finditer(text):
        tokens = re.findall(r"\w+", match.group().casefold())
        digits, words, repeat = [], 0, 1
        for token in tokens:
            if token in ("double", "triple"):
                repeat = 2 if token == "double" else 3
                words += 1
                continue
            if token in _DIGIT_WORDS:
                words += 1
            digits.append(_DIGIT_WORDS.get(token, token) * repeat)
            repeat = 1
        number = "".join(digits)
        # Said digit by digit, a phone number starts with 0 or is spelled out in words; a run
        # of single-digit mood scores ("5 6 4 7 5 6 8 7 6 5") is neither.
        if (
            10 <= len(number) <= 13
            and (number.startswith("0") or words >= 3)
            and not _is_helpline(number, international=False)
        ):
            yield ContactMatch("phone", match.span())


# Numbers put together by the reader: split across words ("07700 ... then 900 461"), the
# area code given apart ("area code 415, the rest is 555 0192"), digits as words with
# "double", "triple" and tens ("ninety eight four fifty"). The text becomes a stream of
# chunks (digits said together) and the words between them; nearby chunks are joined, and a
# joined number that a phone plan would issue (checked with `phonenumbers`) is a phone, if
# something says it is one: a trunk 0 or "+", or words like "number", "area code", "half".
_PIECE = re.compile(r"[^\W_]+|[^\w\s]")
_TENS = {
    "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14",
    "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19",
    "twenty": "2", "thirty": "3", "forty": "4", "fifty": "5", "sixty": "6", "seventy": "7",
    "eighty": "8", "ninety": "9",
}  # fmt: skip
# A cheap test that a text could hold a number said in parts at all.
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
_UNITS = frozenset(
    {
        "mg", "mcg", "ml", "g", "kg", "lb", "lbs", "st", "am", "pm", "days", "day", "weeks",
        "week", "months", "month", "years", "year", "yrs", "hours", "hrs", "hour", "mins",
        "minutes", "min", "times", "x", "percent", "pounds", "dollars", "rupees", "rs", "inr",
        "usd", "gbp", "aud", "k", "km", "miles", "mi", "steps", "step", "units", "tablets",
        "pills", "cm", "mm", "ft", "calories", "kcal", "people", "members", "posts", "sober",
        "clean", "free", "old", "yo", "th", "nd", "rd", "floor", "bed", "ward", "room", "lakh",
        "lakhs", "crore", "grand", "quid", "bucks", "euros", "words", "pages", "likes", "views",
        "followers", "messages", "texts", "replies", "kids", "attempts", "sessions",
    }
)  # fmt: skip
_BEFORE_NOT_PHONE = frozenset(
    {
        "room", "ward", "bed", "bay", "platform", "bus", "route", "flight", "gate", "seat",
        "step", "day", "chapter", "verse", "psalm", "psalms", "page", "pg", "p", "isbn", "year",
        "age", "aged", "level", "floor", "apt", "flat", "unit", "pin", "case", "ref", "order",
        "ticket", "invoice", "tracking", "pnr", "account", "acct", "policy", "id", "roll",
        "reg", "registration", "batch", "lot", "serial", "version", "v", "score", "scored",
    }
)  # fmt: skip
_PHONE_REGIONS = ("GB", "US", "IN", "AU", "CA", "IE", "NZ")
# Ofcom's range for drama (07700 900000-999): made up, but members copy the shape.
_DRAMA_PREFIX = "07700900"
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


def _plausible_phone(digits: str) -> bool:
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


def _spoken_tokens(pieces: list[str]) -> Iterator[tuple[int, int, str | None]]:
    """(first piece, last piece, digits or None) for each word or number in `pieces`, with
    "double oh", "ninety eight" and "seven hundred" read as the digits they stand for."""
    i, repeat = 0, 1
    while i < len(pieces):
        word = pieces[i].casefold()
        following = pieces[i + 1].casefold() if i + 1 < len(pieces) else ""
        previous = pieces[i - 1].casefold() if i else ""
        if word in ("double", "triple") and (following in _DIGIT_WORDS or following.isdigit()):
            repeat = 2 if word == "double" else 3
            i += 1
            continue
        digits: str | None = None
        last = i
        if previous in _LABEL_WORDS and not word.isdigit():
            pass  # "part one", "step two": a label, not a digit
        elif word.isdigit():
            digits = _ascii_digits(word)
        elif word in _DIGIT_WORDS and following not in _COUNTED:
            spoken_oh = following in _DIGIT_WORDS or previous in _DIGIT_WORDS or repeat > 1
            if word != "oh" or spoken_oh or previous in ("double", "triple"):
                digits = _DIGIT_WORDS[word]
        elif word in _TENS and following not in _COUNTED:
            digits = _TENS[word]
            if len(digits) == 1:
                unit = _DIGIT_WORDS.get(following)
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


def _find_assembled_phones(text: str) -> Iterator[ContactMatch]:
    if not _MAY_HOLD_DIGITS.search(text):
        return
    masked = _DATE.sub(lambda m: "#" * len(m.group()), text)
    found = list(_PIECE.finditer(masked))
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
            or after in _UNITS
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
            if chunks == [] and after in _UNITS:
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
        blocked = word in _BEFORE_NOT_PHONE
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
        year = len(chunk.digits) == 4 and _YEARS.fullmatch(chunk.digits)
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
        if not 9 <= len(digits) <= 15 or _is_helpline(digits):
            continue
        if run[start].plus:
            digits = "00" + digits
        cued = (
            digits.startswith("0")
            or run[start].spoken
            or _PHONE_CUE.search(text, max(0, run[start].start - 60), run[end].end) is not None
        )
        if cued and _plausible_phone(digits):
            return end
    return None


# --------------------------------------------------------------------------- email addresses

# "@" and "." as people disguise them: "(at)", "[at]", " at ", " @ ", "[.]", " dot ".
_AT = (
    r"(?P<at>@|[ \t]{1,3}@[ \t]{1,3}|[ \t]{0,3}[(\[{<][ \t]{0,2}(?:at|@)[ \t]{0,2}[)\]}>][ \t]{0,3}"
    r"|[ \t]{1,3}at[ \t]{1,3}|-at-)"
)
_DOT = (
    r"(?:\.|[ \t]{1,3}\.[ \t]{1,3}|[ \t]{0,3}[(\[{<][ \t]{0,2}(?:dot|\.)[ \t]{0,2}[)\]}>][ \t]{0,3}"
    r"|[ \t]{1,3}dot[ \t]{1,3}|-dot-)"
)
_EMAIL = re.compile(
    r"(?<![\w.+\-])(?P<local>[\w.+\-]{1,64}+)" + _AT + r"(?P<domain>[\w\-]{1,63}+)"
    r"(?P<rest>(?:" + _DOT + r"[\w\-]{1,63}+){0,4})(?![\w@])",
    re.IGNORECASE,
)
_DOT_SPLIT = re.compile(_DOT, re.IGNORECASE)
_PROVIDERS = frozenset(
    {
        "gmail", "googlemail", "hotmail", "outlook", "live", "msn", "yahoo", "ymail", "icloud",
        "me", "mac", "aol", "proton", "protonmail", "pm", "tutanota", "tuta", "gmx", "mail",
        "yandex", "zoho", "fastmail", "hey", "btinternet", "sky", "virginmedia", "talktalk",
        "web", "orange", "free", "laposte", "wanadoo", "rediffmail", "qq",
    }
)  # fmt: skip
_COMMON_TLDS = frozenset(
    {
        "com", "net", "org", "co", "uk", "me", "io", "ie", "au", "de", "fr", "in", "nz", "ca",
        "us", "edu", "gov", "info", "biz", "xyz", "email", "app", "dev", "ac"
    }
)  # fmt: skip
# Generic top-level domains people have mail at; every two-letter label is a country's.
_GENERIC_TLDS = frozenset(
    {
        "com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "name", "pro", "mobi",
        "xyz", "email", "app", "dev", "online", "site", "store", "tech", "live", "life", "blog",
        "club", "space", "website", "fun", "world", "today", "art", "design", "studio", "page",
        "icu", "top", "cloud", "one", "family", "love", "team", "works", "company", "media",
    }
)  # fmt: skip


def _real_tld(tld: str) -> bool:
    return tld in _GENERIC_TLDS or (len(tld) == 2 and tld.isascii())


# Words that can't be the user or domain of a written-out address ("looking at the dot com
# era", "I was at uni dot dot dot").
_EMAIL_STOPWORDS = frozenset(
    {
        "a", "an", "the", "my", "your", "his", "her", "our", "their", "this", "that", "it", "its",
        "is", "was", "be", "at", "to", "of", "in", "on", "dot", "home", "work", "school", "uni"
    }
)  # fmt: skip
# Spaced out letter by letter: "j a n e @ g m a i l . c o m".
_SPACED_LETTERS = re.compile(r"(?<!\S)(?:\S[ \t]){4,100}+\S(?!\S)")


def _is_email(match: re.Match[str]) -> bool:
    local, domain = match.group("local"), match.group("domain").casefold()
    labels = [label.casefold() for label in _DOT_SPLIT.split(match.group("rest"))[1:]]
    at = match.group("at").strip().casefold()
    full_domain = ".".join([domain, *labels])
    if full_domain in _HELPLINE_EMAIL_DOMAINS:
        return False
    if not labels:
        # No top-level domain: only "jane@gmail" / "jane @ hotmail" is clear enough.
        return at == "@" and domain in _PROVIDERS
    tld = labels[-1]
    if not tld.isalpha() or not 2 <= len(tld) <= 24:
        return False
    written_out = at == "at" or "dot" in match.group("rest").casefold()
    plain = match.group("at") == "@" and match.group("rest")[:1] == "."
    if plain:
        # "me@rock.bottom" is a joke, not an inbox: the last label must be a real TLD.
        return _real_tld(tld)
    if written_out and not any(ch in match.group() for ch in "@([{<"):
        # "name at gmail dot com": the words are ordinary English, so ask for a real-looking
        # address (a known provider or a common TLD, and not "at the dot com").
        if domain in _PROVIDERS:
            return tld in _COMMON_TLDS
        # "find a meeting near you at alcoholics-anonymous.org.uk" is a website, not an
        # address: with a word "at" but real dots, only a mail provider makes it an email.
        return (
            "dot" in match.group("rest").casefold()
            and tld in _COMMON_TLDS
            and domain not in _EMAIL_STOPWORDS
            and local.casefold() not in _EMAIL_STOPWORDS
            and not local.isdigit()
        )
    return tld in _COMMON_TLDS or domain in _PROVIDERS


def _find_emails(text: str) -> Iterator[ContactMatch]:
    for match in _scan(_EMAIL, text, _is_email):
        yield ContactMatch("email", match.span())
    for run in _SPACED_LETTERS.finditer(text):
        squeezed = run.group().replace(" ", "").replace("\t", "")
        if any(_scan(_EMAIL, squeezed, _is_email)):
            yield ContactMatch("email", run.span())
    yield from _find_disguised_emails(text)
    yield from _find_implied_emails(text)


# Addresses disguised more heavily: symbols said in words ("at the rate", "at-sign", "full
# stop", "period", "-dot-"), letters spread out ("a o l . c o m", "m-e-e-r-a"), a provider
# split ("g mail", "big pond"), "@" on a line of its own. The text is rewritten in steps into
# the plain form, keeping each character's original offset, and plain addresses are looked for.
_SPREAD_LETTERS = re.compile(r"(?<![^\s\-])\S(?:(?:[ \t]|\n|-){1,2}\S(?![^\s\-])){3,150}+")
_SAID_AT = re.compile(
    r"[ \t\n,]{0,3}[(\[{<]?[ \t]{0,2}(?:at[ \t]{1,2}the[ \t]{1,2}rate(?:[ \t]{1,2}of)?"
    r"|at[ \t\-]{0,2}(?:sign|symbol)|@)[ \t]{0,2}[)\]}>]?[ \t\n,]{0,3}|(?<=\w)-at-(?=\w)",
    re.IGNORECASE,
)
_SAID_DOT = re.compile(
    r"[ \t,]{0,3}\b(?:dot|full[ \t]stop|period|point)\b[ \t,]{0,3}|(?<=\w)-dot-(?=\w)"
    r"|[ \t]{1,3}\.[ \t]{1,3}(?=\w)",
    re.IGNORECASE,
)
# "@g mail.com", "@big pond.com": the words of a domain before its first dot.
_SPLIT_DOMAIN = re.compile(r"@(?:[^\W_]{1,20}[ \t]){1,2}[^\W_]{1,20}(?=\.[a-z])", re.IGNORECASE)


def _rewrite(
    text: str, offsets: list[int], pattern: re.Pattern[str], replace: Callable[[str], str]
) -> tuple[str, list[int]]:
    """`text` with each match of `pattern` replaced, and each character's original offset."""
    parts: list[str] = []
    new_offsets: list[int] = []
    pos = 0
    for match in pattern.finditer(text):
        parts.append(text[pos : match.start()])
        new_offsets.extend(offsets[pos : match.start()])
        replacement = replace(match.group())
        parts.append(replacement)
        new_offsets.extend([offsets[match.start()]] * len(replacement))
        pos = match.end()
    parts.append(text[pos:])
    new_offsets.extend(offsets[pos:])
    return "".join(parts), new_offsets


def _squeeze_letters(run: str) -> str:
    return re.sub(r"[ \t\n\-]", "", run) if run.count("-") != len(run) else run


_DISGUISE_HINT = re.compile(
    r"[\s\-]@|@[\s\-]|[(\[{<][ \t]{0,2}(?:at|@)"
    r"|(?i:\bat[ \t\-]{1,2}(?:the[ \t]rate|sign|symbol)|-at-"
    r"|\bat\b.{1,80}\b(?:dot|full[ \t]stop|period|point)\b)"
    r"|(?<!\S)\S[ \t\-]\S[ \t\-]\S[ \t\-]\S(?!\S)"
)


def _find_disguised_emails(text: str) -> Iterator[ContactMatch]:
    # Cheap pre-check: every disguise leaves a spaced "@", a said one, or a spread-out run.
    if _DISGUISE_HINT.search(text) is None:
        return
    plain = text
    offsets = list(range(len(text) + 1))
    plain, offsets = _rewrite(plain, offsets, _SPREAD_LETTERS, _squeeze_letters)
    plain, offsets = _rewrite(plain, offsets, _SAID_AT, lambda _: "@")
    plain, offsets = _rewrite(plain, offsets, _SAID_DOT, lambda _: ".")
    plain, offsets = _rewrite(plain, offsets, _SPLIT_DOMAIN, lambda s: s.replace(" ", ""))
    if plain == text:
        return
    offsets.append(len(text))
    for match in _scan(_EMAIL, plain, _is_plain_email):
        start, end = offsets[match.start()], offsets[match.end()]
        if text[start:end] != match.group():  # unchanged ones are _is_email's to judge
            yield ContactMatch("email", (start, max(end, start + 1)))


def _is_plain_email(match: re.Match[str]) -> bool:
    """An address rewritten into plain form: a known provider, or a real TLD after a dot."""
    local, domain = match.group("local").casefold(), match.group("domain").casefold()
    labels = [label.casefold() for label in _DOT_SPLIT.split(match.group("rest"))[1:]]
    if local in _EMAIL_STOPWORDS or domain in _EMAIL_STOPWORDS:
        return False
    if ".".join([domain, *labels]) in _HELPLINE_EMAIL_DOMAINS:
        return False
    if match.group("at").strip().casefold() not in ("@", "at"):
        return False
    if not labels:
        return match.group("at") == "@" and domain in _PROVIDERS
    tld = labels[-1]
    return tld.isalpha() and (tld in _COMMON_TLDS or (domain in _PROVIDERS and _real_tld(tld)))


# Only the provider given, the rest left to the reader: "same name as here at gmail",
# "@outlook, you know the name", "add gmail.com to my username". A mail provider and a
# pointer to a name the reader knows, close together, or "@provider" with no name before it.
_MAIL_PROVIDERS = (
    r"g[ \t]?mail|googlemail|hotmail|yahoo|ymail|icloud|proton[ \t]?mail|proton|rediff(?:mail)?"
    r"|zoho(?:[ \t]mail)?|gmx|aol|yandex|tutanota|tuta|fastmail|btinternet|bigpond|eircom"
    r"|sbcglobal|comcast|verizon|rocketmail|live\.com|msn|outlook"
)
_PROVIDER_MENTION = re.compile(
    rf"(?<![\w.])(?P<at>@[ \t]?|at[ \t]{{1,2}}|on[ \t]{{1,2}})?(?P<provider>{_MAIL_PROVIDERS})"
    r"(?:\.[a-z]{2,6}){0,2}(?!\w)",
    re.IGNORECASE,
)
_NAME_POINTER = re.compile(
    r"\b(?:same|identical)[ \t]{1,3}(?:[a-z]{2,10}[ \t]{1,3})?(?:name|handle|username|id|nick)\b"
    r"|\b(?:my|this|the|your)[ \t]{1,3}(?:kindred|forum|display|screen|user|profile)[ \t]?"
    r"(?:name|id)\b|\b(?:my|this|your)[ \t]{1,3}(?:handle|username|nick|user[ \t]?id)\b"
    r"|\bsame[ \t](?:as|one)[ \t](?:here|on[ \t]here|this|my|above)\b|\b(?:you[ \t]can|you['’]ll"
    r"|easy[ \t]to|hard[ \t]to)[ \t](?:guess|figure|work)|\byou[ \t]know[ \t](?:the|my)[ \t]name"
    r"|\bfirst[ \t]?name[ \t]?[._]?[ \t]?(?:last[ \t]?name|surname)|\bname[ \t]on[ \t]here"
    r"|\bas[ \t]here\b",
    re.IGNORECASE,
)


def _find_implied_emails(text: str) -> Iterator[ContactMatch]:
    for match in _PROVIDER_MENTION.finditer(text):
        at = (match.group("at") or "").strip()
        provider = match.group("provider").casefold()
        if at == "@" and not text[max(0, match.start() - 1) : match.start()].strip():
            # "@gmail.com" with no name before it: someone else is to supply the name.
            yield ContactMatch("email", match.span())
            continue
        if provider == "outlook" and not at:
            continue  # "my outlook on life" is not the mail provider
        window = (max(0, match.start() - 80), match.end() + 80)
        if _NAME_POINTER.search(text, *window) is not None:
            yield ContactMatch("email", match.span())


# --------------------------------------------------------------------------- street addresses

# Street words that are rarely anything else ("road", "avenue"), and ones that often are
# ("way", "close", "park") and so count only when written as a name: "7 Willow Close".
_STREET_WORDS = (
    r"street|st|road|rd|avenue|ave|lane|ln|boulevard|blvd|crescent|terrace|mews|drive|dr"
)
_NAME_STREET_WORDS = (
    r"way|close|place|pl|court|ct|park|hill|row|walk|view|rise|green|square|sq|gardens|grove"
    r"|parade|wharf|gate|highway|hwy"
)
_ADDRESS = re.compile(
    r"(?<![\w£$€.,/:\-])(?P<number>\d{1,5}[a-z]?)(?!\w),?[ \t]{1,3}"
    r"(?P<name>(?:[a-z][\w'’.\-]{0,30}+[ \t]{1,3}){1,3})"
    rf"(?P<street>(?:{_STREET_WORDS})|(?:{_NAME_STREET_WORDS}))\b\.?",
    re.IGNORECASE,
)
_STREET_STRONG = re.compile(rf"(?:{_STREET_WORDS})", re.IGNORECASE)
# Words that put a number and a street word in one sentence without making an address:
# "5 miles down the road", "3 different GPs on the same road", "£70 on Baker Street".
_ADDRESS_STOPWORDS = frozenset(
    {
        "a", "an", "the", "my", "your", "his", "her", "our", "their", "its", "this", "that",
        "these", "those", "of", "to", "from", "in", "on", "at", "by", "for", "with", "and", "or",
        "but", "down", "up", "along", "across", "into", "onto", "over", "near", "past", "round",
        "around", "behind", "off", "through", "times", "time", "miles", "mile", "km", "kms",
        "metres", "meters", "yards", "minutes", "mins", "minute", "hours", "hour", "hrs", "days",
        "day", "weeks", "week", "months", "month", "years", "year", "steps", "step", "blocks",
        "block", "houses", "house", "doors", "door", "floors", "floor", "flats", "stops", "stop",
        "different", "other", "more", "same", "whole", "busy", "long", "short", "big", "little",
        "old", "new", "only", "just", "every", "each", "nights", "night", "am", "pm", "people",
        "kids", "friends", "stone", "lbs", "kg"
    }
)  # fmt: skip
_UK_POSTCODE = re.compile(
    # Inward codes never use C, I, K, M, O or V, which also rules out "5mg", "4am", "2kg".
    r"(?<![\w])[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?[ \t]?\d[ABD-HJLNP-UW-Z]{2}(?!\w)",
    re.IGNORECASE,
)
_US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ"
    "|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY"
)
# Case-sensitive on purpose: "IL 62704" is a place, "in 2019" is not.
_US_ZIP = re.compile(rf"(?<![\w])(?:{_US_STATES}),?[ \t]{{1,2}}\d{{5}}(?:-\d{{4}})?(?![\w])")


def _is_address(match: re.Match[str]) -> bool:
    words = match.group("name").split()
    if any(word.casefold().strip(".,'’") in _ADDRESS_STOPWORDS for word in words):
        return False
    street = match.group("street")
    return bool(_STREET_STRONG.fullmatch(street)) or (
        street[0].isupper() and all(word[0].isupper() for word in words)
    )


# Indian addresses rarely have "<number> <name> Street"; they are a list of parts, each of
# which alone is ordinary ("near the temple", "sector 5"). Each part found scores, and parts
# scoring 3 or more within one stretch of text make an address, partial ones included.
_ADDRESS_PARTS: list[tuple[re.Pattern[str], int]] = [
    # Flat 302, H.No. 12-3-456, plot no 88, gali no. 4, bldg 3, pocket 2, sec 10, Sector V
    (
        re.compile(
            r"\b(?:flat|house|h\.?[ \t]?no|plot|door|gali|shop|bldg|building|pocket|quarter|qtr"
            r"|sec(?:tor)?|ward[ \t]no|khasra|survey[ \t]no)\.?[ \t]{0,2}(?:no\.?|number|#)?"
            r"[ \t]{0,2}(?:[a-z]-?)?\d{1,5}\b|\bh\.[ \t]?no\b|\bsector[ \t][IVX]{1,4}\b",
            re.IGNORECASE,
        ),
        2,
    ),
    # Gandhi Nagar, Shanti Colony, Sai Krupa Apartments, Green Valley CHS
    (
        re.compile(
            r"\b[A-Z][a-z]{1,20}[ \t](?:Nagar|Colony|Layout|Society|Enclave|Vihar|Puram|Bagh"
            r"|Ganj|Chowk|Apartments?|Apts|Residency|Heights|CHS|Towers|Complex|Niwas|Sadan"
            r"|Bhavan|Mohalla|Basti|Extension|Extn)\b"
        ),
        2,
    ),
    # 3rd Cross, 4th Block, 2nd Main, 1st Stage
    (re.compile(r"\b\d{1,3}(?:st|nd|rd|th)[ \t](?:cross|main|block|stage|phase)\b", re.I), 2),
    # pin code 411038 / pincode: 560034
    (
        re.compile(
            r"\bpin[ \t]?(?:code)?[ \t]{0,2}(?:is|no\.?|:|-)?[ \t]{0,2}[1-8]\d{2}[ \t]?\d{3}\b",
            re.I,
        ),
        3,
    ),
    # Mumbai 400069, Dist. Indore, MP 453551: a PIN after a place name
    (
        re.compile(
            r"\b(?!Rs\b|INR\b|Page\b|Total\b)[A-Z][A-Za-z]{1,20},?[ \t]{1,2}[-–—]?[ \t]?"
            r"[1-8]\d{2}[ \t]?\d{3}(?![\d,.])"
        ),
        2,
    ),
    # MG Road, Ghodbunder Road; 14/2, TC 25/1234; B-45, C-1204; first floor
    (re.compile(r"\b[A-Z][\w]{0,20}[ \t](?:Road|Rd|Marg|Main|Cross|Salai|Path)\b"), 1),
    (re.compile(r"(?<![\w/])(?!24/7)\d{1,4}/\d{1,4}(?![\w/])|\b[A-Z]-\d{2,4}\b"), 1),
    (re.compile(r"\b(?:ground|first|second|third|top|\d(?:st|nd|rd|th))[ \t]floor\b", re.I), 1),
    # Landmarks and rural parts: near / opp. / behind X, landmark, Village X, Post X, Dist. X
    (re.compile(r"\b(?:near|opp\.|opposite|behind|beside|landmark)\b", re.I), 1),
    (re.compile(r"\b(?i:village|vill|post|p\.o\.|dist|district|tehsil|taluka?)\.?[ \t][A-Z]"), 1),
    (re.compile(r"\bgali\b", re.I), 1),
]
_ADDRESS_STRETCH = 160


def _find_listed_addresses(text: str) -> Iterator[ContactMatch]:
    parts = sorted(
        (match.start(), match.end(), weight)
        for pattern, weight in _ADDRESS_PARTS
        for match in pattern.finditer(text)
    )
    first = 0
    for last in range(len(parts)):
        while parts[last][0] - parts[first][0] > _ADDRESS_STRETCH:
            first += 1
        if sum(weight for _, _, weight in parts[first : last + 1]) >= 3:
            yield ContactMatch("address", (parts[first][0], parts[last][1]))


# US and partial addresses: "zip is 78704", "I'm at 60614", "on 14th and Pine", "I live on
# Ravenscroft Street".
_ZIP_SAID = re.compile(
    r"\b(?:zip(?:[ \t]?code)?|post[ \t]?code)[ \t]{0,2}(?:is|:|-)?[ \t]{0,2}\d{5}(?:-\d{4})?\b"
    r"|\b(?:i['’]?m|i[ \t]am|we['’]re|we[ \t]are|live|living|stay|staying|based)[ \t]{1,3}"
    r"(?:at|in|near|around)[ \t]{1,3}\d{5}(?![\w.,]\d)"
    rf"(?![ \t]{{0,2}}(?:%|(?:{'|'.join(sorted(_UNITS))})\b))",
    re.IGNORECASE,
)
_CORNER = re.compile(
    r"\b(?:on|at|of|off)[ \t]{1,3}\d{1,3}(?:st|nd|rd|th)[ \t]{1,3}(?:and|&)[ \t]{1,3}"
    r"[A-Z][a-z]{2,20}\b"
)
_LIVE_ON = re.compile(
    r"\b(?i:(?:i|we)(?:['’]m|['’]re|[ \t]am|[ \t]are)?[ \t]{1,2}(?:live|living|stay|staying"
    r"|moved)|my[ \t](?:house|flat|home|place))\b[^.\n]{0,20}?"
    r"\b(?:on|in|at|off)[ \t]{1,3}(?:[A-Z][\w'’]{1,30}[ \t]){1,3}"
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Drive|Close|Crescent|Way|Place|Court|Gardens|Grove"
    r"|Terrace|Boulevard|Blvd)\b"
)


def _find_addresses(text: str) -> Iterator[ContactMatch]:
    for match in _scan(_ADDRESS, text, _is_address):
        yield ContactMatch("address", match.span())
    yield from _find_listed_addresses(text)
    for pattern in (_ZIP_SAID, _CORNER, _LIVE_ON):
        for match in pattern.finditer(text):
            yield ContactMatch("address", match.span())
    for match in _UK_POSTCODE.finditer(text):
        yield ContactMatch("address", match.span())
    for match in _US_ZIP.finditer(text):
        yield ContactMatch("address", match.span())


# --------------------------------------------------------------------------- social media

_PROFILE_HOSTS = (
    r"wa\.me|(?:api|chat|web)\.whatsapp\.com|whatsapp\.com|t\.me|telegram\.(?:me|dog)"
    r"|snapchat\.com|instagram\.com|instagr\.am|discord\.gg|discord(?:app)?\.com"
    r"|m\.me|(?:m\.|web\.|mobile\.)?facebook\.com|fb\.com|fb\.me|messenger\.com|kik\.me"
    r"|signal\.me|signal\.group|(?:vm\.)?tiktok\.com|(?:mobile\.)?twitter\.com|x\.com"
    r"|threads\.net|bsky\.app|linkedin\.com/in|onlyfans\.com|linktr\.ee|skype\.com"
    r"|tumblr\.com|twitch\.tv"
)
_PROFILE_URL = re.compile(
    r"(?<![\w.\-])(?:https?://)?(?:www\.)?(?P<host>" + _PROFILE_HOSTS + r")"
    r"/(?P<path>[\w.@%~+\-]{1,80}+)",
    re.IGNORECASE,
)
# Pages of these sites that aren't a person: "instagram.com/explore", "facebook.com/help".
_GENERIC_PATHS = frozenset(
    {
        "help", "about", "legal", "policies", "policy", "privacy", "terms", "settings", "explore",
        "hashtag", "tag", "tags", "search", "watch", "share", "login", "signup", "download",
        "safety", "community", "guidelines"
    }
)  # fmt: skip

_PLATFORM = (
    r"snap(?:chat)?|insta(?:gram)?|ig|telegram|whats[ \t]?app|discord|kik|signal|tik[ \t]?tok"
    r"|facebook|fb|messenger|twitter|skype|wechat|viber|bluesky|bsky|tumblr|twitch|threads"
    r"|line|session|element|x|wa|tg|sc"
)
# Platforms whose name is rarely anything else, for "snap: jane" and "my ig is jane".
_PLATFORM_NAMED = (
    r"snap(?:chat)?|insta(?:gram)?|ig|telegram|whats[ \t]?app|discord|kik|tik[ \t]?tok"
    r"|facebook|fb|twitter|skype|wechat|viber|bluesky|bsky|tumblr|twitch|sc|steam|reddit|psn"
    r"|xbox|gamertag|roblox|epic|battle\.?net|minecraft|snap[ \t]?id|threema|wire"
)
_HANDLE = r"@?[\w.\-]{2,40}(?:#\d{4})?"
_SOCIAL_PATTERNS = [
    # "add me on snap", "message me on whatsapp", "can I add you on insta?"
    re.compile(
        r"\b(?:add|follow|message|msg|dm|pm|text|find|contact|reach|ping|friend|snap|chat[ \t]with"
        r"|talk[ \t]to)[ \t]{1,3}(?:me|you|u|us)[ \t]{1,3}(?:on|at|via|over|through|thru|in)"
        rf"[ \t]{{1,3}}(?:my[ \t]{{1,3}})?(?:{_PLATFORM})\b",
        re.IGNORECASE,
    ),
    re.compile(
        rf"\b(?:hmu|hit[ \t]me[ \t]up)[ \t]{{1,3}}(?:on|at|via)[ \t]{{1,3}}(?:{_PLATFORM})\b",
        re.IGNORECASE,
    ),
    # Asking for someone's account or number: "what's your snap?", "whats ur number"
    re.compile(
        r"\b(?:what['’]?s|what[ \t]is|wats|whats)[ \t]{1,3}(?:ur|your|yr)[ \t]{1,3}"
        rf"(?:{_PLATFORM_NAMED}|number|num|digits|email|e-mail)\b",
        re.IGNORECASE,
    ),
    # "let's move this to whatsapp", "can we talk on telegram"
    re.compile(
        r"\b(?:let['’]?s|let[ \t]us|can[ \t]we|could[ \t]we|shall[ \t]we|we[ \t]should)"
        r"[ \t]{1,3}(?:talk|chat|move|switch|continue|take|go)(?:[ \t]{1,3}(?:this|it))?"
        r"[ \t]{1,3}(?:on|to|onto|over[ \t]to|over|in|via)[ \t]{1,3}(?:my[ \t]{1,3})?"
        rf"(?:{_PLATFORM})\b",
        re.IGNORECASE,
    ),
    # The platform as a verb: "whatsapp me", "kik me: jane", "signal me on ..."
    re.compile(
        r"\b(?:whats[ \t]?app|snap(?:chat)?|kik|telegram|signal|insta|discord|wa)[ \t]{1,3}me\b",
        re.IGNORECASE,
    ),
    # "dm me @jane", "follow me @jane"
    re.compile(
        r"\b(?:dm|pm|message|msg|follow|add|text|find|contact|hmu)[ \t]{1,3}(?:me|us)"
        r"[ \t]{0,3}(?:at|on)?[ \t]{0,3}[:\-]?[ \t]{0,3}@[\w.]{2,30}",
        re.IGNORECASE,
    ),
    # "I'm @jane on insta"
    re.compile(
        r"@[\w.]{2,30}[ \t]{1,3}(?:on|at)[ \t]{1,3}(?:my[ \t]{1,3})?"
        rf"(?:{_PLATFORM_NAMED})\b",
        re.IGNORECASE,
    ),
    # Discord's old-style tag: "jane#1234"
    re.compile(r"(?<![\w#])[\w.]{2,32}#\d{4}(?!\w)"),
    # A Reddit user (not a subreddit, r/..., which is a public place): "u/jane_doe".
    re.compile(r"(?<![\w/])/?u/[\w\-]{3,20}+(?![\w/])"),
    # Search for me by name: "fb messenger - search Jane Doe Leeds"
    re.compile(
        rf"\b(?:{_PLATFORM_NAMED}|messenger|linkedin)\b[^\n]{{0,20}}?\b(?:search|look[ \t]up|find)"
        r"(?:[ \t]for)?[ \t]{1,3}(?:me[ \t]{1,3}(?:as|by)?[ \t]{0,3})?"
        r"[A-Z][a-z]{1,20}[ \t]{1,3}[A-Z][a-z]{1,20}",
        re.IGNORECASE,
    ),
]
# "snap: jane", "telegram - @jane", "insta @jane", "my ig is jane.doe"
_PLATFORM_HANDLE = re.compile(
    rf"\b(?P<my>my[ \t]{{1,3}})?(?:{_PLATFORM_NAMED})"
    r"(?:[ \t]{1,3}(?:id|name|username|user|handle|tag|account|acc|@))?"
    r"(?P<sep>[ \t]{0,3}[:=][ \t]{0,3}|[ \t]{1,3}-[ \t]{1,3}|[ \t]{1,3}is[ \t]{1,3}"
    r"|[ \t]{0,3}(?:→|->|=>|>|»)[ \t]{0,3}|[ \t]{1,3}(?=@))"
    rf"(?P<handle>{_HANDLE})",
    re.IGNORECASE,
)
# What follows "my insta is" when it isn't a name: "my insta is private now".
_NOT_HANDLES = frozenset(
    {
        "private", "public", "full", "down", "broken", "gone", "deleted", "dead", "blocked",
        "banned", "off", "on", "open", "closed", "locked", "hacked", "empty", "quiet", "busy",
        "boring", "toxic", "awful", "bad", "good", "great", "fine", "ok", "okay", "just", "so",
        "really", "very", "too", "not", "still", "where", "what", "how", "the", "a", "an", "all",
        "only", "mostly", "literally", "honestly", "basically", "actually", "my", "your", "same",
        "different", "mine", "it", "this", "that", "there", "here", "also", "now", "being",
        "getting", "pretty", "kinda", "lowkey", "filled", "mainly", "nothing", "something",
        "everything", "who", "why", "when", "because", "like", "probably", "inactive", "abandoned",
        "old", "new", "fake"
    }
)  # fmt: skip


def _is_profile_url(match: re.Match[str]) -> bool:
    first = match.group("path").split("/")[0].casefold().lstrip("@")
    return first not in _GENERIC_PATHS


def _is_platform_handle(match: re.Match[str]) -> bool:
    handle = match.group("handle")
    sep = match.group("sep").strip()
    bare = handle.lstrip("@").rstrip(".-").casefold()
    if not any(ch.isalpha() for ch in bare):
        return False
    # "@jane", "jane_doe", "jane#1234", "jane99" are clearly names; a plain word counts only
    # after "snap:" or "my snap is", and not when it's "my insta is private".
    looks_like_handle = (
        handle.startswith("@")
        or any(ch in handle for ch in "_#")
        or any(ch.isdigit() for ch in handle)
    )
    introduced = sep in (":", "=", "-", "→", "->", "=>", ">", "»") or (
        sep == "is" and match.group("my") is not None
    )
    return looks_like_handle or (introduced and bare not in _NOT_HANDLES)


def _find_social(text: str) -> Iterator[ContactMatch]:
    for match in _scan(_PROFILE_URL, text, _is_profile_url):
        yield ContactMatch("social", match.span())
    for pattern in _SOCIAL_PATTERNS:
        for match in pattern.finditer(text):
            yield ContactMatch("social", match.span())
    for match in _scan(_PLATFORM_HANDLE, text, _is_platform_handle):
        yield ContactMatch("social", match.span())


# --------------------------------------------------------------------------- public API


def find_by_rules(text: str) -> bool:
    """True when the rules find contact details in `text` as typed or as a reader sees it."""
    return any(find_contact_details(haystack) for haystack in (text, normalise(text)))


def find_contact_details(text: str) -> list[ContactMatch]:
    """Every phone number, email address, street address or social-media account found in
    `text`, in order of position (matches of different kinds may overlap)."""
    matches = {
        *_find_phones(text),
        *_find_assembled_phones(text),
        *_find_lookalike_phones(text),
        *_find_emails(text),
        *_find_addresses(text),
        *_find_social(text),
    }
    return sorted(matches, key=lambda m: (m.span, m.kind))


_HREF = re.compile(r"""\bhref="([^"]{0,2000})\"""")


def _haystacks(item: FilterInput) -> Iterator[str]:
    # The source, as typed.
    yield item.text
    # What readers see: entities decoded ("jane&#64;gmail.com"), Markdown gone
    # ("0770**0** 900123") and NFKC applied (full-width digits, "＠"), invisible characters
    # dropped ("07700\u200b900123").
    yield normalise(item.visible_text)
    # Link targets aren't visible text but a click takes you there: "[chat](https://wa.me/…)".
    # Percent-decoded because browsers decode hosts ("wa%2Eme").
    targets = [unquote(html_lib.unescape(href)) for href in _HREF.findall(item.html)]
    if targets:
        yield "\n".join(targets)


def _hold_reason(kind: ContentKind) -> Reason:
    noun = _noun(kind)
    return Reason(
        "contact_details",
        f"Your {noun} looks like it includes contact details (a phone number, email, address "
        "or social media account). Sharing these can make you identifiable and open you to "
        "contact you didn't want, so a moderator will look at it before it appears. You can "
        "edit it to remove them.",
    )


def _refuse_reason(kind: ContentKind) -> Reason:
    noun = _noun(kind)
    return Reason(
        "contact_details",
        f"Your {noun} looks like it includes contact details (a phone number, email, address "
        "or social media account). This community doesn't allow them, because sharing them "
        "can make you identifiable and open you to contact you didn't want. Please remove "
        "them and send it again.",
    )


def _noun(kind: ContentKind) -> str:
    return {ContentKind.CHAT: "message"}.get(kind, kind.value)


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
        if not any(find_contact_details(text) for text in _haystacks(item)):
            return None
        if action == "refuse":
            return FilterResult(Action.REFUSE, _refuse_reason(item.kind))
        return FilterResult(Action.HOLD, _hold_reason(item.kind))

    return filter_
