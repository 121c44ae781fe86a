"""What a sanction does to group sessions (kindred.app registers `release_seats` with
moderation, which calls it once a sanction has committed).

A suspension or a ban frees the member's seats in the sessions it covers that are not over
(in its community's sessions, or in all of them when site-wide), so that others can have
them, and closes the member's connections to those rooms; they can RSVP again once it ends.
A mute frees nothing: muted members may still join and listen (chat/groups/service.py).
"""

from __future__ import annotations

from sqlmodel import col, select

from chat.events import tell_member
from chat.frames import error_frame
from chat.gates import CLOSE_GONE
from chat.groups.controls import broadcast
from chat.groups.models import GroupSession, GroupSessionParticipant
from chat.groups.seats import give_seat
from chat.groups.service import LIVE
from core.context import AppContext
from core.errors import Refusal

TAKING_PART = ("rsvp", "lobby", "admitted")  # "removed" stays: a facilitator's decision


async def release_seats(
    ctx: AppContext, member_id: int, kind: str, reason: str, community_id: int | None
) -> None:
    if kind not in ("suspend", "ban"):
        return
    query = (
        select(GroupSessionParticipant, GroupSession)
        .join(GroupSession, col(GroupSession.id) == GroupSessionParticipant.session_id)
        .where(
            GroupSessionParticipant.member_id == member_id,
            col(GroupSessionParticipant.status).in_(TAKING_PART),
            col(GroupSession.status).in_(LIVE),
        )
    )
    if community_id is not None:
        query = query.where(GroupSession.community_id == community_id)
    freed: list[tuple[int, int]] = []
    async with ctx.db.transaction() as s:
        for seat, session in list(await s.exec(query)):
            if seat.seat_held:
                await give_seat(s, session.id)  # type: ignore[arg-type]
            if session.floor_member_id == member_id:
                session.floor_member_id = None
                s.add(session)
            await s.delete(seat)
            freed.append((session.id, session.room_id))  # type: ignore[arg-type]
    code = "suspended" if kind == "suspend" else "banned"
    # In English: said to the member, in the moderator's request (as kindred/app.py's).
    message = (
        f"A moderator has {code} you, so your place in this group session has gone to "
        "someone else" + (f": {reason}" if reason else ".")
    )
    frame = error_frame(Refusal(code, message))
    for session_id, room_id in freed:
        await broadcast(ctx, session_id)
        await tell_member(ctx.broker, member_id, frame, room_id=room_id, close=CLOSE_GONE)
