"""KINDRED_WS_DEFLATE: `kindred serve` accepts permessage-deflate only when it is on."""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

KINDRED = str(Path(sys.executable).parent / "kindred")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(data_dir: Path, port: int, **env: str) -> Iterator[None]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KINDRED_")}
    environ.update(KINDRED_DATA_DIR=str(data_dir), KINDRED_SITE_URL=f"http://127.0.0.1:{port}")
    environ.update(env)
    argv = [KINDRED, "serve", "--demo", "--port", str(port)]
    server = subprocess.Popen(argv, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            with contextlib.suppress(httpx.TransportError):
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            assert time.monotonic() < deadline, "kindred serve did not start"
            time.sleep(0.1)
        yield
    finally:
        server.terminate()
        server.wait(20)


@pytest.mark.parametrize("setting", ["on", "off"])
async def test_serve_negotiates_deflate_only_when_on(tmp_path: Path, setting: str) -> None:
    port = free_port()
    with serving(tmp_path, port, KINDRED_WS_DEFLATE=setting):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            signup = await http.post(
                "/api/v1/signup",
                json={
                    "pseudonym": "Quiet-Heron",
                    "passphrase": "a long enough passphrase",
                    "token": True,
                },
                headers={"Accept": "application/json"},
            )
        assert signup.status_code == 201, signup.text
        with contextlib.closing(sqlite3.connect(tmp_path / "kindred.db")) as db:
            (slug,) = db.execute("SELECT slug FROM chat_room ORDER BY id LIMIT 1").fetchone()
        uri = f"ws://127.0.0.1:{port}/ws/rooms/{slug}?token={signup.json()['token']}"
        async with connect(uri, compression="deflate", proxy=None) as ws:  # as browsers ask
            names = [ext.name for ext in ws.protocol.extensions]
    assert names == (["permessage-deflate"] if setting == "on" else [])


def test_a_wrong_value_is_one_line(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KINDRED_")}
    environ.update(KINDRED_DATA_DIR=str(tmp_path), KINDRED_WS_DEFLATE="yes please")
    result = subprocess.run([KINDRED, "check"], env=environ, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr == "kindred: KINDRED_WS_DEFLATE must be on or off\n"
