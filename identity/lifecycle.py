"""Exporting and deleting an account, and what happens then to what the member wrote.

Identity does not know what forum posts or chat messages are. Feature packages register
an exporter and an eraser here at composition time (kindred.app), and identity calls them
inside its own transaction, so a deletion is all-or-nothing. An eraser runs only when the
member chose to erase what they wrote; a leaver runs on every deletion (before the
pseudonym is replaced, so it can still find what carries it). Either way the pseudonym,
the passphrase, the sessions, the recovery codes and the blocks go.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import Database, utcnow
from identity.models import DELETED_NAME, Member, MemberBlock, MemberSession, RecoveryCode
from identity.signin import require_passphrase

Exporter = Callable[[AsyncSession, int], Awaitable[Any]]
Eraser = Callable[[AsyncSession, int], Awaitable[None]]


@dataclass
class MemberContentHooks:
    exporters: dict[str, Exporter] = field(default_factory=dict)
    erasers: list[Eraser] = field(default_factory=list)
    leavers: list[Eraser] = field(default_factory=list)

    def register(
        self, name: str, exporter: Exporter, eraser: Eraser, leaver: Eraser | None = None
    ) -> None:
        self.exporters[name] = exporter
        self.erasers.append(eraser)
        if leaver is not None:
            self.leavers.append(leaver)


async def delete_account(
    db: Database, hooks: MemberContentHooks, member: Member, passphrase: str, *, erase: bool
) -> None:
    """Delete an account. erase=True removes everything they wrote; otherwise their content
    stays, shown under "[deleted member]". Either way the pseudonym and credentials go."""
    await require_passphrase(member, passphrase)
    async with db.transaction() as s:
        for hook in [*(hooks.erasers if erase else []), *hooks.leavers]:
            await hook(s, member.id)  # type: ignore[arg-type]
        for table, column in (
            (MemberSession, MemberSession.member_id),
            (RecoveryCode, RecoveryCode.member_id),
        ):
            await s.exec(delete(table).where(column == member.id))
        await s.exec(
            delete(MemberBlock).where(
                or_(MemberBlock.blocker_id == member.id, MemberBlock.blocked_id == member.id)
            )
        )
        await s.exec(
            update(Member)
            .where(Member.id == member.id)
            .values(
                pseudonym=DELETED_NAME,
                pseudonym_key=f"~deleted~{member.id}",
                pseudonym_skeleton=None,
                passphrase_hash=None,
                is_admin=False,
                is_peer_supporter=False,
                country=None,
                deleted_at=utcnow(),
            )
        )
    await db.scrub()  # what was just deleted must not linger in the database's files


async def export_account(db: Database, hooks: MemberContentHooks, member: Member) -> dict[str, Any]:
    """Everything the member wrote, as JSON-ready data."""
    async with db.read() as s:
        content = {name: await export(s, member.id) for name, export in hooks.exporters.items()}  # type: ignore[arg-type]
        blocked = await s.exec(
            select(Member.pseudonym)
            .join(MemberBlock, MemberBlock.blocked_id == Member.id)  # type: ignore[arg-type]
            .where(MemberBlock.blocker_id == member.id)
        )
        blocked_names = list(blocked)
    return {
        "format": "kindred-export-1",
        "exported_at": utcnow().isoformat(),
        "member": {
            "pseudonym": member.pseudonym,
            "roles": member.roles,
            "joined_at": member.created_at.isoformat(),
            # None: helplines follow the browser's language (identity/country.py).
            "country": member.country,
        },
        "blocked_members": blocked_names,
        "content": content,
    }
