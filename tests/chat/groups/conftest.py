"""Group session fixtures: a community, members acting through bearer-token clients (no CSRF
dance for JSON calls), peer supporters, and a helper that schedules a session."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from core.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Many members sign up from one address in a test.
    return dataclasses.replace(settings, rate_limits="signup_network=1000/hour")


def slot(after: timedelta, zone: str = "UTC") -> dict[str, str]:
    """Form fields for a start `after` from now, written in UTC."""
    moment = datetime.now(UTC) + after
    return {"date": moment.strftime("%Y-%m-%d"), "time": moment.strftime("%H:%M"), "timezone": zone}


async def schedule(
    client: httpx.AsyncClient, *, after: timedelta = timedelta(days=2), **fields: Any
) -> httpx.Response:
    body = {
        "community": "grief",
        "title": "Evening circle",
        "description": "A gentle hour together.",
        "ground_rules": "1. What's said here stays here.",
        "duration_minutes": 60,
        "capacity": 8,
        **slot(after),
        **fields,
    }
    return await client.post("/api/v1/sessions", json=body)


async def scheduled(client: httpx.AsyncClient, **fields: Any) -> int:
    response = await schedule(client, **fields)
    assert response.status_code == 201, response.text
    return response.json()["sessions"][0]["id"]
