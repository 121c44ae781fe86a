"""SIGTERM reaches chat before uvicorn closes its sockets.

On SIGTERM uvicorn stops accepting, closes every connection at once (WebSockets with 1012 and
no reason), waits for requests in flight, and only then runs the app's lifespan shutdown: too
late for the app to tell its chat clients anything. So while the app runs under a server that
handles SIGTERM (uvicorn installs its handler before the lifespan starts, in each worker), a
SIGTERM first has chat close its sockets itself, with a reason, and is then handed on to the
server's own handler, which stops as before. A second SIGTERM is handed on at once.

uvicorn offers no public hook for this; tests/security/test_faults.py's SIGTERM test runs the
real `kindred serve` and checks that the reason arrives, so an upgrade that changes how a
server stops fails there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Awaitable, Callable, Iterator
from types import FrameType

log = logging.getLogger("kindred")


class _FirstOnSigterm:
    def __init__(
        self, before_stop: Callable[[], Awaitable[None]], server_handler: Callable
    ) -> None:
        self.before_stop = before_stop
        self.server_handler = server_handler
        self.loop = asyncio.get_running_loop()
        self.active = True
        self.started = False
        self.task: asyncio.Task[None] | None = None

    def __call__(self, sig: int, _frame: FrameType | None) -> None:
        if not self.active or self.started:
            self.server_handler(sig, None)  # a second SIGTERM: stop now
            return
        self.started = True
        self.loop.call_soon_threadsafe(self._start, sig)  # the signal-safe way into the loop

    def _start(self, sig: int) -> None:
        self.task = self.loop.create_task(self._stop_politely(sig))

    async def _stop_politely(self, sig: int) -> None:
        try:
            await self.before_stop()
        except Exception:  # the server stops all the same
            log.exception("closing chat before stopping failed")
        finally:
            self.server_handler(sig, None)


@contextlib.contextmanager
def first_on_sigterm(before_stop: Callable[[], Awaitable[None]]) -> Iterator[None]:
    """While inside, SIGTERM runs `before_stop()` and then the handler installed before."""
    server_handler = signal.getsignal(signal.SIGTERM)
    if not callable(server_handler) or threading.current_thread() is not threading.main_thread():
        yield  # not under a server that stops on SIGTERM (a test's app, say): nothing to do
        return
    handler = _FirstOnSigterm(before_stop, server_handler)
    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        handler.active = False
        if signal.getsignal(signal.SIGTERM) is handler:
            signal.signal(signal.SIGTERM, server_handler)
