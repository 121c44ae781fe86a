"""Cross-site request forgery defence, in two layers.

1. Origin: any state-changing request whose Origin is not ours, or whose Sec-Fetch-Site is
   cross-site, is refused before anything reads it.
2. Token: cookie-authenticated state changes must carry a token bound to the session cookie
   (or, before sign-in, to a random pre-session cookie) in the X-CSRF-Token header or a
   `csrf_token` form field. The token is an HMAC of that cookie, so it changes whenever the
   session does and a token from an earlier session is worthless. Bearer-token clients send
   no cookies and need no CSRF token.

The middleware reads urlencoded form bodies itself and replays them to the app, so no
view can forget the check.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logs import own_address
from core.settings import Settings
from core.web.cookies import cookie_options, presession_cookie_name, session_cookie_name

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPE = "application/x-www-form-urlencoded"
NEW_PRESESSION = "kindred.new_presession"
TOKEN_USED = "kindred.csrf_token_used"
# What this response holds that is new every time (masked tokens, forms' submission ids),
# each with what stands for it when the page's ETag is taken.
ISSUED = "kindred.csrf_issued"
TOKEN_BYTES = 32  # a SHA-256 HMAC

log = logging.getLogger("kindred.origin")


def token_used(conn: HTTPConnection) -> bool:
    """True when something rendered for this request holds the visitor's CSRF token."""
    return bool(conn.scope.get("state", {}).get(TOKEN_USED))


def _sign(secret: str, value: str) -> str:
    return hmac.new(secret.encode(), b"csrf:" + value.encode(), hashlib.sha256).hexdigest()


def _mask(token: str) -> str:
    """The token under a fresh one-time pad, so no two responses carry the same bytes.

    Pages are compressed; a secret that repeats in every response beside text an attacker
    can choose (a search query, say) leaks through the compressed length (BREACH). The
    masked form is the pad followed by the token XOR the pad; `unmask` recovers the token.
    """
    raw = bytes.fromhex(token)
    pad = secrets.token_bytes(len(raw))
    return (pad + bytes(a ^ b for a, b in zip(raw, pad, strict=True))).hex()


def unmask(sent: str) -> str:
    """The token a form or header carried: masked (from a page) or bare (older pages)."""
    if len(sent) != 4 * TOKEN_BYTES:
        return sent
    try:
        both = bytes.fromhex(sent)
    except ValueError:
        return ""
    pad, masked = both[:TOKEN_BYTES], both[TOKEN_BYTES:]
    return bytes(a ^ b for a, b in zip(masked, pad, strict=True)).hex()


def csrf_token(conn: HTTPConnection) -> str:
    """The token for forms and scripts on this page (creating a pre-session cookie if needed)."""
    settings: Settings = conn.app.state.ctx.settings
    scope_state = conn.scope.setdefault("state", {})
    scope_state[TOKEN_USED] = True  # the page is this visitor's own: never shared (forum)
    value = (
        scope_state.get("kindred.session_cookie_override")
        or conn.cookies.get(session_cookie_name(settings))
        or scope_state.get(NEW_PRESESSION)
        or conn.cookies.get(presession_cookie_name(settings))
    )
    if not value:
        value = secrets.token_urlsafe(24)
        scope_state[NEW_PRESESSION] = value
    token = _sign(settings.secret_key, value)
    issued = scope_state.setdefault(ISSUED, {})
    for masked, raw in issued.items():  # one masking per response: fifty forms, one pad
        if raw == token:
            return masked
    masked = _mask(token)
    issued[masked] = token
    return masked


def origin_allowed(headers: Headers, settings: Settings) -> bool:
    origin = headers.get("origin")
    if origin is not None and origin != "null":
        return _ours(origin, headers, settings)
    # Under our Referrer-Policy (no-referrer) browsers send "Origin: null" even for our own
    # forms; Sec-Fetch-Site still says where the request came from.
    return headers.get("sec-fetch-site", "") != "cross-site"


def websocket_origin_allowed(headers: Headers, settings: Settings) -> bool:
    """A WebSocket handshake: no Origin (a non-browser client) or exactly ours. Browsers send
    a WebSocket's real origin whatever the Referrer-Policy, so "null" only ever comes from an
    opaque origin — a sandboxed frame or a data: page on someone else's site."""
    origin = headers.get("origin")
    if origin is None:
        return headers.get("sec-fetch-site", "") != "cross-site"
    return _ours(origin, headers, settings)


class _AtMostEvery:
    """A warning that is due at most once per `seconds`; counts the refusals in between."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.last = float("-inf")
        self.quiet = 0

    def due(self) -> bool:
        now = time.monotonic()
        if now - self.last < self.seconds:
            self.quiet += 1
            return False
        self.last = now
        return True

    def take_quiet(self) -> int:
        quiet, self.quiet = self.quiet, 0
        return quiet


_wrong_address = _AtMostEvery(60.0)


def _ours(origin: str, headers: Headers, settings: Settings) -> bool:
    if origin.rstrip("/").lower() in settings.origins:
        return True
    # One of this server's own pages, opened at another address than the site URL (the
    # browser says same-origin, or the origin is the host it asked for): refused like any
    # other site, or the check would mean nothing, but the operator is told why, since members
    # only see chat and previews failing; at most once a minute (a page polling from the
    # wrong address, or anyone sending that Origin on purpose, would fill the log).
    same = headers.get("sec-fetch-site") == "same-origin"
    netloc = _netloc(origin)
    if (same or (netloc and netloc == headers.get("host", "").lower())) and _wrong_address.due():
        shown = "".join(c for c in origin[:120] if c.isprintable())
        log.warning(
            "refused a request from this site's own page at %s: the site URL is %s "
            "(KINDRED_SITE_URL). Open Kindred at the site URL, or set KINDRED_SITE_URL to "
            "the address members use (%d more such refusals since the last warning)",
            shown,  # masked by the log filter: only the site URL is kept
            settings.site_url,
            _wrong_address.take_quiet(),
            extra=own_address(settings.site_url),
        )
    return False


def _netloc(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:  # "http://[::1", say: a client's garbage
        return ""


class CSRFMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings, exempt_paths: frozenset[str]) -> None:
        self.app = app
        self.settings = settings
        self.exempt_paths = exempt_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._with_presession_cookie(scope, send)
        if scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not origin_allowed(headers, self.settings):
            await self._refuse(scope, receive, send, "cross_site", "cross-site request refused")
            return
        cookie_auth = not headers.get("authorization", "").lower().startswith("bearer ")
        if cookie_auth and scope["path"] not in self.exempt_paths:
            token = headers.get("x-csrf-token")
            fields: dict[str, str] = {}
            if token is None and headers.get("content-type", "").startswith(FORM_TYPE):
                body, receive = await _read_body(receive)
                fields = {k: v[0] for k, v in parse_qs(body.decode("latin-1")).items()}
                token = fields.get("csrf_token")
            if not token or not hmac.compare_digest(
                unmask(token).encode(), self._expected(headers).encode()
            ):
                await self._refuse(
                    scope, receive, send, "csrf_failed", "missing or stale token", fields
                )
                return
        await self.app(scope, receive, send)

    def _expected(self, headers: Headers) -> str:
        cookies = SimpleCookie()
        cookies.load(headers.get("cookie", ""))
        for name in (session_cookie_name(self.settings), presession_cookie_name(self.settings)):
            if name in cookies:
                return _sign(self.settings.secret_key, cookies[name].value)
        return ""  # no cookie at all: nothing can match

    def _with_presession_cookie(self, scope: Scope, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            value = scope.get("state", {}).get(NEW_PRESESSION)
            if message["type"] == "http.response.start" and value:
                response = Response()
                response.set_cookie(
                    presession_cookie_name(self.settings), value, **cookie_options(self.settings)
                )
                cookie = [(k, v) for k, v in response.raw_headers if k == b"set-cookie"]
                message["headers"] = [*message.get("headers", []), *cookie]
            await send(message)

        return wrapped

    async def _refuse(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        code: str,
        detail: str,
        fields: dict[str, str] | None = None,
    ) -> None:
        handler = scope["app"].state.csrf_refusal
        response = await handler(HTTPConnection(scope), code, detail, fields or {})
        await response(scope, receive, send)


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
