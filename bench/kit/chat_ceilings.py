"""The chat fan-out ceilings: the same load as Kindred on minimal servers with none of its work.

    python bench/kit/chat_ceilings.py websockets|starlette PORT on|off

- websockets: an asyncio server on the `websockets` library; each `send` becomes a message
  frame encoded once and `broadcast()` to the room;
- starlette: the same under uvicorn with `ws="websockets-sansio"` (Kindred's settings), with a
  bounded queue and a writer task per connection as Kindred's hub has.

on|off is permessage-deflate, offered to clients that ask for it (as `KINDRED_WS_DEFLATE`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys


def serve_websockets(port: int, deflate: bool) -> None:
    """The ceiling: broadcast each received message to its room with websockets.broadcast."""
    import html

    from websockets.asyncio.server import broadcast, serve

    rooms: dict[str, set] = {}
    seq = 0

    async def handler(ws) -> None:
        nonlocal seq
        slug = ws.request.path.split("?")[0].rsplit("/", 1)[-1]
        room = rooms.setdefault(slug, set())
        room.add(ws)
        try:
            async for raw in ws:
                msg = json.loads(raw)
                if msg.get("type") != "send":
                    continue
                seq += 1
                frame = {
                    "type": "message",
                    "id": seq,
                    "room": slug,
                    "html": f"<p>{html.escape(msg['body'])}</p>",
                    "client_id": msg.get("client_id"),
                }
                broadcast(room, json.dumps(frame, separators=(",", ":")))
        finally:
            room.discard(ws)

    async def main() -> None:
        compression = "deflate" if deflate else None
        async with serve(
            handler, "127.0.0.1", port, compression=compression, max_size=16384
        ) as server:
            await server.serve_forever()

    asyncio.run(main())


def serve_starlette(port: int, deflate: bool) -> None:
    """A bare Starlette WebSocket broadcast under uvicorn: a bounded queue and a writer task
    per connection (the shape kindred's hub has), no database, no middleware."""
    import html

    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocketDisconnect

    rooms: dict[str, set[asyncio.Queue]] = {}
    seq = 0

    async def room_socket(ws) -> None:
        nonlocal seq
        await ws.accept()
        slug = ws.path_params["slug"]
        queue: asyncio.Queue[str] = asyncio.Queue(256)
        room = rooms.setdefault(slug, set())
        room.add(queue)

        async def writer() -> None:
            while True:
                await ws.send_text(await queue.get())

        task = asyncio.create_task(writer())
        try:
            while True:
                msg = json.loads(await ws.receive_text())
                if msg.get("type") != "send":
                    continue
                seq += 1
                frame = json.dumps(
                    {
                        "type": "message",
                        "id": seq,
                        "room": slug,
                        "html": f"<p>{html.escape(msg['body'])}</p>",
                        "client_id": msg.get("client_id"),
                    },
                    separators=(",", ":"),
                )
                for q in tuple(room):
                    with contextlib.suppress(asyncio.QueueFull):
                        q.put_nowait(frame)
        except WebSocketDisconnect:
            pass
        finally:
            room.discard(queue)
            task.cancel()

    async def ok(request):
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", ok), WebSocketRoute("/ws/rooms/{slug}", room_socket)])
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        ws="websockets-sansio",
        ws_max_size=16384,
        ws_per_message_deflate=deflate,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    kind, port, deflate = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "on"
    (serve_websockets if kind == "websockets" else serve_starlette)(port, deflate)
