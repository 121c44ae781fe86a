"""The identity pages as a browser without JavaScript uses them."""

from __future__ import annotations

import re

import httpx

from tests.helpers import PASSPHRASE, form_token, submit


async def sign_up_by_form(client: httpx.AsyncClient, pseudonym: str) -> list[str]:
    response = await submit(
        client,
        "/signup",
        "/signup",
        {"pseudonym": pseudonym, "passphrase": PASSPHRASE, "passphrase_confirm": PASSPHRASE},
    )
    assert response.status_code == 201, response.text
    assert "Save these recovery codes now" in response.text
    return re.findall(r"<code>([a-z0-9-]{19})</code>", response.text)


async def test_signup_page_offers_three_free_suggestions(client: httpx.AsyncClient) -> None:
    page = await client.get("/signup")
    assert page.status_code == 200
    assert len(re.findall(r'data-fill="f-pseudonym"', page.text)) == 3
    prefilled = await client.get("/signup?pseudonym=calm-brook-17")
    assert 'value="calm-brook-17"' in prefilled.text


async def test_signup_shows_codes_once_and_signs_in(client: httpx.AsyncClient) -> None:
    codes = await sign_up_by_form(client, "gentle-wren")
    assert len(codes) == 10
    account = await client.get("/account")
    assert account.status_code == 200
    assert "gentle-wren" in account.text
    assert account.headers["cache-control"] == "no-store"
    assert codes[0] not in account.text


async def test_signup_errors_keep_the_draft(client: httpx.AsyncClient) -> None:
    response = await submit(
        client,
        "/signup",
        "/signup",
        {"pseudonym": "kept-name", "passphrase": PASSPHRASE, "passphrase_confirm": "different"},
    )
    assert response.status_code == 422
    assert 'value="kept-name"' in response.text
    assert "The two passphrases are different" in response.text
    assert 'aria-invalid="true"' in response.text
    assert PASSPHRASE not in response.text


async def test_form_without_token_is_refused_with_a_friendly_page(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/login", data={"pseudonym": "x", "passphrase": "y"})
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
    assert "security token" in response.text


async def test_login_logout_and_next(client: httpx.AsyncClient) -> None:
    await sign_up_by_form(client, "harbour-light")
    out = await submit(client, "/account", "/logout", {})
    assert out.status_code == 303
    assert out.headers["clear-site-data"] == '"cache", "cookies", "storage"'
    redirect = await client.get("/account")
    assert redirect.status_code == 303
    assert redirect.headers["location"] == "/login?next=/account"
    wrong = await submit(
        client, "/login", "/login", {"pseudonym": "harbour-light", "passphrase": "nope nope nope"}
    )
    assert wrong.status_code == 401
    assert "don&#39;t match" in wrong.text
    assert 'value="harbour-light"' in wrong.text
    ok = await submit(
        client,
        "/login",
        "/login",
        {"pseudonym": "harbour-light", "passphrase": PASSPHRASE, "next": "/account"},
    )
    assert ok.status_code == 303
    assert ok.headers["location"] == "/account"
    evil = await submit(
        client,
        "/account",
        "/login",
        {"pseudonym": "harbour-light", "passphrase": PASSPHRASE, "next": "//evil.example/"},
    )
    assert evil.headers["location"] == "/"


async def test_sessions_list_and_sign_out_everywhere(app, client: httpx.AsyncClient) -> None:
    from tests.conftest import make_client

    await sign_up_by_form(client, "twin-pine")
    async with make_client(
        app, headers={"user-agent": "Mozilla/5.0 (Android 14) Firefox/130"}
    ) as phone:
        await submit(
            phone, "/login", "/login", {"pseudonym": "twin-pine", "passphrase": PASSPHRASE}
        )
        account = await client.get("/account")
        assert "Firefox on Android" in account.text
        assert len(re.findall(r"/account/sessions/\d+/revoke", account.text)) == 2
        done = await submit(client, "/account", "/account/sessions/revoke", {"scope": "others"})
        assert done.headers["location"] == "/account?done=others"
        assert (await phone.get("/account")).status_code == 303
        assert (await client.get("/account")).status_code == 200


async def test_passphrase_change_rotates_session_and_ends_others(
    app, client: httpx.AsyncClient
) -> None:
    from tests.conftest import make_client

    await sign_up_by_form(client, "still-water")
    before = client.cookies.get("kindred_session")
    async with make_client(app) as other:
        await submit(
            other, "/login", "/login", {"pseudonym": "still-water", "passphrase": PASSPHRASE}
        )
        new = "a brand new long passphrase"
        changed = await submit(
            client,
            "/account",
            "/account/passphrase",
            {
                "current_passphrase": PASSPHRASE,
                "new_passphrase": new,
                "new_passphrase_confirm": new,
            },
        )
        assert changed.status_code == 303
        assert client.cookies.get("kindred_session") != before
        assert (await client.get("/account")).status_code == 200
        assert (await other.get("/account")).status_code == 303
    wrong = await submit(
        client,
        "/account",
        "/account/passphrase",
        {"current_passphrase": "wrong", "new_passphrase": new, "new_passphrase_confirm": new},
    )
    assert wrong.status_code == 403
    assert "isn&#39;t your current passphrase" in wrong.text


async def test_recovery_code_resets_passphrase_once(client: httpx.AsyncClient) -> None:
    codes = await sign_up_by_form(client, "lost-key")
    await submit(client, "/account", "/logout", {})
    new = "remembered at last, truly"
    form = {
        "pseudonym": "lost-key",
        "recovery_code": codes[3].upper().replace("-", " "),
        "new_passphrase": new,
        "new_passphrase_confirm": new,
    }
    ok = await submit(client, "/recover", "/recover", form)
    assert ok.status_code == 303
    assert (await client.get("/account")).status_code == 200
    await submit(client, "/account", "/logout", {})
    again = await submit(client, "/recover", "/recover", form)
    assert again.status_code == 401
    assert "already used" in again.text
    login = await submit(client, "/login", "/login", {"pseudonym": "lost-key", "passphrase": new})
    assert login.status_code == 303


async def test_new_recovery_codes_replace_old(client: httpx.AsyncClient) -> None:
    old = await sign_up_by_form(client, "fresh-start")
    page = await submit(client, "/account", "/account/recovery-codes", {"passphrase": PASSPHRASE})
    new = re.findall(r"<code>([a-z0-9-]{19})</code>", page.text)
    assert len(new) == 10
    assert not set(new) & set(old)
    account = await client.get("/account")
    assert "You have 10 unused recovery codes" in account.text


async def test_export_and_delete_keeping_content(client: httpx.AsyncClient, app) -> None:
    await sign_up_by_form(client, "leaving-soon")
    export = await client.get("/account/export")
    assert export.status_code == 200
    assert "attachment" in export.headers["content-disposition"]
    data = export.json()
    assert data["member"]["pseudonym"] == "leaving-soon"
    assert data["format"] == "kindred-export-1"
    page = await client.get("/account/delete")
    refused = await client.post(
        "/account/delete",
        data={"csrf_token": form_token(page.text), "content": "keep", "passphrase": PASSPHRASE},
    )
    assert refused.status_code == 422
    assert "Tick the box" in refused.text
    deleted = await submit(
        client,
        "/account/delete",
        "/account/delete",
        {"content": "keep", "passphrase": PASSPHRASE, "confirm": "yes"},
    )
    assert deleted.status_code == 200
    assert "[deleted member]" in deleted.text
    assert (await client.get("/account")).status_code == 303
    # The name is free again, and the old passphrase opens nothing.
    login = await client.post(
        "/api/v1/login", json={"pseudonym": "leaving-soon", "passphrase": PASSPHRASE}
    )
    assert login.status_code == 401


async def test_blocking_a_member(client: httpx.AsyncClient) -> None:
    from tests.helpers import join

    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as o:
        await join(o, "noisy-crow")
    await sign_up_by_form(client, "quiet-dove")
    done = await submit(client, "/account", "/account/blocks", {"block": "Noisy-Crow"})
    assert done.headers["location"] == "/account?done=blocked"
    account = await client.get("/account")
    assert "noisy-crow" in account.text
    missing = await submit(client, "/account", "/account/blocks", {"block": "nobody-at-all"})
    assert missing.status_code == 404 and "no member with that pseudonym" in missing.text
