"""Security headers on every response, and what a browser may keep of each page.

Nothing personal goes into a shared cache. A member's reading pages (threads, communities,
the session schedule) may sit in their own browser, revalidated on every visit (a 304 over
a slow link, core/web/revalidate.py) and wiped at sign-out (Clear-Site-Data); everything
else of theirs (account, moderation, support, notifications, anything that sets a cookie
or shows recovery codes) is never stored at all.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import Settings
from core.web.cookies import session_cookie_name
from core.web.csrf import TOKEN_USED
from core.web.templates import is_current_static

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",  # 'self' covers same-origin ws:/wss: (CSP level 3)
        "manifest-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": (
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
        "interest-cohort=(), browsing-topics=()"
    ),
}


SUBRESOURCE_TYPES = ("text/css", "text/javascript", "application/javascript")
DOCUMENT_ONLY = frozenset(
    {
        "content-security-policy",
        "referrer-policy",
        "x-frame-options",
        "cross-origin-opener-policy",
        "permissions-policy",
    }
)

# JSON is data, never a page: nothing may load from it or frame it (OWASP's REST advice).
DATA_CSP = "default-src 'none'; frame-ancestors 'none'"


_NOT_A_PAGE = {k: v for k, v in SECURITY_HEADERS.items() if k not in DOCUMENT_ONLY}
_DATA = {**_NOT_A_PAGE, "content-security-policy": DATA_CSP}


def headers_for(content_type: str) -> dict[str, str]:
    """The security headers an answer of this type needs. A stylesheet or script is never a
    document, JSON is data (nosniff keeps it so), and an image's own policy only matters if
    it is opened as a page (an SVG can be), where it needs nothing at all: the data policy,
    which lets it load and run nothing, is the tightest there is. The document headers would
    only cost a slow link ~400 bytes per answer, which is a tenth of joining a session."""
    if content_type.startswith(SUBRESOURCE_TYPES):
        return _NOT_A_PAGE
    if content_type.startswith(("application/json", "image/")):
        return _DATA
    return SECURITY_HEADERS


# A member's pages that are worth keeping for a revisit, and safe to: what anyone in the
# community could read, laid out for them.
READING_PREFIXES = ("/c/", "/t/", "/sessions", "/help")


def reading_page(path: str) -> bool:
    return path == "/" or path.startswith(READING_PREFIXES)


def _static_caching(scope: Scope) -> str:
    """A versioned URL (static_url) names one file's bytes forever; anything else revalidates."""
    version = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [""])[0]
    if is_current_static(scope["path"].removeprefix("/static/"), version):
        return "public, max-age=31536000, immutable"
    return "no-cache"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.hsts = settings.https
        self.session_cookie = session_cookie_name(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        personal = self.session_cookie in request_headers.get("cookie", "") or (
            "authorization" in request_headers
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in headers_for(headers.get("content-type", "")).items():
                    headers.setdefault(name, value)
                if self.hsts:
                    headers.setdefault("strict-transport-security", "max-age=63072000")
                # A signed-in member's page must never sit in a shared or back-button cache;
                # nor must an answer that starts a session (the recovery codes shown after
                # sign-up) or hands this visitor a cookie or a form token of their own.
                path = scope["path"]
                own = scope.get("state", {}).get(TOKEN_USED)
                if path.startswith("/static/"):
                    headers["cache-control"] = _static_caching(scope)
                elif "set-cookie" in headers or (
                    (personal or own)
                    and not (reading_page(path) and message["status"] in (200, 304))
                ):
                    headers["cache-control"] = "no-store"
                elif personal or own:
                    headers["cache-control"] = "private, no-cache"
                else:
                    headers.setdefault("cache-control", "no-cache")
            await send(message)

        await self.app(scope, receive, send_with_headers)
