"""Private thank-yous: storing them and reading them back for the one member they thank.

Forum and chat decide what may be thanked and by whom; moderation vets the words
(moderation/thanks.py). This module only keeps the rows, so both surfaces share one table
without importing each other. Nothing here counts thanks for anyone but their helper.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from communities.models import Thanks

# withheld: to an anonymous reply's author with a block between them (moderation/thanks.py)
STATUSES = ("published", "held", "removed", "withheld")


async def already_sent(s: AsyncSession, sender_id: int, about_kind: str, about_id: int) -> bool:
    query = select(Thanks.id).where(
        Thanks.sender_id == sender_id, Thanks.about_kind == about_kind, Thanks.about_id == about_id
    )
    return (await s.exec(query)).first() is not None


async def add(s: AsyncSession, thanks: Thanks) -> Thanks:
    """Store a thank-you already vetted (inside the caller's transaction)."""
    s.add(thanks)
    await s.flush()
    return thanks


async def by_ids(s: AsyncSession, ids: Iterable[int]) -> dict[int, Thanks]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await s.exec(select(Thanks).where(col(Thanks.id).in_(wanted)))
    return {row.id: row for row in rows}  # type: ignore[misc]


async def set_status(s: AsyncSession, thanks_id: int, status: str) -> None:
    assert status in STATUSES
    thanks = await s.get(Thanks, thanks_id)
    if thanks is not None:
        thanks.status = status
        if status != "held":
            thanks.hold_reason = None
        s.add(thanks)


async def set_note(s: AsyncSession, thanks_id: int, text: str, html: str) -> None:
    """A moderator's edit of a held note."""
    thanks = await s.get(Thanks, thanks_id)
    if thanks is not None:
        thanks.note, thanks.note_html = text, html
        s.add(thanks)


async def received(s: AsyncSession, helper_id: int, *, limit: int = 200) -> list[Thanks]:
    """The published thank-yous a member has received, newest first: for their eyes only."""
    rows = await s.exec(
        select(Thanks)
        .where(Thanks.helper_id == helper_id, Thanks.status == "published")
        .order_by(col(Thanks.created_at).desc(), col(Thanks.id).desc())
        .limit(limit)
    )
    return list(rows)


async def thankers(s: AsyncSession, helper_id: int) -> set[int]:
    """Who has thanked this member (published thank-yous only), for their own count."""
    rows = await s.exec(
        select(Thanks.sender_id)
        .where(Thanks.helper_id == helper_id, Thanks.status == "published")
        .distinct()
    )
    return set(rows)


async def export_thanks(s: AsyncSession, member_id: int) -> dict[str, list[dict[str, object]]]:
    """For the member's data download: the thank-yous they sent (their words, and where they
    stand) and those they received, as their own page shows them."""
    sent = await s.exec(
        select(Thanks).where(Thanks.sender_id == member_id).order_by(col(Thanks.id))
    )
    received = await s.exec(
        select(Thanks)
        .where(Thanks.helper_id == member_id, Thanks.status == "published")
        .order_by(col(Thanks.id))
    )
    return {
        "sent": [
            {
                "for": t.place.replace("your ", "their ", 1),
                "note": t.note,
                # A withheld one reads as sent: saying otherwise would say who wrote it.
                "status": "published" if t.status == "withheld" else t.status,
                "sent_at": t.created_at.isoformat(),
            }
            for t in sent
        ],
        "received": [
            {
                "for": t.place,
                "note": t.note,
                "from_a_member": t.anonymous,
                "received_at": t.created_at.isoformat(),
            }
            for t in received
        ],
    }


async def erase_thanks(s: AsyncSession, member_id: int) -> None:
    """On erasure: every thank-you they sent goes (their words), and every one they got."""
    await s.exec(
        delete(Thanks).where(
            (col(Thanks.sender_id) == member_id) | (col(Thanks.helper_id) == member_id)
        )
    )


async def forget_received_thanks(s: AsyncSession, member_id: int) -> None:
    """On every deletion: the thank-yous to them go (nobody is left to read them). Those they
    sent stay with the helper, from "[deleted member]", unless they chose to erase."""
    await s.exec(delete(Thanks).where(col(Thanks.helper_id) == member_id))
