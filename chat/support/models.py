"""1:1 support requests and who may see the private conversations they open.

A request waits in the queue (``open``) until a peer supporter takes it (``accepted``: a
private room exists), and then either side ends it (``ended``); the member may withdraw it
while it waits (``cancelled``), and one nobody took within a day is closed by the sweeper
(``expired``; lifecycle.py). A member has at most one request that is open or accepted:
the partial unique index makes that hold even when two asks race.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UtcDateTime, utcnow

STATUSES = ("open", "accepted", "ended", "cancelled", "expired")
LIVE_STATUSES = ("open", "accepted")  # the ones a member may have only one of


class SupportRequest(SQLModel, table=True):
    __tablename__ = "support_request"
    __table_args__ = (
        sa.Index(
            "uq_support_request_live",
            "member_id",
            unique=True,
            sqlite_where=sa.text("status IN ('open', 'accepted')"),
            postgresql_where=sa.text("status IN ('open', 'accepted')"),
        ),
        # The queue: open requests, crisis-flagged first, then oldest first.
        sa.Index("ix_support_request_queue", "status", "crisis", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE")
    # A community (communities' table, read through communities/service.py).
    community_id: int = Field(foreign_key="community.id", ondelete="CASCADE")
    note: str = Field(sa_type=sa.Text)  # the pipeline's normalised text
    note_html: str = Field(sa_type=sa.Text)  # sanitised once, at write time
    crisis: bool = False  # the pipeline heard crisis language: first in the queue
    status: str = Field(default="open", max_length=12)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    supporter_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    room_id: int | None = Field(default=None, foreign_key="chat_room.id", ondelete="SET NULL")
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    ended_by_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    # The member's private answer to "Did this help?": moderators see it, nobody else.
    helped: bool | None = None
    feedback: str | None = Field(default=None, sa_type=sa.Text)
    feedback_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # The supporter dismissed the "take a break" note after this conversation (care.py):
    # only they ever see the note, and nothing counts these.
    supporter_rested: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class SupporterAvailability(SQLModel, table=True):
    """Whether a peer supporter is taking requests now. No row means not available: nobody
    is shown requests they did not choose to see."""

    __tablename__ = "supporter_availability"

    member_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    available: bool = False
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class SupporterTopic(SQLModel, table=True):
    """The communities whose requests a supporter wants to see; none chosen means all."""

    __tablename__ = "supporter_topic"

    member_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    community_id: int = Field(foreign_key="community.id", primary_key=True, ondelete="CASCADE")


class PrivateRoomAccess(SQLModel, table=True):
    """A moderator's time-limited right to read one private conversation, granted only by a
    logged action on a report about a message in it (see service.open_for_moderator)."""

    __tablename__ = "private_room_access"
    __table_args__ = (sa.Index("ix_private_room_access_room_member", "room_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="chat_room.id", ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE")
    case_id: int = Field(foreign_key="moderation_case.id", ondelete="CASCADE")
    granted_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)


class SupporterLimits(SQLModel, table=True):
    """What a peer supporter takes on (limits.py): how many conversations at once, and the
    weekly hours when requests reach them, on their own clock. No row: the defaults."""

    __tablename__ = "supporter_limits"

    member_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    max_conversations: int = 2
    # "0=18-22;5=9-12": weekday (0 = Monday) = from hour - to hour; "" means any time.
    hours: str = Field(default="", max_length=200)
    timezone: str = Field(default="UTC", max_length=64)  # IANA name the hours are in
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


DEBRIEF_STATUSES = ("open", "taken", "done")


class SupportDebrief(SQLModel, table=True):
    """A supporter asks to talk a crisis-flagged conversation through with a moderator
    (care.py). It names the conversation's request and community, and carries the
    supporter's own note (vetted) — never anything from the conversation."""

    __tablename__ = "support_debrief"
    __table_args__ = (
        sa.UniqueConstraint("request_id", name="uq_support_debrief_request"),
        sa.Index("ix_support_debrief_queue", "community_id", "status", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="support_request.id", ondelete="CASCADE")
    supporter_id: int = Field(foreign_key="member.id", ondelete="CASCADE")
    community_id: int = Field(foreign_key="community.id", ondelete="CASCADE")
    note: str = Field(default="", sa_type=sa.Text)
    note_html: str = Field(default="", sa_type=sa.Text)
    status: str = Field(default="open", max_length=8)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    taken_by_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    taken_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
