"""Reading JSON request bodies with errors a client can act on."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from starlette.requests import Request

from core.errors import Refusal
from core.web.params import BadParameter, json_int

T = TypeVar("T")


async def read_json(request: Request) -> dict[str, Any]:
    body = await request.body()
    if not body:
        raise Refusal("malformed_json", "The request body must be a JSON object.", 400)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refusal("malformed_json", "The request body is not valid JSON.", 400) from None
    if not isinstance(data, dict):
        raise Refusal("malformed_json", "The request body must be a JSON object.", 400)
    return data


def field(data: dict[str, Any], name: str, kind: type[T], *, default: Any = ...) -> T:
    """A typed field of a JSON body; a missing or mistyped one is a 422 naming the field."""
    if name not in data or data[name] is None:
        if default is not ...:
            return default
        raise Refusal("missing_field", f"The field '{name}' is required.", field=name)
    value = data[name]
    if kind is int and isinstance(value, bool):
        value = None
    if not isinstance(value, kind):
        raise Refusal(
            "invalid_field",
            f"The field '{name}' must be a {_NAMES.get(kind, kind.__name__)}.",
            field=name,
        )
    if kind is int:  # nothing a column can't hold reaches a query (core/web/params.py)
        try:
            json_int(value, name)
        except BadParameter as exc:
            raise Refusal("invalid_field", exc.message, field=name) from None
    return value


_NAMES = {str: "string", int: "whole number", bool: "true or false", list: "list", dict: "object"}
