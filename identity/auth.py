"""Who is asking: the session cookie, or a bearer token for non-browser clients.

A bearer token, when present, is the only credential looked at: a request that carries
one never acts on the strength of a cookie (so CSRF cannot ride along with it).
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers, QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from core.context import AppContext
from core.web.cookies import cookie_options, device_cookie_name, session_cookie_name
from identity.devices import DEVICE_DAYS, device_token, known_device
from identity.models import Member, MemberSession
from identity.sessions import SignedIn, resolve_session


class SignInRequired(Exception):
    """Raised by views that need a member; answered with 401 (API) or a sign-in redirect."""


def bearer_token(headers: Headers) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class MemberSessionMiddleware:
    """Puts `member` and `member_session` into the request state (None when signed out)."""

    def __init__(self, app: ASGIApp, ctx: AppContext) -> None:
        self.app = app
        self.ctx = ctx
        self.cookie = session_cookie_name(ctx.settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["member"] = state["member_session"] = None
        token, via = self._credential(scope)
        if token:
            found = await resolve_session(self.ctx.db, self.ctx.settings, token)
            if found is not None:
                state["member"], state["member_session"] = found
                state["auth_via"] = via
        await self.app(scope, receive, send)

    def _credential(self, scope: Scope) -> tuple[str | None, str]:
        headers = Headers(scope=scope)
        token = bearer_token(headers)
        if token:
            return token, "bearer"
        if scope["type"] == "websocket":
            token = QueryParams(scope.get("query_string", b"")).get("token")
            if token:
                return token, "bearer"
        conn = HTTPConnection(scope)
        return conn.cookies.get(self.cookie), "cookie"


def current_member(conn: HTTPConnection) -> Member | None:
    return conn.scope.get("state", {}).get("member")


def current_session(conn: HTTPConnection) -> MemberSession | None:
    return conn.scope.get("state", {}).get("member_session")


def require_member(conn: HTTPConnection) -> Member:
    member = current_member(conn)
    if member is None:
        raise SignInRequired
    return member


def require_admin(conn: HTTPConnection) -> Member:
    member = require_member(conn)
    if not member.is_admin:
        raise HTTPException(403)
    return member


async def sessions_ended(
    conn: HTTPConnection, member_id: int, *, session: str | None = None, keep: str | None = None
) -> None:
    """Tell the parts that hold live connections (chat's WebSockets, on every worker) that
    sign-ins have ended: `session` alone, every one but `keep` (sessions by token hash:
    unlike ids, never used twice), or all the member's."""
    listeners = conn.app.state.ctx.extensions.get("session_end_listeners", ())
    for listener in listeners:
        await listener(member_id, session=session, keep=keep)


def enter_session(conn: HTTPConnection, signed_in: SignedIn) -> None:
    """From here on in this request, act as the newly signed-in member: a page rendered in
    this same response shows them signed in, and its forms carry a token bound to the new
    session (whose cookie the browser has not sent yet)."""
    state = conn.scope.setdefault("state", {})
    state["kindred.session_cookie_override"] = signed_in.token
    state["member"], state["member_session"] = signed_in.member, signed_in.session


def set_session_cookie(conn: HTTPConnection, response: Response, signed_in: SignedIn) -> None:
    """Start the browser's session; and, as the member has just proved who they are here,
    mark this device as theirs (identity/devices.py)."""
    enter_session(conn, signed_in)
    settings = conn.app.state.ctx.settings
    response.set_cookie(
        session_cookie_name(settings),
        signed_in.token,
        max_age=settings.session_max_days * 86400,
        **cookie_options(settings),  # type: ignore[arg-type]
    )
    member_id: int = signed_in.member.id  # type: ignore[assignment]
    token = device_cookie(conn)
    if known_device(settings.secret_key, member_id, token) is None:
        token = device_token(settings.secret_key, member_id)
    response.set_cookie(
        device_cookie_name(settings),
        token,  # type: ignore[arg-type]
        max_age=DEVICE_DAYS * 86400,  # renewed at every sign-in on the device
        **cookie_options(settings),  # type: ignore[arg-type]
    )


def device_cookie(conn: HTTPConnection) -> str | None:
    """The known-device token this browser sent, if any (checked against a pseudonym by
    identity.signin.log_in)."""
    return conn.cookies.get(device_cookie_name(conn.app.state.ctx.settings))


def clear_session_cookie(conn: HTTPConnection, response: Response) -> None:
    settings = conn.app.state.ctx.settings
    response.delete_cookie(session_cookie_name(settings), **cookie_options(settings))  # type: ignore[arg-type]


_BROWSERS = (
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def device_label(user_agent: str | None) -> str:
    """A coarse label so members can tell their sessions apart; never the full user agent."""
    ua = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in ua), "")
    system = next((name for marker, name in _SYSTEMS if marker in ua), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or re.sub(r"[^\w.-]", "", ua.split("/")[0])[:24] or "Unknown device"
