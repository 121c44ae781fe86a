"""What happens to a member's content when they export or delete their account.

Identity does not know what forum posts or chat messages are. Feature packages register
an exporter and an eraser here at composition time (kindred.app), and identity calls them
inside its own transaction, so a deletion is all-or-nothing. An eraser runs only when the
member chose to erase what they wrote; a leaver runs on every deletion (before the
pseudonym is replaced, so it can still find what carries it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

Exporter = Callable[[AsyncSession, int], Awaitable[Any]]
Eraser = Callable[[AsyncSession, int], Awaitable[None]]


@dataclass
class MemberContentHooks:
    exporters: dict[str, Exporter] = field(default_factory=dict)
    erasers: list[Eraser] = field(default_factory=list)
    leavers: list[Eraser] = field(default_factory=list)

    def register(
        self, name: str, exporter: Exporter, eraser: Eraser, leaver: Eraser | None = None
    ) -> None:
        self.exporters[name] = exporter
        self.erasers.append(eraser)
        if leaver is not None:
            self.leavers.append(leaver)
