"""Server-side sessions: a signed-in browser or API client, and how one lives and ends.

A session is started once a member has proved who they are (accounts.py at sign-up,
signin.py at sign-in); from then on only a hash of its token is kept, looked up on every
request (auth.py), marked as used at most once a minute so that reads don't all become
writes, and ended by signing out, by running out, or by the member from their account page.
Chat asks here too, to close connections whose sign-in has ended.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import Database, refuses_writes, utcnow
from core.settings import Settings
from identity.models import Member, MemberSession

# Refresh a session's last-seen time at most this often, so reads don't all become writes.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SignedIn:
    member: Member
    token: str  # the raw session token: goes to the client once, never stored
    session: MemberSession


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_session(
    member: Member, settings: Settings, kind: str, label: str
) -> tuple[str, MemberSession]:
    """A fresh session for `member` (the caller adds it in its own transaction) and its
    raw token, which goes to the client once."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session = MemberSession(
        member_id=member.id,  # type: ignore[arg-type]
        token_hash=token_hash(token),
        kind=kind,
        label=label[:64],
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(days=settings.session_max_days),
    )
    return token, session


async def resolve_session(
    db: Database, settings: Settings, token: str
) -> tuple[Member, MemberSession] | None:
    """The member behind a session token, if the session is still alive."""
    if not token or len(token) > 128:
        return None
    async with db.read() as s:
        row = (
            await s.exec(
                select(MemberSession, Member)
                .join(Member, Member.id == MemberSession.member_id)  # type: ignore[arg-type]
                .where(MemberSession.token_hash == token_hash(token))
            )
        ).first()
    if row is None:
        return None
    session, member = row
    now = utcnow()
    idle_limit = session.last_seen_at + timedelta(minutes=settings.session_idle_minutes)
    if member.deleted_at or now >= session.expires_at or now >= idle_limit:
        await end_session(db, session.token_hash)
        return None
    if now - session.last_seen_at > TOUCH_EVERY:
        try:
            async with db.transaction() as s:
                await s.exec(
                    update(MemberSession)
                    .where(MemberSession.id == session.id)
                    .values(last_seen_at=now)
                )
        except Exception as exc:
            # A full disk or a read-only database must not stop members reading: the
            # session is good, it just isn't marked as used (the next request tries again).
            if not refuses_writes(exc):
                raise
            return member, session
        session.last_seen_at = now
    return member, session


async def end_session(db: Database, hashed_token: str) -> None:
    async with db.transaction() as s:
        await s.exec(delete(MemberSession).where(MemberSession.token_hash == hashed_token))


async def live_sessions(
    s: AsyncSession, token_hashes: set[str], idle: timedelta | None = None
) -> set[str]:
    """Those of these sessions (by token hash: unlike ids, never used twice) that still
    exist and have not run out, nor been unused for `idle` when given. Chat asks, to close
    connections whose sign-in has ended."""
    now = utcnow()
    query = select(MemberSession.token_hash).where(
        MemberSession.token_hash.in_(token_hashes),  # type: ignore[attr-defined]
        MemberSession.expires_at > now,
    )
    if idle is not None:
        query = query.where(MemberSession.last_seen_at > now - idle)
    return set(await s.exec(query))


async def touch_session(db: Database, settings: Settings, hashed_token: str) -> bool:
    """Mark a sign-in as used now, for what a request can't see: a member chatting over a
    WebSocket (chat/ws.py). False when it has ended or run out (idle included): nothing that
    has ended is revived."""
    now = utcnow()
    async with db.transaction() as s:
        touched = await s.exec(
            update(MemberSession)
            .where(
                MemberSession.token_hash == hashed_token,
                MemberSession.expires_at > now,
                MemberSession.last_seen_at > now - timedelta(minutes=settings.session_idle_minutes),
            )
            .values(last_seen_at=now)
        )
    return touched.rowcount == 1


async def list_sessions(db: Database, member: Member) -> list[MemberSession]:
    async with db.read() as s:
        rows = await s.exec(
            select(MemberSession)
            .where(MemberSession.member_id == member.id)
            .order_by(MemberSession.last_seen_at.desc())  # type: ignore[attr-defined]
        )
        return list(rows)


async def revoke_session(db: Database, member: Member, session_id: int) -> str | None:
    """End one of the member's sessions; returns its token hash (None if it wasn't theirs)."""
    async with db.transaction() as s:
        result = await s.exec(
            delete(MemberSession)
            .where(MemberSession.id == session_id, MemberSession.member_id == member.id)
            .returning(MemberSession.token_hash)  # type: ignore[arg-type]
        )
        return result.scalar_one_or_none()


async def revoke_all_sessions(db: Database, member: Member, *, keep: int | None = None) -> int:
    async with db.transaction() as s:
        query = delete(MemberSession).where(MemberSession.member_id == member.id)
        if keep is not None:
            query = query.where(MemberSession.id != keep)
        return (await s.exec(query)).rowcount
