"""The WebSocket translator: a Refusal as the frames a chat client reads (docs/protocol.md).

Pages and JSON have theirs in core/web/errors.py; this is the third and last, so a field a
service sets on a Refusal reaches a chat client as it reaches a page or a JSON client.
"""

from __future__ import annotations

from typing import Any

from core.errors import Refusal

# Every field a frame carries when it is set; `notice` has a frame of its own (below).
FRAME_FIELDS = ("retry_after", "field", "draft", "url")


def refusal_frames(refusal: Refusal, client_id: Any = None) -> list[dict[str, Any]]:
    """The `error` frame, answering the frame with this `client_id` (None when unprompted),
    then the `notice` frame for the author alone when there is one (crisis resources beside
    a held message)."""
    error: dict[str, Any] = {
        "type": "error",
        "code": refusal.code,
        "message": refusal.message,
        "client_id": client_id,
        **refusal.details,
    }
    for name in FRAME_FIELDS:
        if value := getattr(refusal, name):
            error[name] = value
    if not refusal.notice:
        return [error]
    return [error, {"type": "notice", **refusal.notice, "client_id": client_id}]


def error_frame(refusal: Refusal) -> dict[str, Any]:
    """An unprompted error frame (a sanction, a removal, a sign-out): it answers no frame,
    and carries no notice (one would be lost: this fails instead)."""
    [frame] = refusal_frames(refusal)
    return frame
