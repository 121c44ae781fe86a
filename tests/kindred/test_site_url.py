"""`PORT=8931 make run`, on any host: unless KINDRED_SITE_URL is set, the site URL is where
`kindred serve` listens, so chat, previews and facilitators' controls pass the origin check;
the log prints the real URL to open; a page opened at another address is refused with one
line in the log that says why (and no client's address)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.datastructures import Headers
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from core.logs import UVICORN_RUNNING, RedactingFilter, own_address
from core.settings import Settings, listens_everywhere, server_url
from core.web import csrf as csrf_module
from core.web.csrf import origin_allowed, websocket_origin_allowed
from kindred import cli
from tests.helpers import csrf, join

ROOT = Path(__file__).resolve().parents[2]
KINDRED = str(Path(sys.executable).parent / "kindred")


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serving(data: Path, host: str, port: int) -> Iterator[Path]:
    """`kindred serve --demo` as `make run` starts it, with no KINDRED_SITE_URL; yields the
    log's path (the server is stopped, and the log complete, once the block ends)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KINDRED_")}
    environ["KINDRED_DATA_DIR"] = str(data)
    log = data / "server.log"
    argv = [KINDRED, "serve", "--host", host, "--port", str(port), "--demo"]
    with log.open("wb") as out:
        server = subprocess.Popen(
            argv, env=environ, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, "kindred serve did not start:\n" + log.read_text()
            time.sleep(0.1)
        yield log
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)


async def _preview(http: httpx.AsyncClient, origin: str, token: str = "") -> httpx.Response:
    """The live preview, as a page's script asks for it (kindred.js): a same-origin fetch."""
    return await http.post(
        "/api/v1/preview",
        json={"body": "Hello, *everyone*."},
        headers={"x-csrf-token": token, "origin": origin, "sec-fetch-site": "same-origin"},
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_chat_and_previews_work_on_the_port_served(tmp_path: Path, host: str) -> None:
    port = spare_port()
    site = f"http://{host}:{port}"
    # The same server, opened at the other loopback name: not the site URL.
    elsewhere = f"http://{'localhost' if host == '127.0.0.1' else '127.0.0.1'}:{port}"
    with serving(tmp_path, host, port) as log:
        async with httpx.AsyncClient(base_url=site, timeout=10) as http:
            assert "Ninety days today" in (await http.get("/c/recovery")).text  # the demo
            await join(http, "Quiet-Heron")  # signed in, as in a browser
            preview = await _preview(http, site, await csrf(http))
            assert preview.status_code == 200, preview.text
            assert preview.json()["html"] == "<p>Hello, <em>everyone</em>.</p>\n"
            token = (await join(http, "Still-Wren", token=True))["token"]
        ws = site.replace("http://", "ws://", 1) + f"/ws/rooms/recovery?token={token}"
        async with connect(ws, origin=site, open_timeout=10) as sock:  # type: ignore[arg-type]
            assert json.loads(await sock.recv())["type"] == "hello"

        async with httpx.AsyncClient(base_url=elsewhere, timeout=10) as http:
            refused = await _preview(http, elsewhere)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "cross_site"
        ws = elsewhere.replace("http://", "ws://", 1) + f"/ws/rooms/recovery?token={token}"
        with pytest.raises(InvalidStatus) as denied:
            async with connect(ws, origin=elsewhere, open_timeout=10):  # type: ignore[arg-type]
                pass
        assert denied.value.response.status_code == 403

    text = log.read_text()
    assert f"INFO kindred: open Kindred at {site}\n" in text
    assert f"Uvicorn running on {site} (Press CTRL+C to quit)" in text
    shown = elsewhere.replace("127.0.0.1", "[address]")
    why = (
        f"WARNING kindred.origin: refused a request from this site's own page at {shown}: the "
        f"site URL is {site} (KINDRED_SITE_URL). Open Kindred at the site URL, or set "
        "KINDRED_SITE_URL to the address members use (0 more such refusals since the last "
        "warning)\n"
    )
    assert text.count(why) == 1  # the preview; the chat connection a moment later is counted
    # The server's own URL is readable on the lines that say where to open it; no client's
    # address (127.0.0.1 too) is, anywhere.
    assert re.search(r"\[address\]:\d+ - \"WebSocket /ws/rooms/recovery\?\[query\]", text)
    assert "127.0.0.1" not in text.replace(site, "")


def test_the_site_url_follows_host_and_port_unless_set(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "kindred")
    monkeypatch.setenv("KINDRED_SITE_URL", "")
    followed = cli._site_url_follows(Settings(), "0.0.0.0", 8931)
    assert followed.site_url == os.environ["KINDRED_SITE_URL"] == "http://127.0.0.1:8931"
    assert followed.origins == {"http://127.0.0.1:8931"}
    assert [r.getMessage() for r in caplog.records] == [
        "open Kindred at http://127.0.0.1:8931",
        "listening on every address, but the site URL is http://127.0.0.1:8931: a browser on "
        "another machine is refused chat and previews until KINDRED_SITE_URL is the address "
        "it opens",
    ]
    assert all(r.kindred_own_address == ("http://127.0.0.1:8931",) for r in caplog.records)
    caplog.clear()
    # Set, it wins, whatever the server listens on (behind a proxy, say).
    monkeypatch.setenv("KINDRED_SITE_URL", "https://kindred.example")
    explicit = Settings.from_env()
    assert cli._site_url_follows(explicit, "127.0.0.1", 8931) is explicit
    assert os.environ["KINDRED_SITE_URL"] == "https://kindred.example"
    assert [r.getMessage() for r in caplog.records] == [
        "open Kindred at https://kindred.example (KINDRED_SITE_URL)"
    ]


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8931"),
        ("localhost", "http://localhost:8931"),
        ("kindred.lan", "http://kindred.lan:8931"),
        ("192.168.1.20", "http://192.168.1.20:8931"),
        ("0.0.0.0", "http://127.0.0.1:8931"),
        ("::", "http://[::1]:8931"),
        ("[::]", "http://[::1]:8931"),
        ("::1", "http://[::1]:8931"),
        ("", "http://127.0.0.1:8931"),
    ],
)
def test_the_url_to_open_for_each_host(host: str, url: str) -> None:
    assert server_url(host, 8931) == url
    assert Settings(site_url=url).validated().origin == url
    assert listens_everywhere(host) == (host in ("0.0.0.0", "::", "[::]", ""))


def _filtered(record: logging.LogRecord) -> str:
    RedactingFilter().filter(record)
    return record.getMessage()


def test_only_the_servers_own_address_lines_keep_it() -> None:
    def record(name: str, msg: str, *args: object, **extra: object) -> logging.LogRecord:
        made = logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, None)
        made.__dict__.update(extra)
        return made

    running = "Uvicorn running on %s://%s:%d (Press CTRL+C to quit)"
    assert _filtered(record("uvicorn.error", running, "http", "192.0.2.4", 8931)) == (
        "Uvicorn running on http://192.0.2.4:8931 (Press CTRL+C to quit)"
    )
    # The same words from anywhere else, or any other line of uvicorn's, are masked.
    assert "192.0.2.4" not in _filtered(record("kindred", running, "http", "192.0.2.4", 8931))
    line = '%s - "WebSocket %s" [accepted]'
    assert _filtered(record("uvicorn.error", line, "192.0.2.4:5000", "/ws?token=x")) == (
        '[address]:5000 - "WebSocket /ws?[query]" [accepted]'
    )
    # Ours, marked: the address stays, a query string still goes.
    url = "http://192.0.2.4:8931/?token=x"
    ours = record("kindred", "open Kindred at %s", url, **own_address(url))
    assert _filtered(ours) == "open Kindred at http://192.0.2.4:8931/?[query]"
    # Only the address it names: any other address in the same line is still masked.
    both = record(
        "kindred",
        "refused a page at %s: the site URL is %s",
        "http://198.51.100.7:8931",
        "http://192.0.2.4:8931",
        **own_address("http://192.0.2.4:8931"),
    )
    assert _filtered(both) == (
        "refused a page at http://[address]:8931: the site URL is http://192.0.2.4:8931"
    )


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_uvicorns_running_lines_are_the_ones_the_filter_knows() -> None:
    """Pinned against the uvicorn we run: with several workers, the main process logs the
    line from Config.bind_socket (one worker: Server's, pinned by the real server above)."""
    kept = Kept()
    logger = logging.getLogger("uvicorn.error")
    level = logger.level
    logger.addHandler(kept)
    logger.setLevel(logging.INFO)
    try:
        for host in ("127.0.0.1", "::1"):
            with contextlib.suppress(OSError):  # no IPv6 here: the IPv4 line still counts
                config = uvicorn.Config(app=None, host=host, port=0, log_config=None)  # type: ignore[arg-type]
                config.bind_socket().close()
    finally:
        logger.removeHandler(kept)
        logger.setLevel(level)
    assert kept.records and {r.msg for r in kept.records} <= UVICORN_RUNNING
    assert _filtered(kept.records[0]).startswith("Uvicorn running on http://127.0.0.1:")


def test_a_refusal_is_explained_only_for_this_sites_own_pages(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.WARNING, "kindred.origin")
    settings = Settings(site_url="http://127.0.0.1:8931")
    ours = Headers({"origin": "http://127.0.0.1:8931", "host": "127.0.0.1:8931"})
    assert origin_allowed(ours, settings) and websocket_origin_allowed(ours, settings)
    # Another site's page: refused, and nothing to explain to the operator.
    attack = Headers(
        {"origin": "https://evil.example", "host": "127.0.0.1:8931", "sec-fetch-site": "cross-site"}
    )
    assert not origin_allowed(attack, settings)
    assert not websocket_origin_allowed(attack, settings)
    assert not websocket_origin_allowed(Headers({"origin": "null", "host": "x"}), settings)
    assert caplog.records == []
    # This server, opened at another address: by the Host it asked for, or as the browser
    # says (behind a proxy that rewrites Host). An address in it is masked.
    # At most one warning a minute: the refusals in between are counted into the next.
    monkeypatch.setattr(csrf_module, "_wrong_address", csrf_module._AtMostEvery(60.0))
    for headers in (
        {"origin": "http://localhost:8931", "host": "localhost:8931"},
        {"origin": "http://localhost:8931", "host": "localhost:8931"},
        {"origin": "http://localhost:8931", "host": "localhost:8931"},
        {
            "origin": "http://192.0.2.4:8931",
            "host": "127.0.0.1:8931",
            "sec-fetch-site": "same-origin",
        },
    ):
        if "sec-fetch-site" in headers:
            csrf_module._wrong_address.last -= 60  # a minute later
        assert not websocket_origin_allowed(Headers(headers), settings)
    assert [_filtered(r) for r in caplog.records] == [
        f"refused a request from this site's own page at {shown}: the site URL is "
        "http://127.0.0.1:8931 (KINDRED_SITE_URL). Open Kindred at the site URL, or set "
        f"KINDRED_SITE_URL to the address members use ({quiet} more such refusals since the "
        "last warning)"
        for shown, quiet in (("http://localhost:8931", 0), ("http://[address]:8931", 2))
    ]


def test_make_help_prints_the_real_address() -> None:
    environ = {**os.environ, "HOST": "0.0.0.0", "PORT": "8931"}
    out = subprocess.run(
        ["make", "-s", "help"], cwd=ROOT, env=environ, capture_output=True, text=True
    ).stdout
    assert "serve on http://0.0.0.0:8931\n" in out
    assert "$(" not in out
    assert "make remove-demo" in out
    environ = {k: v for k, v in os.environ.items() if k not in ("HOST", "PORT")}
    out = subprocess.run(
        ["make", "-s", "help"], cwd=ROOT, env=environ, capture_output=True, text=True
    ).stdout
    assert "serve on http://127.0.0.1:8000\n" in out
