"""Small steps that many tests take: join, sign in, fetch a CSRF token."""

from __future__ import annotations

import re
from typing import Any

import httpx

PASSPHRASE = "correct horse battery staple"


async def join(
    client: httpx.AsyncClient, pseudonym: str, passphrase: str = PASSPHRASE, *, token: bool = False
) -> dict:
    """Sign up; with `token`, ask for a bearer token (in the answer) as an app does."""
    body: dict[str, Any] = {"pseudonym": pseudonym, "passphrase": passphrase}
    if token:
        body["token"] = True
    response = await client.post("/api/v1/signup", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def csrf(client: httpx.AsyncClient) -> str:
    response = await client.get("/api/v1/session")
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]


async def api_post(client: httpx.AsyncClient, path: str, body: Any = None) -> httpx.Response:
    return await client.post(path, json=body or {}, headers={"x-csrf-token": await csrf(client)})


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


async def submit(
    client: httpx.AsyncClient, page: str, action: str, data: dict[str, str]
) -> httpx.Response:
    """Load `page`, take its CSRF token, and post the form to `action` as a browser would."""
    loaded = await client.get(page)
    assert loaded.status_code == 200, loaded.text
    return await client.post(action, data={"csrf_token": form_token(loaded.text), **data})


async def establish(ctx: Any, *pseudonyms: str, days: int = 2) -> None:
    """Make accounts `days` old, so their reports count towards hiding content (an account
    under a day old weighs nothing: moderation/trust.py). Tests can't wait a day."""
    from datetime import timedelta

    from sqlmodel import col, update

    from core.db import utcnow
    from identity.models import Member

    async with ctx.db.transaction() as s:
        await s.exec(
            update(Member)
            .where(col(Member.pseudonym).in_(pseudonyms))
            .values(created_at=utcnow() - timedelta(days=days))
        )
