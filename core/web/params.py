"""Numbers, ids and dates from outside — paths, query strings, forms, JSON and chat frames —
parsed in one place, with bounds.

Python's int() takes anything from "²" to a thousand digits, and a database cannot: an id
past what its column holds (PostgreSQL's `integer`, the narrower of our two databases) ends
as an overflow deep inside a query, a 500 instead of an answer. Every parse site calls these
instead, and a value out of range is a `BadParameter`: a 422 naming the field on a page or in
the JSON API, an `invalid` error frame in chat.

Path ids are bounded by the route itself: the `int` path convertor is replaced by one whose
pattern only matches 0..MAX_ID, so `/t/99999999999999999999` is simply a page that does not
exist (404), like any other unknown id. `check_routes` makes sure no route escaped it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, TypeVar

from starlette.convertors import (
    Convertor,
    IntegerConvertor,
    StringConvertor,
    register_url_convertor,
)
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from core.i18n import gettext

# PostgreSQL's `integer`, the type of every id and count column (SQLite's is wider).
MAX_ID = 2**31 - 1
MAX_INT = MAX_ID  # the largest whole number a request may carry for anything stored

D = TypeVar("D", int, None)


class BadParameter(ValueError):
    """A number, id or date from a request that we cannot use; `message` is for the member."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name, self.message = name, message


def _digits_up_to(limit: int) -> str:
    """A regex matching exactly the decimal numbers 0..limit (leading zeros allowed)."""
    top = str(limit)
    options = [f"[0-9]{{1,{len(top) - 1}}}"] if len(top) > 1 else []
    for i, digit in enumerate(top):
        if digit != "0":
            rest = len(top) - i - 1
            options.append(top[:i] + f"[0-{int(digit) - 1}]" + (f"[0-9]{{{rest}}}" if rest else ""))
    options.append(top)
    return "0*(?:" + "|".join(options) + ")"


class BoundedIdConvertor(IntegerConvertor):
    """`{name:int}` in a route: a whole number from 0 to MAX_ID, or no match (404)."""

    regex = _digits_up_to(MAX_ID)


class PrintableConvertor(StringConvertor):
    """`{name}` in a route: no control characters (a slug never has one; "/c/%00" is a page
    that does not exist rather than a NUL the database refuses)."""

    regex = "[^/\\x00-\\x1f\\x7f]+"


def install_path_convertor() -> None:
    """Bound `{name:int}` and `{name}`. Runs when core.web is imported: every route module
    imports it (through identity.auth, at least) before building its routes; check_routes
    verifies."""
    register_url_convertor("int", BoundedIdConvertor())
    register_url_convertor("str", PrintableConvertor())


def check_routes(routes: Iterable[BaseRoute]) -> None:
    """Refuse to start when a route was built with an unbounded number in its path."""
    for route in routes:
        if isinstance(route, Mount):
            check_routes(route.routes)
        elif isinstance(route, Route | WebSocketRoute):
            for name, convertor in route.param_convertors.items():
                if _unbounded(convertor):
                    raise RuntimeError(
                        f"route {route.path}: {{{name}}} was built before core.web's bounded "
                        "path convertors were installed; import core.web first"
                    )


def _unbounded(convertor: Convertor[Any]) -> bool:
    if isinstance(convertor, IntegerConvertor):
        return not isinstance(convertor, BoundedIdConvertor)
    return type(convertor) is StringConvertor


# --------------------------------------------------------------------------- text


def parse_int(text: str, name: str, *, low: int = 0, high: int = MAX_INT) -> int:
    """A whole number written in ASCII digits (a leading minus only when `low` < 0)."""
    value = text.strip()
    digits = value[1:] if value.startswith("-") and low < 0 else value
    # str.isdigit() says yes to "²" and "١", and int() to "1_000" and " 1": neither is ours.
    # A thousand digits would also cost int() real time before failing.
    if not digits.isascii() or not digits.isdigit() or len(digits.lstrip("0")) > len(str(high)):
        raise BadParameter(name, _out_of_range(name, low, high))
    number = int(value)
    if not low <= number <= high:
        raise BadParameter(name, _out_of_range(name, low, high))
    return number


def _out_of_range(name: str, low: int, high: int) -> str:
    return gettext("'%(name)s' must be a whole number from %(low)d to %(high)d.") % {
        "name": name,
        "low": low,
        "high": high,
    }


def optional_int(
    text: str | None, name: str, default: int | None, *, low: int = 0, high: int = MAX_INT
) -> int | None:
    """parse_int, with `default` for a missing or empty value."""
    if text is None or not text.strip():
        return default
    return parse_int(text, name, low=low, high=high)


def loose_int(text: str | None, default: D = None, *, high: int = MAX_INT) -> int | D:  # type: ignore[assignment]
    """A whole number from 0 to `high`, or `default` for anything else: for optional filters
    and for values a service checks itself (so an odd value gets the service's own message)."""
    try:
        return parse_int(text or "", "value", high=high)
    except BadParameter:
        return default


# --------------------------------------------------------------------------- JSON values


def json_int(value: Any, name: str, *, low: int = -MAX_INT, high: int = MAX_INT) -> int:
    """A whole number from a JSON body or a chat frame: an int (not a bool), in bounds."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadParameter(name, gettext("'%(name)s' must be a whole number.") % {"name": name})
    if not low <= value <= high:
        raise BadParameter(name, _out_of_range(name, low, high))
    return value


# --------------------------------------------------------------------------- dates


def parse_day(text: str, name: str, *, earliest: date, latest: date) -> date:
    """A calendar date written YYYY-MM-DD, between `earliest` and `latest`."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise BadParameter(
            name, gettext("Give the date as year-month-day, for example 2027-03-28.")
        ) from None
    if not earliest <= day <= latest:
        raise BadParameter(
            name,
            gettext("Choose a date from %(earliest)s to %(latest)s.")
            % {"earliest": earliest.isoformat(), "latest": latest.isoformat()},
        )
    return day
