"""Email addresses: written plainly, with "@" and "." said in words ("jane at gmail dot
com", "(at)", "at the rate", "full stop"), spaced or spread out letter by letter, or only
implied ("same name as here, at gmail").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from moderation.contact.clues import AnyText, Clues
from moderation.contact.helplines import HELPLINE_EMAIL_DOMAINS
from moderation.contact.matches import ContactMatch, scan

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
    if full_domain in HELPLINE_EMAIL_DOMAINS:
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


def find_emails(text: str, clues: Clues) -> Iterator[ContactMatch]:
    if not (
        clues.has_char("@")
        or clues.has_word(_EMAIL_WORDS)
        or clues.has_text("a t", "a\tt", "g mail", "g\tmail", "live.com")
    ):
        return  # every pattern here needs one of these (see the gates below)
    if _may_hold_address(clues):
        for match in scan(_EMAIL, text, _is_email):
            yield ContactMatch("email", match.span())
    if (
        (clues.has_char("@") or clues.has_text("a t", "a\tt"))
        and _spread_out(clues)
        and clues.found(_SPACED_HINT)
    ):
        # Squeezed, a spaced-out address has its "@", or an "(at)" or "-at-" made of an "a"
        # and a "t" standing apart.
        for run in _SPACED_LETTERS.finditer(text):
            squeezed = run.group().replace(" ", "").replace("\t", "")
            if any(scan(_EMAIL, squeezed, _is_email)):
                yield ContactMatch("email", run.span())
    if clues.has_word(_PROVIDER_WORDS) or clues.has_text("g mail", "g\tmail", "live.com"):
        yield from _find_implied_emails(text, _may_point_to_name(clues))


# An address has an "@" or a word "at" ("(at)", " at ", "-at-"), and unless it has an "@" it
# has a "." or "dot" before its top-level domain: "dot" as a word, or a "." straight before
# the label, between blanks, or after a bracket ("(.)"). A full stop ending a sentence is
# none of these.
_DOT_HINT = re.compile(
    r"\.(?:[\w\-]|(?<=[ \t]\.)[ \t]|(?<=[(\[{<]\.)|(?<=[(\[{<][ \t]\.)|(?<=[(\[{<][ \t][ \t]\.))",
    re.IGNORECASE,  # (no letters: IGNORECASE only lets Clues.lowered reuse the answer)
)


def _may_hold_address(clues: Clues) -> bool:
    return clues.has_char("@") or (
        clues.has_word(_AT_WORD) and (clues.has_word(_DOT_WORD) or clues.found(_DOT_HINT))
    )


_AT_WORD = frozenset({"at"})
_DOT_WORD = frozenset({"dot"})
# Three letters standing alone in a row: every run _SPACED_LETTERS finds has them.
# (IGNORECASE, though these have no letters, lets Clues.lowered reuse their answers.)
_SPACED_HINT = re.compile(r"[ \t]\S[ \t]\S[ \t]\S[ \t]", re.IGNORECASE)


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


# What each part of _DISGUISE_HINT needs, asked of the clues first: a bracket before "at" or
# "@"; four characters standing apart (the middle two with a separator either side).
_BRACKETED_AT = re.compile(r"[(\[{<][ \t]{0,2}(?:at|@)", re.IGNORECASE)
_SPREAD_HINT = re.compile(r"[ \t\-]\S[ \t\-]\S[ \t\-]", re.IGNORECASE)
_SAID_DOT_WORDS = frozenset({"dot", "stop", "period", "point"})
# Four characters spread out (with at most two separators between), as _SPREAD_LETTERS needs.
_SPREAD_LETTERS_HINT = re.compile(r"[ \t\n\-]\S[ \t\n\-]{1,2}\S[ \t\n\-]", re.IGNORECASE)


def _may_be_disguised(clues: Clues) -> bool:
    return (
        clues.has_char("@")
        or (clues.has_char("([{<") and clues.found(_BRACKETED_AT))
        or clues.has_text("-at-")
        or (
            clues.has_word(_AT_WORD)
            and (clues.has_text("rate", "sign", "symbol") or clues.has_word(_SAID_DOT_WORDS))
        )
        or _spread_out(clues)
    )


# ASCII bytes as _SPREAD_HINT reads them: a blank "s", whitespace "w", "-" (a separator and
# \S both) "d", anything else "n".
_SPREAD_MASK = bytes(
    115 if b in b" \t" else 100 if b == 45 else 119 if chr(b).isspace() else 110 for b in range(256)
)


def _spread_out(clues: Clues) -> bool:
    """clues.found(_SPREAD_HINT); in ASCII text without "-" by a literal search of the
    text's mask, which is quicker than the pattern, tried at every blank."""
    text = clues.text
    if clues.everything or "-" in text or not text.isascii():
        return clues.found(_SPREAD_HINT)
    return _SPREAD_IN_MASK.search(text.encode().translate(_SPREAD_MASK)) is not None


# (The regex engine's literal search is quicker here than bytes.find, which skips poorly
# through a haystack of two letters.)
_SPREAD_IN_MASK = re.compile(rb"snsns")


def find_disguised_emails(text: str, clues: Clues) -> Iterator[ContactMatch]:
    # Cheap pre-check: every disguise leaves a spaced "@", a said one, or a spread-out run.
    if not _may_be_disguised(clues) or _DISGUISE_HINT.search(text) is None:
        return
    plain = text
    offsets = list(range(len(text) + 1))
    # Each rewrite is skipped where the clues of the text as rewritten so far show it would
    # find nothing to rewrite (squeezing "s i g n" makes a "sign" that wasn't there).
    if clues.found(_SPREAD_LETTERS_HINT):
        plain, offsets = _rewrite(plain, offsets, _SPREAD_LETTERS, _squeeze_letters)
        clues = _clues_of(plain, clues, text)
    if clues.has_char("@") or clues.has_text("rate", "sign", "symbol", "-at-"):
        plain, offsets = _rewrite(plain, offsets, _SAID_AT, lambda _: "@")
        clues = _clues_of(plain, clues, text)
    if clues.has_word(_SAID_DOT_WORDS) or clues.has_text(" .", "\t."):
        plain, offsets = _rewrite(plain, offsets, _SAID_DOT, lambda _: ".")
    plain, offsets = _rewrite(plain, offsets, _SPLIT_DOMAIN, lambda s: s.replace(" ", ""))
    if plain == text or not _may_hold_address(_clues_of(plain, clues, text)):
        return
    offsets.append(len(text))
    for match in scan(_EMAIL, plain, _is_plain_email):
        start, end = offsets[match.start()], offsets[match.end()]
        if text[start:end] != match.group():  # unchanged ones are _is_email's to judge
            yield ContactMatch("email", (start, max(end, start + 1)))


def _clues_of(plain: str, clues: Clues, text: str) -> Clues:
    """Clues for `plain`, `text` rewritten: the same ones if nothing was rewritten."""
    if plain is text or plain == text:
        return clues
    return AnyText(plain) if clues.everything else Clues(plain)


def _is_plain_email(match: re.Match[str]) -> bool:
    """An address rewritten into plain form: a known provider, or a real TLD after a dot."""
    local, domain = match.group("local").casefold(), match.group("domain").casefold()
    labels = [label.casefold() for label in _DOT_SPLIT.split(match.group("rest"))[1:]]
    if local in _EMAIL_STOPWORDS or domain in _EMAIL_STOPWORDS:
        return False
    if ".".join([domain, *labels]) in HELPLINE_EMAIL_DOMAINS:
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


# The providers of _MAIL_PROVIDERS as whole words ("g mail" and "live.com" aside).
_PROVIDER_WORDS = frozenset(
    {
        "gmail", "googlemail", "hotmail", "yahoo", "ymail", "icloud", "protonmail", "proton",
        "rediff", "rediffmail", "zoho", "gmx", "aol", "yandex", "tutanota", "tuta", "fastmail",
        "btinternet", "bigpond", "eircom", "sbcglobal", "comcast", "verizon", "rocketmail",
        "msn", "outlook",
    }
)  # fmt: skip


_EMAIL_WORDS = _PROVIDER_WORDS | {"at"}


# What _NAME_POINTER needs: one of these inside a word, or "here" ("as here").
_POINTER_TEXT = (
    "same", "identical", "name", "handle", "nick", "guess", "figure", "work", "kindred",
    "forum", "display", "screen", "user", "profile",
)  # fmt: skip
_HERE = frozenset({"here"})


def _may_point_to_name(clues: Clues) -> bool:
    return clues.has_text(*_POINTER_TEXT) or clues.has_word(_HERE)


def _find_implied_emails(text: str, may_point: bool) -> Iterator[ContactMatch]:
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
        if may_point and _NAME_POINTER.search(text, *window) is not None:
            yield ContactMatch("email", match.span())
