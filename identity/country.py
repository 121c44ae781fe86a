"""Which country's helplines a person is shown: chosen by them, never derived from the network.

Kindred never looks at where a connection comes from. The country used to choose crisis
helplines is, in order: the member's own setting (account page), a visitor's choice (a
cookie they set by choosing one on the help page), their browser's first language
("en-GB" → GB), and otherwise none, which gets international resources. `crisis_region`
is the one place that order is decided; forum, chat and the help page all call it, and
`set_country` keeps a member's own choice.
"""

from __future__ import annotations

from sqlalchemy import update
from starlette.requests import HTTPConnection

from core.db import Database
from core.errors import Refusal
from core.web.client import region_of
from identity.auth import current_member
from identity.models import Member

COUNTRY_COOKIE = "kindred_country"

# The countries offered in the choice: those with their own helplines in
# moderation/data/crisis_resources.json (a test keeps the two in step). Anywhere else gets
# international resources, which "Another country" says plainly.
COUNTRIES: dict[str, str] = {
    "AU": "Australia",
    "AT": "Austria",
    "BE": "Belgium",
    "BR": "Brazil",
    "CA": "Canada",
    "DK": "Denmark",
    "FI": "Finland",
    "FR": "France",
    "DE": "Germany",
    "HK": "Hong Kong",
    "IN": "India",
    "IE": "Ireland",
    "IL": "Israel",
    "JP": "Japan",
    "NL": "Netherlands",
    "NZ": "New Zealand",
    "NO": "Norway",
    "PH": "Philippines",
    "SG": "Singapore",
    "ZA": "South Africa",
    "ES": "Spain",
    "SE": "Sweden",
    "CH": "Switzerland",
    "GB": "United Kingdom",
    "US": "United States",
}
# A deliberate choice of "none of these": international helplines, not the browser's guess.
ELSEWHERE = "INTL"
CHOICES: list[tuple[str, str]] = [
    *sorted(COUNTRIES.items(), key=lambda item: item[1]),
    (ELSEWHERE, "Another country (international helplines)"),
]


def valid_country(code: str | None) -> str | None:
    """The code if it is one we offer ("gb" → "GB"), else None."""
    code = (code or "").strip().upper()
    return code if code in COUNTRIES or code == ELSEWHERE else None


def country_name(code: str | None) -> str | None:
    """The name of a country with its own helplines ("GB" → "United Kingdom"); None for
    "another country" or none, whose helplines are the international ones. Pages say whose
    helplines they show, so a member shown the wrong country's can see it and change it."""
    return COUNTRIES.get((code or "").upper())


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
        raise Refusal("invalid", "Choose a country from the list.", field="country", status=422)
    async with db.transaction() as s:
        await s.exec(update(Member).where(Member.id == member.id).values(country=country))
    member.country = country
    return country


def crisis_region(conn: HTTPConnection) -> str | None:
    """The region whose helplines to show: the member's setting > a visitor's choice > the
    browser's language > None (international)."""
    return chosen_country(conn) or region_of(conn.headers)
