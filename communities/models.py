"""The communities layer's tables: a community, its rules text, and who moderates it.

What the content pipeline does in a community (contact policy, crisis action, watched
words) is moderation's, in moderation's own tables; threads and rooms belong to forum and
chat and refer to a community by id.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UtcDateTime, utcnow


class Community(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=80)
    description: str = Field(default="", max_length=500)
    rules: str = Field(default="", sa_type=sa.Text)  # Markdown, written by staff
    rules_html: str = Field(default="", sa_type=sa.Text)
    visibility: str = Field(default="public", max_length=10)  # public | members
    allow_anonymous: bool = True
    # One warning a line, e.g. "self-harm"; threads may carry one of these.
    content_warnings: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)

    @property
    def warning_list(self) -> list[str]:
        return [w.strip() for w in self.content_warnings.splitlines() if w.strip()]

    @property
    def members_only(self) -> bool:
        return self.visibility == "members"


class CommunityModerator(SQLModel, table=True):
    __tablename__ = "community_moderator"

    community_id: int = Field(foreign_key="community.id", primary_key=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
