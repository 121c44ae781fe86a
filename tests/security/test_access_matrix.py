"""The access matrix (issue 14): every route, and every chat frame that names something, tried
by every kind of visitor an attacker could be, against the real app.

One world is built once for the module (communities, posts, a held thread, moderation cases,
check-in requests, sanctions, a group session, a 1:1 support conversation, chat rooms), on a
real uvicorn with real WebSockets. Eight actors then try everything:

  anon       signed out
  member     a plain member
  muted      muted site-wide
  suspended  suspended site-wide
  banned     banned site-wide (what they still hold: the session cookie they had)
  other_mod  a moderator of another community (community B; the resources live in A)
  removed    a participant a facilitator removed from the group session
  outsider   a peer supporter who is not in the support conversation

The table says, for each (route, actor), what must happen. The routes are read from the app's
router at test time: a route without a row, or a row without a route, fails the test. So does
a chat frame type the endpoint handles (or docs/protocol.md lists) without a row.

Outcomes: a status ("200", "403", "404"...), optionally with a word the answer must contain
("403 suspended"); "login" (a redirect to the sign-in page); "done" (2xx, or a redirect that
is not to sign-in); "allowed" (done, or a 409/422 about the request itself: past the access
check); "signin" is what a signed-out visitor gets: 401 from the API and for a form post, the
sign-in redirect for a page. Where a 403 would confirm a private thing exists, the table asks
for 404.

Rows run in the table's order, each row's actors in ACTORS order; the few that change state
are written so what they change is their own (a seat, a reaction, a report of their own) or
is marked "allowed" where an earlier row may have done it already.

Then: a sanction or a sign-out reaches the member's open WebSockets at once: closed (4003,
after an `error` frame saying why) or downgraded to read-only, in this process and, with
Redis as the broker, in another worker.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import dataclasses
import json
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlmodel import select
from starlette.routing import Match, Mount, Route, WebSocketRoute
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chat.gates import CLOSE_GONE
from chat.groups.actions import ACTIONS as SESSION_ACTIONS
from chat.groups.models import GroupSession
from chat.models import Room
from chat.support.models import SupportRequest
from communities.models import CommunityModerator
from core.settings import Settings
from core.web.cookies import session_cookie_name
from forum.communities import create_community
from identity import accounts, sessions, signin
from identity.models import MemberSession
from moderation.models import CheckInRequest, ModerationCase, Sanction
from tests import backends
from tests.chat.conftest import TIMEOUT, LiveServer, next_frame, serve
from tests.conftest import skip_or_fail
from tests.helpers import PASSPHRASE, form_token, join, submit

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROOT = Path(__file__).resolve().parents[2]
ACTORS = ("anon", "member", "muted", "suspended", "banned", "other_mod", "removed", "outsider")
SIGNED_IN = ("member", "muted", "suspended", "other_mod", "removed", "outsider")
NAMES = {
    "member": "Plain-Member",
    "muted": "Muted-Member",
    "suspended": "Suspended-Member",
    "banned": "Banned-Member",
    "other_mod": "Keeper-Of-Caring",
    "removed": "Removed-Member",
    "outsider": "Outside-Supporter",
}
LIMITS = ";".join(
    f"{action}=10000/hour"
    for action in (
        "signup_network",
        "login_member",
        "login_device",
        "login_network",
        "recover_network",
        "recover_device",
        "post",
        "report",
        "preview",
        "chat_send",
        "support_request",
        "check_in",
        "thanks",
    )
)


# --------------------------------------------------------------------------- the table

EMPTY_THREAD = {"title": "", "body": ""}
HELD_TITLE = "Held-title-nobody-sees"
HELD_REPLY = "900983"  # the phone number in Owner's held reply
HELD_THREAD_BODY = "900984"  # in the held thread (and case A)
MEMBERS_ONLY_TITLE = "Homecoming letters"
MEMBERS_ONLY_SESSION = "Veterans evening circle"
NOTE_IN_A = "A note for Grief's keepers only"
PRIVATE_WORDS = "Only the two of us should read this"
ALL = ACTORS
OUT = ("anon", "banned")
NOT_REMOVED = tuple(a for a in ACTORS if a != "removed")
_LATER = datetime.now(UTC) + timedelta(days=3)
WAITING_RESOURCE = "Owner's waiting suggestion"
RESOURCE_FORM = {
    "name": "Matrix Helpline",
    "kind": "helpline",
    "url": "https://helpline.example.org/",
    "help_types": ["emotional"],
    "region": "ANY",
}
SCHEDULE = {
    "community": "grief",
    "title": "Morning circle",
    "ground_rules": "1. Kindness.",
    "date": _LATER.strftime("%Y-%m-%d"),
    "time": "07:00",
    "timezone": "UTC",
    "duration_minutes": "60",
    "capacity": "8",
}


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # with {names} filled in from the world (the router says which route it is)
    expect: dict[str, str]
    body: Any = None  # JSON for /api/, a form for pages; a callable gets the actor's name
    fresh: bool = False  # sent from a throwaway sign-in of the actor (the row ends it)
    # Text these actors must never be shown in the answer, whatever its status.
    absent: tuple[str, tuple[str, ...]] | None = None

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")


def _expect(default: dict[str, str], over: dict[str, str]) -> dict[str, str]:
    unknown = set(over) - set(ACTORS)
    assert not unknown, unknown
    return {**default, **over}


def everyone(outcome: str = "200", **over: str) -> dict[str, str]:
    return _expect(dict.fromkeys(ACTORS, outcome), over)


def members(outcome: str = "200", **over: str) -> dict[str, str]:
    """Signed-in actors get `outcome`; signed out (and the banned, whose session is gone)
    are asked to sign in."""
    base = {a: "signin" if a in ("anon", "banned") else outcome for a in ACTORS}
    return _expect(base, over)


def staff(**over: str) -> dict[str, str]:
    """For moderators, supporters or admins: everyone else signed in gets 403."""
    return members("403", **over)


def row(method: str, path: str, expect: dict[str, str], body: Any = None, **kw: Any) -> Row:
    return Row(method, path, expect, body, **kw)


def routes_table() -> list[Row]:
    # Shorthands for the world's things (filled in by World.fill):
    #   T a published request thread in A by Owner; P its opening post; R a reply by Helper;
    #   HP a held reply by Owner in T; H a held thread by Owner; MT a thread in the
    #   members-only community; TB a thread in B by Asker; caseA / caseB open cases in A / B;
    #   SA / SB bans proposed (unconfirmed) in A / B; ciA / ciB check-in requests;
    #   gs the group session (in A) and gs_room its room; sr the accepted support request and
    #   conv its conversation's room; ownsess one of Owner's sessions.
    ok_but_suspended = members("allowed", suspended="403 suspended")
    return [
        # ------------------------------------------------------------------ site
        row("GET", "/", everyone()),
        row("GET", "/healthz", everyone()),
        row("GET", "/readyz", everyone()),
        row("GET", "/metrics", everyone("404")),  # without the operator's token: not there
        row("GET", "/static/css/kindred.css", everyone()),
        row("GET", "/help", everyone()),
        row("GET", "/offline", everyone()),
        row("GET", "/sw.js", everyone()),
        row("GET", "/manifest.webmanifest", everyone()),
        row("POST", "/help/country", everyone("done"), {"country": ""}),
        row("GET", "/language", everyone()),
        row("POST", "/language", everyone("303"), {"language": ""}),
        # ------------------------------------------------------------------ identity
        row("GET", "/signup", everyone("200", **dict.fromkeys(SIGNED_IN, "done"))),
        row("POST", "/signup", everyone("422"), {"pseudonym": "", "passphrase": ""}),
        row("GET", "/login", everyone("200", **dict.fromkeys(SIGNED_IN, "303"))),
        # Signing in with one's own passphrase: the banned are refused (it ended at the ban).
        row("POST", "/login", members("done", anon="401", banned="403 banned"), "login_form"),
        row("GET", "/recover", everyone()),
        row("POST", "/recover", everyone("422"), {"pseudonym": "x", "new_passphrase": "a"}),
        row("GET", "/account", members()),
        row("POST", "/account/sessions/{ownsess}/revoke", members("303")),  # someone else's: no-op
        row("POST", "/account/sessions/revoke", members("303"), {"scope": "others"}),
        row("POST", "/account/passphrase", members("422"), {"new_passphrase": "a"}),
        row("POST", "/account/recovery-codes", members("200"), {"passphrase": PASSPHRASE}),
        row("GET", "/account/export", members()),
        row("GET", "/account/delete", members()),
        row("POST", "/account/delete", members("422"), {"content": "keep"}),
        row("POST", "/account/country", members("303"), {"country": ""}),
        row("POST", "/account/blocks", members("404"), {"block": "Nobody-Called-This"}),
        row("POST", "/account/blocks/{owner}/remove", members("303")),
        row("GET", "/account/anonymity", members()),
        row("GET", "/api/v1/account/reveals", members()),
        row("POST", "/logout", members("303", anon="303", banned="303"), fresh=True),
        row("POST", "/api/v1/signup", everyone("422"), {"pseudonym": "", "passphrase": ""}),
        row("POST", "/api/v1/login", members("200", anon="401", banned="403 banned"), "login"),
        row("GET", "/api/v1/session", members()),
        row("GET", "/api/v1/pseudonym-suggestions", everyone()),
        row("GET", "/api/v1/account/export", members()),
        row("POST", "/api/v1/logout", members(), fresh=True),
        # ------------------------------------------------------------------ forum: reading
        row("GET", "/c/grief", everyone()),
        row("GET", "/c/vets", members()),  # members-only community
        row("GET", "/c/grief/rules", everyone()),
        row("GET", "/c/vets/rules", members()),
        row("GET", "/t/{T}", everyone(), absent=(HELD_REPLY, ALL)),
        row("GET", "/t/{H}", everyone("404")),  # held: its author and moderators only
        row("GET", "/t/{MT}", members()),
        row("GET", "/p/{P}/history", members("403")),  # moderators of the community only
        row("GET", "/p/{HP}/history", members("404")),
        row("GET", "/search?q=supper", everyone()),
        row("GET", "/search?q=homecoming", everyone(), absent=(MEMBERS_ONLY_TITLE, OUT)),
        row("GET", "/search?q=nobody", everyone(), absent=(HELD_TITLE, ALL)),
        row("GET", "/api/v1/communities", everyone()),
        row("GET", "/api/v1/communities/grief/threads", everyone(), absent=(HELD_TITLE, ALL)),
        row("GET", "/api/v1/communities/vets/threads", members()),
        row("GET", "/api/v1/communities/grief/experiences", everyone()),
        row("GET", "/api/v1/communities/vets/experiences", members()),
        row("GET", "/api/v1/threads/{T}", everyone(), absent=(HELD_REPLY, ALL)),
        row("GET", "/api/v1/threads/{H}", everyone("404")),
        row("GET", "/api/v1/threads/{MT}", members()),
        row("GET", "/api/v1/search?q=supper", everyone()),
        row("GET", "/api/v1/search?q=homecoming", everyone(), absent=(MEMBERS_ONLY_TITLE, OUT)),
        row("POST", "/api/v1/preview", everyone(), {"body": "Thinking of you all."}),
        # ------------------------------------------------------------------ forum: writing
        row("GET", "/c/grief/new", members()),
        row("POST", "/c/grief/new", members("422", suspended="422 suspended"), {"title": ""}),
        row("POST", "/t/{T}/reply", members("422", suspended="403"), {"body": ""}),
        row("POST", "/t/{H}/reply", members("404"), {"body": ""}),
        row("POST", "/t/{T}/follow", members("303"), {"follow": "yes"}),
        # Blocking an anonymous author by label: nobody has that label in T; H isn't there.
        row("POST", "/t/{T}/block-anonymous", members("422"), {"label": "Z"}),
        row("POST", "/t/{H}/block-anonymous", members("404"), {"label": "A"}),
        row("POST", "/t/{T}/unblock-anonymous", members("303"), {"label": "Z"}),
        row("POST", "/api/v1/threads/{T}/blocks", members("422"), {"label": "Z"}),
        row("POST", "/api/v1/threads/{H}/blocks", members("404"), {"label": "A"}),
        row("DELETE", "/api/v1/threads/{T}/blocks/Z", members()),
        row("POST", "/t/{H}/follow", members("404"), {"follow": "yes"}),
        row("GET", "/p/{P}/edit", members("403")),  # someone else's, visible: may not edit
        row("GET", "/p/{HP}/edit", members("404")),  # someone else's, held: not there
        row("POST", "/p/{P}/edit", members("403"), {"body": "mine now"}),
        row("POST", "/p/{HP}/edit", members("404"), {"body": "mine now"}),
        row("POST", "/p/{P}/delete", members("403")),
        row("POST", "/p/{HP}/delete", members("404")),
        row("POST", "/p/{P}/react", members("303"), {"kind": "me_too"}),
        row("POST", "/p/{HP}/react", members("404"), {"kind": "me_too"}),
        row("POST", "/p/{R}/helped", members("403")),  # only the asker
        row("POST", "/p/{HP}/helped", members("404")),
        # A private thank-you for a reply: to anyone's but their own; a suspension stops it.
        row("GET", "/p/{R}/thank", members()),
        row("GET", "/p/{HP}/thank", members("404")),
        row("POST", "/p/{R}/thank", members("allowed", suspended="403 suspended"), {"note": ""}),
        row("POST", "/p/{HP}/thank", members("404"), {"note": ""}),
        row("GET", "/account/thanks", members()),  # only ever their own (no id in the path)
        # Stories of hope: the shelves are read like the community; moderators curate them.
        row("GET", "/hope", everyone()),
        row("GET", "/c/grief/hope", everyone()),
        row("GET", "/c/vets/hope", members()),
        row("POST", "/t/{T}/shelf", members("403"), {"shelf": "yes"}),
        row("GET", "/notifications", members()),
        row("POST", "/notifications", members("303")),
        row("GET", "/settings/content-warnings", members()),
        row("POST", "/settings/content-warnings", members("303")),
        # A member's own "been there" record: only ever their own (no id in the path).
        row("GET", "/settings/been-there", members()),
        row("POST", "/settings/been-there", members("303"), {"what": "choice"}),
        # The resource directory: read like its community; members suggest (a suspension
        # stops it); only the community's moderators manage it (other_mod moderates B).
        row("GET", "/c/grief/resources", everyone(), absent=(WAITING_RESOURCE, ALL)),
        row("GET", "/c/vets/resources", members()),
        row("GET", "/c/grief/resources/suggest", members()),
        row(
            "POST",
            "/c/grief/resources/suggest",
            members("done", suspended="422 suspended"),
            RESOURCE_FORM,
        ),
        row("GET", "/c/grief/resources/new", staff()),
        row("POST", "/c/grief/resources/new", staff(), RESOURCE_FORM),
        row("GET", "/c/grief/resources/review", staff()),
        row("GET", "/c/grief/resources/{RE}/edit", staff()),
        row("GET", "/c/grief/resources/{RS}/edit", staff()),
        row("POST", "/c/grief/resources/{RE}/edit", staff(), RESOURCE_FORM),
        row("POST", "/c/grief/resources/{RE}/checked", staff()),
        row("POST", "/c/grief/resources/{RE}/remove", staff(), {"reason": "gone"}),
        row("POST", "/c/grief/resources/{RS}/decline", staff(), {"reason": "no"}),
        row("POST", "/c/grief/resources/{RS}/dismiss", members("404")),  # Owner's, not theirs
        row("GET", "/admin/communities/new", staff()),
        row("POST", "/admin/communities/new", staff(), {"slug": "taken-over"}),
        row("POST", "/api/v1/communities/grief/threads", ok_but_suspended, EMPTY_THREAD),
        row("POST", "/api/v1/communities/vets/threads", ok_but_suspended, EMPTY_THREAD),
        row("POST", "/api/v1/threads/{T}/posts", ok_but_suspended, {"body": ""}),
        row("POST", "/api/v1/threads/{H}/posts", members("404"), {"body": ""}),
        row("PATCH", "/api/v1/posts/{P}", members("403"), {"body": "mine now"}),
        row("PATCH", "/api/v1/posts/{HP}", members("404"), {"body": "mine now"}),
        row("DELETE", "/api/v1/posts/{P}", members("403")),
        row("DELETE", "/api/v1/posts/{HP}", members("404")),
        row("POST", "/api/v1/posts/{P}/reactions", members("201"), {"kind": "thanks"}),
        row("POST", "/api/v1/posts/{HP}/reactions", members("404"), {"kind": "thanks"}),
        row("DELETE", "/api/v1/posts/{P}/reactions/thanks", members()),
        row("POST", "/api/v1/posts/{R}/helped", members("403")),
        row("POST", "/api/v1/posts/{HP}/helped", members("404")),
        row("GET", "/api/v1/notifications", members()),
        # ------------------------------------------------------------------ reports, check-ins
        row("GET", "/report?kind=post&id={P}", members()),
        row("GET", "/report?kind=post&id={HP}", members("404")),
        # A message in a private conversation, named by its room and id: not there for them.
        row(
            "GET",
            "/report?kind=chat_message&id={conv}:1",
            members("404"),
            absent=(PRIVATE_WORDS, ALL),
        ),
        row(
            "GET",
            "/check-in?kind=chat_message&id={conv}:1",
            members("404"),
            absent=(PRIVATE_WORDS, ALL),
        ),
        row(
            "POST",
            "/api/v1/reports",
            members("404"),
            {"kind": "chat_message", "room": "{conv}", "id": 1, "reason": "spam"},
        ),
        row(
            "POST",
            "/api/v1/check-ins",
            members("404"),
            {"kind": "chat_message", "room": "{conv}", "id": 1},
        ),
        row(
            "POST", "/report", members("200"), {"kind": "member", "id": "{owner}", "reason": "spam"}
        ),
        row(
            "POST",
            "/api/v1/reports",
            members("201"),
            {"kind": "member", "id": "{helper}", "reason": "spam"},
        ),
        row(
            "POST",
            "/api/v1/reports",
            members("404"),
            {"kind": "post", "id": "{HP}", "reason": "spam"},
        ),
        row("GET", "/check-in?kind=post&id={P}", members()),
        row("GET", "/check-in?kind=post&id={HP}", members("404")),
        row("POST", "/check-in", members("200"), {"kind": "post", "id": "{P}"}),
        row("POST", "/api/v1/check-ins", members("201"), {"kind": "post", "id": "{P}"}),
        row("POST", "/api/v1/check-ins", members("404"), {"kind": "post", "id": "{HP}"}),
        # ------------------------------------------------------------------ moderation
        row(
            "GET",
            "/moderation",
            staff(other_mod="200", outsider="200"),
            absent=(HELD_THREAD_BODY, ALL),
        ),
        row(
            "GET",
            "/api/v1/moderation/check-ins",
            staff(other_mod="200", outsider="200"),
            absent=("Sunday supper", ("other_mod",)),
        ),
        row("GET", "/moderation/dashboard", staff(other_mod="200")),
        row("GET", "/moderation/members/{owner}", staff(other_mod="200"), absent=(NOTE_IN_A, ALL)),
        row("GET", "/moderation/members/999999", staff(other_mod="404")),  # same 403 for ids
        row("POST", "/moderation/cases/{caseA}", staff(other_mod="404"), {"action": "dismiss"}),
        row("POST", "/moderation/cases/{caseA}/reveal", staff(other_mod="404")),
        row(
            "POST",
            "/moderation/members/{owner}/sanctions",
            staff(),
            {"kind": "warn", "community_id": "{A}"},
        ),
        row(
            "POST",
            "/moderation/members/{owner}/notes",
            staff(),
            {"body": "x", "community_id": "{A}"},
        ),
        row(
            "POST",
            "/moderation/members/{owner}/notes",
            staff(other_mod="303"),
            {"body": "seen", "community_id": "{B}"},
        ),
        row("POST", "/moderation/members/{owner}/role", staff(), {"peer_supporter": "yes"}),
        row("POST", "/moderation/members/{owner}/anything", members("404")),
        row("POST", "/moderation/sanctions/{SA}/confirm", staff(other_mod="404")),
        row("POST", "/moderation/sanctions/{SA}/revoke", staff(other_mod="404")),
        row("POST", "/moderation/sanctions/{SB}/confirm", staff(other_mod="303")),
        row("POST", "/moderation/sanctions/{SB}/revoke", staff(other_mod="303")),
        row("POST", "/moderation/sanctions/{SA}/anything", members("404")),
        row("GET", "/moderation/communities/grief", staff()),
        row("POST", "/moderation/communities/grief", staff(), {"what": "policy"}),
        row(
            "POST",
            "/moderation/communities/grief",
            staff(),
            {"what": "add_experience", "label": "a new diagnosis"},
        ),
        row("GET", "/moderation/communities/caring", staff(other_mod="200")),
        row("GET", "/moderation/audit", staff()),
        row("GET", "/moderation/audit.csv", staff()),
        row("GET", "/c/grief/moderation-log", everyone()),
        row("GET", "/c/vets/moderation-log", members()),
        row("GET", "/moderation/support", staff(other_mod="200")),
        row("POST", "/moderation/check-ins/{ciA}/who-asked", staff(other_mod="404")),
        row("POST", "/moderation/check-ins/{ciB}/who-asked", staff(other_mod="200")),
        # Peer supporters close any request (the outsider is one); the rest may not.
        row(
            "POST",
            "/moderation/check-ins/{ciA}/close",
            staff(outsider="303", other_mod="404"),  # another community's: not there
            {"resolution": "checked_in"},
        ),
        row(
            "POST",
            "/moderation/check-ins/{ciB}/close",
            staff(other_mod="303", outsider="404"),  # other_mod has just closed it
            {"resolution": "checked_in"},
        ),
        row(
            "GET",
            "/api/v1/moderation/queue",
            staff(other_mod="200", outsider="200"),
            absent=(HELD_THREAD_BODY, ALL),
        ),
        row(
            "POST",
            "/api/v1/moderation/cases/{caseA}/actions",
            staff(other_mod="404"),
            {"action": "dismiss"},
        ),
        row(
            "POST",
            "/api/v1/moderation/cases/{caseB}/actions",
            staff(other_mod="200"),
            {"action": "warn"},
        ),
        row("POST", "/api/v1/moderation/cases/{caseA}/reveal", staff(other_mod="404")),
        row(
            "POST",
            "/api/v1/moderation/members/{owner}/sanctions",
            staff(),
            {"kind": "warn", "community_id": "{A}"},
        ),
        # ------------------------------------------------------------------ chat
        row("GET", "/chat", everyone(), absent=("/chat/vets", OUT)),
        row("GET", "/chat/new", staff()),
        row("POST", "/chat/new", staff(), {"slug": "taken-over", "name": "Mine"}),
        row("GET", "/chat/grief", everyone()),
        row("GET", "/chat/vets", members()),
        row("GET", "/chat/no-such-room", members("404")),
        row("GET", "/chat/{conv}", members("404")),  # a support conversation: not for them
        row(
            "GET", "/chat/{gs_room}", members("303", anon="login", banned="login")
        ),  # → the session page
        row(
            "POST",
            "/chat/grief",
            members("422", muted="403 muted", suspended="403 suspended"),
            {"body": ""},
        ),
        row("POST", "/chat/{conv}", members("404"), {"body": "let me in"}),
        row("POST", "/chat/grief/slow-mode", staff(), {"seconds": "0"}),
        row("POST", "/chat/grief/lock", staff(), {"locked": "no"}),
        row("POST", "/chat/grief/clear", staff(), {"pseudonym": "Owner-Of-Things"}),
        row("POST", "/chat/grief/messages/{seq_grief}/remove", staff()),
        row("POST", "/chat/{conv}/lock", members("404"), {"locked": "yes"}),
        row("POST", "/chat/{conv}/messages/1/remove", members("404")),
        row("GET", "/chat/grief/messages/{seq_grief}/thank", members()),
        row(
            "POST",
            "/chat/grief/messages/{seq_grief}/thank",
            members("allowed", suspended="403 suspended"),
            {"note": ""},
        ),
        row("GET", "/chat/{conv}/messages/1/thank", members("404")),
        row("POST", "/chat/caring/slow-mode", staff(other_mod="303"), {"seconds": "0"}),
        row("POST", "/chat/caring/messages/{seq_caring}/remove", staff(other_mod="303")),
        # ------------------------------------------------------------------ group sessions
        row("GET", "/sessions", everyone(), absent=(MEMBERS_ONLY_SESSION, OUT)),
        row("GET", "/c/grief/sessions", everyone()),
        row("GET", "/c/vets/sessions", everyone(), absent=(MEMBERS_ONLY_SESSION, OUT)),
        row("POST", "/sessions/timezone", everyone("303"), {"zone": "UTC"}),
        # Scheduling: peer supporters (the outsider) anywhere, moderators in their community
        # (the other moderator: the form offers theirs); nobody else is shown the form.
        row("GET", "/sessions/new", staff(outsider="200", other_mod="200")),
        row("POST", "/sessions/new", staff(outsider="allowed"), {**SCHEDULE, "repeat": ""}),
        row("GET", "/sessions/room/{gs_room}", everyone("303")),
        # Who was removed (or waits) is for the facilitators' panel only.
        row("GET", "/sessions/{gs}", everyone(), absent=(NAMES["removed"], NOT_REMOVED)),
        row("GET", "/api/v1/sessions/{gs}", everyone(), absent=(NAMES["removed"], ALL)),
        row("GET", "/sessions/{gs}.ics", everyone()),
        row(
            "POST",
            "/sessions/{gs}/send",
            members("409", muted="403", suspended="403"),
            {"body": "hi"},
        ),
        row("GET", "/api/v1/sessions", everyone(), absent=(MEMBERS_ONLY_SESSION, OUT)),
        row("GET", "/api/v1/time-zones", everyone()),  # the time-zone picker's full list
        row("POST", "/api/v1/sessions", staff(outsider="allowed"), SCHEDULE),
        *session_action_rows(),
        # ------------------------------------------------------------------ 1:1 support
        # Signed out: the helplines and how to join, never only a sign-in form.
        row("GET", "/support", everyone()),
        row(
            "POST",
            "/api/v1/support/requests",
            # A chat mute never stops anyone asking for support.
            members("201", suspended="403 suspended"),
            {"community": "grief", "note": "Could someone talk with me this evening?"},
        ),
        row(
            "POST",
            "/support",
            members("allowed", suspended="403"),
            {"community": "{A}", "note": "Could someone talk with me?"},
        ),
        # Requests waiting show no name: Plain-Member asked above.
        row(
            "GET", "/support/queue", staff(outsider="200"), absent=(NAMES["member"], ("outsider",))
        ),
        row("POST", "/support/availability", staff(outsider="303"), {"available": "yes"}),
        row("POST", "/support/topics", staff(outsider="303")),
        row("GET", "/support/requests/{sr}", members("404")),
        row("POST", "/support/requests/{sr}/cancel", members("404")),
        row("POST", "/support/requests/{sr}/accept", staff(outsider="409")),
        row("GET", "/support/conversations/{conv}", members("404")),
        row("POST", "/support/conversations/{conv}", members("404"), {"body": "hello?"}),
        row("POST", "/support/conversations/{conv}/end", members("404")),
        row("POST", "/support/conversations/{conv}/feedback", members("404"), {"helped": "no"}),
        row("GET", "/support/conversations/{conv}/open", members("404")),
        row("GET", "/support/conversations/{conv}/thank", members("404")),
        row("POST", "/support/conversations/{conv}/thank", members("404"), {"note": "hi"}),
        row("POST", "/support/conversations/{conv}/open", members("404"), {"case": "1"}),
        # Care for the carers: a supporter's own limits; a break note (someone else's: a
        # no-op); a debrief only by the conversation's supporter; debriefs for moderators.
        row("GET", "/support/limits", staff(outsider="200")),
        row("POST", "/support/limits", staff(outsider="422"), {"max_conversations": "9"}),
        row("POST", "/support/breaks/{sr}/dismiss", members("303")),
        row("POST", "/support/conversations/{conv}/debrief", members("404"), {"note": ""}),
        row("GET", "/moderation/support/debriefs", staff(other_mod="200")),
        row("POST", "/moderation/support/debriefs/1/take", members("404")),
        row("POST", "/moderation/support/debriefs/1/done", members("404")),
        row("POST", "/api/v1/support/availability", staff(outsider="200"), {"available": True}),
        row("GET", "/api/v1/support/requests/{sr}", members("404")),
        row("POST", "/api/v1/support/requests/{sr}/cancel", members("404")),
        row("POST", "/api/v1/support/requests/{sr}/accept", staff(outsider="409")),
        row("POST", "/api/v1/support/requests/{sr}/end", members("404")),
        row(
            "GET",
            "/api/v1/support/queue",
            staff(outsider="200"),
            absent=(NAMES["member"], ("outsider",)),
        ),
        # The same, pushed (chat/support/live.py): answered once here, as to any client
        # that doesn't ask for a stream.
        row("GET", "/support/requests/{sr}/events", members("404")),
        row(
            "GET",
            "/support/queue/events",
            staff(outsider="200"),
            absent=(NAMES["member"], ("outsider",)),
        ),
    ]


def session_action_rows() -> list[Row]:
    """Every action on the group session, as a form and through the API: facilitators' ones
    refused to all the actors (none facilitates it), members' ones refused to the removed."""
    mine = {
        # rsvp and join are idempotent; cancel-rsvp frees the seat join took (or finds none).
        # Suspended members take no seat (a mute only stops them writing: they may listen).
        "rsvp": members("done", removed="403 removed", suspended="403 suspended"),
        "join": members("done", removed="403 removed", suspended="403 suspended"),
        "hand": members("409"),  # nobody in the actors was let in
        "cancel-rsvp": members("allowed", removed="409"),
    }
    bodies = {
        "join": {"agree": "yes"},
        "hand": {"up": "yes"},
        "slow-mode": {"seconds": "0"},
        "admit": {"member": "Removed-Member"},
    }
    rows = []
    for action in SESSION_ACTIONS:
        expect = mine.get(action, staff())
        body = bodies.get(action, {})
        page = {k: v for k, v in expect.items()}
        if action not in mine:  # the page shows itself again with the refusal
            page = staff()
        rows.append(row("POST", f"/sessions/{{gs}}/{action}", page, body))
        api = {"agree": True} if action == "join" else body
        rows.append(row("POST", f"/api/v1/sessions/{{gs}}/{action}", expect, api))
    rows.append(row("POST", "/sessions/{gs}/no-such-action", members("404")))
    return rows


# --------------------------------------------------------------------------- chat frames

# Connecting (the upgrade takes a room's address), per room, per actor.
WS_ROOMS: dict[str, dict[str, str]] = {
    "grief": members("hello", anon="403", banned="403"),
    "vets": members("hello", anon="403", banned="403"),
    "no-such-room": members("404", anon="403", banned="403"),
    "{gs_room}": members(
        "403 session_join_first",
        anon="403",
        banned="403",
        removed="403 removed",
        suspended="403 suspended",
    ),
    "{conv}": members("404", anon="403", banned="403"),
}

# Frames sent on a connection to "grief", per actor that can connect.
WS_FRAMES: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    (
        "send",
        {"type": "send", "body": "Evening, all.", "room": "{conv}"},  # room is ignored: here
        _expect(
            dict.fromkeys(SIGNED_IN, "message grief"),
            {"muted": "error muted", "suspended": "error suspended"},
        ),
    ),
    ("history", {"type": "history", "limit": 5}, dict.fromkeys(SIGNED_IN, "history")),
    (
        "history",
        {"type": "history", "room": "{conv}", "before": 2, "limit": 5},
        dict.fromkeys(SIGNED_IN, "error not_found"),
    ),
    (
        "history",
        {"type": "history", "room": "vets", "limit": 5},
        dict.fromkeys(SIGNED_IN, "error not_found"),
    ),
    ("ping", {"type": "ping"}, dict.fromkeys(SIGNED_IN, "pong")),
]


# --------------------------------------------------------------------------- the world


@dataclass
class Actor:
    name: str
    client: httpx.AsyncClient
    cookie: str | None  # the session cookie's value (the banned: the one they had)
    csrf: str


@dataclass
class World:
    live: LiveServer
    settings: Settings
    actors: dict[str, Actor]
    ids: dict[str, Any] = field(default_factory=dict)
    bearer: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    def fill(self, text: str) -> Any:
        """The world's ids in place of {names}; a lone {name} in a JSON body is the id itself."""
        if lone := re.fullmatch(r"\{(\w+)\}", text):
            return self.ids[lone.group(1)]
        return re.sub(r"\{(\w+)\}", lambda m: str(self.ids[m.group(1)]), text)

    def client(self, **headers: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(
            app=self.live.app, raise_app_exceptions=False, client=("203.0.113.9", 5000)
        )
        return httpx.AsyncClient(transport=transport, base_url=self.live.url, headers=headers)

    @property
    def cookie_name(self) -> str:
        return session_cookie_name(self.live.ctx.settings)


async def _bearer(world: World, name: str) -> httpx.AsyncClient:
    async with world.client() as anonymous:
        joined = await join(anonymous, name, token=True)
    client = world.client(authorization=f"Bearer {joined['token']}")
    world.bearer[name] = client
    return client


async def _browser(world: World, name: str) -> Actor:
    """A member signed in with a cookie, as a browser is, with their CSRF token."""
    client = world.client()
    answer = await client.post("/api/v1/signup", json={"pseudonym": name, "passphrase": PASSPHRASE})
    assert answer.status_code == 201, answer.text
    token = (await client.get("/api/v1/session")).json()["csrf_token"]
    return Actor(name, client, client.cookies.get(world.cookie_name), token)


async def _signed_out(world: World) -> Actor:
    client = world.client()
    page = await client.get("/login")
    return Actor("", client, None, form_token(page.text))


async def _ok(response: httpx.Response, status: int) -> httpx.Response:
    """A step of the set-up: it must get exactly the answer it is meant to."""
    assert response.status_code == status, response.text
    return response


async def _member_id(world: World, name: str) -> int:
    found = await accounts.find_member(world.live.ctx.db, name)
    assert found is not None
    return found.id  # type: ignore[return-value]


async def build(world: World) -> None:
    ctx, ids = world.live.ctx, world.ids
    admin = (
        await accounts.sign_up(ctx.db, ctx.settings, "Site-Admin", PASSPHRASE, is_admin=True)
    ).signed_in
    admin_client = world.client(authorization=f"Bearer {admin.token}")
    world.bearer["Site-Admin"] = admin_client
    for slug, name, visibility in (
        ("grief", "Grief", "public"),
        ("caring", "Caring", "public"),
        ("vets", "Veterans", "members"),
    ):
        community = await create_community(
            ctx, admin.member, slug=slug, name=name, rules="1. Be kind.", visibility=visibility
        )
        await ctx.extensions["community_created"](community)  # its chat room
        ids[{"grief": "A", "caring": "B", "vets": "M"}[slug]] = community.id
    people = {}
    for name in (
        "Owner-Of-Things",
        "Helper-Person",
        "Keeper-Of-Grief",
        "Second-Keeper-Caring",
        "Circle-Lead",
        "Listener-Person",
        "Asker-Person",
    ):
        people[name] = await _bearer(world, name)
    world.actors = {"anon": await _signed_out(world)}
    for actor, name in NAMES.items():
        world.actors[actor] = await _browser(world, name)
    for name in ("Circle-Lead", "Listener-Person", NAMES["outsider"]):
        await accounts.set_roles(ctx.db, name, peer_supporter=True)
    async with ctx.db.transaction() as s:
        for name, community in (
            ("Keeper-Of-Grief", "A"),
            ("Second-Keeper-Caring", "B"),
            (NAMES["other_mod"], "B"),
        ):
            s.add(
                CommunityModerator(
                    community_id=ids[community], member_id=await _member_id(world, name)
                )
            )
    ids["owner"] = await _member_id(world, "Owner-Of-Things")
    ids["helper"] = await _member_id(world, "Helper-Person")
    owner, helper = people["Owner-Of-Things"], people["Helper-Person"]

    # The forum: a request thread with a reply and a held reply, a held thread, a thread in
    # the members-only community and one in B.
    thread = (
        await _ok(
            await owner.post(
                "/api/v1/communities/grief/threads",
                json={
                    "title": "Sunday supper alone",
                    "body": "The first Sunday supper alone.",
                    "kind": "request",
                    "help_type": "emotional",
                },
            ),
            201,
        )
    ).json()
    ids["T"], ids["P"] = thread["id"], thread["posts"][0]["id"]
    reply = await _ok(
        await helper.post(f"/api/v1/threads/{ids['T']}/posts", json={"body": "Here."}), 201
    )
    ids["R"] = reply.json()["id"]
    held = await _ok(
        await owner.post(
            f"/api/v1/threads/{ids['T']}/posts", json={"body": "Ring me on 07700 900983 tonight"}
        ),
        202,
    )
    ids["HP"] = held.json()["id"]
    held_thread = await _ok(
        await owner.post(
            "/api/v1/communities/grief/threads",
            json={"title": HELD_TITLE, "body": "Text me on 07700 900984, please"},
        ),
        202,
    )
    async with ctx.db.read() as s:
        from forum.models import Post

        ids["H"] = (await s.get(Post, held_thread.json()["id"])).thread_id  # type: ignore[union-attr]
    members_only = await _ok(
        await owner.post(
            "/api/v1/communities/vets/threads",
            json={"title": MEMBERS_ONLY_TITLE, "body": "Back home."},
        ),
        201,
    )
    ids["MT"] = members_only.json()["id"]
    in_b = await _ok(  # by Asker: check-in requests are one per member asked about
        await people["Asker-Person"].post(
            "/api/v1/communities/caring/threads", json={"title": "Care", "body": "Long days."}
        ),
        201,
    )
    ids["TB"] = in_b.json()["id"]
    await _ok(
        await helper.post(
            "/api/v1/reports",
            json={"kind": "post", "id": in_b.json()["posts"][0]["id"], "reason": "spam"},
        ),
        201,
    )
    async with ctx.db.read() as s:
        cases = {c.community_id: c.id for c in await s.exec(select(ModerationCase))}
    ids["caseA"], ids["caseB"] = cases[ids["A"]], cases[ids["B"]]
    # Check-in requests about Owner, in A and in B.
    await _ok(await helper.post("/api/v1/check-ins", json={"kind": "post", "id": ids["P"]}), 201)
    await _ok(
        await helper.post(
            "/api/v1/check-ins", json={"kind": "post", "id": in_b.json()["posts"][0]["id"]}
        ),
        201,
    )
    async with ctx.db.read() as s:
        asks = {r.community_id: r.id for r in await s.exec(select(CheckInRequest))}
    ids["ciA"], ids["ciB"] = asks[ids["A"]], asks[ids["B"]]

    # Sanctions: site-wide on three actors; a ban proposed (waiting) in A and in B.
    for actor, kind in (("muted", "mute"), ("suspended", "suspend"), ("banned", "ban")):
        member_id = await _member_id(world, NAMES[actor])
        await _ok(
            await admin_client.post(
                f"/api/v1/moderation/members/{member_id}/sanctions",
                json={"kind": kind, "hours": 24 * 30, "reason": "the matrix"},
            ),
            201,
        )
    for proposer, target, community in (
        ("Keeper-Of-Grief", ids["owner"], "A"),
        ("Second-Keeper-Caring", ids["helper"], "B"),
    ):
        proposed = await _ok(
            await people[proposer].post(
                f"/api/v1/moderation/members/{target}/sanctions",
                json={"kind": "ban", "community_id": ids[community]},
            ),
            201,
        )
        assert proposed.json()["confirmed"] is False
        ids["S" + community] = proposed.json()["id"]

    # A group session in A starting in five minutes (the lobby is open), with the removed
    # actor let in and then removed.
    lead = people["Circle-Lead"]
    start = datetime.now(UTC) + timedelta(minutes=5)
    scheduled = await _ok(
        await lead.post(
            "/api/v1/sessions",
            json={
                "community": "grief",
                "title": "Evening circle",
                "ground_rules": "1. Kindness.",
                "date": start.strftime("%Y-%m-%d"),
                "time": start.strftime("%H:%M"),
                "timezone": "UTC",
                "duration_minutes": 60,
                "capacity": 30,
            },
        ),
        201,
    )
    ids["gs"] = scheduled.json()["sessions"][0]["id"]
    removed = world.actors["removed"]
    await _ok(
        await removed.client.post(
            f"/api/v1/sessions/{ids['gs']}/join",
            json={"agree": True},
            headers={"x-csrf-token": removed.csrf},
        ),
        200,
    )
    for action in ("admit", "remove"):
        await _ok(
            await lead.post(
                f"/api/v1/sessions/{ids['gs']}/{action}", json={"member": NAMES["removed"]}
            ),
            200,
        )
    async with ctx.db.read() as s:
        session = await s.get(GroupSession, ids["gs"])
        ids["gs_room"] = (await s.get(Room, session.room_id)).slug  # type: ignore[union-attr]
    # One in the members-only community too (visitors are not told of it), and a moderator's
    # note about Owner in A (for A's moderators only).
    await _ok(
        await lead.post(
            "/api/v1/sessions",
            json={**SCHEDULE, "community": "vets", "title": MEMBERS_ONLY_SESSION},
        ),
        201,
    )
    await _ok(
        await people["Keeper-Of-Grief"].post(
            f"/moderation/members/{ids['owner']}/notes",
            data={"body": NOTE_IN_A, "community_id": str(ids["A"])},
        ),
        303,
    )

    # A 1:1 support conversation between Asker and Supporter; the outsider is available too.
    supporter, asker = people["Listener-Person"], people["Asker-Person"]
    for available in (supporter, world.actors["outsider"]):
        headers = {"x-csrf-token": available.csrf} if isinstance(available, Actor) else {}
        client = available.client if isinstance(available, Actor) else available
        await _ok(
            await client.post(
                "/api/v1/support/availability", json={"available": True}, headers=headers
            ),
            200,
        )
    asked = await _ok(
        await asker.post(
            "/api/v1/support/requests", json={"community": "grief", "note": "Hard day."}
        ),
        201,
    )
    ids["sr"] = asked.json()["id"]
    accepted = await _ok(await supporter.post(f"/api/v1/support/requests/{ids['sr']}/accept"), 200)
    ids["conv"] = accepted.json()["room"]
    said = await supporter.post(
        f"/support/conversations/{ids['conv']}", data={"body": PRIVATE_WORDS}
    )
    await _ok(said, 303)  # message 1 of the conversation: outsiders can't name it

    # Chat: a message in A's room and one in B's.
    for slug in ("grief", "caring"):
        await _ok(await owner.post(f"/chat/{slug}", data={"body": f"Hello, {slug}."}), 303)
    async with ctx.db.read() as s:
        from chat.models import ChatMessage

        rooms = {r.id: r.slug for r in await s.exec(select(Room))}
        for message in await s.exec(select(ChatMessage)):
            ids[f"seq_{rooms[message.room_id]}"] = message.seq
        ids["ownsess"] = (
            await s.exec(select(MemberSession.id).where(MemberSession.member_id == ids["owner"]))
        ).first()

    # The resource directory in A: a listed entry, and Owner's suggestion waiting.
    from forum.models import Resource

    async with ctx.db.transaction() as s:
        listed = Resource(
            community_id=ids["A"],
            name="Listed line",
            kind="helpline",
            url="https://line.example.org/",
            help_types=",emotional,",
        )
        waiting = Resource(
            community_id=ids["A"],
            name=WAITING_RESOURCE,
            kind="guide",
            url="https://guide.example.org/",
            help_types=",practical,",
            status="suggested",
            suggested_by_id=ids["owner"],
        )
        s.add_all([listed, waiting])
        await s.flush()
        ids["RE"], ids["RS"] = listed.id, waiting.id


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(
    tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Path, suite_postgres: str | None
) -> AsyncIterator[World]:
    data = tmp_path_factory.mktemp("access") / "data"
    data.mkdir()
    settings = Settings(
        data_dir=data,
        secret_key="test-secret-" + "k" * 40,
        site_url="http://testserver",
        new_member_posts=0,
        link_posts=0,
        rate_limits=LIMITS,
        metrics_token="operators-only",
    )
    if suite_postgres:
        backends.empty_database(suite_postgres)
        backends.flush_redis()
        settings = dataclasses.replace(
            settings, database_url=suite_postgres, redis_url=backends.REDIS_URL
        )
    else:
        shutil.copy(migrated_sqlite, data / "kindred.db")
    async with serve(settings) as live:
        found = World(live, settings, {})
        await build(found)
        try:
            yield found
        finally:
            for actor in found.actors.values():
                await actor.client.aclose()
            for client in found.bearer.values():
                await client.aclose()


# --------------------------------------------------------------------------- running rows


def _resolve(expected: str, row_: Row) -> str:
    if expected != "signin":
        return expected
    if row_.api or row_.method != "GET":
        return "401"
    return "login"


def matches(expected: str, response: httpx.Response) -> bool:
    status = response.status_code
    location = response.headers.get("location", "")
    to_login = status in (302, 303) and location.startswith("/login")
    what, _, word = expected.partition(" ")
    if word and word.lower() not in response.text.lower():
        return False
    if what == "login":
        return to_login
    if what == "done":
        return 200 <= status < 300 or (status in (302, 303) and not to_login)
    if what == "allowed":
        return 200 <= status < 300 or status in (409, 422) or (status == 303 and not to_login)
    return status == int(what) and not (status == 303 and to_login)


def _body(world: World, row_: Row, actor: str) -> Any:
    if row_.body == "login":
        return {
            "pseudonym": NAMES.get(actor, "Nobody-At-All"),
            "passphrase": PASSPHRASE,
            "token": True,
        }
    if row_.body == "login_form":
        return {"pseudonym": NAMES.get(actor, "Nobody-At-All"), "passphrase": PASSPHRASE}
    if row_.body is None:
        return None
    return {k: world.fill(v) if isinstance(v, str) else v for k, v in row_.body.items()}


async def _fresh(world: World, actor: str) -> Actor:
    """A second sign-in of the actor, for a row that ends it (signing out)."""
    if actor in ("anon", "banned"):
        return world.actors[actor]
    signed_in = await signin.log_in(
        world.live.ctx.db,
        world.live.ctx.settings,
        world.live.ctx.rate_limits,
        NAMES[actor],
        PASSPHRASE,
        network="matrix",
    )
    client = world.client()
    client.cookies.set(world.cookie_name, signed_in.token)
    token = (await client.get("/api/v1/session")).json()["csrf_token"]
    return Actor(NAMES[actor], client, signed_in.token, token)


async def send_row(world: World, row_: Row, actor: str) -> httpx.Response:
    who = await _fresh(world, actor) if row_.fresh else world.actors[actor]
    body = _body(world, row_, actor)
    saved = httpx.Cookies(who.client.cookies)  # a sign-in or sign-out here must not stick
    try:
        return await who.client.request(
            row_.method,
            world.fill(row_.path),
            headers={"x-csrf-token": who.csrf},
            json=body if row_.api and body is not None else None,
            data=body if not row_.api and body is not None else None,
        )
    finally:
        who.client.cookies = saved
        if row_.fresh and who is not world.actors[actor]:
            await who.client.aclose()


def _shown_wrongly(
    absent: tuple[str, tuple[str, ...]], actor: str, response: httpx.Response
) -> str:
    """The text must not reach these actors; a 200 for anyone else shows it (so the check
    can fail: the text is really there to be found)."""
    text, hidden_from = absent
    if actor in hidden_from and text in response.text:
        return f"was shown {text!r}"
    if actor not in hidden_from and response.status_code == 200 and text not in response.text:
        return f"was not shown {text!r}, which it may see"
    return ""


def _seen(response: httpx.Response) -> str:
    location = response.headers.get("location")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))[:160]
    return f"{response.status_code}" + (f" → {location}" if location else f" {text!r}")


# --------------------------------------------------------------------------- WebSockets


def ws_connect(world: World, actor: str, slug: str, query: str = "") -> Any:
    who = world.actors[actor]
    headers = {"cookie": f"{world.cookie_name}={who.cookie}"} if who.cookie else {}
    url = f"{world.live.ws_url}/ws/rooms/{world.fill(slug)}" + (f"?{query}" if query else "")
    return connect(url, origin=world.live.url, additional_headers=headers, open_timeout=TIMEOUT)  # type: ignore[arg-type]


async def ws_outcome(world: World, actor: str, slug: str) -> str:
    try:
        async with ws_connect(world, actor, slug) as ws:
            hello = await next_frame(ws, "hello")
            return "lobby" if hello.get("lobby") else "hello"
    except InvalidStatus as refused:
        body = refused.response.body or b""
        code = json.loads(body)["error"]["code"] if body.startswith(b"{") else ""
        return f"{refused.response.status_code} {code}".strip()


def ws_matches(expected: str, seen: str) -> bool:
    what, _, word = expected.partition(" ")
    return seen.split(" ")[0] == what and (not word or word in seen)


async def frame_outcome(ws: ClientConnection, frame: dict[str, Any]) -> str:
    await ws.send(json.dumps(frame))
    answer = await next_frame(ws, "message", "error", "history", "pong")
    if answer["type"] == "message":
        return f"message {answer['room']}"
    if answer["type"] == "error":
        return f"error {answer['code']}"
    return answer["type"]


# --------------------------------------------------------------------------- the tests


def app_routes(app: Any) -> set[str]:
    """Every (method, route) the app's router has, WebSocket routes and mounts included."""
    keys = set()
    for route in app.routes:
        if isinstance(route, Route):
            keys |= {f"{m} {route.path}" for m in route.methods or () if m != "HEAD"}
        elif isinstance(route, WebSocketRoute):
            keys.add(f"WS {route.path}")
        elif isinstance(route, Mount):
            keys.add(f"GET {route.path}")
    return keys


def route_of(app: Any, method: str, path: str) -> str | None:
    """The route the router gives this request to (the first that matches fully, in order)."""
    kind = "websocket" if method == "WS" else "http"
    scope = {"type": kind, "path": path.split("?")[0], "method": method, "root_path": ""}
    for route in app.routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            label = "WS" if method == "WS" else "GET" if isinstance(route, Mount) else method
            return f"{label} {route.path}"
    return None


async def test_every_route_has_a_row_and_every_row_a_route(world: World) -> None:
    app = world.live.app
    rows = {route_of(app, r.method, world.fill(r.path)): r for r in routes_table()}
    rows |= {route_of(app, "WS", world.fill(f"/ws/rooms/{slug}")): slug for slug in WS_ROOMS}
    assert None not in rows, f"a row no route answers: {rows.get(None)}"
    missing = sorted(app_routes(app) - rows.keys())
    assert not missing, f"routes without a row in the access matrix: {missing}"
    # Routes that take a name of an action: every action has its rows.
    for prefix in ("/sessions/{gs}/", "/api/v1/sessions/{gs}/"):
        covered = {r.path.removeprefix(prefix) for r in routes_table() if r.path.startswith(prefix)}
        assert set(SESSION_ACTIONS) <= covered, set(SESSION_ACTIONS) - covered


def handled_frame_types() -> set[str]:
    """The frame types chat/ws.py answers (its handlers table) and docs/protocol.md lists."""
    tree = ast.parse((ROOT / "chat" / "ws.py").read_text())
    handled: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            target = node.targets[0]
            if isinstance(target, ast.Attribute) and target.attr == "handlers":
                handled |= {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
    protocol = (ROOT / "docs" / "protocol.md").read_text()
    section = protocol.split("## Client → server", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r'^\| `\{"type": "(\w+)"', section, re.M))  # the frame column
    assert handled and documented
    return handled | documented


async def test_every_frame_type_has_a_row(world: World) -> None:
    covered = {kind for kind, _frame, _expect in WS_FRAMES}
    assert handled_frame_types() <= covered, handled_frame_types() - covered


async def test_the_access_matrix(world: World) -> None:
    """Every (route, actor) and (room or frame, actor) as the table says; all mismatches at
    once, so one run shows every hole."""
    wrong: list[str] = []
    # The chat upgrade first: the HTTP rows below take seats in the session.
    for slug, expect in WS_ROOMS.items():
        for actor in ACTORS:
            seen = await ws_outcome(world, actor, slug)
            if not ws_matches(expect[actor], seen):
                wrong.append(f"WS {slug} as {actor}: expected {expect[actor]}, got {seen}")
    for actor in SIGNED_IN:
        async with ws_connect(world, actor, "grief") as ws:
            await next_frame(ws, "hello")
            for kind, frame, expect in WS_FRAMES:
                sent = {k: world.fill(v) if isinstance(v, str) else v for k, v in frame.items()}
                seen = await frame_outcome(ws, sent)
                if not ws_matches(expect[actor], seen):
                    wrong.append(
                        f"frame {kind} {frame} as {actor}: expected {expect[actor]}, got {seen}"
                    )
    for row_ in routes_table():
        for actor in ACTORS:
            expected = _resolve(row_.expect[actor], row_)
            response = await send_row(world, row_, actor)
            if not matches(expected, response):
                wrong.append(
                    f"{row_.method} {world.fill(row_.path)} as {actor}: expected {expected}, "
                    f"got {_seen(response)}"
                )
            if row_.absent and (why := _shown_wrongly(row_.absent, actor, response)):
                wrong.append(f"{row_.method} {world.fill(row_.path)} as {actor}: {why}")
    assert not wrong, f"{len(wrong)} cells of the access matrix are wrong:\n" + "\n".join(wrong)
    # What the actors tried against other people's things changed nothing of theirs.
    async with world.live.ctx.db.read() as s:
        assert await s.get(MemberSession, world.ids["ownsess"]) is not None
        request = await s.get(SupportRequest, world.ids["sr"])
        assert request is not None and request.status == "accepted"
        assert (await s.get(Sanction, world.ids["SA"])).confirmed is False  # type: ignore[union-attr]


# --------------------------------------------------------------------------- closing sockets


async def _tokens(world: World, name: str, count: int) -> list[str]:
    """A new member signed in `count` times (each a separate sign-in): their bearer tokens."""
    async with world.client() as client:
        tokens = [(await join(client, name, token=True))["token"]]
        for _ in range(count - 1):
            again = await client.post(
                "/api/v1/login", json={"pseudonym": name, "passphrase": PASSPHRASE, "token": True}
            )
            assert again.status_code == 200, again.text
            tokens.append(again.json()["token"])
    return tokens


def _socket(live: LiveServer, token: str, room: str = "grief") -> Any:
    return connect(f"{live.ws_url}/ws/rooms/{room}?token={token}", open_timeout=TIMEOUT)


@contextlib.asynccontextmanager
async def _sockets(
    live: LiveServer, tokens: list[str], room: str = "grief"
) -> AsyncIterator[list[ClientConnection]]:
    async with contextlib.AsyncExitStack() as stack:
        opened = [await stack.enter_async_context(_socket(live, t, room)) for t in tokens]
        for ws in opened:
            await next_frame(ws, "hello")
        yield opened


async def closed_with(ws: ClientConnection, code: str) -> None:
    """The socket is told why (an `error` frame with `code`), then closed with 4003."""
    said = await next_frame(ws, "error")
    assert said["code"] == code, said
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(TIMEOUT):
            while True:
                await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_GONE


async def still_open(ws: ClientConnection) -> None:
    await ws.send(json.dumps({"type": "ping"}))
    assert (await next_frame(ws, "pong"))["type"] == "pong"


def _bearer_of(world: World, token: str) -> httpx.AsyncClient:
    return world.client(authorization=f"Bearer {token}")


async def test_signing_out_closes_that_sign_ins_sockets_and_no_other(world: World) -> None:
    live = world.live
    first, second = await _tokens(world, "Leaving-Soon", 2)
    async with _sockets(live, [first, second]) as (on_first, on_second):
        async with _bearer_of(world, first) as client:
            assert (await client.post("/api/v1/logout")).status_code == 200
        await closed_with(on_first, "signed_out")
        await still_open(on_second)
    # A browser signing out of its page closes the sockets that page's cookie opened.
    browser = await _browser(world, "Leaving-Browser")
    headers = {"cookie": f"{world.cookie_name}={browser.cookie}"}
    other = await _tokens_for(world, "Leaving-Browser")
    async with (
        connect(f"{live.ws_url}/ws/rooms/grief", origin=live.url, additional_headers=headers) as ws,
        _sockets(live, [other]) as (elsewhere,),
    ):
        await next_frame(ws, "hello")
        signed_out = await browser.client.post("/logout", headers={"x-csrf-token": browser.csrf})
        assert signed_out.status_code == 303
        await closed_with(ws, "signed_out")
        await still_open(elsewhere)
    await browser.client.aclose()


async def _tokens_for(world: World, name: str) -> str:
    async with world.client() as client:
        again = await client.post(
            "/api/v1/login", json={"pseudonym": name, "passphrase": PASSPHRASE, "token": True}
        )
    assert again.status_code == 200, again.text
    return again.json()["token"]


async def _session_id(world: World, name: str, newest: bool = True) -> int:
    member_id = await _member_id(world, name)
    async with world.live.ctx.db.read() as s:
        ids = sorted(
            await s.exec(select(MemberSession.id).where(MemberSession.member_id == member_id))
        )
    return ids[-1] if newest else ids[0]  # type: ignore[return-value]


async def test_signing_out_elsewhere_everywhere_a_new_passphrase_and_deletion_close_sockets(
    world: World,
) -> None:
    live = world.live
    # One other sign-in, by its id on the account page.
    browser = await _browser(world, "Careful-Member")
    tokens = [await _tokens_for(world, "Careful-Member") for _ in range(3)]
    csrf = {"x-csrf-token": browser.csrf}
    async with _sockets(live, tokens) as (one, two, three):
        revoked = await _session_id(world, "Careful-Member")  # the third token's
        answer = await browser.client.post(f"/account/sessions/{revoked}/revoke", headers=csrf)
        assert answer.status_code == 303
        await closed_with(three, "signed_out")
        await still_open(one)
        # Every other sign-in ("sign out everywhere else"): the page's own stays.
        answer = await browser.client.post(
            "/account/sessions/revoke", data={"scope": "others"}, headers=csrf
        )
        assert answer.status_code == 303
        await closed_with(one, "signed_out")
        await closed_with(two, "signed_out")
    # A new passphrase ends every other sign-in: their sockets close.
    tokens = [await _tokens_for(world, "Careful-Member") for _ in range(2)]
    async with _sockets(live, tokens) as sockets:
        answer = await browser.client.post(
            "/account/passphrase",
            data={
                "current_passphrase": PASSPHRASE,
                "new_passphrase": PASSPHRASE + " again",
                "new_passphrase_confirm": PASSPHRASE + " again",
            },
            headers=csrf,
        )
        assert answer.status_code == 303, answer.text
        for ws in sockets:
            await closed_with(ws, "signed_out")
    # Deleting the account closes everything it had open.
    token = (await _tokens(world, "Leaving-For-Good", 1))[0]
    async with _sockets(live, [token]) as (ws,), _bearer_of(world, token) as client:
        answer = await submit(
            client,
            "/account/delete",
            "/account/delete",
            {"content": "keep", "confirm": "yes", "passphrase": PASSPHRASE},
        )
        assert answer.status_code == 200, answer.text
        await closed_with(ws, "signed_out")
    await browser.client.aclose()


async def test_a_recovery_code_closes_the_old_sign_ins_sockets(world: World) -> None:
    live = world.live
    async with world.client() as client:
        joined = await join(client, "Forgetful-One", token=True)
    token, code = joined["token"], joined["recovery_codes"][0]
    async with _sockets(live, [token]) as (ws,), world.client() as client:
        answer = await submit(
            client,
            "/recover",
            "/recover",
            {
                "pseudonym": "Forgetful-One",
                "recovery_code": code,
                "new_passphrase": "a brand new long passphrase",
                "new_passphrase_confirm": "a brand new long passphrase",
            },
        )
        assert answer.status_code == 303, answer.text
        await closed_with(ws, "signed_out")


async def _sanction(world: World, name: str, **body: Any) -> httpx.Response:
    admin = world.bearer["Site-Admin"]
    member_id = await _member_id(world, name)
    return await admin.post(f"/api/v1/moderation/members/{member_id}/sanctions", json=body)


async def _sends(ws: ClientConnection, client_id: str) -> str:
    await ws.send(json.dumps({"type": "send", "body": "Still here.", "client_id": client_id}))
    answer = await next_frame(ws, "message", "error")
    return "message" if answer["type"] == "message" else answer["code"]


async def test_a_mute_or_suspension_turns_open_sockets_read_only_where_it_applies(
    world: World,
) -> None:
    live = world.live
    [token] = await _tokens(world, "Soon-Quiet", 1)
    async with (
        _sockets(live, [token], "grief") as (here,),
        _sockets(live, [token], "caring") as (there,),
    ):
        muted = await _sanction(world, "Soon-Quiet", kind="mute", hours=1, reason="a pause")
        assert muted.status_code == 201, muted.text
        for ws in (here, there):  # site-wide: every room
            told = await next_frame(ws, "error")
            assert told["code"] == "muted" and "a pause" in told["message"]
            assert await _sends(ws, "m1" if ws is here else "m2") == "muted"
            await still_open(ws)  # downgraded, not closed: they can still read
    [token] = await _tokens(world, "Soon-Away", 1)
    async with (
        _sockets(live, [token], "grief") as (here,),
        _sockets(live, [token], "caring") as (there,),
    ):
        suspended = await _sanction(
            world, "Soon-Away", kind="suspend", hours=24, community_id=world.ids["A"]
        )
        assert suspended.status_code == 201, suspended.text
        told = await next_frame(here, "error")
        assert told["code"] == "suspended"
        assert await _sends(here, "s1") == "suspended"
        await still_open(here)
        # Community A's suspension says nothing in B's room, and B's room still takes posts.
        assert await _sends(there, "s2") == "message"


async def test_a_ban_closes_sockets_and_the_banned_cannot_sign_back_in(world: World) -> None:
    live = world.live
    # A community ban (proposed, then confirmed by a second moderator): read-only there.
    [token] = await _tokens(world, "Banned-Here", 1)
    async with (
        _sockets(live, [token], "caring") as (there,),
        _sockets(live, [token], "grief") as (here,),
    ):
        member_id = await _member_id(world, "Banned-Here")
        proposed = await world.bearer["Second-Keeper-Caring"].post(
            f"/api/v1/moderation/members/{member_id}/sanctions",
            json={"kind": "ban", "community_id": world.ids["B"]},
        )
        assert proposed.status_code == 201 and proposed.json()["confirmed"] is False
        keeper = world.actors["other_mod"]
        confirmed = await keeper.client.post(
            f"/moderation/sanctions/{proposed.json()['id']}/confirm",
            headers={"x-csrf-token": keeper.csrf},
        )
        assert confirmed.status_code == 303
        assert (await next_frame(there, "error"))["code"] == "suspended"
        assert await _sends(there, "b1") == "suspended"
        assert await _sends(here, "b2") == "message"  # A's room: not banned there
    # A site-wide ban ends every sign-in: every socket closes, and signing in is refused.
    tokens = await _tokens(world, "Banned-Everywhere", 2)
    async with _sockets(live, tokens, "grief") as sockets:
        banned = await _sanction(world, "Banned-Everywhere", kind="ban", reason="threats")
        assert banned.status_code == 201, banned.text
        for ws in sockets:
            await closed_with(ws, "banned")
    with pytest.raises(InvalidStatus) as refused:
        async with _socket(live, tokens[0]):
            pass
    assert refused.value.response.status_code == 403
    async with world.client() as client:
        again = await client.post(
            "/api/v1/login",
            json={"pseudonym": "Banned-Everywhere", "passphrase": PASSPHRASE, "token": True},
        )
        assert again.status_code == 403 and again.json()["error"]["code"] == "banned"
        wrong = await client.post(
            "/api/v1/login", json={"pseudonym": "Banned-Everywhere", "passphrase": "not it at all"}
        )
        assert wrong.status_code == 401  # the ban is said only to whoever knows the passphrase


async def test_a_sign_in_that_ends_unannounced_is_closed_by_the_hubs_check(world: World) -> None:
    """The net under the sign-out events (lost while Redis was away, or a session that ran
    out): the hub's periodic check closes sockets whose sign-in is gone."""
    live = world.live
    [token] = await _tokens(world, "Quietly-Gone", 1)
    async with _sockets(live, [token]) as (ws,):
        await sessions.end_session(live.ctx.db, sessions.token_hash(token))  # nobody is told
        await still_open(ws)
        await live.chat.hub.check_sessions()
        await closed_with(ws, "signed_out")


def _redis_or_skip() -> str:
    import redis

    client = redis.Redis.from_url(backends.REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except Exception as exc:
        skip_or_fail(f"Redis is not reachable at {backends.REDIS_URL}: {exc}")
    finally:
        client.close()
    return backends.REDIS_URL


async def test_across_workers_a_sign_out_or_a_ban_closes_sockets_on_the_other_one(
    tmp_path: Path, migrated_sqlite: Path, suite_postgres: str | None
) -> None:
    """Two app instances sharing the database and Redis (as `kindred serve --workers 2`):
    what is done through one closes the sockets held by the other, through the broker."""
    redis_url = _redis_or_skip()
    settings = Settings(
        data_dir=tmp_path,
        database_url=suite_postgres or "",
        redis_url=redis_url,
        secret_key="test-secret-" + "k" * 40,
        site_url="http://testserver",
        rate_limits=LIMITS,
    )
    if not suite_postgres:
        shutil.copy(migrated_sqlite, tmp_path / "kindred.db")
    async with serve(settings) as one, serve(settings) as other:
        assert one.chat.hub.id != other.chat.hub.id
        await one.room("across")
        admin = await accounts.sign_up(
            one.ctx.db, one.ctx.settings, "Across-Admin", PASSPHRASE, is_admin=True
        )
        leaving, banned = await one.member("Across-Leaving"), await one.member("Across-Banned")
        async with (
            _socket(other, leaving.token, "across") as on_other,
            _socket(other, banned.token, "across") as banned_on_other,
        ):
            await next_frame(on_other, "hello")
            await next_frame(banned_on_other, "hello")
            async with httpx.AsyncClient(base_url=one.url) as client:
                out = await client.post(
                    "/api/v1/logout", headers={"authorization": f"Bearer {leaving.token}"}
                )
                assert out.status_code == 200
                await closed_with(on_other, "signed_out")
                ban = await client.post(
                    f"/api/v1/moderation/members/{banned.id}/sanctions",
                    json={"kind": "ban"},
                    headers={"authorization": f"Bearer {admin.signed_in.token}"},
                )
                assert ban.status_code == 201, ban.text
                await closed_with(banned_on_other, "banned")
