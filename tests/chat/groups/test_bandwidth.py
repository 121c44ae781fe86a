"""Joining on a slow link: the page carries only the last few messages, the hello carries the
pinned message, the roster and the viewer's own view (so the page makes no state call), a
reconnect resumes without loss, and the whole join as it crosses the wire (the page, its CSS
and JS with nothing cached, and the hello: headers and compressed bodies, as a browser on a
slow link gets them, taking brotli and asking for compressed frames) stays under 25 KB,
issue 18's budget. bench/slow_link.py measures the same in Chromium (docs/performance.md)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import httpx

from chat.groups.models import GroupSession
from chat.models import Room
from core.web.deflate import SUBPROTOCOL, Inflater
from identity.accounts import set_roles
from tests.chat.conftest import LiveServer, next_frame, send
from tests.chat.groups.conftest import schedule
from tests.chat.people import make_community

BUDGET = 25 * 1024
BROWSER = {"accept-encoding": "gzip, deflate, br"}


def on_the_wire(response: httpx.Response) -> int:
    """Status line, headers and the body as sent (compressed), as the browser receives it."""
    head = len(f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n") + 2
    head += sum(len(k) + len(v) + 4 for k, v in response.headers.raw)
    return head + response.num_bytes_downloaded


async def test_joining_downloads_little_and_resumes_without_loss(live: LiveServer) -> None:
    await make_community(live.ctx)
    lead, wren = await live.member("Lantern"), await live.member("Wren")
    await set_roles(live.ctx.db, "Lantern", peer_supporter=True)
    as_lead = httpx.AsyncClient(
        base_url=live.url, headers={"authorization": f"Bearer {lead.token}"}
    )
    as_wren = httpx.AsyncClient(
        base_url=live.url, headers={"authorization": f"Bearer {wren.token}", **BROWSER}
    )
    try:
        made = await schedule(as_lead, after=timedelta(minutes=5))
        session_id = made.json()["sessions"][0]["id"]
        base = f"/api/v1/sessions/{session_id}"
        await as_lead.post(f"{base}/start")
        await as_lead.post(f"{base}/pin", json={"text": "Round one: what helped?"})
        await as_wren.post(f"{base}/join", json={"agree": True})
        await as_lead.post(f"{base}/admit", json={"member": "Wren"})
        async with live.ctx.db.read() as s:
            slug = (await s.get(Room, (await s.get(GroupSession, session_id)).room_id)).slug
        async with live.connect(lead, slug) as ws:
            await next_frame(ws, "hello")
            for n in range(15):  # under the send rate limit
                await send(ws, f"Message number {n} in the session.", f"m{n}")
                await next_frame(ws, "message")

            page = await as_wren.get(f"/sessions/{session_id}")
            html = page.text
            assert html.count('class="chat-message"') == 10  # the last ten of fifteen
            assert "Message number 14 " in html and "Message number 4 " not in html
            total = on_the_wire(page)
            for asset in re.findall(r'(?:href|src)="(/static/[^"]+)"', html):
                total += on_the_wire(await as_wren.get(asset))
            # No state call: the hello carries the viewer's own view (session_parts).
            last = int(re.search(r'data-last-id="(\d+)"', html).group(1))  # type: ignore[union-attr]
            # As a browser on a slow link joins: asking for compressed frames (chat.js).
            async with live.connect(wren, slug, after=last, subprotocols=[SUBPROTOCOL]) as joined:
                data = await joined.recv()
                hello = json.loads(Inflater()(data))
                assert hello["type"] == "hello"
                assert "what helped" in hello["session"]["pinned_html"]
                assert hello["session_parts"] == (await as_wren.get(base)).json()["parts"]
                assert {"pseudonym": "Lantern"}.items() <= next(
                    m for m in hello["members"] if m.get("pseudonym") == "Lantern"
                ).items()
                total += len(data)
            assert total < BUDGET, f"joining costs {total} bytes on the wire"

            # Disconnected mid-session: resuming from the last id seen misses nothing.
            await send(ws, "Said while Wren was away.", "away")
            await next_frame(ws, "message")
            async with live.connect(wren, slug, after=last) as back:
                await next_frame(back, "hello")
                resumed = await next_frame(back, "message")
                assert resumed["client_id"] == "away" and resumed["id"] == last + 1
    finally:
        await as_lead.aclose()
        await as_wren.aclose()
