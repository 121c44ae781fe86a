"""Support fixtures: a community, members signed in with bearer tokens (no CSRF dance for
the JSON calls), peer supporters and a community moderator, on the real app through httpx
or on a live uvicorn for the WebSocket tests."""

from __future__ import annotations

import httpx


async def ask(client: httpx.AsyncClient, note: str, community: str = "grief") -> httpx.Response:
    return await client.post(
        "/api/v1/support/requests", json={"community": community, "note": note}
    )
