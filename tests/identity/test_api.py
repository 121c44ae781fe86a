"""The identity JSON API as PROTOCOL.md describes it, through the real app."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlmodel import select

from identity.models import Member, MemberSession, RecoveryCode
from tests.conftest import make_client
from tests.helpers import PASSPHRASE, api_post, csrf, join


async def test_signup_returns_codes_and_starts_a_session(client: httpx.AsyncClient) -> None:
    body = await join(client, "quiet-heron-42")
    assert body["pseudonym"] == "quiet-heron-42"
    assert len(body["recovery_codes"]) == 10
    assert "token" not in body
    session = (await client.get("/api/v1/session")).json()
    assert session["pseudonym"] == "quiet-heron-42"
    assert session["roles"] == ["member"]
    assert session["csrf_token"]


async def test_only_hashes_are_stored(client: httpx.AsyncClient, app) -> None:
    body = await join(client, "river-stone")
    cookie = client.cookies.get("kindred_session")
    async with app.state.ctx.db.read() as s:
        member = (await s.exec(select(Member))).one()
        sessions = (await s.exec(select(MemberSession))).all()
        codes = (await s.exec(select(RecoveryCode.code_hash))).all()
    assert member.passphrase_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSPHRASE not in member.passphrase_hash
    assert [s.token_hash for s in sessions] != [cookie]
    assert cookie not in {s.token_hash for s in sessions}
    assert not set(body["recovery_codes"]) & set(codes)


async def test_bearer_token_clients_need_no_csrf(client: httpx.AsyncClient, app) -> None:
    response = await client.post(
        "/api/v1/signup",
        json={"pseudonym": "bot-operator", "passphrase": PASSPHRASE, "token": True},
    )
    assert response.status_code == 201
    token = response.json()["token"]
    assert "kindred_session" not in response.cookies
    async with make_client(app) as bot:
        auth = {"authorization": f"Bearer {token}"}
        me = await bot.get("/api/v1/session", headers=auth)
        assert me.json()["pseudonym"] == "bot-operator"
        out = await bot.post("/api/v1/logout", headers=auth)
        assert out.status_code == 200
        assert (await bot.get("/api/v1/session", headers=auth)).status_code == 401


async def test_duplicate_pseudonym_is_case_insensitive(client: httpx.AsyncClient) -> None:
    await join(client, "Willow")
    response = await client.post(
        "/api/v1/signup", json={"pseudonym": "wILLOW", "passphrase": PASSPHRASE}
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "pseudonym_taken"
    assert error["field"] == "pseudonym"
    assert len(error["suggestions"]) == 3


@pytest.mark.parametrize(
    ("pseudonym", "passphrase", "code"),
    [
        ("ab", PASSPHRASE, "too_short"),
        ("has space", PASSPHRASE, "bad_characters"),
        ("admin-anna", PASSPHRASE, "reserved"),
        ("fine-name", "short", "too_short"),
        ("fine-name", "password123", "too_common"),
    ],
)
async def test_invalid_signups_create_nothing(
    client: httpx.AsyncClient, app, pseudonym: str, passphrase: str, code: str
) -> None:
    response = await client.post(
        "/api/v1/signup", json={"pseudonym": pseudonym, "passphrase": passphrase}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    async with app.state.ctx.db.read() as s:
        assert (await s.exec(select(Member))).all() == []


async def test_impersonating_staff_is_refused(client: httpx.AsyncClient, app) -> None:
    from identity import accounts

    ctx = app.state.ctx
    await accounts.sign_up(ctx.db, ctx.settings, "Rowan", PASSPHRASE, is_admin=True)
    response = await client.post(
        "/api/v1/signup", json={"pseudonym": "R0wan_", "passphrase": PASSPHRASE}
    )
    assert response.json()["error"]["code"] == "impersonation"


async def test_malformed_and_oversized_bodies(client: httpx.AsyncClient) -> None:
    bad = await client.post(
        "/api/v1/signup", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "malformed_json"
    wrong_type = await client.post("/api/v1/signup", json={"pseudonym": 5, "passphrase": "x"})
    assert wrong_type.status_code == 422
    assert wrong_type.json()["error"] == {
        "code": "invalid_field",
        "message": "The field 'pseudonym' must be a string.",
        "field": "pseudonym",
    }
    huge = await client.post("/api/v1/signup", content=b"x" * (1024 * 1024 + 1))
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == "too_large"


async def test_login_same_answer_for_unknown_name_and_wrong_passphrase(
    client: httpx.AsyncClient,
) -> None:
    await join(client, "moss-lantern")
    client.cookies.clear()
    unknown = await client.post(
        "/api/v1/login", json={"pseudonym": "nobody-here", "passphrase": PASSPHRASE}
    )
    wrong = await client.post(
        "/api/v1/login", json={"pseudonym": "moss-lantern", "passphrase": "not the passphrase"}
    )
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    ok = await client.post(
        "/api/v1/login", json={"pseudonym": "MOSS-lantern", "passphrase": PASSPHRASE}
    )
    assert ok.status_code == 200
    assert ok.json() == {"pseudonym": "moss-lantern", "roles": ["member"]}


async def test_login_rotates_the_session(client: httpx.AsyncClient) -> None:
    await join(client, "amber-fern")
    first = client.cookies.get("kindred_session")
    old_csrf = await csrf(client)
    await client.post("/api/v1/login", json={"pseudonym": "amber-fern", "passphrase": PASSPHRASE})
    second = client.cookies.get("kindred_session")
    assert first != second
    # The token of the earlier session cannot be replayed against the new one.
    replay = await client.post("/api/v1/logout", headers={"x-csrf-token": old_csrf})
    assert replay.status_code == 403
    assert replay.json()["error"]["code"] == "csrf_failed"


async def test_login_throttling_per_pseudonym(client: httpx.AsyncClient) -> None:
    await join(client, "slow-otter")
    client.cookies.clear()
    for _ in range(10):
        response = await client.post(
            "/api/v1/login", json={"pseudonym": "slow-otter", "passphrase": "wrong wrong wrong"}
        )
        assert response.status_code == 401
    blocked = await client.post(
        "/api/v1/login", json={"pseudonym": "slow-otter", "passphrase": PASSPHRASE}
    )
    assert blocked.status_code == 429
    error = blocked.json()["error"]
    assert error["code"] == "rate_limited"
    assert "minutes" in error["message"]
    assert int(blocked.headers["retry-after"]) > 0


async def test_logout_clears_site_data(client: httpx.AsyncClient) -> None:
    await join(client, "clear-sky")
    response = await api_post(client, "/api/v1/logout")
    assert response.status_code == 200
    assert response.headers["clear-site-data"] == '"cache", "cookies", "storage"'
    assert (await client.get("/api/v1/session")).status_code == 401


async def test_logout_without_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    await join(client, "held-breath")
    response = await client.post("/api/v1/logout")
    assert response.status_code == 403
    assert (await client.get("/api/v1/session")).status_code == 200


async def test_cross_site_requests_are_refused(client: httpx.AsyncClient) -> None:
    evil = await client.post(
        "/api/v1/signup",
        json={"pseudonym": "sneaky", "passphrase": PASSPHRASE},
        headers={"origin": "https://evil.example"},
    )
    assert evil.status_code == 403
    assert evil.json()["error"]["code"] == "cross_site"
    fetch_meta = await client.post(
        "/api/v1/login",
        json={"pseudonym": "sneaky", "passphrase": PASSPHRASE},
        headers={"sec-fetch-site": "cross-site"},
    )
    assert fetch_meta.status_code == 403
    same = await client.post(
        "/api/v1/signup",
        json={"pseudonym": "sneaky", "passphrase": PASSPHRASE},
        headers={"origin": "http://testserver", "sec-fetch-site": "same-origin"},
    )
    assert same.status_code == 201


async def test_expired_session_is_signed_out(client: httpx.AsyncClient, app) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from core.db import utcnow

    await join(client, "late-owl")
    async with app.state.ctx.db.transaction() as s:
        await s.exec(update(MemberSession).values(last_seen_at=utcnow() - timedelta(days=4)))
    assert (await client.get("/api/v1/session")).status_code == 401
    async with app.state.ctx.db.read() as s:
        assert (await s.exec(select(MemberSession))).all() == []


async def test_nothing_secret_reaches_the_log(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = await join(client, "private-lark")
    await client.post("/api/v1/login", json={"pseudonym": "private-lark", "passphrase": "nope"})
    token = client.cookies.get("kindred_session")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "POST /api/v1/signup 201" in logged
    for secret in (PASSPHRASE, token, body["recovery_codes"][0], "203.0.113.9"):
        assert secret not in logged


async def test_null_origin_is_judged_by_fetch_metadata(client: httpx.AsyncClient) -> None:
    body = {"pseudonym": "null-origin", "passphrase": PASSPHRASE}
    cross = await client.post(
        "/api/v1/signup", json=body, headers={"origin": "null", "sec-fetch-site": "cross-site"}
    )
    assert cross.status_code == 403
    same = await client.post(
        "/api/v1/signup", json=body, headers={"origin": "null", "sec-fetch-site": "same-origin"}
    )
    assert same.status_code == 201
