"""Which language a person reads Kindred in: chosen by them, never derived from the network.

In order: the member's own setting (account page), a visitor's choice (a cookie set by the
language choice at the foot of every page), their browser's Accept-Language, and otherwise
English. Kindred never looks at where a connection comes from, and a language says nothing
about a country: the crisis helplines follow the country choice (identity/country.py).

`LanguageMiddleware` decides once per request, after the member is known, and hands the
choice to core/i18n.py for templates and Python code alike.
"""

from __future__ import annotations

from sqlalchemy import update
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from core import i18n
from core.db import Database
from core.errors import Refusal
from core.settings import Settings
from identity.models import Member

LANGUAGE_COOKIE = "kindred_lang"


def offered(settings: Settings) -> dict[str, i18n.Language]:
    return i18n.offered(pseudo=settings.pseudo_locales == "on")


def choose(
    member: Member | None, cookie: str | None, accept_language: str, settings: Settings
) -> i18n.Language:
    """The language for this request: the member's setting > a visitor's choice > the
    browser's languages, in its order of preference > English."""
    languages = offered(settings)
    for chosen in (member.language if member else None, cookie):
        if chosen in languages:
            return languages[chosen]
    found = i18n.negotiate(i18n.browser_preferences(accept_language), languages)
    return languages[found] if found else i18n.SOURCE


class LanguageMiddleware:
    """Sets this request's language (core/i18n.py). Placed twice: a first guess before the
    member is known (`first_guess`, from the cookie and the browser, for what is answered
    that early), and again after, where only a member's own setting can change it."""

    def __init__(self, app: ASGIApp, settings: Settings, *, first_guess: bool = False) -> None:
        self.app = app
        self.settings = settings
        self.first_guess = first_guess

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not scope["path"].startswith("/static/"):
            member = scope.get("state", {}).get("member")
            if member is None and not self.first_guess:
                await self.app(scope, receive, send)  # a visitor: the first guess stands
                return
            conn = HTTPConnection(scope)
            headers = Headers(scope=scope)
            language = choose(
                member,
                conn.cookies.get(LANGUAGE_COOKIE),
                headers.get("accept-language", ""),
                self.settings,
            )
            i18n.use(language)
        await self.app(scope, receive, send)


async def set_language(db: Database, settings: Settings, member: Member, code: str) -> str | None:
    """Keep the member's choice; "" clears it (the browser's languages are used again)."""
    code = code.strip()
    if code and code not in offered(settings):
        raise Refusal("invalid", i18n.gettext("Choose a language from the list."), field="language")
    language = code or None
    async with db.transaction() as s:
        await s.exec(update(Member).where(Member.id == member.id).values(language=language))  # type: ignore[arg-type]
    member.language = language
    return language
