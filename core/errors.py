"""Refusal: the one error a member sees, from every package, on every surface.

Services raise it and know nothing of HTTP or WebSockets; one translator per surface turns
it into a response (core/web/errors.py: JSON and pages; chat/frames.py: WebSocket frames), so
a field set here reaches the member whichever way they came.
"""

from __future__ import annotations

import dataclasses
from dataclasses import KW_ONLY, dataclass
from typing import Any

from core.i18n import N_, gettext


@dataclass(eq=False)
class Refusal(Exception):
    """Something a member asked for was not done; the message says why and what to do."""

    code: str  # stable, for clients: "too_long", "rate_limited", "not_found", …
    message: str  # for the member: what happened and what they can do next
    status: int = 422  # the HTTP status it answers with
    _: KW_ONLY
    field: str | None = None  # the form or JSON field that needs attention
    retry_after: int | None = None  # seconds before trying again is worth it
    notice: dict[str, Any] | None = None  # e.g. crisis resources: {"code", "resources", …}
    draft: str = ""  # the member's own words, given back so nothing they wrote is lost
    url: str | None = None  # where to go instead (the request they already have)
    # More for a JSON client or a frame, merged into the error (free pseudonyms when one is taken).
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)


# One whole sentence for each thing callers name (a word put into a sentence can't agree
# with it in every language); any other `what` is said in English.
_NOT_FOUND = {
    "post": N_("That post doesn't exist, or you can't see it."),
    "thread": N_("That thread doesn't exist, or you can't see it."),
    "community": N_("That community doesn't exist, or you can't see it."),
    "resource": N_("That resource doesn't exist, or you can't see it."),
}


def not_found(what: str = "post") -> Refusal:
    """The same answer whether it doesn't exist or the member may not see it."""
    known = _NOT_FOUND.get(what)
    message = gettext(known) if known else f"That {what} doesn't exist, or you can't see it."
    return Refusal("not_found", message, 404)
