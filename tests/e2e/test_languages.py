"""Languages in a real browser: a Spanish browser gets Spanish, a person can choose another
from the foot of any page, and right-to-left layout (the ar-XB pseudo-locale: the English
texts written right to left) mirrors the page, not just its words."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Server, assert_accessible, screenshot, start_server, stop_server

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(
        tmp_path_factory.mktemp("e2e-languages"), {"KINDRED_PSEUDO_LOCALES": "on"}
    )
    try:
        yield running
    finally:
        stop_server(running.process)


def test_a_spanish_browser_reads_spanish_and_can_choose(new_context) -> None:
    page = new_context(viewport=PHONE, locale="es-MX").new_page()
    page.goto("/")
    assert page.evaluate("document.documentElement.lang") == "es"
    page.locator(".menu summary", has_text="Menú").click()
    expect(page.get_by_role("link", name="Buscar")).to_be_visible()
    expect(page.get_by_role("contentinfo")).to_contain_text("Si estás en peligro ahora mismo")
    # The page scripts speak it too: the page carries the texts they need.
    assert page.evaluate("kindredI18n.gettext('Waiting to send')") == "Pendiente de enviar"
    assert_accessible(page, "home in Spanish")
    screenshot(page, "language-home-es-phone")

    page.get_by_role("link", name="Idioma: Español").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Idioma")
    assert_accessible(page, "the language page")
    screenshot(page, "language-choice-es-phone")
    page.get_by_role("button", name="English", exact=True).click()
    page.wait_for_url("**/")
    assert page.evaluate("document.documentElement.lang") == "en"
    expect(page.get_by_role("contentinfo")).to_contain_text("If you are in danger right now")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_right_to_left_mirrors_the_layout(new_context, viewport) -> None:
    context = new_context(viewport=viewport, extra_http_headers={"accept-language": "ar-XB"})
    page = context.new_page()
    page.goto("/help")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    brand = page.locator(".brand").bounding_box()
    assert brand and brand["x"] > viewport["width"] / 2  # the site's name starts on the right
    # Indents sit on the reading side: the right, in right-to-left.
    indent = page.evaluate(
        """() => { const s = getComputedStyle(document.querySelector('ul.resources'));
                   return [s.paddingRight, s.paddingLeft]; }"""
    )
    assert indent[0] != "0px" and indent[1] == "0px", indent
    assert_accessible(page, "help, right to left")
    name = "desktop" if viewport is DESKTOP else "phone"
    screenshot(page, f"language-rtl-help-{name}")
