"""The public help page: crisis helplines for the country a person chooses.

Anyone can open it, signed in or not, from the footer and from every crisis panel. A
visitor's choice is kept in a cookie they set by choosing; a member's choice is their
account setting (the same one the account page changes). Nothing here looks at the
network a request comes from: see identity/country.py for the order of precedence.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from core.context import get_context
from core.web.cookies import cookie_options
from core.web.forms import form_text
from identity.auth import current_member
from identity.country import (
    COUNTRIES,
    COUNTRY_COOKIE,
    ELSEWHERE,
    choices,
    chosen_country,
    crisis_region,
    set_country,
    valid_country,
)
from moderation.crisis.resources import crisis_resources

COOKIE_DAYS = 365


async def help_page(request: Request) -> Response:
    region = crisis_region(request)
    chosen = chosen_country(request)
    showing = _country_name(region)
    return get_context(request).templates.TemplateResponse(
        request,
        "moderation/help.html",
        {
            "resources": crisis_resources(region),
            "countries": choices(),
            "chosen": chosen,
            "showing": showing,
            # Only when the browser's language named a country we have helplines for; else
            # the list is the international one, and saying we chose it would be untrue.
            "guessed": chosen is None and showing is not None,
            "errors": {},
        },
    )


async def choose_country(request: Request) -> Response:
    form = await request.form()
    code = form_text(form, "country")
    country = valid_country(code)
    if code.strip() and country is None:
        return RedirectResponse("/help", 303)  # an old or altered form: show the page again
    member = current_member(request)
    response = RedirectResponse("/help#helplines", 303)
    if member is not None:
        await set_country(get_context(request).db, member, country or "")
    elif country:
        options = cookie_options(get_context(request).settings)
        response.set_cookie(COUNTRY_COOKIE, country, max_age=COOKIE_DAYS * 86400, **options)  # type: ignore[arg-type]
    else:
        response.delete_cookie(COUNTRY_COOKIE, path="/")
    return response


def _country_name(region: str | None) -> str | None:
    if region == ELSEWHERE:
        return None
    return COUNTRIES.get(region or "")


routes = [
    Route("/help", help_page, methods=["GET"]),
    Route("/help/country", choose_country, methods=["POST"]),
]
