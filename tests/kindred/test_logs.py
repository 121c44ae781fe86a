"""Logs: JSON lines from a real `kindred serve`, with no addresses, tokens, passphrases or
member text in them."""

from __future__ import annotations

import io
import json
import logging
import secrets
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from websockets.asyncio.client import connect

from core.db import Database
from core.logs import JsonFormatter, RedactingFilter, TextFormatter
from tests.e2e.conftest import start_server, stop_server
from tests.helpers import PASSPHRASE


async def test_json_logs_hold_nothing_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    words = f"my-private-words-{secrets.token_hex(4)}"
    env = {"KINDRED_LOG_FORMAT": "json", "KINDRED_LOG_LEVEL": "debug"}
    server = start_server(data, env)
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            joined = await http.post(
                "/api/v1/signup",
                json={"pseudonym": "quiet-heron", "passphrase": PASSPHRASE, "token": True},
            )
            assert joined.status_code == 201, joined.text
            body = joined.json()
            token = body["token"]
            wrong = {"pseudonym": "quiet-heron", "passphrase": "not my passphrase at all"}
            assert (await http.post("/api/v1/login", json=wrong)).status_code == 401
            bearer = {"authorization": f"Bearer {token}"}
            thread = await http.post(
                "/api/v1/communities/recovery/threads",
                json={"title": f"About {words}", "body": f"Today {words}."},
                headers=bearer,
            )
            assert thread.status_code == 201, thread.text
            await http.get(f"/c/recovery?q={words}", headers={"x-forwarded-for": "198.51.100.7"})
        ws_url = server.url.replace("http://", "ws://") + f"/ws/rooms/recovery?token={token}"
        async with connect(ws_url, open_timeout=10) as ws:
            assert json.loads(await ws.recv())["type"] == "hello"
            await ws.send(json.dumps({"type": "send", "body": f"chat {words}", "client_id": "l1"}))
            while json.loads(await ws.recv())["type"] != "message":
                pass
    finally:
        stop_server(server.process)

    output = [line for line in (data / "server.log").read_text().splitlines() if line.strip()]
    lines = [line for line in output if not line.startswith("demo: ")]  # the CLI's stdout
    entries = [json.loads(line) for line in lines]  # every log line is one JSON object
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    messages = [entry["message"] for entry in entries]
    assert any(m.startswith("POST /api/v1/signup 201") for m in messages)
    assert any("WebSocket /ws/rooms/recovery?[query]" in m for m in messages)
    # The one address left readable is the server's own, on the lines that say where to
    # open it (the client's, 127.0.0.1 as well, is masked everywhere else).
    own = [m for m in messages if server.url in m]
    assert own == [
        f"open Kindred at {server.url} (KINDRED_SITE_URL)",
        f"Uvicorn running on {server.url} (Press CTRL+C to quit)",
    ]
    assert any(m.startswith("[address]:") and "WebSocket" in m for m in messages)
    text = "\n".join(lines).replace(server.url, "[the server's own URL]")
    private = [PASSPHRASE, "not my passphrase", token, *body.get("recovery_codes", []), words]
    for secret in (*private, "127.0.0.1", "198.51.100.7"):
        assert secret not in text, secret


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()])
async def test_a_database_error_in_the_log_quotes_no_parameters(
    tmp_path: Path, formatter: logging.Formatter
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with db.engine.connect() as conn:
            await conn.execute(
                sa.text("INSERT INTO no_such_table VALUES (:body)"),
                {"body": "a member's words from 192.0.2.4"},
            )
    except sa.exc.DBAPIError:
        error = logging.getLogger("kindred.test").makeRecord(
            "kindred.test", logging.ERROR, __file__, 1, "failed", None, _exc_info()
        )
    finally:
        await db.close()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(formatter)
    handler.handle(error)
    assert "no_such_table" in out.getvalue()
    assert "member's words" not in out.getvalue() and "192.0.2.4" not in out.getvalue()


def _exc_info():  # type: ignore[no-untyped-def]
    import sys

    return sys.exc_info()
