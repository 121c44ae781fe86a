"""The interface in the member's language.

Texts are written in English in the code and templates, marked for translation (`_()` and
`{% trans %}` in templates, `gettext`/`ngettext`/`N_` here), extracted by Babel into
`locale/messages.pot` (`make messages`) and translated in `locale/<code>/LC_MESSAGES/
messages.po`. The catalogues are read with Babel once per process, straight from the .po
files: no compiled .mo files to keep in step.

Which language a request is answered in is decided once per request
(identity/language.py: the member's setting, else a visitor's choice, else the browser's
Accept-Language; never where the connection comes from) and held in a context variable, so
templates and Python code read the same choice without passing it around.

`ar-XB` is a pseudo-locale, as in Chromium: the English texts written right to left, to see
and test right-to-left layout before a right-to-left language is translated. It is offered
only when `KINDRED_PSEUDO_LOCALES` is on (development and tests).
"""

from __future__ import annotations

import gettext as stdlib_gettext
import io
import re
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"


@dataclass(frozen=True)
class Language:
    code: str  # BCP 47, as in <html lang>
    name: str  # in the language itself: what its speakers look for in a list
    direction: str = "ltr"


SOURCE = Language("en", "English")
LANGUAGES: dict[str, Language] = {
    "en": SOURCE,
    "es": Language("es", "Español"),
}
PSEUDO_RTL = Language("ar-XB", "English, right to left (test)", "rtl")


def offered(pseudo: bool = False) -> dict[str, Language]:
    """The languages a person may choose: the translated ones, and the pseudo-locale when on."""
    return {**LANGUAGES, PSEUDO_RTL.code: PSEUDO_RTL} if pseudo else dict(LANGUAGES)


# --------------------------------------------------------------------------- catalogues


@cache
def translations(code: str) -> stdlib_gettext.NullTranslations:
    """The catalogue for a language, read once. English is the source: no catalogue."""
    if code == PSEUDO_RTL.code:
        return _RightToLeft()
    path = LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if code == SOURCE.code or not path.exists():
        return stdlib_gettext.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=code)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)  # a fuzzy guess is not shown to a member
    compiled.seek(0)
    return stdlib_gettext.GNUTranslations(compiled)


# Placeholders, markup and entities keep their direction; the words around them turn.
_KEEP = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}|<[^>]*>|&#?\w+;")
_RLO, _PDF = "\u202e", "\u202c"  # right-to-left override ... pop directional formatting


def right_to_left(text: str) -> str:
    """English shown right to left, its placeholders intact: "Hello, %(name)s" keeps the
    placeholder for formatting and reads, mirrored, from the right."""
    out, last = [], 0
    for kept in _KEEP.finditer(text):
        out.append(_turn(text[last : kept.start()]))
        out.append(kept.group())
        last = kept.end()
    out.append(_turn(text[last:]))
    return "".join(out)


def _turn(words: str) -> str:
    return f"{_RLO}{words}{_PDF}" if words.strip() else words


class _RightToLeft(stdlib_gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return right_to_left(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return right_to_left(msgid1 if n == 1 else msgid2)


@cache
def script_catalog(code: str) -> dict[str, str | list[str]]:
    """The translations the page scripts need (texts extracted from static/js/), for a page to
    carry as JSON: {msgid: msgstr}, or {msgid: [plural forms]}. Empty for English."""
    if code == PSEUDO_RTL.code:
        return {"__rtl__": "1"}  # kindredI18n turns every text itself
    path = LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if code == SOURCE.code or not path.exists():
        return {}
    with path.open("rb") as po:
        catalog = read_po(po, locale=code)
    found: dict[str, str | list[str]] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        if not any(where.startswith("static/js/") for where, _ in message.locations):
            continue
        if isinstance(message.id, str):
            if message.string:
                found[message.id] = message.string
        elif all(message.string):
            found[message.id[0]] = [str(s) for s in message.string]
    return found


def warm_up(languages: Iterable[Language]) -> None:
    """Read every catalogue now, at start-up, not on the first request that needs it (a
    Spanish reader's first page would otherwise wait for the whole catalogue to compile)."""
    for language in languages:
        translations(language.code)
        script_catalog(language.code)


# --------------------------------------------------------------------------- this request

_language: ContextVar[Language] = ContextVar("kindred_language", default=SOURCE)


def use(language: Language) -> None:
    """Answer the rest of this request (this task and those it starts) in `language`."""
    _language.set(language)


def current() -> Language:
    return _language.get()


def page_script_catalog() -> dict[str, str | list[str]]:
    """This request's language's texts for the page scripts (see script_catalog)."""
    return script_catalog(_language.get().code)


def gettext(message: str) -> str:
    """`message` in this request's language (English when it has no translation)."""
    return translations(_language.get().code).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_language.get().code).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """`message` as meant in `context`, where English uses one word for two things ("Name"
    the noun, "Name" the verb: pgettext("verb", "Name"))."""
    return translations(_language.get().code).pgettext(context, message)


def N_(message: str) -> str:  # the name gettext's tools look for
    """Marks a text for extraction where it is defined; it is translated where it is shown."""
    return message


# --------------------------------------------------------------------------- choosing

_QUALITY = re.compile(
    r"\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*"
)


def browser_preferences(accept_language: str) -> list[str]:
    """An Accept-Language header's languages, most wanted first (RFC 9110 12.5.4)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")[:20]):
        found = _QUALITY.fullmatch(part)
        if not found or found.group(1) == "*":
            continue
        try:
            quality = float(found.group(2)) if found.group(2) else 1.0
        except ValueError:
            continue
        if quality > 0:
            ranked.append((-quality, index, found.group(1)))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(preferred: Iterable[str], available: Iterable[str]) -> str | None:
    """The first of `preferred` we have ("es-MX" finds "es"), by Babel's rules; None if none."""
    codes = list(available)
    wanted = []
    for tag in preferred:
        wanted.append(tag)
        base = tag.split("-")[0]
        if base != tag:
            wanted.append(base)  # "es-MX" before anything later in the list, then "es"
    return negotiate_locale(wanted, codes, sep="-")


def number(n: int) -> str:
    """A count in this request's language's digits and separators: "4,000" in English,
    "4.000" in Spanish."""
    return format_decimal(n, locale=locale_of(_language.get()))


def locale_of(language: Language) -> Locale:
    """Babel's Locale for a language, for numbers and dates in its words."""
    return Locale.parse("en" if language is PSEUDO_RTL else language.code, sep="-")
