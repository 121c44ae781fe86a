"""Street addresses: "<number> <name> Street" and UK, US and Indian shapes (postcodes, ZIP
codes, PIN codes, "Flat 7B, Shanti Colony, near the temple"), and partial ones that still
locate someone ("I'm on 22nd and Maple", "I live on Foxglove Lane").
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterator

from moderation.contact.clues import Clues
from moderation.contact.matches import ContactMatch, finditer_from, scan, scan_from
from moderation.contact.numerals import UNITS

# Street words that are rarely anything else ("road", "avenue"), and ones that often are
# ("way", "close", "park") and so count only when written as a name: "7 Willow Close".
_STREET_WORDS = (
    r"street|st|road|rd|avenue|ave|lane|ln|boulevard|blvd|crescent|terrace|mews|drive|dr"
)
_NAME_STREET_WORDS = (
    r"way|close|place|pl|court|ct|park|hill|row|walk|view|rise|green|square|sq|gardens|grove"
    r"|parade|wharf|gate|highway|hwy"
)
# The number's first digit comes before the look-behind so that the engine can skip straight
# to digits; the look-behind then checks the character before that digit.
_ADDRESS = re.compile(
    r"(?P<number>\d(?<![\w£$€.,/:\-]\d)\d{0,4}[a-z]?)(?!\w),?[ \t]{1,3}"
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


def _find_listed_addresses(text: str, clues: Clues) -> Iterator[ContactMatch]:
    most = _most_parts(clues)
    if _score(most) < 3:
        return  # too few parts could be found to score 3 anywhere
    parts = sorted(
        (match.start(), match.end(), weight)
        for bound, (pattern, weight) in zip(most, _ADDRESS_PARTS, strict=True)
        if bound
        for match in pattern.finditer(text)
    )
    first = 0
    for last in range(len(parts)):
        while parts[last][0] - parts[first][0] > _ADDRESS_STRETCH:
            first += 1
        if sum(weight for _, _, weight in parts[first : last + 1]) >= 3:
            yield ContactMatch("address", (parts[first][0], parts[last][1]))


# For parts of _ADDRESS_PARTS found by a word, the words one of its matches must hold (each
# match holds its own, so their count bounds the matches).
_PART_WORDS: dict[int, frozenset[str]] = {
    1: frozenset(
        {
            "nagar", "colony", "layout", "society", "enclave", "vihar", "puram", "bagh", "ganj",
            "chowk", "apartment", "apartments", "apts", "residency", "heights", "chs", "towers",
            "complex", "niwas", "sadan", "bhavan", "mohalla", "basti", "extension", "extn",
        }
    ),
    2: frozenset({"cross", "main", "block", "stage", "phase"}),
    5: frozenset({"road", "rd", "marg", "main", "cross", "salai", "path"}),
    7: frozenset({"floor"}),
    8: frozenset({"near", "opp", "opposite", "behind", "beside", "landmark"}),
    9: frozenset({"village", "vill", "post", "dist", "district", "tehsil", "taluk", "taluka"}),
    10: frozenset({"gali"}),
}  # fmt: skip
# Part 0's words start a word but may run on into the number ("flat5", "hno12", "sec10").
_PART_0_STARTS = (
    "flat", "house", "plot", "door", "gali", "shop", "bldg", "building", "pocket", "quarter",
    "qtr", "sec", "ward", "khasra", "survey",
)  # fmt: skip
_H_NO = re.compile(r"h\.?[ \t]?no")
_CAPITAL_DASH_DIGIT = re.compile(r"-\d(?<=[A-Z]-\d)")


_ALL_PART_WORDS = frozenset().union(*_PART_WORDS.values())


def _most_parts(clues: Clues) -> list[int]:
    """For each of _ADDRESS_PARTS, at most how many matches it can have in the text."""
    if clues.everything:
        return [1_000_000] * len(_ADDRESS_PARTS)
    folded, text, runs = clues.folded, clues.text, clues.digit_runs
    most = [0] * len(_ADDRESS_PARTS)
    if present := clues.words & _ALL_PART_WORDS:
        for part, words in _PART_WORDS.items():
            if not present.isdisjoint(words):
                most[part] = clues.word_count(words)
    if "p.o." in folded:
        most[9] += folded.count("p.o.")
    # "H.No 4-12" and "Sector IV" need no digit; the rest of part 0 ends in one.
    if "no" in folded and _H_NO.search(folded):
        most[0] += len(_H_NO.findall(folded))
    most[0] += folded.count("sector")
    if runs and (clues.longest_digit_run >= 3 or "/" in text or _CAPITAL_DASH_DIGIT.search(text)):
        # Six digits, perhaps 3 and 3 with a blank between: a PIN code (parts 3 and 4).
        # "14/2" (a number, "/", a number) and "B-45" (a number after a capital and "-"):
        # part 6.
        pins = slashed = 0
        before = (-9, -9)
        for start, end in runs:
            pins += end - start >= 6
            slashed += start > 1 and text[start - 1] == "-" and "A" <= text[start - 2] <= "Z"
            if start == before[1] + 1:
                slashed += text[before[1]] == "/"
                pins += before[1] - before[0] >= 3 and end - start >= 3 and text[start - 1] in " \t"
            before = (start, end)
        most[3] = folded.count("pin") if pins else 0
        most[4] = pins
        most[6] = slashed
    # Otherwise part 0 ends in its own number, so it matches at most once per run of digits;
    # its words are only counted when that many could reach a score of 3.
    if runs and _score(most) + 2 * len(runs) >= 3:
        most[0] += min(len(runs), _part_0_words(folded, text, runs))
    return most


# Part 0's word starts at most this far before its number's first digit ("survey no. number
# a-12": the word, ".", two blanks, "number", two blanks, "a-").
_PART_0_REACH = 22


def _part_0_words(folded: str, text: str, runs: list[tuple[int, int]]) -> int:
    """How often part 0's words occur where a match ending in a number could have them."""
    if not text.isascii():
        return sum(map(folded.count, _PART_0_STARTS))
    # ASCII text folds to the same positions, so only the stretches before numbers are read.
    near = " ".join(folded[max(0, start - _PART_0_REACH) : start] for start, _ in runs)
    return sum(map(near.count, _PART_0_STARTS))


_WEIGHTS = [weight for _, weight in _ADDRESS_PARTS]


def _score(most: list[int]) -> int:
    return sum(map(operator.mul, most, _WEIGHTS))


# US and partial addresses: "zip is 78704", "I'm at 60614", "on 14th and Pine", "I live on
# Ravenscroft Street".
_ZIP_SAID = re.compile(
    r"\b(?:zip(?:[ \t]?code)?|post[ \t]?code)[ \t]{0,2}(?:is|:|-)?[ \t]{0,2}\d{5}(?:-\d{4})?\b"
    r"|\b(?:i['’]?m|i[ \t]am|we['’]re|we[ \t]are|live|living|stay|staying|based)[ \t]{1,3}"
    r"(?:at|in|near|around)[ \t]{1,3}\d{5}(?![\w.,]\d)"
    rf"(?![ \t]{{0,2}}(?:%|(?:{'|'.join(sorted(UNITS))})\b))",
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


# What the other patterns need: "I live", "we're staying" or "my flat", and a street word;
# "and" or "&" after an ordinal ("on 22nd and Maple").
_STREETS = frozenset(
    {
        "street", "st", "road", "rd", "avenue", "ave", "lane", "ln", "boulevard", "blvd",
        "crescent", "terrace", "mews", "drive", "dr", "way", "close", "place", "pl", "court",
        "ct", "park", "hill", "row", "walk", "view", "rise", "green", "square", "sq", "gardens",
        "grove", "parade", "wharf", "gate", "highway", "hwy",
    }
)  # fmt: skip
_LIVING = frozenset({"live", "living", "stay", "staying", "moved"})
_MY = frozenset({"my"})
_HOMES = frozenset({"house", "flat", "home", "place"})
_AND = frozenset({"and"})
# What _ZIP_SAID's second shape needs ("I'm", "we're" and "based", "at" or "in").
_BASED = frozenset({"i", "im", "we", "live", "living", "stay", "staying", "based"})
_AT_IN = frozenset({"at", "in", "near", "around"})
_ORDINALS = tuple(suffix + blank for suffix in ("st", "nd", "rd", "th") for blank in " \t")


def find_addresses(text: str, clues: Clues) -> Iterator[ContactMatch]:
    if clues.has_word(_STREETS):
        if clues.has_digit:
            # "<number> <name> Street" starts at the number.
            if clues.everything:
                found = scan(_ADDRESS, text, _is_address)
            else:
                found = scan_from(_ADDRESS, text, _is_address, (s for s, _ in clues.digit_runs))
            for match in found:
                yield ContactMatch("address", match.span())
        if clues.has_word(_LIVING) or (clues.has_word(_MY) and clues.has_word(_HOMES)):
            for match in _LIVE_ON.finditer(text):
                yield ContactMatch("address", match.span())
    yield from _find_listed_addresses(text, clues)
    if not clues.has_digit:
        return
    if clues.longest_digit_run >= 5 and (
        clues.has_text("zip", "post") or (clues.has_word(_BASED) and clues.has_word(_AT_IN))
    ):
        for match in _ZIP_SAID.finditer(text):
            yield ContactMatch("address", match.span())
    if (clues.has_word(_AND) or clues.has_char("&")) and clues.digits_then(*_ORDINALS):
        for match in _CORNER.finditer(text):
            yield ContactMatch("address", match.span())
    # (With many runs of digits, one search for the shape is quicker than looking at each.)
    postcodes = len(clues.digit_runs) <= 16 or _has_postcode_shape(clues)
    for pattern, starts, possible in (
        (_UK_POSTCODE, _postcode_starts, postcodes),
        (_US_ZIP, _zip_starts, clues.longest_digit_run >= 5),
    ):
        if possible:
            found = (
                pattern.finditer(text)
                if clues.everything
                else finditer_from(pattern, text, starts(clues))
            )
            for match in found:
                yield ContactMatch("address", match.span())


# A postcode's digit, a letter or digit, a blank, a digit and two letters ("1A 1AA").
_POSTCODE_SHAPE = re.compile(r"\d\w?[ \t]?\d[^\W\d_]{2}")


def _has_postcode_shape(clues: Clues) -> bool:
    """clues.found(_POSTCODE_SHAPE). A match starts at a digit and is at most six characters
    long, so where the runs of digits are sparse, only the few characters from each are read
    (a search of the whole text tries the pattern at every character)."""
    runs, text = clues.digit_runs, clues.text
    if clues.everything or len(runs) * 64 > len(text):
        return clues.found(_POSTCODE_SHAPE)
    search = _POSTCODE_SHAPE.search
    return any(search(text, start, end + 5) for start, end in runs)


def _postcode_starts(clues: Clues) -> Iterator[int]:
    """Where a UK postcode could start: one or two letters before its first digits, when
    those digits, or the run after them at most two characters on, end with two letters."""
    text, runs = clues.text, clues.digit_runs
    for i, (start, end) in enumerate(runs):
        ends_in_letters = end - start >= 2 and text[end : end + 2].isalpha()
        if not ends_in_letters and i + 1 < len(runs):
            following, after = runs[i + 1]
            ends_in_letters = following - end <= 2 and text[after : after + 2].isalpha()
        if ends_in_letters:
            yield from (at for at in (start - 2, start - 1) if at >= 0)


def _zip_starts(clues: Clues) -> Iterator[int]:
    """Where "IL 62704" could start: its state 3-5 characters before five digits."""
    for start, end in clues.digit_runs:
        if end - start == 5:
            yield from (at for at in (start - 5, start - 4, start - 3) if at >= 0)
