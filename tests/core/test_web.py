"""Web plumbing: headers, error pages, static files, health."""

from __future__ import annotations

import httpx


async def test_security_headers_on_every_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "camera=()" in response.headers["permissions-policy"]
    assert "server" not in response.headers


async def test_pages_link_nothing_outside_the_site(client: httpx.AsyncClient) -> None:
    for path in ("/", "/signup", "/login", "/recover"):
        html = (await client.get(path)).text
        assert "<script>" not in html and " style=" not in html, path
        for attr in ("src", "href", "action"):
            for value in __import__("re").findall(rf'{attr}="([^"]*)"', html):
                assert value.startswith(("/", "#", "?")), (path, value)


async def test_friendly_not_found(client: httpx.AsyncClient) -> None:
    page = await client.get("/no/such/page")
    assert page.status_code == 404
    assert "We couldn&#39;t find that page" in page.text
    api = await client.get("/api/v1/nothing")
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not_found"


async def test_api_needs_a_session(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/session")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_signed_in"


async def test_static_files_are_versioned(client: httpx.AsyncClient) -> None:
    html = (await client.get("/")).text
    import re

    css = re.search(r'href="(/static/css/kindred\.css\?v=[0-9a-f]{10})"', html)
    assert css
    assert (await client.get(css.group(1))).status_code == 200


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok"


async def test_unhandled_error_is_a_friendly_500(settings) -> None:
    from starlette.routing import Route

    from kindred.app import create_app

    async def boom(request):
        raise RuntimeError("secret detail")

    app = create_app(settings)
    app.router.routes.insert(0, Route("/boom", boom))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        response = await c.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "secret detail" not in response.text
