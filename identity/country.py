"""Which country's helplines a person is shown: chosen by them, never derived from the network.

Kindred never looks at where a connection comes from. The country used to choose crisis
helplines is, in order: the member's own setting (account page), a visitor's choice (a
cookie they set by choosing one on the help page), their browser's first language
("en-GB" → GB), and otherwise none, which gets international resources. `crisis_region`
is the one place that order is decided; forum, chat and the help page all call it, and
`set_country` keeps a member's own choice.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import update
from starlette.requests import HTTPConnection

from core.db import Database
from core.errors import Refusal
from core.i18n import N_, gettext
from core.web.client import region_of
from identity.auth import current_member
from identity.models import Member

COUNTRY_COOKIE = "kindred_country"

# The countries offered in the choice: those with their own helplines in
# moderation/data/crisis_resources.json (a test keeps the two in step). Anywhere else gets
# international resources, which "Another country" says plainly. The names are English here,
# marked for translation: pages translate them where they show them.
COUNTRIES: dict[str, str] = {
    "AR": N_("Argentina"),
    "AU": N_("Australia"),
    "AT": N_("Austria"),
    "BE": N_("Belgium"),
    "BR": N_("Brazil"),
    "CA": N_("Canada"),
    "CL": N_("Chile"),
    "DK": N_("Denmark"),
    "FI": N_("Finland"),
    "FR": N_("France"),
    "DE": N_("Germany"),
    "HK": N_("Hong Kong"),
    "IN": N_("India"),
    "IE": N_("Ireland"),
    "IL": N_("Israel"),
    "JP": N_("Japan"),
    "MX": N_("Mexico"),
    "NL": N_("Netherlands"),
    "NZ": N_("New Zealand"),
    "NO": N_("Norway"),
    "PH": N_("Philippines"),
    "SG": N_("Singapore"),
    "ZA": N_("South Africa"),
    "ES": N_("Spain"),
    "SE": N_("Sweden"),
    "CH": N_("Switzerland"),
    "GB": N_("United Kingdom"),
    "US": N_("United States"),
}
# A deliberate choice of "none of these": international helplines, not the browser's guess.
ELSEWHERE = "INTL"


def choices(elsewhere: bool = True) -> list[tuple[str, str]]:
    """The countries to choose from, named and in order in this request's language
    ("Spain" is "España", between "Dinamarca" and "Estados Unidos"), then, if `elsewhere`,
    "another country"."""
    named = sorted(
        ((code, gettext(name)) for code, name in COUNTRIES.items()),
        key=lambda item: alphabetical(item[1]),
    )
    if elsewhere:
        named.append((ELSEWHERE, gettext("Another country (international helplines)")))
    return named


def alphabetical(name: str) -> str:
    """A sort key that reads letters, not code points: accents and case set aside, so
    "Österreich" stands with the Os and "Japón" before "Jordania". (Good enough for the few
    country names we list; a full collation would need ICU.)"""
    letters = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in letters if not unicodedata.combining(ch)).casefold()


def valid_country(code: str | None) -> str | None:
    """The code if it is one we offer ("gb" → "GB"), else None."""
    code = (code or "").strip().upper()
    return code if code in COUNTRIES or code == ELSEWHERE else None


def country_name(code: str | None) -> str | None:
    """The name of a country with its own helplines ("GB" → "United Kingdom"); None for
    "another country" or none, whose helplines are the international ones. Pages say whose
    helplines they show, so a member shown the wrong country's can see it and change it."""
    name = COUNTRIES.get((code or "").upper())
    return gettext(name) if name else None


def chosen_country(conn: HTTPConnection) -> str | None:
    """What this person chose, if anything: a member's setting, else a visitor's cookie."""
    member = current_member(conn)
    if member is not None and member.country:
        return member.country
    return valid_country(conn.cookies.get(COUNTRY_COOKIE))


async def set_country(db: Database, member: Member, code: str) -> str | None:
    """Choose the country whose helplines the member is shown; "" clears it (the browser's
    language is used again)."""
    country = valid_country(code)
    if code.strip() and country is None:
        raise Refusal(
            "invalid", gettext("Choose a country from the list."), field="country", status=422
        )
    async with db.transaction() as s:
        await s.exec(update(Member).where(Member.id == member.id).values(country=country))
    member.country = country
    return country


def crisis_region(conn: HTTPConnection) -> str | None:
    """The region whose helplines to show: the member's setting > a visitor's choice > the
    browser's language > None (international)."""
    return chosen_country(conn) or region_of(conn.headers)
