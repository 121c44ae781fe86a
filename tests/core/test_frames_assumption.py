"""core/web/frames.immediate_sender drives uvicorn's WebSocketsSansIOProtocol.send by hand: one
step of the coroutine, read as "sent" when it finishes at once. That is right only while the
method's one await is `await self.writable.wait()` at its top, and everything after it is
plain code. If an upgrade of uvicorn changes that, members could get frames twice or never;
this test fails loudly first, naming what changed. (pyproject.toml declares uvicorn >= 0.52.1,
the first release with that flow control.)"""

from __future__ import annotations

import ast
import inspect
import textwrap

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


def _send_method() -> ast.AsyncFunctionDef:
    source = textwrap.dedent(inspect.getsource(WebSocketsSansIOProtocol.send))
    [node] = ast.parse(source).body
    assert isinstance(node, ast.AsyncFunctionDef)
    return node


def test_send_awaits_only_flow_control_and_only_at_its_top() -> None:
    send = _send_method()
    awaits = [n for n in ast.walk(send) if isinstance(n, ast.Await | ast.AsyncFor | ast.AsyncWith)]
    assert len(awaits) == 1, (
        f"uvicorn's WebSocketsSansIOProtocol.send now has {len(awaits)} awaits: "
        "core/web/frames.immediate_sender can no longer drive it in one step"
    )
    first = send.body[0]
    assert isinstance(first, ast.Expr) and first.value is awaits[0], (
        "the one await in WebSocketsSansIOProtocol.send is no longer its first statement"
    )
    assert ast.unparse(first) == "await self.writable.wait()", ast.unparse(first)


def test_the_protocol_keeps_its_flow_control_event() -> None:
    init = textwrap.dedent(inspect.getsource(WebSocketsSansIOProtocol.__init__))
    assert "self.writable = asyncio.Event()" in init, (
        "WebSocketsSansIOProtocol no longer sets self.writable: immediate_sender would queue "
        "every frame (it checks), losing the direct path"
    )
