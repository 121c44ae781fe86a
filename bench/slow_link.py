"""What a member on a slow link pays, measured in a real Chromium with the network emulated.

Starts `kindred serve --demo` on a fresh data directory, seeds a thread of 50 posts and a live
group session (12 participants, 60 messages, a pinned message), then drives the system
Chromium (Playwright) through Chrome's own network emulation (DevTools protocol,
Network.emulateNetworkConditions) at two profiles:

- "400 kbit/s": 400 kbit/s down and up, 400 ms round trip;
- "2G": 100 kbit/s down and up, 800 ms round trip.

For each visit it prints the bytes that crossed the wire (Chrome's encodedDataLength: headers
and compressed bodies, WebSocket frames included), first contentful paint and, for the
session, the moment the room says it is live (ready to chat). A cold visit is a fresh browser
profile; a warm one the same profile coming back (static files from its cache, the page
revalidated with its ETag). The service worker (offline reading) is blocked here: what it
fetches happens outside the page's own network log, so the figures are the HTTP cache's
(with it, a warm revisit costs the same 304). Each figure is printed beside its budget in issue 18
(docs/performance.md) as a ratio, and beside the floor of the link itself in the same run: the
time the same emulated link takes to fetch a 1-byte file from the same server (its round trips).
Figures, never pass/fail.

    .venv/bin/python bench/slow_link.py
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kit import KINDRED, PASSPHRASE, api, free_port, kindred_env, running, signup, table

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PROFILES = {
    "400 kbit/s": {"kbit": 400, "rtt": 400},
    "2G": {"kbit": 100, "rtt": 800},
}
# issue 18's budgets: (profile, visit) -> (bytes, first content ms, ready ms)
BUDGETS = {
    ("400 kbit/s", "thread, cold"): (12 * 1024, 2500, None),
    ("400 kbit/s", "thread, warm"): (3 * 1024, None, None),
    ("400 kbit/s", "home, cold"): (None, 2500, None),
    ("400 kbit/s", "session, join"): (25 * 1024, None, 4000),
    ("2G", "thread, cold"): (None, 4000, None),
    ("2G", "thread, warm"): (None, 2000, None),
}


@dataclass
class Visit:
    profile: str
    what: str
    bytes: int = 0
    requests: int = 0
    first_content_ms: float | None = None
    ready_ms: float | None = None
    parts: list[tuple[str, int]] = field(default_factory=list)


def ok(status: int, body: dict, what: str) -> dict:
    if status >= 300:
        raise RuntimeError(f"{what}: {status} {body}")
    return body


def seed(port: int) -> tuple[int, int, str]:
    """A 50-post thread and a live session; returns (thread id, session id, lead token)."""
    alice, bob = signup(port, "Alice_Fern"), signup(port, "Bob_River")
    body = (
        "It has been a hard week, and **writing it down** helps a little. Some days are "
        "easier than others; what helped me was a walk, a friend, and sleep when it came."
    )
    made = ok(
        *api(
            port,
            "POST",
            "/api/v1/communities/grief/threads",
            {"title": "Finding the words after a loss", "body": body},
            token=alice,
        ),
        "thread",
    )
    thread_id = (made.get("thread") or made)["id"]
    for i in range(1, 50):
        ok(
            *api(
                port,
                "POST",
                f"/api/v1/threads/{thread_id}/posts",
                {"body": f"Reply {i}. {body}"},
                token=bob if i % 2 else alice,
            ),
            f"reply {i}",
        )
    lead = ok(
        *api(
            port,
            "POST",
            "/api/v1/login",
            {"pseudonym": "Facilitator", "passphrase": PASSPHRASE, "token": True},
        ),
        "login",
    )["token"]
    start = datetime.now(UTC) + timedelta(minutes=5)
    session = ok(
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
    )["sessions"][0]["id"]
    base = f"/api/v1/sessions/{session}"
    ok(*api(port, "POST", f"{base}/start", {}, lead), "start")
    ok(
        *api(port, "POST", f"{base}/pin", {"text": "Round one: what helped this week?"}, lead),
        "pin",
    )
    for n in range(12):
        ok(*api(port, "POST", f"{base}/join", {"agree": True}, signup(port, f"Member{n}")), "join")
    ok(*api(port, "POST", f"{base}/admit-all", {}, lead), "admit")
    page = urllib.request.urlopen(
        urllib.request.Request(
            f"http://127.0.0.1:{port}/sessions/{session}",
            headers={"Authorization": f"Bearer {lead}"},
        )
    ).read()
    slug = re.search(rb'data-room="([^"]+)"', page).group(1).decode()  # type: ignore[union-attr]
    asyncio.run(post_messages(port, slug, lead, 60))
    return thread_id, session, lead


async def post_messages(port: int, slug: str, token: str, count: int) -> None:
    from websockets.asyncio.client import connect

    async with connect(f"ws://127.0.0.1:{port}/ws/rooms/{slug}?token={token}") as ws:
        await ws.recv()  # hello
        for n in range(count):
            text = f"Message {n}: a sentence or two of the sort people write in a session."
            await ws.send(json.dumps({"type": "send", "body": text, "client_id": f"b{n}"}))
        seen = 0
        while seen < count:
            if json.loads(await ws.recv())["type"] == "message":
                seen += 1


class Link:
    """One page on an emulated link, counting what crosses it."""

    def __init__(self, context, profile: str) -> None:  # type: ignore[no-untyped-def]
        self.page = context.new_page()
        self.cdp = context.new_cdp_session(self.page)
        self.cdp.send("Network.enable")
        speed = PROFILES[profile]
        rate = speed["kbit"] * 1000 / 8  # bytes per second
        self.cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": speed["rtt"],
                "downloadThroughput": rate,
                "uploadThroughput": rate,
            },
        )
        self.urls: dict[str, str] = {}
        self.parts: list[tuple[str, int]] = []
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on("Network.webSocketFrameReceived", self._frame)
        self.cdp.on("Network.webSocketFrameSent", self._frame)

    def _sent(self, event: dict) -> None:
        self.urls[event["requestId"]] = event["request"]["url"]

    def _finished(self, event: dict) -> None:
        url = self.urls.get(event["requestId"], "?")
        self.parts.append(
            (url.split("://", 1)[-1].split("/", 1)[-1], int(event["encodedDataLength"]))
        )

    def _frame(self, event: dict) -> None:
        payload = event["response"]["payloadData"]
        self.parts.append(("(websocket frame)", len(payload.encode()) + 2))

    def visit(self, profile: str, what: str, url: str, ready: str | None = None) -> Visit:
        self.parts.clear()
        self.page.goto(url, wait_until="load", timeout=120_000)
        fcp = self.page.evaluate(  # buffered: the paint may come before or after "load"
            """() => new Promise(done => {
                new PerformanceObserver(list => {
                    const e = list.getEntriesByName('first-contentful-paint')[0];
                    if (e) done(e.startTime);
                }).observe({type: 'paint', buffered: true});
                setTimeout(() => done(null), 20000);
            })"""
        )
        ready_ms = None
        if ready:
            self.page.wait_for_selector(ready, timeout=120_000)
            ready_ms = self.page.evaluate("() => performance.now()")
        self.page.wait_for_timeout(1500)  # late requests: the state call, the first frames
        return Visit(
            profile,
            what,
            bytes=sum(n for _, n in self.parts),
            requests=len(self.parts),
            first_content_ms=fcp,
            ready_ms=ready_ms,
            parts=list(self.parts),
        )

    def floor_ms(self, url: str) -> float:
        """The link's own cost: one tiny same-server fetch on a fresh connection, in ms."""
        started = time.perf_counter()
        self.page.evaluate("u => fetch(u, {cache: 'no-store'}).then(r => r.text())", url)
        return (time.perf_counter() - started) * 1000


def sign_up_in(context, url: str, name: str) -> None:  # type: ignore[no-untyped-def]
    answer = context.request.post(
        f"{url}/api/v1/signup", data={"pseudonym": name, "passphrase": PASSPHRASE}
    )
    if answer.status != 201:
        raise RuntimeError(f"sign-up: {answer.status} {answer.text()}")


def join_session(context, url: str, session: int) -> None:  # type: ignore[no-untyped-def]
    token = context.request.get(f"{url}/api/v1/session").json()["csrf_token"]
    answer = context.request.post(
        f"{url}/api/v1/sessions/{session}/join",
        data={"agree": True},
        headers={"x-csrf-token": token},
    )
    if answer.status >= 300:
        raise RuntimeError(f"join: {answer.status} {answer.text()}")


def run(port: int, thread: int, session: int, lead: str) -> list[Visit]:
    from playwright.sync_api import sync_playwright

    url = f"http://127.0.0.1:{port}"
    visits: list[Visit] = []
    floors: dict[str, float] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            for n, profile in enumerate(PROFILES):
                # a visitor: the home page, cold
                visitor = browser.new_context(locale="en-GB", service_workers="block")
                link = Link(visitor, profile)
                visits.append(link.visit(profile, "home, cold", url + "/"))
                floors[profile] = link.floor_ms(url + "/healthz")
                visitor.close()
                # a member: a 50-post thread, cold then warm
                member = browser.new_context(locale="en-GB", service_workers="block")
                sign_up_in(member, url, f"Reader{n}")
                link = Link(member, profile)
                visits.append(link.visit(profile, "thread, cold", f"{url}/t/{thread}"))
                visits.append(
                    Link(member, profile).visit(profile, "thread, warm", f"{url}/t/{thread}")
                )
                member.close()
                # a member joining the live session, cold
                joiner = browser.new_context(locale="en-GB", service_workers="block")
                sign_up_in(joiner, url, f"Joiner{n}")
                join_session(joiner, url, session)
                ok(*api(port, "POST", f"/api/v1/sessions/{session}/admit-all", {}, lead), "admit")
                visits.append(
                    Link(joiner, profile).visit(
                        profile,
                        "session, join",
                        f"{url}/sessions/{session}",
                        "[data-connection='live']",
                    )
                )
                joiner.close()
        finally:
            browser.close()
    print_visits(visits, floors)
    return visits


def ratio(value: float | None, budget: float | None) -> str:
    if value is None or budget is None:
        return ""
    return f"{value / budget:.2f}"


def print_visits(visits: list[Visit], floors: dict[str, float]) -> None:
    rows = []
    for v in visits:
        byte_budget, fcp_budget, ready_budget = BUDGETS.get((v.profile, v.what), (None, None, None))
        rows.append(
            (
                v.profile,
                v.what,
                v.requests,
                f"{v.bytes / 1024:.1f}",
                ratio(v.bytes, byte_budget),
                f"{v.first_content_ms:.0f}" if v.first_content_ms is not None else "",
                ratio(v.first_content_ms, fcp_budget),
                f"{v.ready_ms:.0f}" if v.ready_ms is not None else "",
                ratio(v.ready_ms, ready_budget),
                f"{floors.get(v.profile, 0):.0f}",
            )
        )
    table(
        [
            "link",
            "visit",
            "transfers",
            "KiB on the wire",
            "÷ budget",
            "first content ms",
            "÷ budget",
            "ready ms",
            "÷ budget",
            "link floor ms",
        ],
        rows,
        title="Slow links in Chromium (ratios ≤ 1.00 meet issue 18's budgets)",
    )
    for v in visits:
        if v.what in ("thread, cold", "session, join") and v.profile == "400 kbit/s":
            print(f"\n{v.what} ({v.profile}), what crossed the wire:")
            for name, size in v.parts:
                if size:
                    print(f"  {size:>7,}  {name[:90]}")


def main() -> None:
    data = tempfile.mkdtemp(prefix="kindred-slow-link-")
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
        thread, session, lead = seed(port)
        run(port, thread, session, lead)


if __name__ == "__main__":
    main()
