"""Every page a member or a visitor can reach, in the light theme and the dark one, with no
serious or critical axe-core violation. The walk finds its way as a person would, from the
demo's own links (a community, a thread, a chat room, a group session), so a new page linked
from these is one line here."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import (
    Server,
    assert_accessible,
    make_admin,
    member_id,
    start_server,
    stop_server,
)
from tests.helpers import PASSPHRASE

VISITOR_PAGES = ["/", "/login", "/signup", "/recover", "/support", "/help", "/chat", "/sessions"]
VISITOR_PAGES += ["/hope"]
MEMBER_PAGES = [
    "/",
    "/search",
    "/search?q=sleep",
    "/notifications",
    "/account",
    "/settings/content-warnings",
    "/settings/been-there",
    "/account/thanks",
    "/hope",
    "/chat",
    "/sessions",
    "/support",
    "/help",
]
ADMIN_PAGES = ["/moderation", "/moderation/dashboard", "/moderation/audit"]
ADMIN_PAGES += ["/support/limits", "/moderation/support/debriefs"]  # admins take support too


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("e2e-every-page"))
    try:
        yield running
    finally:
        stop_server(running.process)


def _first_link(page: Page, path: str, pattern: str) -> str:
    """The first link on `path` whose address matches `pattern` (the demo's own content)."""
    page.goto(path)
    for href in page.locator("main a[href]").evaluate_all("els => els.map(a => a.pathname)"):
        if re.fullmatch(pattern, href):
            return href
    raise AssertionError(f"no link like {pattern} on {path}")


def _admin_page(server: Server, new_context, scheme: str) -> Page:
    name = f"Walker-{secrets.token_hex(3)}"
    make_admin(server, name)
    context = new_context(color_scheme=scheme)
    signed_in = context.request.post(
        "/api/v1/login", data={"pseudonym": name, "passphrase": PASSPHRASE}
    )
    assert signed_in.ok, signed_in.text()
    return context.new_page()


def _walk(page: Page, paths: list[str], label: str) -> list[str]:
    """Visit each page; the violations found, one line per page (the walk goes on past one)."""
    found = []
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.ok, (
            f"{label} {path}: {response and response.status}"
        )
        try:
            assert_accessible(page, f"{label} {path}")
        except AssertionError as violation:
            found.append(str(violation).splitlines()[0])
    return found


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_has_no_serious_accessibility_violation(
    server: Server, new_context, scheme: str
) -> None:
    page = _admin_page(server, new_context, scheme)
    community = _first_link(page, "/", r"/c/[a-z0-9-]+")
    thread = _first_link(page, community, r"/t/\d+")
    room = _first_link(page, "/chat", r"/chat/(?!new$)[a-z0-9-]+")
    session = _first_link(page, "/sessions", r"/sessions/\d+")
    demo_member = member_id(server, "Demo-Sam")
    slug = community.rsplit("/", 1)[1]
    member_pages = [
        *MEMBER_PAGES,
        community,
        f"{community}/rules",
        f"{community}/new",
        f"{community}/sessions",
        f"{community}/moderation-log",
        f"{community}/resources",
        f"{community}/resources/suggest",
        f"{community}/hope",
        thread,
        _first_link(page, thread, r"/p/\d+/thank"),
        room,
        session,
    ]
    admin_pages = [
        *ADMIN_PAGES,
        f"/moderation/communities/{slug}",
        f"/moderation/members/{demo_member}",
        f"{community}/resources/review",
        f"{community}/resources/new",
        _first_link(
            page, f"{community}/resources?country=all", r"/c/[a-z0-9-]+/resources/\d+/edit"
        ),
    ]
    found = _walk(page, member_pages + admin_pages, f"admin ({scheme})")
    visitor = new_context(color_scheme=scheme).new_page()
    visitor_pages = [*VISITOR_PAGES, community, f"{community}/resources", thread]
    found += _walk(visitor, visitor_pages, f"visitor ({scheme})")
    assert not found, "\n".join(found)
