"""Reading offline: the service worker, the page it shows when the link is down, the manifest.

The worker (static/sw.js) is served from the site's root so that its scope is the whole
site; its version is the hash of every static file, so a new release replaces it and its
cache of static files. What it keeps, and why that is safe, is said at the top of sw.js.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.context import get_context
from core.web.templates import STATIC_DIR, static_url

# Precached at install, with the offline page and the helplines (/help): those two are there
# on a first offline visit, whatever the member read before.
# outbox.js too: a page read online and opened offline must still keep what is written on it.
PRECACHE = ("css/kindred.css", "js/kindred.js", "js/outbox.js", "js/offline.js", "favicon.svg")


@cache
def _worker_source() -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in STATIC_DIR.rglob("*") if p.is_file()):
        digest.update(path.relative_to(STATIC_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    source = (STATIC_DIR / "sw.js").read_text()
    urls = ", ".join(f'"{static_url(p)}"' for p in PRECACHE)
    source = source.replace("{{VERSION}}", digest.hexdigest()[:12])
    return source.replace("cache.addAll([OFFLINE])", f'cache.addAll([OFFLINE, "/help", {urls}])')


async def service_worker(request: Request) -> Response:
    # no-cache: the browser checks for a new worker on each visit (it does at least daily).
    return Response(
        _worker_source(),
        media_type="text/javascript",
        headers={"cache-control": "no-cache", "service-worker-allowed": "/"},
    )


async def offline_page(request: Request) -> Response:
    return get_context(request).templates.TemplateResponse(request, "kindred/offline.html", {})


async def manifest(request: Request) -> Response:
    body = {
        "name": "Kindred",
        "short_name": "Kindred",
        "description": "Peer support under a name you choose",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#fbfaf7",
        "theme_color": "#1d5fa8",
        "icons": [
            {"src": static_url("favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return Response(
        json.dumps(body),
        media_type="application/manifest+json",
        headers={"cache-control": "no-cache"},
    )


routes = [
    Route("/sw.js", service_worker, methods=["GET"]),
    Route("/offline", offline_page, methods=["GET"]),
    Route("/manifest.webmanifest", manifest, methods=["GET"]),
]
