"""Live group sessions: a scheduled, facilitated session with its own chat room.

A session's seats are counted in `group_session.seats_taken`, taken and given back with one
conditional UPDATE (`… SET seats_taken = seats_taken + 1 WHERE seats_taken < capacity`), so
two members can never both take the last seat, on SQLite or PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UtcDateTime, utcnow

# scheduled → live → ended; or scheduled → cancelled.
SESSION_STATUSES = ("scheduled", "live", "ended", "cancelled")
# rsvp: took a seat ahead; lobby: agreed to the ground rules and waits to be let in;
# admitted: in the session; removed: a facilitator removed them (they cannot come back).
PARTICIPANT_STATUSES = ("rsvp", "lobby", "admitted", "removed")


class GroupSessionSeries(SQLModel, table=True):
    """A weekly series: every occurrence is a group_session row computed in `timezone`, so
    19:00 Europe/London stays 19:00 local on both sides of a daylight-saving change."""

    __tablename__ = "group_session_series"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    weekday: int  # 0 = Monday … 6 = Sunday
    local_time: str = Field(max_length=5)  # "HH:MM" in `timezone`
    timezone: str = Field(max_length=64)  # IANA name, e.g. "Europe/London"
    count: int  # how many weekly occurrences were scheduled
    created_by: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class GroupSession(SQLModel, table=True):
    __tablename__ = "group_session"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    room_id: int = Field(foreign_key="chat_room.id", unique=True, ondelete="CASCADE")
    series_id: int | None = Field(
        default=None, foreign_key="group_session_series.id", index=True, ondelete="SET NULL"
    )
    title: str = Field(max_length=120)
    description: str = Field(default="", sa_type=sa.Text)
    ground_rules: str = Field(default="", sa_type=sa.Text)
    starts_at: datetime = Field(sa_type=UtcDateTime, index=True)
    duration_minutes: int
    capacity: int
    seats_taken: int = 0
    status: str = Field(default="scheduled", max_length=12, index=True)
    locked: bool = False  # no late joiners
    turn_taking: bool = False
    floor_member_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    slow_mode_seconds: int = 0
    pinned_text: str = Field(default="", sa_type=sa.Text)
    pinned_html: str = Field(default="", sa_type=sa.Text)
    started_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    messages_purged_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    summary_note: str = Field(default="", sa_type=sa.Text)
    timezone: str = Field(default="UTC", max_length=64)  # the zone it was scheduled in
    created_by: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class GroupSessionFacilitator(SQLModel, table=True):
    __tablename__ = "group_session_facilitator"

    session_id: int = Field(foreign_key="group_session.id", primary_key=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", primary_key=True, index=True)


class GroupSessionCofacilitator(SQLModel, table=True):
    """The one member a facilitator named to take over this session if they can't go on
    (chat/groups/cofacilitators.py). Until `taken_over_at` they are a participant like any
    other; from then on they are one of its facilitators (service.is_facilitator)."""

    __tablename__ = "group_session_cofacilitator"

    session_id: int = Field(foreign_key="group_session.id", primary_key=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    named_by_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    named_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    taken_over_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class GroupSessionParticipant(SQLModel, table=True):
    __tablename__ = "group_session_participant"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "member_id", name="uq_group_session_participant"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="group_session.id", index=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    status: str = Field(default="rsvp", max_length=12)
    rules_ack_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    muted: bool = False
    hand_raised_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    seat_held: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
