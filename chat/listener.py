"""One WebSocket as the hub sees it: who is connected, whose messages it hides, and the
bounded queue between the hub and the socket. The hub hands every frame to `offer` and
never waits: an idle connection is written to at once, a busy one queues, and one whose
queue is full has fallen behind and is closed with 1013, so that it resumes with ?after=
instead of slowing the room. The endpoint (chat/ws.py) drains the queue and closes the
socket when asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

CLOSE_TRY_AGAIN = 1013  # fell behind: reconnect with ?after=<last id>
CLOSE_GOING_AWAY = 1001


class Listener:
    """One WebSocket as the hub sees it: whom it is, whose messages it hides, its queue."""

    def __init__(
        self,
        member_id: int,
        pseudonym: str | None,
        hidden: frozenset[int],
        queue_size: int,
        *,
        receives: bool = True,
        sign_in: str | None = None,
        community_id: int | None = None,
        mutes_apply: bool = True,
    ) -> None:
        self.member_id = member_id
        self.pseudonym = pseudonym  # None: shown in the member list as "a member"
        self.hidden = hidden
        # The sign-in it connected with (its session's token hash): signing out closes it;
        # and the room's community: a sanction in that community reaches it.
        self.sign_in = sign_in
        self.community_id = community_id
        self.mutes_apply = mutes_apply  # False in a 1:1 support conversation (chat/gates.py)
        # False while waiting in a session's lobby: room state frames only, no messages, and
        # not in the member list.
        self.receives = receives
        # The client has every message up to this id already (its ?after=): they are never
        # sent again, even by a hub that is behind the worker the client came from.
        self.seen_up_to = 0
        self.queue: asyncio.Queue[str] = asyncio.Queue(queue_size)
        self.closing = asyncio.Event()  # the endpoint closes the socket with `close_code`
        self.close_code = CLOSE_TRY_AGAIN
        self.close_reason = ""  # sent with the close code, for people reading a client's log
        self.left = asyncio.Event()  # its endpoint is done with it (Hub.leave)
        # Set by the endpoint once its writer runs (core/web/frames.py): while the writer is
        # idle and nothing waits in the queue, a frame is written at once, in order.
        self.send_now: Callable[[str], bool] | None = None
        self.writing = False

    def offer(self, frame: str) -> None:
        if self.closing.is_set():
            return
        if self.send_now is not None and not self.writing and self.queue.empty():
            try:
                if self.send_now(frame):
                    return
            except Exception:  # the connection is gone: end it (not a slow reader, so not 1013)
                self.close(CLOSE_GOING_AWAY)
                return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:  # fell behind: reconnect with ?after= rather than slow the room
            self.closing.set()

    def close(self, code: int, reason: str = "") -> None:
        """Ask the endpoint to close this connection with `code`, after what is queued."""
        if not self.closing.is_set():
            self.close_code, self.close_reason = code, reason
            self.closing.set()
