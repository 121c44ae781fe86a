"""Chat rooms and their messages.

A message's public id is its `seq`: a number per room, taken from the room's counter row in
the same transaction that inserts the message. Only published messages take one, so a
room's ids run 1, 2, 3… without holes, and an id is committed no later than every id below
it (see chat/sending.py for why that matters).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UtcDateTime, utcnow
from core.i18n import gettext, ngettext

# Seconds between one member's messages: off, then 10 seconds to 24 hours (staff exempt).
SLOW_MODE_CHOICES = (0, 10, 30, 60, 300, 900, 3600, 21600, 86400)

# public: a community's (or the site's) open room; session: a live group session's room
# (chat/groups); private: a 1:1 support conversation (chat/support). See chat/gates.py.
ROOM_KINDS = ("public", "session", "private")


def slow_mode_label(seconds: int, *, english: bool = False) -> str:
    """How often slow mode lets a member post ("One message every 30 seconds"), in this
    request's language; `english` for words that are stored (an audit entry's summary)."""
    if english:
        if seconds == 0:
            return "Off"
        for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
            if seconds % size == 0:
                count = seconds // size
                return f"One message every {count} {unit}{'s' if count != 1 else ''}"
        return f"One message every {seconds} seconds"
    if seconds == 0:
        return gettext("Off")
    if seconds % 3600 == 0:
        count = seconds // 3600
        said = ngettext("One message every %(num)d hour", "One message every %(num)d hours", count)
    elif seconds % 60 == 0:
        count = seconds // 60
        said = ngettext(
            "One message every %(num)d minute", "One message every %(num)d minutes", count
        )
    else:
        count = seconds
        said = ngettext(
            "One message every %(num)d second", "One message every %(num)d seconds", count
        )
    return said % {"num": count}


class Room(SQLModel, table=True):
    __tablename__ = "chat_room"

    id: int | None = Field(default=None, primary_key=True)
    # The community the room belongs to (communities' table, read through its API); rooms
    # without one are site-wide and moderated by admins.
    community_id: int | None = Field(
        default=None, foreign_key="community.id", index=True, ondelete="CASCADE"
    )
    slug: str = Field(max_length=40, unique=True)
    kind: str = Field(default="public", max_length=12, index=True)
    name: str = Field(max_length=80)
    description: str = Field(default="", max_length=500)
    # Members-only rooms are not shown to signed-out visitors at all; open rooms' history
    # can be read by anyone (taking part always needs an account).
    members_only: bool = False
    slow_mode_seconds: int = 0
    locked: bool = False  # moderators locked it: members can read but not post
    last_message_id: int = 0  # the counter the next message's seq is taken from
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class ChatMessage(SQLModel, table=True):
    __tablename__ = "chat_message"
    __table_args__ = (
        sa.UniqueConstraint("room_id", "seq", name="uq_chat_message_room_seq"),
        # A resent client_id finds the original instead of making a second message.
        sa.UniqueConstraint(
            "room_id", "author_id", "client_id", name="uq_chat_message_room_author_client"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="chat_room.id", ondelete="CASCADE")
    seq: int | None = None  # public id; None while held for review
    author_id: int = Field(foreign_key="member.id", index=True)
    client_id: str | None = Field(default=None, max_length=64)
    body: str = Field(sa_type=sa.Text)  # the source, as the pipeline normalised it
    html: str = Field(sa_type=sa.Text)  # sanitised once, at write time
    status: str = Field(default="published", max_length=12)  # published | held | removed | erased
    hold_reason: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
