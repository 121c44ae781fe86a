"""A private thank-you, from any member to someone whose reply, message or conversation
helped: the one front door forum and chat send them through.

Forum and chat decide what is being thanked, who helped and whether the sender is
anonymous there (`ThanksFor`); this module applies what is the same everywhere: not
yourself, once per thing, blocks both ways, and the sender's words through `vet` like any
member's (published; held for a moderator, and the sender told; refused with the reason
and their words back). The rows are communities' (communities/thanks.py), so that forum
and chat share one table without importing each other. `ThanksTarget` lets moderators
act on a held note (kindred.app registers it).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from communities import thanks as store
from communities.models import Thanks
from core.context import AppContext
from core.errors import Refusal
from core.i18n import gettext as _
from identity.blocks import blocked_ids
from identity.models import DELETED_NAME, Member
from moderation.cases import open_case
from moderation.targets import AfterCommit, TargetView
from moderation.vetting import THANKS_NOTE, Place, vet

KIND = "thanks"  # the moderation target kind
MAX_CHARS = 500
# What an empty thank-you says (and what is vetted for it: the sender's standing and the
# rate limit still apply, through the one front door).
WORDLESS = "Thank you."


@dataclass(frozen=True)
class ThanksFor:
    """What is being thanked, as the surface that owns it sees it."""

    kind: str  # post | chat_message | support
    id: int
    helper_id: int
    community_id: int | None
    place: str  # how the helper reads where it was: "your reply in “Sleepless again”"
    url: str = ""  # where the helper can find it ("" when it won't last, like a 1:1)
    anonymous: bool = False  # the sender is anonymous there: the helper sees "a member"
    # The helper wrote it under an alias: the sender must not learn from a refusal that a
    # block lies between them (it would say who wrote it), so a blocked one is withheld.
    helper_hidden: bool = False


@dataclass(frozen=True)
class SentThanks:
    held: bool
    message: str  # what the sender is told


async def send_thanks(
    ctx: AppContext, sender: Member, about: ThanksFor, note: str, *, region: str | None = None
) -> SentThanks:
    """Vet and store one thank-you. Raises Refusal (with the note kept) when it can't go."""
    note = note.strip()
    async with ctx.db.read() as s:
        withheld = await _may_send(s, sender, about, note)
    place = Place(THANKS_NOTE, about.community_id, anonymous=about.anonymous)
    verdict = await vet(ctx, sender, place, note or WORDLESS, region=region)
    if verdict.refused:
        raise verdict.refusal(draft=note)
    held = verdict.held and not withheld
    async with ctx.db.transaction() as s:
        withheld = await _may_send(s, sender, about, note)  # again, in the write
        held = held and not withheld
        row = await store.add(
            s,
            Thanks(
                sender_id=sender.id,  # type: ignore[arg-type]
                helper_id=about.helper_id,
                about_kind=about.kind,
                about_id=about.id,
                community_id=about.community_id,
                anonymous=about.anonymous,
                place=about.place[:240],
                url=about.url[:200],
                note=verdict.text if note else "",
                note_html=verdict.html if note else "",
                status="withheld" if withheld else "held" if held else "published",
                hold_reason=verdict.reason.code if held and verdict.reason else None,
            ),
        )
        if held:
            await open_case(
                s,
                kind=KIND,
                target_id=row.id,  # type: ignore[arg-type]
                community_id=about.community_id,
                author_id=sender.id,
                held=True,
                crisis=verdict.crisis,
                crisis_why=verdict.crisis_why,
            )
    if held:
        why = verdict.reason.message if verdict.reason else ""
        waiting = _(
            "Your thank-you is waiting for a moderator to read it first, and goes to them "
            "once it has been read."
        )
        return SentThanks(True, f"{waiting} {why}".strip())
    return SentThanks(False, _("Your thank-you is on its way. Only they will see it."))


async def _may_send(s: AsyncSession, sender: Member, about: ThanksFor, note: str) -> bool:
    """Refuses what can't be sent; True when it is to be withheld (kept, never shown)."""
    if about.helper_id == sender.id:
        raise Refusal("yourself", _("You can't thank yourself."), draft=note)
    if await store.already_sent(s, sender.id, about.kind, about.id):  # type: ignore[arg-type]
        raise Refusal(
            "already_thanked",
            _("You've already said thank you for this. They'll see it on their own page."),
            status=409,
            draft=note,
        )
    # Either way round a block stops it: no words reach someone who chose not to hear
    # from the sender, and none go to someone the sender chose not to see. The message
    # says no more than that it can't be sent.
    if sender.id in await blocked_ids(s, about.helper_id) or about.helper_id in await blocked_ids(
        s,
        sender.id,  # type: ignore[arg-type]
    ):
        if about.helper_hidden:
            # Blocks are between pseudonyms, and an alias hides which one wrote this: a
            # refusal here would tell the sender. It is answered as sent and never shown.
            return True
        raise Refusal(
            "blocked",
            _("This thank-you can't be sent: one of you has blocked the other."),
            status=403,
            draft=note,
        )


class ThanksTarget:
    """How moderators act on a held thank-you: approve sends it, remove stops it."""

    kind = KIND
    label = "thank-you"

    async def lookup(self, s: AsyncSession, public_id: str, viewer: Member) -> int | None:
        return None  # not reported through the report form; the helper can block instead

    async def view(self, s: AsyncSession, ids: list[int]) -> dict[int, TargetView]:
        rows = await store.by_ids(s, ids)
        wanted = {row.sender_id for row in rows.values()}
        senders = {
            m.id: m for m in await s.exec(select(Member).where(col(Member.id).in_(wanted)))
        }  # one read for the page, not one per thank-you
        views = {}
        for thanks_id, row in rows.items():
            sender = senders.get(row.sender_id)
            name = DELETED_NAME if sender is None or sender.deleted_at else sender.pseudonym
            views[thanks_id] = TargetView(
                kind=KIND,
                id=thanks_id,
                community_id=row.community_id,
                author_id=row.sender_id,
                # Anonymous there, anonymous here: a moderator reveals who (audited).
                author_name=_("A member (anonymous)") if row.anonymous else name,
                html=row.note_html or f"<p>{_('Thank you.')}</p>",
                status=row.status,
                context_title=_("A private thank-you for %(what)s")
                % {"what": row.place.removeprefix("your ")},
                context_url=row.url,
                anonymous=row.anonymous,
                persona=f"thank-you {thanks_id}" if row.anonymous else "",
                private=True,
                hold_reason=row.hold_reason if row.status == "held" else None,
            )
        return views

    async def set_hidden(
        self, s: AsyncSession, target_id: int, hidden: bool, after_commit: AfterCommit
    ) -> None:
        row = (await store.by_ids(s, [target_id])).get(target_id)
        if row is not None and row.status != "held":
            await store.set_status(s, target_id, "removed" if hidden else "published")

    async def approve(self, s: AsyncSession, target_id: int, after_commit: AfterCommit) -> None:
        await store.set_status(s, target_id, "published")

    async def remove(self, s: AsyncSession, target_id: int, after_commit: AfterCommit) -> None:
        await store.set_status(s, target_id, "removed")

    async def edit(
        self, s: AsyncSession, target_id: int, text: str, html: str, after_commit: AfterCommit
    ) -> None:
        await store.set_note(s, target_id, text, html)

    async def lock(self, s: AsyncSession, target_id: int, after_commit: AfterCommit) -> None:
        return None  # nothing to lock: a thank-you has no replies

    async def published_count(
        self,
        s: AsyncSession,
        author_id: int,
        community_id: int | None,
        *,
        anonymous: bool | None,
        limit: int,
        waiting: bool = False,
    ) -> int:
        return 0  # saying thank you earns no trust: trust comes from what others read
