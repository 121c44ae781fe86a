"""The interface in the member's language: chosen by them or their browser, never by where
they connect from; Spanish complete for every text marked; right to left laid out by `dir`."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from starlette.applications import Starlette

from core import i18n
from kindred.app import create_app
from tests.conftest import make_client
from tests.helpers import form_token, join

ROOT = Path(__file__).resolve().parents[2]
PYBABEL = Path(sys.executable).parent / "pybabel"
SOURCES = ("core", "identity", "communities", "moderation", "forum", "chat", "kindred", "templates")
SOURCES += ("static/js",)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es-MX,es;q=0.9,en;q=0.8", ["es-MX", "es", "en"]),
        ("en;q=0.2, es;q=0.9", ["es", "en"]),
        ("fr, *;q=0.1", ["fr"]),
        ("de;q=0, es", ["es"]),  # q=0: "not this one"
        ("", []),
        ("not a header;;;q=x, es", ["es"]),
    ],
)
def test_browser_preferences_in_order(header: str, expected: list[str]) -> None:
    assert i18n.browser_preferences(header) == expected


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        (["es-MX"], "es"),
        (["es-419", "en"], "es"),
        (["fr-CA", "en-GB"], "en"),
        (["fr", "de"], None),
        (["pt-BR", "es"], "es"),
    ],
)
def test_negotiation_finds_the_language_we_have(wanted: list[str], expected: str | None) -> None:
    assert i18n.negotiate(wanted, ["en", "es"]) == expected


def test_right_to_left_keeps_placeholders_and_markup() -> None:
    turned = i18n.right_to_left("Hello %(name)s, see <a href='/help'>help</a> &amp; more")
    assert "%(name)s" in turned and "<a href='/help'>" in turned and "&amp;" in turned
    assert turned.replace("\u202e", "").replace("\u202c", "") == (
        "Hello %(name)s, see <a href='/help'>help</a> &amp; more"
    )
    assert turned.startswith("\u202eHello ")


def test_spanish_translates_every_marked_text(tmp_path: Path) -> None:
    """What `make messages` would extract today, each translated (not fuzzy) in Spanish: a
    text marked without a translation fails here, not in front of a member."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [str(PYBABEL), "extract", "-F", "babel.cfg", "--omit-header", "-o", str(pot), *SOURCES],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with (ROOT / "locale/es/LC_MESSAGES/messages.po").open("rb") as f:
        spanish = {m.id: m for m in read_po(f, locale="es") if m.id}
    missing = sorted(str(m) for m in wanted - spanish.keys())
    assert not missing, f"run `make messages` and translate: {missing[:10]}"
    untranslated = [
        str(k)
        for k in wanted
        if "fuzzy" in spanish[k].flags
        or not (spanish[k].string if isinstance(spanish[k].string, str) else all(spanish[k].string))
    ]
    assert not untranslated, f"translate in locale/es: {untranslated[:10]}"


async def test_the_browser_language_chooses_when_nobody_has(client) -> None:
    spanish = await client.get("/", headers={"accept-language": "es-AR,es;q=0.9"})
    assert '<html lang="es"' in spanish.text
    assert ">Buscar</a>" in spanish.text and "Líneas de ayuda" in spanish.text
    english = await client.get("/", headers={"accept-language": "fr-FR, en;q=0.5"})
    assert '<html lang="en"' in english.text and ">Search</a>" in english.text
    nothing = await client.get("/")
    assert '<html lang="en"' in nothing.text


async def test_a_visitor_chooses_and_it_sticks(client) -> None:
    page = await client.get("/language?next=/help")
    assert page.status_code == 200 and 'lang="es"' in page.text and "Español" in page.text
    chosen = await client.post(
        "/language", data={"csrf_token": form_token(page.text), "language": "es", "next": "/help"}
    )
    assert chosen.status_code == 303 and chosen.headers["location"] == "/help"
    again = await client.get("/", headers={"accept-language": "en-GB"})
    assert '<html lang="es"' in again.text  # their choice beats their browser
    elsewhere = await client.post(
        "/language",
        data={"csrf_token": form_token(page.text), "language": "es", "next": "//evil.example"},
    )
    assert elsewhere.headers["location"] == "/"  # never an open redirect


async def test_a_members_setting_follows_them(app: Starlette) -> None:
    async with make_client(app, headers={"accept-language": "en-US"}) as member:
        await join(member, "lark-morrow")
        page = await member.get("/language")
        await member.post("/language", data={"csrf_token": form_token(page.text), "language": "es"})
    async with make_client(app, headers={"accept-language": "en-US"}) as device:
        await device.post(
            "/api/v1/login", json={"pseudonym": "lark-morrow", "passphrase": _passphrase()}
        )
        home = await device.get("/")
    assert '<html lang="es"' in home.text and ">Cerrar sesión</button>" in home.text


def _passphrase() -> str:
    from tests.helpers import PASSPHRASE

    return PASSPHRASE


async def test_an_unknown_choice_is_asked_again(client) -> None:
    page = await client.get("/language")
    sent = await client.post(
        "/language", data={"csrf_token": form_token(page.text), "language": "ar-XB"}
    )
    assert sent.headers["location"] == "/language"  # the pseudo-locale is off here
    assert '<html lang="en"' in (await client.get("/")).text


async def test_the_pseudo_locale_lays_pages_out_right_to_left(settings) -> None:
    app = create_app(dataclasses.replace(settings, pseudo_locales="on"))
    async with app.router.lifespan_context(app), make_client(app) as client:
        page = await client.get("/", headers={"accept-language": "ar-XB"})
    assert '<html lang="ar-XB" dir="rtl"' in page.text
    assert "\u202eSearch\u202c" in page.text


def test_pages_carry_only_the_texts_their_scripts_need() -> None:
    texts = i18n.script_catalog("es")
    assert texts["Waiting to send"] == "Pendiente de enviar"
    assert "Skip to content" not in texts  # a template's text: translated on the server
    assert i18n.script_catalog("en") == {}


async def test_a_spanish_page_carries_its_scripts_texts_and_an_english_one_none(client) -> None:
    spanish = await client.get("/", headers={"accept-language": "es"})
    assert '<script type="application/json" id="kindred-texts">' in spanish.text
    assert "Pendiente de enviar" in spanish.text
    english = await client.get("/", headers={"accept-language": "en"})
    assert "kindred-texts" not in english.text


async def test_answers_given_before_the_member_is_known_speak_their_language(client) -> None:
    """A stale form or a body too large is refused before the member is read; the refusal
    is still in the visitor's language."""
    spanish = {"accept-language": "es-MX,es;q=0.9"}
    stale = await client.post("/login", data={"pseudonym": "x", "passphrase": "y"}, headers=spanish)
    assert stale.status_code == 403 and '<html lang="es"' in stale.text
    assert "código de seguridad" in stale.text
    huge = await client.post("/api/v1/login", content=b"x" * (2 * 1024 * 1024), headers=spanish)
    assert huge.status_code == 413 and "que aceptamos" in huge.json()["error"]["message"]
