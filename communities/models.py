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
from core.i18n import N_


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


class Thanks(SQLModel, table=True):
    """A private thank-you from one member to another for a reply, a chat message or a 1:1
    conversation. Forum and chat both send them and neither may own the other's table, so
    it lives here, below both. Only its helper ever reads it (and moderators, while it is
    held): nothing counts these in public."""

    __tablename__ = "thanks"
    __table_args__ = (
        # One thank-you per sender per reply, message or conversation.
        sa.UniqueConstraint("sender_id", "about_kind", "about_id", name="uq_thanks_once"),
        sa.Index("ix_thanks_helper_status", "helper_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    sender_id: int = Field(foreign_key="member.id", ondelete="CASCADE")
    helper_id: int = Field(foreign_key="member.id", ondelete="CASCADE")
    about_kind: str = Field(max_length=16)  # post | chat_message | support
    about_id: int
    community_id: int | None = Field(default=None, foreign_key="community.id", ondelete="CASCADE")
    # The sender wrote in that thread under an alias: the helper sees "a member".
    anonymous: bool = False
    # Where it was, as the helper reads it ("your reply in “Sleepless again”"); kept with
    # the thank-you so the helper's page needs no other package's data.
    place: str = Field(default="", max_length=240)
    url: str = Field(default="", max_length=200)
    note: str = Field(default="", sa_type=sa.Text)  # the pipeline's normalised text
    note_html: str = Field(default="", sa_type=sa.Text)  # sanitised once, at write time
    status: str = Field(default="published", max_length=12)  # published | held | removed
    hold_reason: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


# "How long ago" a member lived through an experience: coarse on purpose, so a record says
# no more than a member would say in a sentence. Kept in this order on every page.
# English, marked for translation: pages translate them where they show them.
EXPERIENCE_SINCE = {
    "recent": N_("Within the last year"),
    "years": N_("One to five years ago"),
    "long": N_("More than five years ago"),
}


class ExperienceLabel(SQLModel, table=True):
    """One entry in a community's list of lived experiences ("lost a parent"), which its
    moderators keep. Members record theirs from this list, and a request for help may ask
    for someone who has been through one of them (see forum/been_there.py)."""

    __tablename__ = "experience_label"
    __table_args__ = (sa.UniqueConstraint("community_id", "label"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    label: str = Field(max_length=60)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class LivedExperience(SQLModel, table=True):
    """A member's private record that they have been through one experience, and roughly
    when. Nobody else can read it: Kindred only counts these per label for moderators and
    matches them when someone asks for "someone who's been through this"."""

    __tablename__ = "lived_experience"

    member_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    label_id: int = Field(
        foreign_key="experience_label.id", primary_key=True, index=True, ondelete="CASCADE"
    )
    since: str = Field(max_length=8)  # a key of EXPERIENCE_SINCE
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
