"""Moderation's tables: who moderates where, and each community's watched words.

Communities belong to the forum package; moderation refers to them by id (a foreign key by
table name), never by importing forum.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from core.db import UtcDateTime, utcnow


class CommunityModerator(SQLModel, table=True):
    __tablename__ = "community_moderator"

    community_id: int = Field(foreign_key="community.id", primary_key=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class WatchedWordEntry(SQLModel, table=True):
    __tablename__ = "watched_word"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    pattern: str = Field(max_length=100)
    action: str = Field(max_length=8)  # block | hold | replace
    replacement: str = Field(default="***", max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
