"""GET /ws/rooms/{slug}: the chat WebSocket (the frames are documented in docs/protocol.md).

Thin on purpose: check who is asking before the upgrade, then turn frames into calls to
chat's services (chat/rooms.py, chat/sending.py, chat/history.py) and answers into frames.
Every frame gets an answer or a documented close code; nothing a client sends can end the
handler with an exception.

After the upgrade one task writes (the listener's queue, which the hub and this handler both
fill) and one reads; a queue that fills up means the client is not keeping up, and it is
closed with 1013 so that it resumes with ?after= instead of slowing the room.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from chat import history, rooms, sending
from chat.badges import badge_in
from chat.frames import refusal_frames
from chat.gates import CLOSE_GONE, Admission, gate_for, mutes_apply
from chat.hub import SIGNED_OUT
from chat.listener import Listener
from chat.models import Room
from chat.runtime import ChatRuntime, chat_runtime, region_of
from core.context import get_context
from core.db import refuses_writes
from core.errors import Refusal
from core.i18n import gettext as _
from core.i18n import number
from core.web import deflate
from core.web.csrf import websocket_origin_allowed
from core.web.errors import refusal_json
from core.web.frames import frame_sender, immediate_sender
from core.web.outage import is_database_outage
from core.web.params import MAX_ID, BadParameter, json_int, loose_int
from identity.auth import current_member, current_session
from identity.models import Member
from identity.sessions import touch_session

log = logging.getLogger("kindred.chat.ws")

BACKLOG_CHUNK = 500  # ids read from the database at a time when a client resumes

CLOSE_POLICY = 1008  # flooding
CLOSE_TOO_BIG = 1009
CLOSE_SERVER_ERROR = 1011  # we could not join the room: reconnect later
CLOSE_TRY_AGAIN = 1013  # fell behind: reconnect with ?after=<last id>

UNAVAILABLE_RETRY = 10  # seconds: the reference client resends its outbox after this


async def room_socket(websocket: WebSocket) -> None:
    ctx = get_context(websocket)
    runtime = chat_runtime(websocket)
    if not websocket_origin_allowed(websocket.headers, ctx.settings):
        return await _deny(
            websocket, Refusal("cross_site", _("Connections from other sites are refused."), 403)
        )
    member = current_member(websocket)
    if member is None or not rooms.can_chat(member):
        return await _deny(websocket, Refusal("forbidden", _("Sign in to take part in chat."), 403))
    try:
        room = await rooms.room_by_slug(ctx.db, websocket.path_params["slug"], member)
        gate = gate_for(ctx, room)  # a session's room or a support conversation
        admission = Admission() if gate is None else await gate.admit(ctx.db, room, member)
    except Refusal as exc:
        return await _deny(websocket, exc)
    async with ctx.db.read() as s:  # once per connection: sending asks nothing for it
        badge = await badge_in(s, member, room.community_id)
    params = websocket.query_params
    hidden = await history.hidden_authors(ctx.db, member)
    anonymous = params.get("presence") in ("hidden", "anonymous")
    after = loose_int(params.get("after"), high=MAX_ID)
    sign_in = current_session(websocket)
    listener = runtime.hub.listener(
        member.id,  # type: ignore[arg-type]
        None if anonymous else member.pseudonym,
        hidden,
        receives=not admission.lobby,
        sign_in=sign_in.token_hash if sign_in else None,  # signing out closes it (chat/hub.py)
        community_id=room.community_id,
        mutes_apply=mutes_apply(gate),
    )
    listener.seen_up_to = after or 0
    # A client on a slow link may ask for compressed frames (core/web/deflate.py).
    compressed = deflate.chosen(
        websocket.scope.get("subprotocols", ()), websocket.headers, ctx.settings.ws_deflate
    )
    await websocket.accept(subprotocol=deflate.SUBPROTOCOL if compressed else None)
    try:
        last_seq, members = await runtime.hub.join(room.id, listener)  # type: ignore[arg-type]
    except Exception:  # the broker or database is unreachable: let the client retry
        log.exception("chat: cannot join room %s", room.slug)
        await websocket.close(CLOSE_SERVER_ERROR)
        return
    try:
        session = RoomSession(websocket, runtime, room, member, listener, admission, badge)
        if compressed:
            session.encode = deflate.Deflater()
        await session.run(after, last_seq, members, anonymous)
    finally:
        await runtime.hub.leave(room.id, listener)  # type: ignore[arg-type]


async def _deny(websocket: WebSocket, refusal: Refusal) -> None:
    """Refuse before the upgrade: an HTTP answer (JSON, as the API's), never an open socket."""
    try:
        await websocket.send_denial_response(refusal_json(refusal))
    except RuntimeError:  # the server cannot send a response: a plain 403 it is
        await websocket.close()


def _dump(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


class RoomSession:
    def __init__(
        self,
        websocket: WebSocket,
        runtime: ChatRuntime,
        room: Room,
        member: Member,
        listener: Listener,
        admission: Admission | None = None,
        badge: str | None = None,
    ) -> None:
        self.admission = admission or Admission()
        self.badge = badge  # the member's staff badge in this room (chat/badges.py)
        self.websocket = websocket
        self.ctx = get_context(websocket)
        self.runtime = runtime
        self.room = room
        self.member = member
        self.listener = listener
        self.region = region_of(websocket)
        self.close_code: int | None = None
        self.window_start = time.monotonic()
        self.window_frames = 0
        self.handlers = {"send": self.on_send, "history": self.on_history, "ping": self.on_ping}
        # When this connection last marked its sign-in as used (the upgrade's request just
        # did), and the writes doing so that are still running.
        self.active_at = time.monotonic()
        self.touches: set[asyncio.Task[None]] = set()
        # Set when the client asked for compressed frames: every frame out goes through it.
        self.encode: Callable[[str], bytes] | None = None
        self.send = frame_sender(websocket)  # made again in run(), with `encode`

    async def run(
        self, after: int | None, last_seq: int, members: list[dict[str, Any]], anonymous: bool
    ) -> None:
        you = {"pseudonym": self.member.pseudonym, "presence": "hidden" if anonymous else "shown"}
        hello = {
            "type": "hello",
            "room": rooms.room_summary(self.room),
            "you": you,
            "members": members,
            "last_id": last_seq,
            "limits": self.limits(),
            **self.admission.hello,
        }
        if self.admission.lobby:  # waiting to be let in: no members, no messages yet
            hello.update(lobby=True, members=[])
        # Every frame out by one sender: past the middleware (core/web/frames.py), and
        # through the compressor when the client asked for one.
        self.send = frame_sender(self.websocket, self.encode)
        await self.send(_dump(hello))
        if after is not None and not self.admission.lobby:
            await self._send_backlog(after, last_seq)
        tasks = [
            asyncio.create_task(self._write()),
            asyncio.create_task(self._read()),
            asyncio.create_task(self.listener.closing.wait()),
        ]
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # a closed socket is no error
        if self.touches:  # a write that marks the sign-in as used finishes, briefly
            await asyncio.wait(self.touches, timeout=5)
        reason = ""
        if tasks[2] in done:  # fell behind (1013), a gate's state change, a restart (1012)
            await self._flush_queue()
            self.close_code, reason = self.listener.close_code, self.listener.close_reason
        elif self.close_code is not None:  # the reader's close (1009, 1008): after its answer
            await self._flush_queue()
        if self.close_code is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.websocket.close(self.close_code, reason), timeout=10)

    async def _send_backlog(self, after: int, upto: int) -> None:
        """Everything after `after` up to where the hub's delivery starts, in order."""
        cursor = after
        while cursor < upto:
            end = min(cursor + BACKLOG_CHUNK, upto)
            for frame in await history.messages_after(
                self.ctx.db, self.room, cursor, end, self.listener.hidden
            ):
                await self.send(_dump(frame))
            cursor = end

    async def _flush_queue(self) -> None:
        """Send what is already queued (the frame saying why the socket closes, say)."""
        if self.listener.close_code == CLOSE_TRY_AGAIN:
            return  # it fell behind: sending more is what it could not keep up with
        with contextlib.suppress(Exception):
            while not self.listener.queue.empty():
                await asyncio.wait_for(self.send(self.listener.queue.get_nowait()), timeout=5)

    async def _write(self) -> None:
        send, listener, queue = self.send, self.listener, self.listener.queue
        # From here on frames are in order on the wire, so the hub may write straight to an
        # idle connection instead of queueing for this task.
        listener.send_now = immediate_sender(self.websocket, self.encode)
        try:
            while True:
                frame = await queue.get()
                listener.writing = True
                await send(frame)
                listener.writing = False
        finally:
            listener.send_now = None  # closing: whatever comes now waits in the queue

    def limits(self) -> dict[str, int]:
        """What this server accepts, as `hello` and a `too_long` answer tell clients."""
        return {
            "max_chars": self.runtime.max_chars,
            "max_frame_bytes": self.runtime.max_frame_bytes,
        }

    def reply(self, frame: dict[str, Any]) -> None:
        self.listener.offer(_dump(frame))

    def refuse(self, refusal: Refusal, client_id: Any = None) -> None:
        for frame in refusal_frames(refusal, client_id):
            self.reply(frame)

    def error(
        self, code: str, message: str, client_id: Any = None, retry_after: int | None = None
    ) -> None:
        self.refuse(Refusal(code, message, retry_after=retry_after), client_id)

    # ------------------------------------------------------------------- reading frames

    async def _read(self) -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while self.close_code is None:
                message = await self.websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                await self._frame(message.get("text"), message.get("bytes"))

    async def _frame(self, text: str | None, data: bytes | None) -> None:
        size = len(text.encode()) if text is not None else len(data or b"")
        if size > self.runtime.max_frame_bytes:
            return self._too_big(text)
        if text is None:
            return self.error("bad_frame", _("Send JSON text frames, not binary ones."))
        try:
            frame = json.loads(text)
        except ValueError:
            return self.error("bad_json", _("That frame was not valid JSON."))
        if not isinstance(frame, dict):
            return self.error("bad_frame", _('A frame must be a JSON object with a "type".'))
        client_id = frame.get("client_id")
        if self._flooding():
            return self.error(
                "rate_limited",
                _("Too many frames at once. Wait a few seconds; nothing you sent was published."),
                client_id,
                retry_after=int(self.runtime.flood_window),
            )
        kind = frame.get("type")  # any JSON value: a list or an object is no key
        handler = self.handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            return self.error(
                "unknown_type",
                _("Unknown frame type %(type)s.") % {"type": repr(str(frame.get("type"))[:40])},
                client_id,
            )
        if kind != "ping":  # the client's own keep-alive is not the member using Kindred
            self._active()
        try:
            await handler(frame)
        except Refusal as exc:  # a service's, or this handler's own
            self.refuse(exc, client_id)
        except BadParameter as exc:  # a number out of range (core/web/params.py)
            self.error("invalid", exc.message, client_id)
        except Exception as exc:
            if refuses_writes(exc) or is_database_outage(exc):
                return self._unavailable(str(frame.get("type")), exc, client_id)
            log.exception("chat frame %s failed", frame.get("type"))
            self.error(
                "server_error",
                _("Something went wrong on our side and this was not done. Please try again."),
                client_id,
            )

    def _too_big(self, text: str | None) -> None:
        """A frame over the limit: an `error` frame `too_long` saying the limits and echoing
        its client_id, so the client gives the text back to its author, then the documented
        close (1009). Frames past what the transport takes at all (TRANSPORT_MAX_BYTES in
        chat/runtime.py) are closed by uvicorn with 1009 before they get here."""
        client_id = None
        with contextlib.suppress(ValueError):
            frame = json.loads(text) if text is not None else None
            if isinstance(frame, dict) and isinstance(frame.get("client_id"), str):
                client_id = frame["client_id"][:64]
        refusal = Refusal(
            "too_long",
            _(
                "That message is too long to send: messages can be up to %(limit)s characters. "
                "Nothing was sent. Please shorten it and send it again."
            )
            % {"limit": number(self.runtime.max_chars)},
            details={"limits": self.limits()},
        )
        self.refuse(refusal, client_id)
        self.close_code = CLOSE_TOO_BIG

    def _unavailable(self, kind: str, exc: Exception, client_id: Any) -> None:
        """The database is unreachable, or can't store anything (a full disk, read-only):
        nothing was published, and the member keeps the text for a resend."""
        refused = refuses_writes(exc)  # the operator must act: free space, make it writable
        # The exception's type only: driver messages name hosts.
        log.log(
            logging.ERROR if refused else logging.WARNING,
            "chat frame %s not done: the database %s (%s)",
            kind[:20],
            "refused the write (disk full or read-only)" if refused else "is unreachable",
            type(exc).__name__,
        )
        self.error(
            "unavailable",
            _(
                "We couldn't save this just now, so it wasn't sent. Your text is kept: "
                "try again in a few seconds."
            ),
            client_id,
            retry_after=UNAVAILABLE_RETRY,
        )

    def _active(self) -> None:
        """What the member sends keeps their sign-in alive, as a page they load does (chatting
        for an hour is not being idle): at most once per `activity_every` per connection, in
        a task of its own, so a message never waits for it."""
        now = time.monotonic()
        sign_in = self.listener.sign_in
        if sign_in is None or now - self.active_at < self.runtime.activity_every:
            return
        self.active_at = now
        task = asyncio.create_task(self._touch(sign_in))
        self.touches.add(task)
        task.add_done_callback(self.touches.discard)

    async def _touch(self, sign_in: str) -> None:
        try:
            alive = await touch_session(self.ctx.db, self.ctx.settings, sign_in)
        except Exception as exc:  # not marked this time (the database is away or full)
            log.warning("chat: a session's activity was not recorded (%s)", type(exc).__name__)
            return
        if not alive:  # it ended, or went idle, since the connection opened: as the hub's check
            self.listener.offer(SIGNED_OUT)
            self.listener.close(CLOSE_GONE)

    def _flooding(self) -> bool:
        if not self.ctx.rate_limits.enabled:  # KINDRED_RATE_LIMITS=off: load tests
            return False
        now = time.monotonic()
        if now - self.window_start > self.runtime.flood_window:
            self.window_start, self.window_frames = now, 0
        self.window_frames += 1
        if self.window_frames > self.runtime.flood_close:
            self.close_code = CLOSE_POLICY
        return self.window_frames > self.runtime.flood_frames

    # ------------------------------------------------------------------- frame types

    async def on_send(self, frame: dict[str, Any]) -> None:
        if self.admission.lobby:
            raise Refusal(
                "in_lobby",
                _(
                    "You're in the lobby: you can post once a facilitator lets you in. "
                    "Your text is kept."
                ),
            )
        body, client_id = frame.get("body"), frame.get("client_id")
        if client_id is not None and not isinstance(client_id, str):
            raise Refusal("invalid", _("client_id must be a string (a UUID)."))
        if not isinstance(body, str) or not body.strip():
            raise Refusal("invalid", _("Write a message before sending it."))
        # Shielded: once a send has started, its commit and fan-out finish even if the
        # connection drops meanwhile.
        # A refusal (held, too long, muted, …) goes back as frames from _frame.
        sent = await asyncio.shield(
            sending.send_message(
                self.ctx,
                self.member,
                self.room,
                body,
                client_id,
                region=self.region,
                max_chars=self.runtime.max_chars,
                badge=self.badge,
            )
        )
        if sent.duplicate:
            await self._answer_resend(sent)
        # A failed fan-out still reached this worker's connections (core/broker.py), the
        # author's included; other workers catch up from the database.
        if sent.notice:
            self.reply({"type": "notice", **sent.notice, "client_id": client_id})

    async def _answer_resend(self, sent: sending.Sent) -> None:
        """Answer a resent client_id with its original message. If this process's room has
        not reached it, the room may never have heard of it: its worker stopped between the
        commit and the fan-out (that is why the client resends). Then it is fanned out now,
        and reaches everyone in order, this author included."""
        seq = sent.frame["id"]
        if self.runtime.hub.delivered(self.room.id) < seq:  # type: ignore[arg-type]
            await sending.fan_out(self.ctx.broker, self.room, self.member, sent)
            if self.listener.seen_up_to < seq:
                return  # the hub hands it to this connection with everyone else's
        self.reply(sent.frame)

    async def on_history(self, frame: dict[str, Any]) -> None:
        if self.admission.lobby:
            raise Refusal("in_lobby", _("The conversation is shown once you're let in."))
        room, before, limit = frame.get("room"), frame.get("before"), frame.get("limit", 50)
        if room is not None and room != self.room.slug:
            raise Refusal("not_found", _("You can only ask for this room's history here."))
        if before is not None:
            before = json_int(before, "before", low=0, high=MAX_ID)
        limit = json_int(limit, "limit", low=1, high=100)
        messages = await history.recent_messages(
            self.ctx.db, self.room, self.member, before=before, limit=limit
        )
        self.reply(
            {
                "type": "history",
                "before": before,
                "messages": messages,
                "more": len(messages) == limit,
            }
        )

    async def on_ping(self, frame: dict[str, Any]) -> None:
        self.reply({"type": "pong"})


routes = [WebSocketRoute("/ws/rooms/{slug}", room_socket)]
