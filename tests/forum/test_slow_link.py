"""What a slow link pays for a page: compressed bytes, a 304 on a revisit, static files once.

The CSRF token in a page is masked afresh on every response (BREACH: a secret repeated
beside chosen text leaks through compressed lengths), yet the page's tag stays the same and
any masking of the visitor's token still posts.
"""

from __future__ import annotations

import re

import httpx
from starlette.applications import Starlette

from tests.conftest import make_client
from tests.forum.test_pages import start
from tests.helpers import form_token

PLAIN = {"accept-encoding": "identity"}


async def a_thread(alice: httpx.AsyncClient) -> str:
    created = await start(alice)
    assert created.status_code == 303
    return created.headers["location"].split("#")[0]


async def test_pages_are_brotli_else_gzip_else_plain(alice: httpx.AsyncClient) -> None:
    url = await a_thread(alice)
    for offered, expected in (("br, gzip", "br"), ("gzip, deflate", "gzip"), ("identity", None)):
        page = await alice.get(url, headers={"accept-encoding": offered})
        assert page.status_code == 200
        assert page.headers.get("content-encoding") == expected, offered
        assert "Meals when you can" in page.text  # httpx decodes it, as a browser does
        assert "accept-encoding" in page.headers.get("vary", "").lower()


async def test_a_revisit_is_a_304_until_the_page_changes(
    app: Starlette, alice: httpx.AsyncClient
) -> None:
    url = await a_thread(alice)
    first = await alice.get(url)
    tag = first.headers["etag"]
    assert tag.startswith('W/"')
    assert first.headers["cache-control"] == "private, no-cache"  # this browser only, checked

    again = await alice.get(url, headers={"if-none-match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag
    assert again.headers["cache-control"] == "private, no-cache"

    reply = await alice.post(
        url + "/reply", data={"csrf_token": form_token(first.text), "body": "Soup, mostly."}
    )
    assert reply.status_code == 303
    changed = await alice.get(url, headers={"if-none-match": tag})
    assert changed.status_code == 200 and "Soup, mostly." in changed.text
    assert changed.headers["etag"] != tag

    async with make_client(app) as visitor:  # another person's copy is tagged apart
        theirs = await visitor.get(url)
        assert theirs.status_code == 200 and theirs.headers["etag"] != changed.headers["etag"]
        assert (
            await visitor.get(url, headers={"if-none-match": theirs.headers["etag"]})
        ).status_code == 304


async def test_the_token_is_masked_anew_and_every_masking_posts(alice: httpx.AsyncClient) -> None:
    url = await a_thread(alice)
    one = form_token((await alice.get(url)).text)
    two = form_token((await alice.get(url)).text)
    assert one != two and len(one) == len(two) == 128
    for n, token in enumerate((one, two)):
        answer = await alice.post(url + "/reply", data={"csrf_token": token, "body": f"Reply {n}"})
        assert answer.status_code == 303, answer.text
    forged = one[:64] + format(int(one[64:], 16) ^ 1, "064x")
    refused = await alice.post(url + "/reply", data={"csrf_token": forged, "body": "Kept?"})
    assert refused.status_code == 403 and "Kept?" in refused.text  # refused, draft shown back


async def test_private_pages_are_never_stored(alice: httpx.AsyncClient) -> None:
    for path in ("/account", "/notifications", "/search?q=soup"):
        page = await alice.get(path)
        assert page.status_code == 200, path
        assert page.headers["cache-control"] == "no-store", path


async def test_static_files_are_cached_for_good_by_version(client: httpx.AsyncClient) -> None:
    home = await client.get("/")
    css = re.search(r'href="(/static/css/kindred\.css\?v=[0-9a-f]+)"', home.text)
    assert css, "no versioned stylesheet in the page"
    versioned = await client.get(css.group(1), headers={"accept-encoding": "br"})
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "etag" not in versioned.headers  # never asked about again: no tag to carry
    assert versioned.headers["content-encoding"] == "br"
    plain = await client.get(css.group(1), headers=PLAIN)
    assert int(versioned.headers["content-length"]) < int(plain.headers["content-length"]) / 2
    stale = await client.get("/static/css/kindred.css?v=0000000000")
    assert stale.headers["cache-control"] == "no-cache"  # an old URL may name other bytes
    bare = await client.get("/static/css/kindred.css")
    assert bare.headers["cache-control"] == "no-cache" and "etag" in bare.headers


async def test_a_stylesheet_carries_only_the_headers_that_apply_to_it(
    client: httpx.AsyncClient,
) -> None:
    home = await client.get("/")
    assert "default-src 'none'" in home.headers["content-security-policy"]
    for path in ("/static/css/kindred.css", "/static/js/kindred.js"):
        asset = await client.get(path)
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert asset.headers["cross-origin-resource-policy"] == "same-origin"
        assert "content-security-policy" not in asset.headers  # a document's header
    svg = await client.get("/static/favicon.svg")  # an SVG can be opened as a document
    assert "content-security-policy" in svg.headers


async def test_data_and_images_carry_only_the_headers_that_apply(
    alice: httpx.AsyncClient,
) -> None:
    answer = await alice.get("/api/v1/session")
    assert answer.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "permissions-policy" not in answer.headers  # a page's, not data's
    svg = await alice.get("/static/favicon.svg")  # opened as a page, it may load and run nothing
    assert svg.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "permissions-policy" not in svg.headers


async def test_wrong_static_paths_are_not_remembered(client: httpx.AsyncClient) -> None:
    from core.web import static

    before = static._prepared.cache_info().currsize
    for n in range(50):
        assert (await client.get(f"/static/css/nothing-{n}.css")).status_code == 404
    assert static._prepared.cache_info().currsize == before
