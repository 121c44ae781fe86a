"""Bytes on the wire while a member waits for a peer supporter: polling against the stream.

Starts `kindred serve --demo`, signs a member up, asks for 1:1 support, then measures on raw
sockets, counting every byte sent and received (request line and headers included):

1. polling, as the waiting page did before chat/support/live.py: one GET of the request's
   status every 5 s (`/api/v1/support/requests/{id}`), a fresh request each time;
2. the stream the page holds now (`/support/requests/{id}/events`, as EventSource asks for
   it, brotli offered as Chromium offers it), read for SECONDS.

Both are scaled to an hour of waiting. The ceiling (the least any live waiting page could
cost) is the stream's own opening: one request and one status, with nothing after it.

    .venv/bin/python bench/support_push.py            # ~70 s
"""

from __future__ import annotations

import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kit import KINDRED, api, free_port, kindred_env, running, signup, table

POLL_EVERY = 5.0  # seconds, as static/js/support.js polled
SECONDS = 65.0  # long enough for three of the stream's 20-second re-reads
HOUR = 3600.0
BROWSER = (
    "User-Agent: Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Mobile Safari/537.36\r\nAccept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-GB,en;q=0.9\r\n"
)


def request(port: int, path: str, token: str, accept: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Accept: {accept}\r\n{BROWSER}Connection: close\r\n\r\n"
    ).encode()


def poll_once(port: int, path: str, token: str) -> tuple[int, int]:
    """(bytes sent, bytes received) for one status request, start to finish."""
    sent = request(port, path, token, "application/json")
    received = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(sent)
        while chunk := sock.recv(65536):
            received += len(chunk)
    return len(sent), received


def stream_for(port: int, path: str, token: str, seconds: float) -> tuple[int, int, int]:
    """(bytes sent, bytes received in the first second, bytes received in all) over
    `seconds` of the stream."""
    sent = request(port, path, token, "text/event-stream")
    first = total = 0
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(sent)
        while (elapsed := time.monotonic() - start) < seconds:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                break
            total += len(chunk)
            if elapsed < 1.0:
                first += len(chunk)
    return len(sent), first, total


def main() -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = kindred_env(data, port)
        argv = [KINDRED, "serve", "--host", "127.0.0.1", "--port", str(port), "--demo"]
        with running(argv, port, env):
            token = signup(port, "Waiting-Wren")
            status, asked = api(
                port,
                "POST",
                "/api/v1/support/requests",
                {"community": "grief", "note": "Could someone talk with me tonight?"},
                token,
            )
            if status != 201:
                raise RuntimeError(f"asking for support: {status} {asked}")
            rid = asked["id"]
            poll_sent, poll_received = poll_once(port, f"/api/v1/support/requests/{rid}", token)
            sent, opening, streamed = stream_for(
                port, f"/support/requests/{rid}/events", token, SECONDS
            )
    polls = HOUR / POLL_EVERY
    poll_hour = polls * (poll_sent + poll_received)
    stream_hour = sent + opening + (streamed - opening) * (HOUR - 1.0) / (SECONDS - 1.0)
    ceiling = sent + opening
    rows = [
        ("polling every 5 s", poll_sent + poll_received, poll_hour / 1024, poll_hour / ceiling),
        ("stream (server-sent events)", sent + opening, stream_hour / 1024, stream_hour / ceiling),
        ("ceiling: the stream's opening only", ceiling, ceiling / 1024, 1.0),
    ]
    table(  # prints itself
        ["waiting page", "first answer, bytes", "an hour, KiB", "ratio to ceiling"],
        [(name, first, f"{kib:.1f}", f"{ratio:.0f}") for name, first, kib, ratio in rows],
        title=f"Waiting an hour for a supporter (stream read {SECONDS:.0f} s, scaled)",
    )
    print(f"\npolling costs {poll_hour / stream_hour:.0f}x the stream's bytes")


if __name__ == "__main__":
    main()
