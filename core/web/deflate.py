"""Compressed chat frames for the clients that ask: RFC 7692's per-message deflate, one level up.

permessage-deflate is negotiated by the ASGI server for every connection or none
(`KINDRED_WS_DEFLATE`): ASGI gives the application no say in a socket's extensions. Off, the
default, is right for the server's CPU and memory (docs/performance.md), but a member on a 2G
or satellite link would rather pay CPU than bytes. So a client may ask for compression itself,
by offering the WebSocket subprotocol `kindred.deflate` — a per-connection choice that ASGI
does carry. Accepted, every frame the server sends on that socket is a binary frame holding
the same JSON text, newline-terminated, compressed exactly as permessage-deflate compresses a
message: one raw DEFLATE stream per connection (the window kept from frame to frame, which is
what makes short chat frames small), each frame ended by a sync flush whose last four bytes
(00 00 ff ff) are left off for the reader to put back. Browsers read it with
`DecompressionStream("deflate-raw")` (static/js/chat.js); frames from the client stay text.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

SUBPROTOCOL = "kindred.deflate"
TAIL = b"\x00\x00\xff\xff"  # what every sync flush ends with: RFC 7692 §7.2.1 drops it

# The websockets library's defaults for permessage-deflate, as the server-wide switch uses:
# a 4 KB window and memLevel 5 keep a compressor to about 40 KB while short frames, which repeat
# within a few KB (keys, names, the room), still lose about half their bytes.
WINDOW_BITS = 12
MEM_LEVEL = 5


def chosen(
    subprotocols: list[str] | tuple[str, ...], headers: Mapping[str, str], server: str
) -> bool:
    """Whether to compress this socket's frames: the client offered `kindred.deflate` (the
    scope's `subprotocols`), and the server is not compressing them already — with
    `KINDRED_WS_DEFLATE` on (`server`), a browser that offers permessage-deflate gets it, and
    compressing twice would only cost CPU."""
    if SUBPROTOCOL not in subprotocols:
        return False
    offered = headers.get("sec-websocket-extensions", "")
    return not (server == "on" and "permessage-deflate" in offered)


class Deflater:
    """Turns each text frame into the bytes of one compressed binary frame, in order."""

    __slots__ = ("_stream",)

    def __init__(self) -> None:
        self._stream = zlib.compressobj(
            zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -WINDOW_BITS, MEM_LEVEL
        )

    def __call__(self, text: str) -> bytes:
        stream = self._stream
        data = stream.compress(text.encode() + b"\n") + stream.flush(zlib.Z_SYNC_FLUSH)
        return data[:-4]


class Inflater:
    """The reader's side, for tests and benchmarks: the text frames back, in order."""

    __slots__ = ("_stream",)

    def __init__(self) -> None:
        self._stream = zlib.decompressobj(-zlib.MAX_WBITS)

    def __call__(self, data: bytes) -> str:
        text = self._stream.decompress(data + TAIL).decode()
        if not text.endswith("\n"):
            raise ValueError("a compressed frame must hold one whole newline-ended frame")
        return text[:-1]
