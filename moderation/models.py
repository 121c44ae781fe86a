"""Moderation's tables: each community's policy and watched words, cases, reports,
sanctions, notes, the audit log and check-ins. Communities and who moderates them belong
to communities/; content belongs to forum and chat, which moderation refers to by kind and
id.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UtcDateTime, utcnow


class WatchedWordEntry(SQLModel, table=True):
    __tablename__ = "watched_word"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    pattern: str = Field(max_length=100)
    action: str = Field(max_length=8)  # block | hold | replace
    replacement: str = Field(default="***", max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class CommunityPolicyEntry(SQLModel, table=True):
    """What the pipeline does in one community, where a moderator changed it: a community
    without a row has the defaults (moderation.api.CommunityPolicy)."""

    __tablename__ = "community_policy"

    community_id: int = Field(foreign_key="community.id", primary_key=True, ondelete="CASCADE")
    # Contact details: hold | refuse | allow. Crisis language: publish (showing resources) |
    # hold. How readily the crisis model flags wording: more | standard | fewer.
    contact_policy: str = Field(default="hold", max_length=8)
    crisis_action: str = Field(default="publish", max_length=8)
    crisis_sensitivity: str = Field(default="standard", max_length=8)


class ModerationCase(SQLModel, table=True):
    """One piece of content (or one member) that needs a moderator's eyes: held by the
    pipeline, flagged as crisis, or reported. The review queue is the open cases, crisis
    first, then by report weight, then oldest first."""

    __tablename__ = "moderation_case"
    __table_args__ = (
        # At most one open case per piece of content (NULLs never collide in a plain unique
        # constraint, hence the partial index).
        sa.Index(
            "uq_case_open_target",
            "target_kind",
            "target_id",
            unique=True,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        ),
        sa.Index("ix_case_queue", "community_id", "closed_at", "crisis", "report_weight"),
    )

    id: int | None = Field(default=None, primary_key=True)
    target_kind: str = Field(max_length=16)  # post | chat_message | member
    target_id: int
    community_id: int | None = Field(default=None, foreign_key="community.id", ondelete="CASCADE")
    author_id: int | None = Field(default=None, foreign_key="member.id", ondelete="CASCADE")
    held: bool = False
    crisis: bool = False
    # Why the pipeline flagged it as crisis ('matched the phrase "i want to die"', or a
    # model's reason), for those who can see the case; never shown to the author.
    crisis_why: str | None = Field(default=None, max_length=500)
    auto_hidden: bool = False  # hidden by reports, waiting for a moderator
    report_weight: int = 0
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    resolution: str | None = Field(default=None, max_length=16)


class Report(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("reporter_id", "target_kind", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="moderation_case.id", index=True, ondelete="CASCADE")
    reporter_id: int = Field(foreign_key="member.id", ondelete="CASCADE")
    target_kind: str = Field(max_length=16)
    target_id: int
    reason: str = Field(max_length=20)
    rule: str | None = Field(default=None, max_length=200)
    note: str = Field(default="", sa_type=sa.Text)
    weight: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Sanction(SQLModel, table=True):
    """warn | mute (chat) | suspend (no posting or chat) | ban; community-wide or site-wide
    (community_id is None)."""

    __table_args__ = (sa.Index("ix_sanction_member", "member_id", "ends_at"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE")
    community_id: int | None = Field(default=None, foreign_key="community.id", ondelete="CASCADE")
    kind: str = Field(max_length=8)
    reason: str = Field(default="", sa_type=sa.Text)
    moderator_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    starts_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    ends_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    confirmed: bool = True  # a proposed ban waits for a second moderator to confirm
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ModeratorNote(SQLModel, table=True):
    """A moderator's private note on a member, visible to that community's moderators."""

    __tablename__ = "moderator_note"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    community_id: int | None = Field(default=None, foreign_key="community.id", ondelete="CASCADE")
    author_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    body: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class AuditEntry(SQLModel, table=True):
    """Every moderator and admin action, append-only (database triggers refuse UPDATE and
    DELETE). `public_summary` is what the community's public log may show: what was done
    and why, never the content or the member."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        sa.Index("ix_audit_community", "community_id", "id"),
        sa.Index("ix_audit_subject", "subject_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    actor_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    actor_name: str = Field(max_length=40)
    action: str = Field(max_length=32)
    target_kind: str = Field(max_length=16)
    target_id: int | None = None
    community_id: int | None = Field(default=None, foreign_key="community.id", ondelete="SET NULL")
    reason: str = Field(default="", sa_type=sa.Text)
    public_summary: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # For a reveal of an anonymous author: whose anonymity was lifted, so they can see that
    # it happened (never who looked). The only place such a link is kept, and it is audited.
    subject_id: int | None = None


class CheckInRequest(SQLModel, table=True):
    """Members are worried about `subject` and asked peer supporters to check in. One open
    request per member, as others see them (`persona`), at a time; asks within a day of it
    fold into it (`ask_count`). Who asked is in `check_in_ask`, which only moderators may
    read (audited)."""

    __tablename__ = "check_in_request"
    __table_args__ = (
        sa.Index(
            "uq_check_in_open_subject",
            "subject_id",
            "persona",
            unique=True,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        ),
        sa.Index("ix_check_in_subject_opened", "subject_id", "opened_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="member.id", ondelete="CASCADE")
    # "" for what they wrote under their pseudonym; for anonymous content, where its label
    # holds (TargetView.persona). Asks fold, count and close per persona, so nothing a
    # supporter or an asker sees ties a member's anonymous posts to their named ones.
    persona: str = Field(default="", max_length=40)
    community_id: int | None = Field(default=None, foreign_key="community.id", ondelete="CASCADE")
    # The content the first ask came from: where a supporter can reach out.
    target_kind: str = Field(max_length=16)
    target_id: int
    ask_count: int = 1
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closed_by_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    resolution: str | None = Field(default=None, max_length=16)  # checked_in | no_need


class CheckInAsk(SQLModel, table=True):
    """One member asking about another: never shown to the member asked about or to
    supporters; moderators read it to spot a check-in being used to harass."""

    __tablename__ = "check_in_ask"
    __table_args__ = (sa.Index("ix_check_in_ask_asker", "asker_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int | None = Field(
        default=None, foreign_key="check_in_request.id", index=True, ondelete="CASCADE"
    )
    asker_id: int = Field(foreign_key="member.id", ondelete="CASCADE")
    subject_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    persona: str = Field(default="", max_length=40)  # as on the request
    target_kind: str = Field(max_length=16)
    target_id: int
    # True when the member asked about has blocked the asker: recorded for moderators,
    # never passed to supporters (a block must not be worked round through them).
    withheld: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
