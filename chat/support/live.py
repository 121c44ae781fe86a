"""1:1 support, pushed: the waiting page and the supporters' queue hear of a change as it
happens, over server-sent events, instead of asking every few seconds.

A member waiting on a slow or metered link used to send a request every 5 s, and a peer
supporter's queue one every 10 s, each paying a round trip and headers for "nothing yet".
Now each page holds one quiet stream open:

    GET /support/requests/{id}/events   the asker: `status` events ({id, status, url,
                                         timed_out}) until the request is no longer open
    GET /support/queue/events            a supporter: `queue` events ({available, paused,
                                         count, requests: [{id, crisis}]}) when it changes

Whoever changes a request (asking, accepting, withdrawing, the sweeper) calls
`requests.request_changed`, which nudges the request's channel and the queue's on the
broker, so every worker's streams re-read what they show from the database, the source of
truth, and send it if it differs. A nudge lost (the broker away) costs at most RECHECK
seconds: every stream re-reads that often anyway, which also carries the moment a long wait
turns into "here is other help" (`timed_out`) and a supporter's hours ending. Between events
a comment line every RECHECK seconds keeps proxies from closing the stream (the waiting page
gets its status again instead, so it can say when it last heard); EventSource reconnects by
itself if the link drops, and where there is no EventSource the pages ask now and then.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from chat.support import requests, supporters
from chat.support.models import SupportRequest
from chat.support.requests import QUEUE_CHANNEL, request_channel
from core.context import AppContext, get_context
from core.errors import Refusal
from core.i18n import gettext as _
from identity.auth import require_member

RECHECK = 20.0  # seconds between re-reads (and keep-alive comments) on a quiet stream
STREAM_HEADERS = {
    "cache-control": "no-store",
    "x-accel-buffering": "no",  # nginx: pass each event on as it comes (docs/deploy.md)
}


async def status_of(ctx: AppContext, found: SupportRequest) -> dict[str, Any]:
    """Where a request stands, as the waiting page needs it (and the status API answers)."""
    body: dict[str, Any] = {
        "id": found.id,
        "status": found.status,
        "url": await requests.address(ctx.db, found),
    }
    if found.status == "open":
        body["timed_out"] = requests.timed_out(found, ctx.settings)
    return body


async def queue_of(ctx: AppContext, supporter: Any) -> dict[str, Any]:
    """The queue as a supporter's page shows its count: how many wait, which, any pause."""
    found = await supporters.queue(ctx.db, supporter)
    return {
        "available": found.available,
        "paused": found.pause.code if found.pause else None,
        "count": len(found.items),
        "requests": [{"id": i.id, "crisis": i.crisis} for i in found.items],
    }


def asks_for_a_stream(request: Request) -> bool:
    """EventSource always says `Accept: text/event-stream`; anything else (a script, curl, a
    crawler) gets the current state as one event, and the answer ends."""
    return "text/event-stream" in request.headers.get("accept", "")


def event(name: str, data: dict[str, Any]) -> bytes:
    """One server-sent event (a JSON body has no newlines, so it is one `data:` line)."""
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


KEEP_ALIVE = b": still here\n\n"


async def _stream(
    ctx: AppContext,
    channel: str,
    name: str,
    read: Callable[[], Awaitable[dict[str, Any] | None]],
    *,
    repeat: bool = False,
    once: bool = False,
) -> AsyncIterator[bytes]:
    """Send `read()` as event `name` now and whenever it changes (with `repeat`, at every
    re-read too: the page can say when it last heard); stop after a state marked final."""
    subscription = await ctx.broker.subscribe(channel, maxsize=8)
    stopping: asyncio.Event = ctx.extensions.get("stopping") or asyncio.Event()
    stopped = asyncio.ensure_future(stopping.wait())
    try:
        shown: dict[str, Any] | None = None
        while True:
            state = await read()
            if state is None:
                return
            if state != shown or repeat:
                yield event(name, state)
                shown = state
            if state.get("final") or once:
                return
            nudged = asyncio.ensure_future(subscription.get())
            done, _ = await asyncio.wait(
                {nudged, stopped}, timeout=RECHECK, return_when="FIRST_COMPLETED"
            )
            nudged.cancel()
            if stopped in done:
                return  # the server is stopping: EventSource comes back to the next one
            if not done and not repeat:
                yield KEEP_ALIVE
    finally:
        stopped.cancel()
        await ctx.broker.unsubscribe(subscription)


async def request_events(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    request_id: int = request.path_params["id"]
    found = await requests.get_request(ctx.db, request_id)
    if found is None or not requests.is_participant(found, member):
        raise Refusal("not_found", _("There's no request of yours here."), 404)

    async def read() -> dict[str, Any] | None:
        now = await requests.get_request(ctx.db, request_id)
        if now is None:
            return None
        state = await status_of(ctx, now)
        if now.status != "open":
            state["final"] = True  # accepted, withdrawn, expired: the page moves on
        return state

    return StreamingResponse(
        # Repeated at every re-read (~100 bytes each 20 s, where polling cost ~600 each 5 s):
        # "still waiting, checked at 14:21" tells someone waiting that the page is alive.
        _stream(
            ctx,
            request_channel(request_id),
            "status",
            read,
            repeat=True,
            once=not asks_for_a_stream(request),
        ),
        media_type="text/event-stream",
        headers=STREAM_HEADERS,
    )


async def queue_events(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    first = await queue_of(ctx, member)  # refuses anyone who isn't a peer supporter

    async def read() -> dict[str, Any]:
        nonlocal first
        if first is not None:
            state, first = first, None
            return state
        return await queue_of(ctx, member)

    return StreamingResponse(
        _stream(ctx, QUEUE_CHANNEL, "queue", read, once=not asks_for_a_stream(request)),
        media_type="text/event-stream",
        headers=STREAM_HEADERS,
    )


routes = [
    Route("/support/requests/{id:int}/events", request_events, methods=["GET"]),
    Route("/support/queue/events", queue_events, methods=["GET"]),
]
