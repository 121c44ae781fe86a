"""Saying a private thank-you in chat: for a message in a community's open room, or for a
1:1 support conversation once it has ended (either of its two people may thank the other).

Chat decides what may be thanked and who is thanked; the rest (once only, blocks, the
pipeline) is the one front door in moderation. Rooms are named rooms, so the sender shows
under their pseudonym; in a 1:1 each already knows the other's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from chat.models import ChatMessage
from chat.rooms import room_by_slug
from chat.support.access import conversation_for
from chat.support.requests import community_name, name_of
from core.context import AppContext
from core.errors import Refusal
from core.i18n import N_
from core.i18n import gettext as _
from identity.models import Member
from moderation import api as moderation


@dataclass(frozen=True)
class Thankable:
    to: str  # who is thanked, as the sender sees them
    about: str  # what for, as the sender reads it ("their message in Grief")
    back_url: str
    back_label: str
    thanks: moderation.ThanksFor


# One whole sentence for each thing there may be nothing of (a word put into a sentence can't
# agree with it in every language).
_GONE = {
    "message": N_("There's no message at this address to say thank you for."),
    "conversation": N_("There's no conversation at this address to say thank you for."),
}


def _gone(what: str) -> Refusal:
    return Refusal("not_found", _(_GONE[what]), 404)


async def thankable_message(ctx: AppContext, sender: Member, slug: str, seq: int) -> Thankable:
    """A published message in an open room the sender can read."""
    room = await room_by_slug(ctx.db, slug, sender)
    if room.kind != "public":
        raise _gone("message")
    async with ctx.db.read() as s:
        message = (
            await s.exec(
                select(ChatMessage).where(
                    ChatMessage.room_id == room.id,
                    ChatMessage.seq == seq,
                    ChatMessage.status == "published",
                )
            )
        ).first()
        author = await s.get(Member, message.author_id) if message else None
    if message is None:
        raise _gone("message")
    return Thankable(
        to=name_of(author),
        about=_("their message in %(room)s") % {"room": room.name},
        back_url=f"/chat/{room.slug}#m{seq}",
        back_label=_("Back to %(room)s") % {"room": room.name},
        thanks=moderation.ThanksFor(
            kind="chat_message",
            id=message.id,  # type: ignore[arg-type]
            helper_id=message.author_id,
            community_id=room.community_id,
            place=f"your message in the {room.name} chat room",
            url=f"/chat/{room.slug}#m{seq}",
        ),
    )


async def thankable_conversation(ctx: AppContext, sender: Member, slug: str) -> Thankable:
    """An ended 1:1 conversation, for either of its two people to thank the other."""
    conversation = await conversation_for(ctx.db, slug, sender)
    found, room = conversation.request, conversation.room
    if conversation.role not in ("member", "supporter"):
        raise _gone("conversation")
    if found.status != "ended":
        raise Refusal(
            "not_ended",
            _("You can say thank you once the conversation has ended."),
            status=409,
        )
    other_id = found.supporter_id if conversation.role == "member" else found.member_id
    if other_id is None:
        raise _gone("conversation")
    async with ctx.db.read() as s:
        other = await s.get(Member, other_id)
        topic = await community_name(s, found.community_id)
    # Stored in English with the thank-you (kindred/thanks_pages.py reads it back in the
    # helper's language); shown to the sender in theirs.
    place = f"your 1:1 conversation about {topic}" if topic else "your 1:1 conversation"
    about = (
        _("your 1:1 conversation about %(topic)s") % {"topic": topic}
        if topic
        else _("your 1:1 conversation")
    )
    return Thankable(
        to=name_of(other),
        about=about,
        back_url=f"/support/conversations/{room.slug}",
        back_label=_("Back to the conversation"),
        thanks=moderation.ThanksFor(
            kind="support",
            id=found.id,  # type: ignore[arg-type]
            helper_id=other_id,
            community_id=found.community_id,
            place=place,
            url="",  # its messages are deleted after it ends: nothing to link to
        ),
    )


async def send(
    ctx: AppContext, sender: Member, found: Thankable, note: str, *, region: str | None
) -> moderation.SentThanks:
    return await moderation.send_thanks(ctx, sender, found.thanks, note, region=region)
