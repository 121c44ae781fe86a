"""Bytes a member downloads to join a live group session, on a cold cache.

Starts `kindred serve --demo` on a fresh data directory, sets up a live session with a
pinned message, 12 participants and 60 messages, then lets one more member join exactly as
a browser does: the session page's HTML, every stylesheet and script it links (nothing
cached), the state call static/js/sessions.js makes on load, and the WebSocket's hello plus
whatever else arrives in the first two seconds. Prints each part and the total; the target
(docs/performance.md) is under 60 KB. Figures, never pass/fail.

    .venv/bin/python bench/session_join.py
"""

from __future__ import annotations

import asyncio
import gzip
import http.client
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kit import KINDRED, PASSPHRASE, api, free_port, kindred_env, running, signup, table

MESSAGES = 60
PARTICIPANTS = 12
TARGET = 60 * 1024


def get(port: int, path: str, token: str) -> tuple[bytes, int]:
    """One GET as a browser with nothing cached: (body, size of the status line + headers)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    body = response.read()
    head = len(f"HTTP/1.1 {response.status} {response.reason}\r\n") + sum(
        len(k) + len(v) + 4 for k, v in response.getheaders()
    )
    conn.close()
    return body, head + 2


async def first_frames(port: int, slug: str, token: str, after: int) -> list[str]:
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{port}/ws/rooms/{slug}?token={token}&after={after}"
    frames: list[str] = []
    async with connect(url, origin=None) as ws:  # type: ignore[arg-type]
        try:
            async with asyncio.timeout(2):
                while True:
                    frames.append(await ws.recv())  # type: ignore[arg-type]
        except TimeoutError:
            pass
    return frames


async def post_messages(port: int, slug: str, token: str, count: int) -> None:
    import json

    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{port}/ws/rooms/{slug}?token={token}"
    async with connect(url) as ws:
        await ws.recv()  # hello
        for n in range(count):
            body = f"Message {n}: a sentence or two of the sort people write in a session."
            await ws.send(json.dumps({"type": "send", "body": body, "client_id": f"b{n}"}))
        seen = 0
        while seen < count:
            if json.loads(await ws.recv())["type"] == "message":
                seen += 1


def ok(status: int, body: dict, what: str) -> dict:
    if status >= 300:
        raise RuntimeError(f"{what}: {status} {body}")
    return body


def main() -> None:
    data = tempfile.mkdtemp(prefix="kindred-session-join-")
    port = free_port()
    env = kindred_env(data, port)
    subprocess.run(
        [KINDRED, "create-admin", "Facilitator", "--passphrase-stdin"],
        input=PASSPHRASE + "\n",
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    argv = [KINDRED, "serve", "--host", "127.0.0.1", "--port", str(port), "--demo"]
    with running(argv, port, env, "/healthz"):
        lead = ok(
            *api(
                port,
                "POST",
                "/api/v1/login",
                {
                    "pseudonym": "Facilitator",
                    "passphrase": PASSPHRASE,
                    "token": True,
                },
            ),
            "login",
        )["token"]
        start = datetime.now(UTC) + timedelta(minutes=5)
        made = ok(
            *api(
                port,
                "POST",
                "/api/v1/sessions",
                {
                    "community": "grief",
                    "title": "Evening circle",
                    "ground_rules": "Be kind.",
                    "description": "A gentle hour together.",
                    "duration_minutes": 60,
                    "capacity": 30,
                    "date": start.strftime("%Y-%m-%d"),
                    "time": start.strftime("%H:%M"),
                    "timezone": "UTC",
                },
                lead,
            ),
            "schedule",
        )
        session_id = made["sessions"][0]["id"]
        base = f"/api/v1/sessions/{session_id}"
        ok(*api(port, "POST", f"{base}/start", {}, lead), "start")
        ok(
            *api(port, "POST", f"{base}/pin", {"text": "Round one: what helped this week?"}, lead),
            "pin",
        )
        for n in range(PARTICIPANTS):
            token = signup(port, f"Member{n}")
            ok(*api(port, "POST", f"{base}/join", {"agree": True}, token), "join")
        joiner = signup(port, "Joiner")
        ok(*api(port, "POST", f"{base}/join", {"agree": True}, joiner), "join")
        ok(*api(port, "POST", f"{base}/admit-all", {}, lead), "admit")
        page, _ = get(port, f"/sessions/{session_id}", lead)
        slug = re.search(rb'data-room="([^"]+)"', page).group(1).decode()  # type: ignore[union-attr]
        asyncio.run(post_messages(port, slug, lead, MESSAGES))

        rows = []
        html, head = get(port, f"/sessions/{session_id}", joiner)
        rows.append(("session page (HTML)", len(html), head, len(gzip.compress(html))))
        for asset in re.findall(rb'(?:href|src)="(/static/[^"]+)"', html):
            body, head = get(port, asset.decode(), joiner)
            rows.append((asset.decode().split("?")[0], len(body), head, len(gzip.compress(body))))
        state, head = get(port, base, joiner)
        rows.append(("state call (sessions.js)", len(state), head, len(gzip.compress(state))))
        last = int(re.search(rb'data-last-id="(\d+)"', html).group(1))  # type: ignore[union-attr]
        frames = asyncio.run(first_frames(port, slug, joiner, last))
        for frame in frames:
            kind = re.search(r'"type":\s*"(\w+)"', frame).group(1)  # type: ignore[union-attr]
            raw = frame.encode()
            rows.append(
                (
                    f"frame: {kind}",
                    len(raw),
                    2 + (2 if len(raw) > 125 else 0),
                    len(gzip.compress(raw)),
                )
            )
        shown = html.count(b'class="chat-message"')
    total = sum(r[1] + r[2] for r in rows)
    table(  # prints itself
        ["part", "body bytes", "header bytes", "gzip body (for reference)"],
        [
            *rows,
            (
                "total",
                sum(r[1] for r in rows),
                sum(r[2] for r in rows),
                sum(r[3] for r in rows),
            ),
        ],
        title=f"Joining a live session: {PARTICIPANTS + 1} participants, {MESSAGES} messages "
        f"stored, {shown} on the page",
    )
    print(
        f"\ntotal downloaded (bodies + headers, uncompressed): {total:,} bytes "
        f"({total / 1024:.1f} KiB; target under {TARGET // 1024} KiB)"
    )


if __name__ == "__main__":
    main()
