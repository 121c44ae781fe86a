"""The contact finders' clues change how fast they are, never what they find: on every
labelled and dev line, and on generated text, the gated finders and filter give exactly what
every finder run ungated (as before there were clues) gives."""

from __future__ import annotations

import html
import re
import sys
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moderation.contact import (
    FINDERS,
    ContactMatch,
    addresses,
    assembled,
    emails,
    find_by_rules,
    find_contact_details,
    holds_by_rules,
    phones,
    social,
)
from moderation.contact.addresses import _ADDRESS, _POSTCODE_SHAPE, _has_postcode_shape
from moderation.contact.clues import IGNORECASE_TWINS, AnyText, Clues
from moderation.contact.emails import _SPREAD_HINT, _spread_out
from moderation.contact.phones import _DATE
from moderation.content import (
    _HREF,  # the link targets, read as the filters read them
    Content,
    ContentKind,
    FilterInput,
)
from moderation.pipeline import moderate
from moderation.text import normalise

FINDER_MODULES = [phones, assembled, emails, addresses, social]
DATA = Path(__file__).parent / "data"
# The labelled set and the dev splits; never the frozen test split.
LINE_FILES = [
    "contact_labelled.tsv",
    "contact_dev.tsv",
    "contact_dev2.tsv",
    "contact_dev3.tsv",
    "contact_dev4.tsv",
]

PROPERTY_SETTINGS = settings(
    max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def ungated(text: str) -> list[ContactMatch]:
    """What find_contact_details found before there were clues: every pattern, everywhere."""
    matches = {match for finder in FINDERS for match in finder(text, AnyText(text))}
    return sorted(matches, key=lambda m: (m.span, m.kind))


def reference_holds(item: FilterInput) -> bool:
    """What the filter decided before there were clues: every finder, ungated, on the source,
    on what a reader sees (normalised), and on link targets."""
    haystacks = [item.text, normalise(item.visible_text)]
    targets = [unquote(html.unescape(href)) for href in _HREF.findall(item.html)]
    if targets:
        haystacks.append("\n".join(targets))
    return any(ungated(haystack) for haystack in haystacks)


def filter_input(text: str, kind: ContentKind = ContentKind.POST) -> FilterInput | None:
    """The FilterInput the pipeline hands its filters for `text` (None if it refuses first)."""
    seen: list[FilterInput] = []
    moderate(Content(text, kind), filters=(seen.append,))  # type: ignore[arg-type]
    return seen[0] if seen else None


def assert_same_as_ungated(text: str) -> None:
    assert find_contact_details(text) == ungated(text), text
    assert find_by_rules(text) is any(ungated(h) for h in (text, normalise(text))), text
    item = filter_input(text)
    if item is not None:
        assert holds_by_rules(item) is reference_holds(item), text


def lines() -> list[str]:
    texts = []
    for name in LINE_FILES:
        path = DATA / name
        if path.exists():
            rows = path.read_text(encoding="utf-8").splitlines()[1:]
            texts += [row.split("\t")[-1].replace("\\n", "\n") for row in rows]
    return texts


# --------------------------------------------------------------------------- labelled lines


def test_clues_change_nothing_on_the_labelled_and_dev_lines() -> None:
    texts = lines()
    assert len(texts) > 1_500
    for text in texts:
        assert_same_as_ungated(text)


# --------------------------------------------------------------------------- generated text

# Pieces of contact details and of the ordinary talk that looks like them, glued together at
# random: digits and numbers said in words, "@" and "at"/"dot", platform, street and address
# words, look-alike letters, IGNORECASE twins and other Unicode, Markdown and entities.
FRAGMENTS = [
    # numbers
    "0", "1", "2", "7", "9", "07700", "900", "461", "123", "4567", "555", "0147", "2019",
    "116 123", "85258", "988", "+44", "+", "(555)", "555-0192", "12/03/2024", "3.5", "10:30",
    "50", "411038", "62704", "9876543210", "1-800-273-8255", "000", "00", "44",
    "mg", "am", "%", "£", "$", "#", "#1234", "²", "٣", "７", "१२",
    "oh", "zero", "one", "two", "three", "seven", "nine", "double", "triple", "twenty",
    "ninety", "hundred", "ten", "eleven",
    "O", "I", "l", "S", "B", "Z", "O7", "SSS", "OI", "5O3", "9OO",
    "call", "text", "number", "ring", "phone", "mobile", "area code", "then", "first", "rest",
    "room", "step", "day", "year", "part", "digits", "are", "isbn", "whatsapp",
    # email
    "@", " @ ", "at", "AT", "(at)", "[at]", "-at-", "dot", " dot ", "(dot)", "[.]", ".", " . ",
    "gmail", "hotmail", "yahoo", "outlook", "proton mail", "g mail", "live.com", "com", "co",
    "uk", "org", "jane", "jo.b", "at the rate", "at-sign", "sign", "full stop", "period",
    "point", "same name", "username", "here", "my handle", "samaritans.org",
    "j a n e", "a t", "g m a i l", "c o m", "m-e-e-r-a",
    # addresses
    "Baker", "St", "Street", "Road", "road", "Close", "Willow", "Lane", "Park", "flat",
    "Flat 7B", "house", "H.No", "near", "behind", "opp.", "Nagar", "Colony", "Apartments",
    "sector", "Sector V", "pin code", "pincode", "Mumbai", "3rd", "cross", "Main", "first floor",
    "floor", "SW1A 1AA", "M1 1AE", "IL", "CA", "zip", "postcode", "live", "I live on", "we're",
    "my flat", "22nd", "and", "&", "Maple", "village", "post", "Dist.", "gali", "B-45", "14/2",
    "24/7",
    # social
    "snap", "snapchat", "insta", "ig", "whats app", "wa.me/", "t.me/jane", "/", "https://",
    "instagram.com/", "facebook.com/help", "add me on", "me", "my", "is", ":", "→", "discord",
    "jane#1234", "u/", "U/", "r/", "what's your", "your", "dm me", "follow", "line", "x",
    "signal", "steam", "epic", "search", "hmu", "let's move to", "private",
    # Unicode and markup
    "ſ", "\u212a", "\u0130", "\u0131", "ﬁ", "’", "é", "\u200b", "\u00a0", "**", "_", "`",
    "[x](", ")", "](", "&#64;", "&amp;", "<", "> ",
]  # fmt: skip
SEPARATORS = [" ", " ", " ", "  ", "\t", "\n", ",", ";", "-", "_", "/", ".", "", "", ""]

glued = st.lists(st.sampled_from(FRAGMENTS) | st.sampled_from(SEPARATORS), max_size=40).map("".join)
# The same pieces as words of a sentence, so that phrases such as "add me on x" come up.
phrases = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=16).map(" ".join)
# Digits in groups of any size with separators of any length between them, as phone numbers
# (and the numbers that aren't) are written.
numbers = st.lists(
    st.text(alphabet="0123456789", min_size=1, max_size=6)
    | st.text(alphabet=" -._/~*()+:", min_size=1, max_size=6)
    | st.sampled_from(["call ", "ring ", "+", "oh ", "double ", " mg", " am", "room ", "O", "l"]),
    max_size=24,
).map("".join)
# Spelled out letter by letter, as disguised addresses are ("j a n e a t-s i g n ...").
spread = st.tuples(phrases, st.sampled_from([" ", "-", "  ", " - ", "\n"])).map(
    lambda phrase_and_gap: phrase_and_gap[1].join(phrase_and_gap[0])
)
texts = glued | phrases | numbers | spread


def _patterns() -> list[re.Pattern[str]]:
    """Every pattern of the finders, including those the clues stand in front of."""
    found = [
        pattern
        for module in FINDER_MODULES
        for pattern in vars(module).values()
        if isinstance(pattern, re.Pattern) and isinstance(pattern.pattern, str)  # (not masks)
    ]
    return found + social._SOCIAL_PATTERNS + [pattern for pattern, _ in addresses._ADDRESS_PARTS]


# Text holding something each pattern matches (as Hypothesis reads the pattern), amid other
# text: the surest way to reach every pattern behind its clues.
shaped = st.sampled_from(_patterns()).flatmap(st.from_regex)
texts |= st.tuples(texts, shaped, texts).map("".join)
cased = texts.flatmap(lambda text: st.sampled_from([text, text.upper(), text.title()]))


@PROPERTY_SETTINGS
@given(text=cased)
def test_clues_change_nothing_on_generated_text(text: str) -> None:
    assert_same_as_ungated(text)


@PROPERTY_SETTINGS
@given(text=cased)
def test_each_finder_finds_the_same_with_its_clues(text: str) -> None:
    for finder in FINDERS:
        gated = set(finder(text, Clues(text)))
        assert gated == set(finder(text, AnyText(text))), finder.__name__


# --------------------------------------------------------------------------- what the clues assume


def test_ignorecase_twins_are_every_character_ignorecase_reads_as_an_ascii_letter() -> None:
    # Clues read these as their letter; if a Python upgrade adds one, the words would miss it.
    everything = "".join(
        chr(code) for code in range(0x80, sys.maxunicode + 1) if not 0xD800 <= code <= 0xDFFF
    )
    twins = {
        ch: next(
            letter for letter in "abcdefghijklmnopqrstuvwxyz" if re.fullmatch(letter, ch, re.I)
        )
        for ch in re.findall("(?i)[a-z]", everything)
    }
    assert twins == dict(IGNORECASE_TWINS)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.characters(max_codepoint=127)))
def test_normalise_is_str_lower_for_ascii_text(text: str) -> None:
    # The filter reads what a reader sees as str.lower() when it is ASCII, skipping normalise.
    assert normalise(text) == text.lower()


def test_twins_fold_to_their_letter_and_stay_one_character() -> None:
    for twin, letter in IGNORECASE_TWINS:
        assert unicodedata.category(twin).startswith("L")
        assert Clues(f"a{twin}b").folded == f"a{letter}b"


# The patterns rewritten so that the engine can skip to their first digit, as they were.
ORIGINAL_DATE = (
    r"(?<![\d./\-])(?:\d{1,2}([./\-])\d{1,2}\1\d{2,4}|\d{4}([./\-])\d{1,2}\2\d{1,2})"
    r"(?![\d]|[./\-]\d)"
)
ORIGINAL_ADDRESS_START = r"(?<![\w£$€.,/:\-])(?P<number>\d{1,5}[a-z]?)(?!\w)"
dates_and_numbers = st.lists(
    st.sampled_from(["1", "12", "2024", "03", ".", "/", "-", " ", "a", "£", ",", ":", "٣", "B"]),
    max_size=30,
).map("".join)


@PROPERTY_SETTINGS
@given(
    text=st.text(alphabet=st.characters(max_codepoint=127), max_size=30)
    | st.text(alphabet=" \t\n\x0b\x1cab.-\u00a0", max_size=30)
)
def test_the_spread_out_hint_is_the_patterns_answer(text: str) -> None:
    assert _spread_out(Clues(text)) is (_SPREAD_HINT.search(text) is not None)


@PROPERTY_SETTINGS
@given(
    text=st.lists(
        st.sampled_from(["1", "23", "a", "B", "_", " ", "\t", "-", "٣", "words and more " * 4]),
        max_size=40,
    ).map("".join)
)
def test_the_postcode_shape_read_near_digits_is_the_patterns_answer(text: str) -> None:
    assert _has_postcode_shape(Clues(text)) is (_POSTCODE_SHAPE.search(text) is not None)


@PROPERTY_SETTINGS
@given(text=dates_and_numbers)
def test_the_date_pattern_matches_as_it_did(text: str) -> None:
    original = re.compile(ORIGINAL_DATE)
    assert [m.span() for m in _DATE.finditer(text)] == [m.span() for m in original.finditer(text)]


@PROPERTY_SETTINGS
@given(text=dates_and_numbers, street=st.sampled_from(["Rd", "road", "Close", "st"]))
def test_the_street_number_pattern_matches_as_it_did(text: str, street: str) -> None:
    text = f"{text} Elm {street} {text}"
    original = re.compile(
        _ADDRESS.pattern.replace(
            r"(?P<number>\d(?<![\w£$€.,/:\-]\d)\d{0,4}[a-z]?)(?!\w)", ORIGINAL_ADDRESS_START
        ),
        re.IGNORECASE,
    )
    assert original.pattern != _ADDRESS.pattern
    assert [m.span() for m in _ADDRESS.finditer(text)] == [
        m.span() for m in original.finditer(text)
    ]


@pytest.mark.parametrize(
    "text",
    [
        # at the edge of each clue: just enough digits, close enough, or parts enough
        "call +1 234 5678",  # eight digits after a "+"
        "4  -  1  -  5  -  5  -  5  -  0  -  1  -  9  -  2",  # five between each
        "ring 0161 then 4982 227 1 mg",  # blocked last: the rest still joins
        "area code 0161 then 498 2227 or 0161 4982227 9",
        "flat 5 house 6",  # two parts, no other
        "sector 4 pocket 2",
        "H.No 4-12, near the temple, Kukatpally",
        "oh seven seven double oh nine oh oh four six one",
        "ninety eight seventy six fifty four thirty two ten",
        "0 7 7 0 0 9 0 0 4 6 1",
        "add me on x",
        "can i talk to\tyou on snap",  # "talk to", then the one asked
        "whats ur number",
        "SSS Ol92 O2l 555",
        "IL 62704",
        "SW1A1AA",
        "on 22nd and Maple",
        "I live on Foxglove Lane",
        "zip code 97214",
        "I'm at 60614",  # a ZIP after "I'm at", no "zip"
        "survey no. number a-12 near the temple",  # part 0's word as far from its number as it gets
        "jane at gmail dot com",
        "jane (at) gmail (dot) com",
        "j a n e a t-s i g n g m a i l . c o m",  # "sign" only once squeezed
        "same username, but at icloud",
        "@outlook.com",
        "wa.me/447700900123",
        "my discord is jane#1234",
    ],
)
def test_finders_at_the_edge_of_their_clues(text: str) -> None:
    assert find_contact_details(text), text  # each of these is found
    assert_same_as_ungated(text)
    for finder in FINDERS:
        assert set(finder(text, Clues(text))) == set(finder(text, AnyText(text))), finder.__name__


@pytest.mark.parametrize(
    "text",
    [
        "call 07700 900123",  # the source finds it
        "CALL 07700 900123",  # so does its lower case
        "txt me O79OO 9OO 3l5",  # look-alike capitals: the source only
        "find me at U/sleepy_otter_77",  # "u/" in the lower case only
        "j  a  n  e (AT) g  m  a  i  l . com",  # the "(at)" hint is lower case only
        "ordinary words, nothing to find",
    ],
)
def test_the_lower_case_look_reads_what_only_case_sensitive_finders_could(text: str) -> None:
    assert_same_as_ungated(text)
