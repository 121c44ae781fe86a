"""A pseudonym is a profile field: after identity's own name rules it goes through the one
vetting call (moderation's PSEUDONYM surface, registered by kindred.app), so a name can't
carry a phone number or a handle, while ordinary names pass as typed."""

from __future__ import annotations

import random

import httpx
import pytest
from sqlmodel import select
from starlette.applications import Starlette

from core.errors import Refusal
from identity.models import Member
from identity.names import SUGGESTION_ADJECTIVES, SUGGESTION_NOUNS, suggest_pseudonyms
from tests.helpers import PASSPHRASE, submit

CONTACT_NAMES = [
    "call-07700900123",
    "07700900123",
    "tel-0044-7700-900123",
    "555-123-4567",
    "wren_at_gmail",
    "wren-at-gmail-dot-com",
    "insta-wren",
]


def ordinary_names() -> list[str]:
    """A few hundred names of the shapes members choose: our own suggestions, and words
    with capitals, separators, years and Markdown-looking underscores."""
    rng = random.Random(15)
    names = suggest_pseudonyms(100, rng) + suggest_pseudonyms(100, rng)
    for _ in range(200):
        adjective, noun = rng.choice(SUGGESTION_ADJECTIVES), rng.choice(SUGGESTION_NOUNS)
        names.append(
            rng.choice(
                [
                    f"{adjective.title()}{noun.title()}",
                    f"{noun}_{rng.randint(1, 99)}",
                    f"{noun}{rng.randint(1950, 2025)}",
                    f"_{noun}_",
                    f"{noun}-{rng.randint(2, 9)}",
                    f"{adjective}__{noun}",
                ]
            )
        )
    names += ["Rowan", "Willow", "river-stone", "quiet-heron-42", "_wren_", "wren-2", "__init__"]
    assert len(set(names)) > 300
    return names


async def test_ordinary_names_all_pass(app: Starlette) -> None:
    [check] = app.state.ctx.extensions["name_checks"]
    refused = []
    for name in ordinary_names():
        try:
            await check(name)
        except Refusal as exc:
            refused.append((name, exc.code))
    assert refused == []


@pytest.mark.parametrize("name", CONTACT_NAMES)
async def test_contact_details_in_a_name_are_refused_by_the_api(
    client: httpx.AsyncClient, app: Starlette, name: str
) -> None:
    response = await client.post(
        "/api/v1/signup", json={"pseudonym": name, "passphrase": PASSPHRASE}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "contact_details"
    assert error["field"] == "pseudonym"
    assert "contact details" in error["message"]
    async with app.state.ctx.db.read() as s:
        assert (await s.exec(select(Member))).all() == []


async def test_the_form_says_why_beside_the_pseudonym_and_keeps_it(
    client: httpx.AsyncClient, app: Starlette
) -> None:
    response = await submit(
        client,
        "/signup",
        "/signup",
        {
            "pseudonym": "call-07700900123",
            "passphrase": PASSPHRASE,
            "passphrase_confirm": PASSPHRASE,
        },
    )
    assert response.status_code == 422
    assert 'id="f-pseudonym-error">Your pseudonym looks like it includes contact details' in (
        response.text
    )
    assert 'value="call-07700900123"' in response.text
    assert PASSPHRASE not in response.text
    async with app.state.ctx.db.read() as s:
        assert (await s.exec(select(Member))).all() == []


async def test_identity_rules_come_first(client: httpx.AsyncClient) -> None:
    for name, code in (("admin-07700900123", "reserved"), ("07", "too_short")):
        response = await client.post(
            "/api/v1/signup", json={"pseudonym": name, "passphrase": PASSPHRASE}
        )
        assert response.json()["error"]["code"] == code, name


@pytest.mark.parametrize(("typed", "kept"), [(" _wren_ ", "_wren_"), ("wren-2", "wren-2")])
async def test_the_name_is_kept_as_identity_chose_it(
    client: httpx.AsyncClient, typed: str, kept: str
) -> None:
    # Vetting renders Markdown ("_wren_" is emphasis there); only its verdict is used.
    response = await client.post(
        "/api/v1/signup", json={"pseudonym": typed, "passphrase": PASSPHRASE}
    )
    assert response.status_code == 201, response.text
    assert response.json()["pseudonym"] == kept
    assert (await client.get("/api/v1/session")).json()["pseudonym"] == kept
