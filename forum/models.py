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
from core.i18n import N_

# The labels below are English, marked for translation: pages translate them where they
# show them ({{ _(label) }}).
THREAD_KINDS = {
    "request": N_("Asking for help"),
    "offer": N_("Offering help"),
    "discussion": N_("Discussion"),
    # Milestones and "how I got through": moderators may put one on the community's shelf.
    "story": N_("Story of hope"),
}
HELP_TYPES = {
    "emotional": N_("Emotional support"),
    "practical": N_("Practical help"),
    "informational": N_("Information"),
    "financial": N_("Financial"),
}
REACTIONS = {
    "thanks": N_("Thank you"),
    "me_too": N_("Me too"),
    "strength": N_("Sending strength"),
}
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
    # A form or client resending the same submission (the link dropped before the answer
    # came, an offline outbox flushing from two tabs) finds the original instead of posting
    # twice. NULLs never collide, so posts sent without an id are unaffected.
    __table_args__ = (
        sa.Index("uq_post_author_submission", "author_id", "submission_id", unique=True),
    )

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
    submission_id: str | None = Field(default=None, max_length=64)  # the sender's, see above


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


class HopeShelf(SQLModel, table=True):
    """A story of hope a community's moderators chose for the community's shelf: the page
    the crisis card and an unanswered request point to. Adding and taking off are audited."""

    __tablename__ = "hope_shelf"

    thread_id: int = Field(foreign_key="thread.id", primary_key=True, ondelete="CASCADE")
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    added_by_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    added_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


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


# The resource directory (forum/resources.py): kinds of entry, and the region of one that
# serves people anywhere (online, or a helpline open to every country).
RESOURCE_KINDS = {"service": N_("Service"), "helpline": N_("Helpline"), "guide": N_("Guide")}
ANYWHERE = "ANY"


class Resource(SQLModel, table=True):
    """One entry in a community's resource directory, or a member's suggestion for one.

    `status`: "listed" (in the directory), "suggested" (waiting for the community's
    moderators) or "declined" (kept only so its suggester can read why, until they dismiss
    it). `suggested_by_id` is kept only while a suggestion waits or was declined: a listed
    entry is the moderators', and says nothing about who suggested it."""

    __table_args__ = (sa.Index("ix_resource_community_status", "community_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", ondelete="CASCADE")
    name: str = Field(max_length=80)
    kind: str = Field(max_length=12)  # a key of RESOURCE_KINDS
    description: str = Field(default="", max_length=400)  # plain text, vetted
    url: str | None = Field(default=None, max_length=500)  # http(s) only, checked
    phone: str | None = Field(default=None, max_length=40)
    help_types: str = Field(default="", max_length=80)  # ",emotional,practical,"
    region: str = Field(default=ANYWHERE, max_length=4)  # a country code, or ANYWHERE
    status: str = Field(default="listed", max_length=12)
    suggested_by_id: int | None = Field(
        default=None, foreign_key="member.id", index=True, ondelete="CASCADE"
    )
    # Why the pipeline would have held the suggestion (a reason code), for its reviewers.
    hold_reason: str | None = Field(default=None, max_length=32)
    decline_reason: str | None = Field(default=None, max_length=500)  # said to the suggester
    last_checked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)

    @property
    def help_type_list(self) -> list[str]:
        return [h for h in self.help_types.split(",") if h]


class BeenThereChoice(SQLModel, table=True):
    """Whether a member is open to being asked by someone who has been through what they
    have, their quiet hours, and when they were last asked (for rotation). Off unless they
    turn it on; their experiences themselves are communities' (LivedExperience)."""

    __tablename__ = "been_there_choice"

    member_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    open_to_asks: bool = False
    # Quiet hours on the member's clock: whole hours, from `quiet_from` until `quiet_until`
    # (which may wrap past midnight), in the IANA zone they chose. None: no quiet hours.
    quiet_from: int | None = None
    quiet_until: int | None = None
    zone: str | None = Field(default=None, max_length=64)
    last_asked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class BeenThereAsk(SQLModel, table=True):
    """A request for help that asked for "someone who's been through this": which
    experience, and, once it was published and members were told, how many. Who was told
    is not kept here (each of them has the notice in their own list)."""

    __tablename__ = "been_there_ask"

    thread_id: int = Field(foreign_key="thread.id", primary_key=True, ondelete="CASCADE")
    label_id: int | None = Field(
        default=None, foreign_key="experience_label.id", ondelete="SET NULL"
    )
    told: int = 0
    told_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # None: not yet
