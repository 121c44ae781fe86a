"""Pages carry an ETag, so a revisit over a slow link costs a 304 and no body.

A page's bytes change on every response only where a masked CSRF token sits in them
(core/web/csrf.py masks it afresh each time, against BREACH) or a form's submission id
(core/web/forms.py). The tag is therefore taken over the page with each masked token put
back to the token it hides, and each submission id to one stand-in: the same page for the
same visitor gets the same tag, and a page held in the browser's cache still posts, since
any masking of the visitor's token is accepted.

Static files are tagged by core/web/static.py itself; a streamed body
(a CSV export, say) passes through untouched.
"""

from __future__ import annotations

import hashlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.web.csrf import ISSUED

TAGGED_TYPES = ("text/html", "application/json")


class RevalidateMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"  # a HEAD's empty body would be tagged wrongly
            or scope["path"].startswith("/static/")
        ):
            await self.app(scope, receive, send)
            return
        asked = Headers(scope=scope).get("if-none-match", "")
        start: Message | None = None
        passing = False

        async def tagging_send(message: Message) -> None:
            nonlocal start, passing
            if passing:
                await send(message)
            elif message["type"] == "http.response.start":
                start = message
                headers = Headers(raw=message.get("headers", []))
                if not _taggable(message["status"], headers):
                    passing = True
                    await send(message)
            elif message["type"] == "http.response.body":
                assert start is not None
                if message.get("more_body", False):  # streamed: let it flow as it is
                    passing = True
                    await send(start)
                    await send(message)
                    return
                await _finish(scope, start, message.get("body", b""), asked, send)
            else:
                await send(message)

        await self.app(scope, receive, tagging_send)


def _taggable(status: int, headers: Headers) -> bool:
    return (
        status == 200
        and "etag" not in headers
        and "set-cookie" not in headers
        and headers.get("content-type", "").startswith(TAGGED_TYPES)
    )


async def _finish(scope: Scope, start: Message, body: bytes, asked: str, send: Send) -> None:
    tag = etag(body, scope.get("state", {}).get(ISSUED, {}))
    headers = MutableHeaders(scope=start)
    headers["etag"] = tag
    if tag in _tags(asked):
        # RFC 9110 15.4.5: a 304 carries the tag and the caching fields, and no body.
        kept = [
            (k.encode(), headers[k].encode())
            for k in ("etag", "cache-control", "vary", "date")
            if k in headers
        ]
        await send({"type": "http.response.start", "status": 304, "headers": kept})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})


def etag(body: bytes, issued: dict[str, str]) -> str:
    """A weak tag (the page is the same, whatever its encoding) over the unmasked page."""
    for masked, token in issued.items():
        body = body.replace(masked.encode(), token.encode())
    return f'W/"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'


def _tags(header: str) -> set[str]:
    """The tags an If-None-Match names, each as a weak tag (weak comparison, RFC 9110 8.8.3.2)."""
    tags = set()
    for part in header.split(","):
        part = part.strip()
        if part:
            tags.add(part if part.startswith("W/") else f"W/{part}")
    return tags
