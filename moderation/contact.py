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
    }
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


def _is_helpline(digits: str, international: bool) -> bool:
    if digits in HELPLINE_NUMBERS:
        return True
    if not international:
        return False
    # +44 800 58 58 58: a country code of 1-3 digits, then the national number without its 0.
    return any(
        digits.endswith(number.lstrip("0")) and 1 <= len(digits) - len(number.lstrip("0")) <= 3
        for number in HELPLINE_NUMBERS
        if len(number) >= 6
    )


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


def _find_phones(text: str) -> Iterator[ContactMatch]:
    masked = _DATE.sub(lambda m: "#" * len(m.group()), text)
    for candidate in _PHONE_CANDIDATE.finditer(masked):
        if _CURRENCY_BEFORE.search(masked, max(0, candidate.start() - 2), candidate.start()):
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
        return True
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


def _find_addresses(text: str) -> Iterator[ContactMatch]:
    for match in _scan(_ADDRESS, text, _is_address):
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
    r"|facebook|fb|twitter|skype|wechat|viber|bluesky|bsky|tumblr|twitch|sc"
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
]
# "snap: jane", "telegram - @jane", "insta @jane", "my ig is jane.doe"
_PLATFORM_HANDLE = re.compile(
    rf"\b(?P<my>my[ \t]{{1,3}})?(?:{_PLATFORM_NAMED})"
    r"(?:[ \t]{1,3}(?:id|name|username|user|handle|tag|account|acc|@))?"
    r"(?P<sep>[ \t]{0,3}[:=][ \t]{0,3}|[ \t]{1,3}-[ \t]{1,3}|[ \t]{1,3}is[ \t]{1,3}"
    r"|[ \t]{1,3}(?=@))"
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
    introduced = sep in (":", "=", "-") or (sep == "is" and match.group("my") is not None)
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


def find_contact_details(text: str) -> list[ContactMatch]:
    """Every phone number, email address, street address or social-media account found in
    `text`, in order of position (matches of different kinds may overlap)."""
    matches = {
        *_find_phones(text),
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
