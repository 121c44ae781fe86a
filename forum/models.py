"""Communities, threads and posts: the forum's tables.

Every body is a Post (a thread's opening text is its first post), so editing, reactions,
"this helped", search and moderation treat all member text the same way. Source text and
sanitised HTML are both stored; pages render the stored HTML and never sanitise on read.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UtcDateTime, utcnow

THREAD_KINDS = {
    "request": "Asking for help",
    "offer": "Offering help",
    "discussion": "Discussion",
}
HELP_TYPES = {
    "emotional": "Emotional support",
    "practical": "Practical help",
    "informational": "Information",
    "financial": "Financial",
}
REACTIONS = {"thanks": "Thank you", "me_too": "Me too", "strength": "Sending strength"}
WARNING_MODES = ("collapse", "show", "hide")


class Thread(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_thread_community_activity", "community_id", "last_activity_at"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", ondelete="CASCADE")
    author_id: int = Field(foreign_key="member.id", index=True)
    anonymous: bool = False
    title: str = Field(max_length=200)
    kind: str = Field(default="discussion", max_length=16)
    help_type: str | None = Field(default=None, max_length=16)
    content_warning: str | None = Field(default=None, max_length=60)
    status: str = Field(default="published", max_length=12)  # published | held | removed
    locked: bool = False
    resolved_post_id: int | None = None
    reply_count: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    last_activity_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Post(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    thread_id: int = Field(foreign_key="thread.id", index=True, ondelete="CASCADE")
    author_id: int = Field(foreign_key="member.id", index=True)
    is_opening: bool = False
    anonymous: bool = False
    body: str = Field(sa_type=sa.Text)  # the member's source text
    html: str = Field(sa_type=sa.Text)  # sanitised once, at write time
    # published | held (waiting for a moderator) | hidden (by reports, pending review)
    # | removed (by a moderator) | deleted (by its author)
    status: str = Field(default="published", max_length=12)
    hold_reason: str | None = Field(default=None, max_length=32)
    hold_message: str | None = Field(default=None, sa_type=sa.Text)  # shown to the author
    crisis: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    edited_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class PostRevision(SQLModel, table=True):
    """An earlier text of an edited post; moderators can read the history."""

    __tablename__ = "post_revision"

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True, ondelete="CASCADE")
    body: str = Field(sa_type=sa.Text)
    html: str = Field(sa_type=sa.Text)
    replaced_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class AnonymousAlias(SQLModel, table=True):
    """The stable per-thread label ("Anonymous member A") of someone posting anonymously."""

    __tablename__ = "anonymous_alias"
    __table_args__ = (sa.UniqueConstraint("thread_id", "label"),)

    thread_id: int = Field(foreign_key="thread.id", primary_key=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    label: str = Field(max_length=8)


class AliasBlock(SQLModel, table=True):
    """A member no longer sees one anonymous author in one thread ("Anonymous member A").

    Blocking a pseudonym can't reach anonymous posts without revealing whose they are, so
    anonymous authors are blocked by the label everyone already sees, thread by thread.
    """

    __tablename__ = "alias_block"

    member_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    thread_id: int = Field(foreign_key="thread.id", primary_key=True, ondelete="CASCADE")
    label: str = Field(primary_key=True, max_length=8)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Reaction(SQLModel, table=True):
    post_id: int = Field(foreign_key="post.id", primary_key=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    kind: str = Field(primary_key=True, max_length=12)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class ThreadFollow(SQLModel, table=True):
    __tablename__ = "thread_follow"

    thread_id: int = Field(foreign_key="thread.id", primary_key=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")


class ThreadVisit(SQLModel, table=True):
    """The newest post a member had seen in a thread, for "new since your last visit"."""

    __tablename__ = "thread_visit"

    thread_id: int = Field(foreign_key="thread.id", primary_key=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    last_post_id: int = 0


class Notification(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_notification_member_unread", "member_id", "read_at"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE")
    kind: str = Field(max_length=16)  # reply | mention | approved | helped
    thread_id: int | None = Field(default=None, foreign_key="thread.id", ondelete="CASCADE")
    post_id: int | None = Field(default=None, foreign_key="post.id", ondelete="CASCADE")
    actor: str = Field(default="", max_length=40)  # as shown: pseudonym or anonymous label
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class WarningPreference(SQLModel, table=True):
    """Per member and content warning: always collapse (default), always show, or hide."""

    __tablename__ = "warning_preference"

    member_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    warning: str = Field(primary_key=True, max_length=60)
    mode: str = Field(default="collapse", max_length=10)
