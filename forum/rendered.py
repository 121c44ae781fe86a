"""Thread pages rendered for signed-out readers, reused while what they show is unchanged.

Every signed-out reader of a thread gets the same HTML, and rendering 50 posts is most of
what the page costs. The thread is still read from the database on every request; only when
everything read is equal to what a kept page was rendered from is that page's HTML reused.
So there is nothing to invalidate and nothing to forget: a reply, an edit, a reaction or a
moderator hiding a post changes what is read, and the very next request renders afresh, on
every worker.

Never used for signed-in members: their pages carry their own CSRF token and state.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable


class RenderedPages:
    """A bounded, least-recently-used map: page key -> (the data it was rendered from, HTML)."""

    def __init__(self, max_pages: int = 128) -> None:
        # A 50-post page and its source are ~80 KB together, so 128 pages are ~10 MB.
        self.max_pages = max_pages
        self._pages: OrderedDict[Hashable, tuple[tuple, bytes]] = OrderedDict()

    def get(self, key: Hashable, source: tuple) -> bytes | None:
        """The page's HTML if it was rendered from exactly `source`, else None."""
        entry = self._pages.get(key)
        if entry is None or entry[0] != source:
            return None
        self._pages.move_to_end(key)
        return entry[1]

    def put(self, key: Hashable, source: tuple, html: bytes) -> None:
        self._pages[key] = (source, html)
        self._pages.move_to_end(key)
        while len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)
