"""Helplines follow the country a person chose: member setting > visitor's choice > browser
language > international. Never the network."""

from __future__ import annotations

import json
import re
from pathlib import Path

from identity.country import COUNTRIES, COUNTRY_COOKIE
from moderation.crisis.resources import FOR_EVERYONE, crisis_resources
from tests.conftest import make_client
from tests.crisis.conftest import start_thread
from tests.helpers import api_post, form_token, join, submit

CRISIS = "I want to die tonight, I can't keep going."
RESOURCES = Path(__file__).resolve().parents[2] / "moderation/data/crisis_resources.json"


def names(resources: list[dict]) -> list[str]:
    return [r["name"] for r in resources]


def test_every_offered_country_has_its_own_helplines() -> None:
    regions = {entry["region"] for entry in json.loads(RESOURCES.read_text())["resources"]}
    assert set(COUNTRIES) == regions - {"*", "INTL"}
    international = names(crisis_resources(None))
    for code in COUNTRIES:
        assert names(crisis_resources(code)) != international, code
        assert any(r.get("phone") or r.get("text") for r in crisis_resources(code)[:-2]), code


def test_the_lines_for_everyone_are_marked_for_translation() -> None:
    everyone = {
        entry["name"]
        for entry in json.loads(RESOURCES.read_text())["resources"]
        if entry["region"] == "*"
    }
    assert everyone == set(FOR_EVERYONE)


async def test_spanish_readers_in_mexico_get_mexicos_lines_in_spanish(app) -> None:
    async with make_client(app, headers={"accept-language": "es-MX,es;q=0.9"}) as visitor:
        page = (await visitor.get("/help")).text
    assert "Línea de la Vida" in page and "800 911 2000" in page
    assert "Busca una línea de ayuda cerca de ti" in page


async def test_visitor_help_page_uses_browser_language_then_their_choice(app) -> None:
    async with make_client(app, headers={"accept-language": "en-GB,en;q=0.8"}) as visitor:
        page = await visitor.get("/help")
        assert page.status_code == 200
        assert "Samaritans" in page.text and "from your browser" in page.text
        chose = await visitor.post(
            "/help/country", data={"csrf_token": form_token(page.text), "country": "AU"}
        )
        assert chose.status_code == 303
        assert visitor.cookies.get(COUNTRY_COOKIE) == "AU"
        page = await visitor.get("/help")
        assert "Lifeline" in page.text and "Samaritans" not in page.text
        assert '<option value="AU" selected>' in page.text
        # Choosing "not set" forgets it: back to the browser's language.
        await visitor.post(
            "/help/country", data={"csrf_token": form_token(page.text), "country": ""}
        )
        assert COUNTRY_COOKIE not in visitor.cookies
        assert "Samaritans" in (await visitor.get("/help")).text


async def test_visitor_with_no_language_gets_international(app) -> None:
    async with make_client(app) as visitor:
        page = await visitor.get("/help")
    assert "Befrienders Worldwide" in page.text
    assert "international" in page.text


async def test_a_forged_cookie_is_ignored(app) -> None:
    async with make_client(app, headers={"accept-language": "en-US"}) as visitor:
        visitor.cookies.set(COUNTRY_COOKIE, "<script>")
        page = await visitor.get("/help")
    assert "988" in page.text and "<script>" not in page.text


async def test_the_network_is_never_used(app) -> None:
    # An address from elsewhere changes nothing: no language, no choice → international.
    async with make_client(app, headers={"x-forwarded-for": "81.2.69.160"}) as visitor:
        page = await visitor.get("/help")
    assert "Befrienders Worldwide" in page.text and "Samaritans" not in page.text


async def test_member_setting_beats_cookie_and_browser_everywhere(app, community) -> None:
    async with make_client(app, headers={"accept-language": "en-US"}) as member:
        await join(member, "moss-hill")
        member.cookies.set(COUNTRY_COOKIE, "AU")
        # No setting yet: the visitor's choice beats the browser's language.
        thread = await start_thread(member, CRISIS)
        assert "Lifeline" in names(thread["notice"]["resources"])
        saved = await submit(member, "/account", "/account/country", {"country": "IE"})
        assert saved.status_code == 303 and saved.headers["location"].endswith("done=country")
        account = await member.get("/account")
        assert '<option value="IE" selected>' in account.text
        thread = await start_thread(member, CRISIS)
        assert "Samaritans Ireland" in names(thread["notice"]["resources"])
        preview = await api_post(member, "/api/v1/preview", {"body": CRISIS})
        assert "Pieta" in names(preview.json()["notice"]["resources"])
        page = await member.get(f"/t/{thread['id']}?notice=crisis")
        assert "Pieta" in page.text and "/help" in page.text
        assert "Pieta" in (await member.get("/help")).text
        # Choosing on the help page saves the member's setting, not a cookie.
        await submit(member, "/help", "/help/country", {"country": "NZ"})
        assert "1737" in (await member.get("/help")).text
        assert '<option value="NZ" selected>' in (await member.get("/account")).text
        # Clearing it: the visitor cookie is still there, so it applies again.
        await submit(member, "/account", "/account/country", {"country": ""})
        thread = await start_thread(member, CRISIS)
        assert "Lifeline" in names(thread["notice"]["resources"])


async def test_country_is_validated_and_in_the_export_and_erased(app, community) -> None:
    async with make_client(app) as member:
        await join(member, "fern-vale")
        bad = await submit(member, "/account", "/account/country", {"country": "XX"})
        assert bad.status_code == 422 and "Choose a country from the list" in bad.text
        await submit(member, "/account", "/account/country", {"country": "gb"})
        export = (await member.get("/account/export")).json()
        assert export["member"]["country"] == "GB"
        ctx = app.state.ctx
        from identity import accounts

        found = await accounts.find_member(ctx.db, "fern-vale")
        assert found.country == "GB"
        deleted = await submit(
            member,
            "/account/delete",
            "/account/delete",
            {"content": "keep", "confirm": "yes", "passphrase": "correct horse battery staple"},
        )
        assert deleted.status_code == 200
    async with ctx.db.read() as s:
        from identity.models import Member

        gone = await s.get(Member, found.id)
    assert gone.deleted_at is not None and gone.country is None


async def test_footer_links_to_the_help_page(app, community) -> None:
    async with make_client(app) as visitor:
        home = await visitor.get("/")
    assert 'href="/help"' in home.text


async def test_the_country_list_is_in_the_readers_language_and_order(client) -> None:
    """A Spanish reader finds "España" among the Es, not "Spain" among the Ss; "another
    country" stays last."""
    page = await client.get("/help", headers={"accept-language": "es"})
    options = re.findall(r'<option value="([A-Z]*)"[^>]*>([^<]*)</option>', page.text)
    named = [name for code, name in options if code not in ("", "INTL")]
    assert "España" in named and "Spain" not in named
    assert named.index("Dinamarca") < named.index("España") < named.index("Estados Unidos")
    assert named.index("Japón") < named.index("México") < named.index("Noruega")
    assert options[-1][0] == "INTL"
    english = await client.get("/help", headers={"accept-language": "en"})
    listed = [
        n for c, n in re.findall(r'<option value="([A-Z]+)"[^>]*>([^<]*)</option>', english.text)
    ]
    assert listed.index("Spain") < listed.index("Sweden") < listed.index("United Kingdom")
