"""A member's private page of the thank-yous they have received, and how many people their
replies and conversations helped.

It is the one place those are shown, and only to the member themselves: no public count,
score, rank or leaderboard exists anywhere, and no API returns them. It lives in the
composition root because it reads from both surfaces: the thank-yous (communities' table,
sent from forum and chat alike) and the forum's "this helped" marks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from communities import thanks as thanks_store
from core.context import get_context
from core.db import Database
from core.i18n import N_
from core.i18n import gettext as _
from forum.thanks import members_helped
from identity.auth import require_member
from identity.blocks import blocked_ids
from identity.models import DELETED_NAME, Member

# Where a thank-you was, as forum and chat store it with the row (in English, when it was
# sent): read back in the helper's language where the shape is known, else shown as stored.
_PLACES = [
    (re.compile(r"your reply in “(?P<title>.*)”", re.S), N_("your reply in “%(title)s”")),
    (
        re.compile(r"your message in the (?P<room>.*) chat room", re.S),
        N_("your message in the %(room)s chat room"),
    ),
    (
        re.compile(r"your 1:1 conversation about (?P<topic>.*)", re.S),
        N_("your 1:1 conversation about %(topic)s"),
    ),
    (re.compile(r"your 1:1 conversation"), N_("your 1:1 conversation")),
]


def place_words(place: str) -> str:
    """A stored place ("your reply in “Sleepless again”") in this request's language."""
    for shape, words in _PLACES:
        if found := shape.fullmatch(place):
            return _(words) % found.groupdict()
    return place


@dataclass(frozen=True)
class ReceivedThanks:
    sender: str  # a pseudonym, or "A member" when they were anonymous there
    place: str
    url: str
    note_html: str
    created_at: datetime


@dataclass(frozen=True)
class ThanksReceived:
    thanks: list[ReceivedThanks]
    people_helped: int  # distinct members who thanked them or marked a reply "this helped"


async def thanks_received(db: Database, member: Member) -> ThanksReceived:
    async with db.read() as s:
        rows = await thanks_store.received(s, member.id)  # type: ignore[arg-type]
        thankers = await thanks_store.thankers(s, member.id)  # type: ignore[arg-type]
        blocked = await blocked_ids(s, member.id)  # type: ignore[arg-type]
        senders = {row.sender_id: await s.get(Member, row.sender_id) for row in rows}
    shown = []
    for row in rows:
        # Someone they have since blocked is no longer shown by name (an anonymous one
        # stays: hiding it would tell them who it was).
        if not row.anonymous and row.sender_id in blocked:
            continue
        sender = senders.get(row.sender_id)
        if row.anonymous:
            name = _("A member")
        else:
            name = DELETED_NAME if sender is None or sender.deleted_at else sender.pseudonym
        shown.append(
            ReceivedThanks(name, place_words(row.place), row.url, row.note_html, row.created_at)
        )
    helped = thankers | await members_helped(db, member.id)  # type: ignore[arg-type]
    helped.discard(member.id)  # type: ignore[arg-type]
    return ThanksReceived(shown, len(helped))


async def thanks_page(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    received = await thanks_received(ctx.db, member)
    return ctx.templates.TemplateResponse(request, "kindred/thanks.html", {"received": received})


routes = [Route("/account/thanks", thanks_page, methods=["GET"])]
