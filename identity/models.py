"""Pseudonymous accounts: no email, no phone, no real name — by construction."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from core.db import UtcDateTime, utcnow

DELETED_NAME = "[deleted member]"


class Member(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    pseudonym: str = Field(max_length=40)
    # Case-folded pseudonym: "Heron" and "heron" are the same member name.
    pseudonym_key: str = Field(max_length=40, unique=True)
    # What the name looks like (names.lookalike_key): "R0wan" and "Rowan" can't both be in
    # use, so that members can't pass for each other. None once the account is deleted.
    pseudonym_skeleton: str | None = Field(default=None, max_length=40, index=True)
    passphrase_hash: str | None = Field(default=None, max_length=200)
    is_admin: bool = False
    is_peer_supporter: bool = False
    # The country whose crisis helplines to show them (ISO 3166-1 alpha-2, or "INTL"), as
    # they chose it; None means "use my browser's language" (identity/country.py).
    country: str | None = Field(default=None, max_length=4)
    # The language they read Kindred in ("es"), as they chose it; None means "my browser's
    # languages" (identity/language.py).
    language: str | None = Field(default=None, max_length=12)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)

    @property
    def display_name(self) -> str:
        return DELETED_NAME if self.deleted_at else self.pseudonym

    @property
    def roles(self) -> list[str]:
        roles = ["member"]
        if self.is_peer_supporter:
            roles.append("peer_supporter")
        if self.is_admin:
            roles.append("admin")
        return roles


class RecoveryCode(SQLModel, table=True):
    __tablename__ = "recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    code_hash: str = Field(max_length=64, unique=True)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class MemberSession(SQLModel, table=True):
    """A signed-in browser or API client. Only a hash of its token is kept."""

    __tablename__ = "member_session"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    kind: str = Field(default="browser", max_length=16)  # browser | token
    label: str = Field(default="", max_length=64)  # coarse: "Firefox on Android"
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)


class MemberBlock(SQLModel, table=True):
    """`blocker` no longer sees `blocked`'s posts and messages, and gets no notice from them."""

    __tablename__ = "member_block"

    blocker_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    blocked_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
