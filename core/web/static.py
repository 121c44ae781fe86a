"""/static/: each file prepared once, then served from memory in the fewest bytes.

Stylesheets and scripts are minified (rcssmin, rjsmin: comments and layout out, nothing
renamed) and every compressible file is compressed once, at brotli's and gzip's best
settings, where the per-request compression of pages (starlette-compress) has to be quick.
Measured on the live-session page's files: 27.4 KB at brotli 4 → 16.1 KB minified at brotli
11 (docs/performance.md). The source files stay as written, comments and all; the URL's
version (core/web/templates.static_url) is the source's hash, so a changed file is a new URL.

What a browser is sent: brotli if it says it takes it, else gzip, else the plain bytes; a weak
ETag, so an unversioned URL revalidates to a 304. Caching itself is set with the other
headers (core/web/headers.py): a year, immutable, for the current version.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import brotli
import rcssmin
import rjsmin
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.web.templates import is_current_static

COMPRESSIBLE = (".css", ".js", ".svg", ".json", ".txt", ".html", ".webmanifest")
MINIFIERS = {".css": rcssmin.cssmin, ".js": rjsmin.jsmin}


@dataclass(frozen=True)
class Asset:
    media_type: str
    plain: bytes
    etag: str
    encoded: dict[str, bytes]  # "br" / "gzip" -> the body so encoded


def prepare(path: Path) -> Asset:
    """Read, minify and compress one file (a few milliseconds; once per process)."""
    body = path.read_bytes()
    minify = MINIFIERS.get(path.suffix)
    if minify is not None:
        body = minify(body.decode()).encode()
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or path.suffix == ".js":
        media_type += "; charset=utf-8"
    encoded: dict[str, bytes] = {}
    if path.suffix in COMPRESSIBLE:
        encoded["br"] = brotli.compress(body, quality=11)
        encoded["gzip"] = gzip.compress(body, compresslevel=9, mtime=0)
    etag = f'W/"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
    return Asset(media_type, body, etag, encoded)


def accepted(header: str) -> set[str]:
    """The codings an Accept-Encoding header takes (any q above zero)."""
    taken = set()
    for item in header.lower().split(","):
        name, _, params = item.strip().partition(";")
        q = params.strip().removeprefix("q=") if params.strip().startswith("q=") else "1"
        try:
            if float(q) > 0:
                taken.add(name.strip())
        except ValueError:
            continue
    return taken


@cache
def _prepared(path: Path) -> Asset:
    """Each file once per process, however many apps serve it (the tests make hundreds)."""
    return prepare(path)


class StaticAssets:
    """The /static/{path} route's endpoint over one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()

    def route(self) -> Route:
        return Route("/static/{path:path}", self.serve, methods=["GET", "HEAD"], name="static")

    def asset(self, path: str) -> Asset | None:
        target = (self.directory / path).resolve()
        if not target.is_relative_to(self.directory) or not target.is_file():
            return None  # not remembered: any number of wrong paths costs no memory
        return _prepared(target)

    def warm(self) -> None:
        """Prepare every file now (at start-up), not on some member's first request."""
        for path in self.directory.rglob("*"):
            if path.is_file():
                self.asset(path.relative_to(self.directory).as_posix())

    async def serve(self, request: Request) -> Response:
        asset = self.asset(request.path_params["path"])
        if asset is None:
            return Response("Not found", status_code=404, media_type="text/plain")
        headers = {"vary": "Accept-Encoding"}
        # A URL with the file's current version is cached for good (core/web/headers.py) and
        # never asked about again: a tag is only for the URLs that revalidate.
        if not is_current_static(request.path_params["path"], request.query_params.get("v", "")):
            headers["etag"] = asset.etag
        if asset.etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
            return Response(status_code=304, headers=headers)
        taken = accepted(request.headers.get("accept-encoding", ""))
        body = asset.plain
        for coding in ("br", "gzip"):
            if coding in taken and coding in asset.encoded:
                body = asset.encoded[coding]
                headers["content-encoding"] = coding
                break
        return Response(body, media_type=asset.media_type, headers=headers)
