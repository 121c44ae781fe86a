""" "Ask a peer supporter to check on someone": a member worried about another asks, from a
post or chat message they can see, for a supporter to check in.

It is built so that it can't be turned into a way of bothering someone:
- the person asked about is named by the content only, so an anonymous author stays
  anonymous to the asker, and nothing a supporter is shown names the asker;
- there is at most one open request per member as others see them (their pseudonym, or one
  anonymous label), and asks within a day of the last one fold into it (raising its count)
  rather than making another;
- each asker has the ``check_in`` rate limit;
- if the person asked about has blocked the asker, an ask about what they wrote under their
  pseudonym is recorded for moderators but never reaches supporters (a block must not be
  worked round through them), and the asker is told nothing different (which would reveal
  the block);
- anonymous content is asked about apart from its author's named content (per persona), and
  neither their blocks nor their leaving change what anyone sees of an ask about it: either
  would tell the asker or the supporters whose it is;
- moderators can see who asked about whom and how often; each look is an audit row.

No HTTP here: pages and the JSON API share these functions.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from communities import roles
from communities.roles import Action
from core.context import AppContext
from core.db import utcnow
from core.errors import Refusal
from core.i18n import N_, gettext, ngettext
from identity.models import Member, MemberBlock
from moderation.audit import record
from moderation.models import CheckInAsk, CheckInRequest
from moderation.reveals import REVEAL
from moderation.scope import in_scope, moderation_scope
from moderation.targets import ModerationRegistry, TargetView

FOLD_WITHIN = timedelta(days=1)
# Marked here, translated where shown (templates/moderation/queue.html; Asked.message).
RESOLUTIONS = {"checked_in": N_("A supporter checked in"), "no_need": N_("No need to check in")}

OPENED = N_(
    "Thank you for looking out for them. A peer supporter will check in with them soon. "
    "They won't be told who asked."
)
ALREADY_KNOWN = N_(
    "Thank you for looking out for them. Peer supporters already know and will check in "
    "with them; they won't be told who asked."
)


@dataclass(frozen=True)
class Asked:
    folded: bool  # True when supporters already knew (the ask joined an existing request)

    @property
    def message(self) -> str:
        return gettext(ALREADY_KNOWN if self.folded else OPENED)


@dataclass(frozen=True)
class CheckInItem:
    """A request as a peer supporter sees it: the content and how many asked, never who."""

    request: CheckInRequest
    view: TargetView | None


async def target_of(
    s: AsyncSession, registry: ModerationRegistry, asker: Member, kind: str, public_id: str
) -> TargetView:
    """The content an ask is about, if the asker can see it (published, not withdrawn)."""
    target = registry.targets.get(kind)
    if target is None:
        raise Refusal("invalid", gettext("You can ask about a post or a chat message."))
    target_id = await target.lookup(s, public_id, asker)
    view = (await target.view(s, [target_id])).get(target_id) if target_id else None
    if view is None or view.status != "published" or view.author_id is None:
        raise Refusal(
            "not_found",
            gettext("That post or message isn't there any more, or you can't see it."),
            404,
        )
    if view.private:
        # Its words would reach every peer supporter's queue; a session's facilitator or the
        # conversation's supporter is already there, and a report reaches moderators.
        raise Refusal(
            "private",
            gettext(
                "Asking a supporter to check in works for posts and open chat rooms. In a group "
                "session or a private conversation, tell the facilitator or your supporter "
                "there, or report the message. If someone is in danger right now, call your "
                "local emergency number."
            ),
        )
    subject = await s.get(Member, view.author_id)
    # An anonymous post stays askable after its author leaves: "they have left" would tell
    # the asker that the anonymous author is the member whose named posts just turned
    # "[deleted member]".
    if subject is None or (subject.deleted_at is not None and not view.anonymous):
        raise Refusal(
            "not_found",
            gettext("The member who wrote that has left Kindred, so nobody can reach them."),
            404,
        )
    if view.author_id == asker.id:
        raise Refusal(
            "yourself",
            gettext(
                "This is for asking about someone else. If you're finding things hard, you can "
                "talk to a peer supporter yourself, or see the helplines."
            ),
        )
    return view


async def ask(
    ctx: AppContext, registry: ModerationRegistry, asker: Member, *, kind: str, public_id: str
) -> Asked:
    async with ctx.db.read() as s:
        view = await target_of(s, registry, asker, kind, public_id)
    # Counted before the write (no waiting on Redis while holding the writer), folded asks
    # included: a limit on asking, not on requests made.
    blocked = await ctx.rate_limits.hit("check_in", f"m:{asker.id}")
    if blocked:
        raise Refusal(
            "rate_limited",
            ngettext(
                "You've asked several times today. Please wait %(num)d minute. If someone is "
                "in danger right now, call your local emergency number.",
                "You've asked several times today. Please wait %(num)d minutes. If someone is "
                "in danger right now, call your local emergency number.",
                blocked.minutes,
            )
            % {"num": blocked.minutes},
            status=429,
        )
    try:
        return await _record_ask(ctx, asker, view)
    except IntegrityError:  # another ask opened the request at the same moment: fold into it
        return await _record_ask(ctx, asker, view)


async def _record_ask(ctx: AppContext, asker: Member, view: TargetView) -> Asked:
    subject_id = view.author_id
    assert subject_id is not None
    persona = view.persona
    async with ctx.db.transaction() as s:
        existing = await _current_request(s, subject_id, persona)
        folded = existing is not None or await _asked_lately(s, subject_id, persona)
        # Anonymous content is asked about as anyone's would be: its author's blocks (made
        # by pseudonym) and their leaving don't stop it reaching supporters, whose queue
        # would otherwise show which anonymous posts are theirs.
        withheld = not view.anonymous and (
            await s.get(MemberBlock, (subject_id, asker.id)) is not None
        )
        ask = CheckInAsk(
            asker_id=asker.id,  # type: ignore[arg-type]
            subject_id=subject_id,
            persona=persona,
            target_kind=view.kind,
            target_id=view.id,
            withheld=withheld,
        )
        if withheld:
            s.add(ask)
            return Asked(folded=folded)
        if existing is None:
            request = CheckInRequest(
                subject_id=subject_id,
                persona=persona,
                community_id=view.community_id,
                target_kind=view.kind,
                target_id=view.id,
            )
            s.add(request)
            await s.flush()
            ask.request_id = request.id
            s.add(ask)
            return Asked(folded=folded)
        ask.request_id = existing.id
        asked_before = (
            await s.exec(
                select(func.count())
                .select_from(CheckInAsk)
                .where(CheckInAsk.request_id == existing.id, CheckInAsk.asker_id == asker.id)
            )
        ).one()
        if not asked_before and existing.closed_at is None:
            # One count per member who is worried, however often they ask.
            await s.exec(
                update(CheckInRequest)
                .where(col(CheckInRequest.id) == existing.id)
                .values(ask_count=CheckInRequest.ask_count + 1)
            )
        s.add(ask)
        return Asked(folded=True)


async def _asked_lately(s: AsyncSession, subject_id: int, persona: str) -> bool:
    """Whether anyone asked about this member, as this persona, in the last day, withheld
    asks included. What an asker is told depends on this and on the request, never on
    whether the ask reaches supporters: otherwise asking twice would tell a blocked asker
    about the block, or tell anyone that an anonymous author has left."""
    since = utcnow() - FOLD_WITHIN
    found = await s.exec(
        select(CheckInAsk.id)
        .where(
            CheckInAsk.subject_id == subject_id,
            CheckInAsk.persona == persona,
            col(CheckInAsk.created_at) >= since,
        )
        .limit(1)
    )
    return found.first() is not None


async def _current_request(s: AsyncSession, subject_id: int, persona: str) -> CheckInRequest | None:
    """The open request about a member as this persona, or one opened in the last day (even
    if a supporter has closed it): at most one a day.

    Per persona: an ask about someone's anonymous post folding into the request about their
    named posts would tell the asker ("supporters already know") and the supporters (one
    card, its count going up) that the two are the same person."""
    since = utcnow() - FOLD_WITHIN
    return (
        await s.exec(
            select(CheckInRequest)
            .where(
                CheckInRequest.subject_id == subject_id,
                CheckInRequest.persona == persona,
                or_(
                    col(CheckInRequest.closed_at).is_(None),
                    col(CheckInRequest.opened_at) >= since,
                ),
            )
            .order_by(col(CheckInRequest.closed_at).is_not(None), col(CheckInRequest.id).desc())
        )
    ).first()


# --------------------------------------------------------------------------- supporters


async def open_requests(
    ctx: AppContext, registry: ModerationRegistry, viewer: Member, *, limit: int = 50
) -> list[CheckInItem]:
    """Open requests, most-asked first, then oldest. Never one about the viewer."""
    async with ctx.db.read() as s:
        # Peer supporters and admins see every request; moderators those in their communities.
        scope = await roles.communities_where(s, viewer, Action.REACH_OUT)
        if scope == set():
            raise Refusal(
                "forbidden",
                gettext("Only peer supporters and moderators see check-in requests."),
                403,
            )
        query = select(CheckInRequest).where(
            col(CheckInRequest.closed_at).is_(None), CheckInRequest.subject_id != viewer.id
        )
        if scope is not None:
            query = query.where(col(CheckInRequest.community_id).in_(scope))
        query = query.order_by(
            col(CheckInRequest.ask_count).desc(), col(CheckInRequest.opened_at)
        ).limit(limit)
        requests = list(await s.exec(query))
        views = await registry.views(s, ((r.target_kind, r.target_id) for r in requests))
    return [CheckInItem(r, views.get((r.target_kind, r.target_id))) for r in requests]


async def close(
    ctx: AppContext, viewer: Member, request_id: int, resolution: str, note: str = ""
) -> CheckInRequest:
    if resolution not in RESOLUTIONS:
        raise Refusal("invalid", gettext("Choose whether you checked in or there's no need."))
    async with ctx.db.transaction() as s:
        scope = await roles.communities_where(s, viewer, Action.REACH_OUT)
        if scope == set():  # the same answer whatever the id
            raise Refusal(
                "forbidden",
                gettext("Only peer supporters and moderators close check-in requests."),
                403,
            )
        request = await s.get(CheckInRequest, request_id)
        # One they may not see (another community's; one about themselves) reads as gone.
        if (
            request is None
            or request.closed_at is not None
            or request.subject_id == viewer.id
            or not in_scope(scope, request.community_id)
        ):
            raise Refusal("not_found", gettext("That request is already closed."), 404)
        request.closed_at, request.closed_by_id, request.resolution = (
            utcnow(),
            viewer.id,
            resolution,
        )
        s.add(request)
        # The row names neither the asker nor the member asked about.
        await record(
            s, viewer, "close_check_in", "check_in", request.id, request.community_id, note
        )
    return request


# --------------------------------------------------------------------------- moderators


@dataclass(frozen=True)
class AskRecord:
    ask: CheckInAsk
    asker: Member
    view: TargetView | None


@dataclass(frozen=True)
class WhoAsked:
    """Everything asked about one member, for moderators looking for misuse."""

    subject: Member
    asks: list[AskRecord]
    by_asker: Counter[int]  # asks about this member, per asker, all time
    asker_totals: dict[int, int]  # each asker's asks about anyone in the last 30 days


async def who_asked(
    ctx: AppContext, registry: ModerationRegistry, moderator: Member, request_id: int
) -> WhoAsked:
    """Who asked about the member a request is about, and how often: a reveal, so it is
    audited (in the same transaction as the read)."""
    async with ctx.db.transaction() as s:
        scope = await moderation_scope(s, moderator)  # moderates nowhere: 403 for any id
        request = await s.get(CheckInRequest, request_id)
        if request is None or not in_scope(scope, request.community_id):
            raise Refusal("not_found", gettext("There's no such check-in request."), 404)
        subject = await s.get(Member, request.subject_id)
        assert subject is not None
        asks = list(
            await s.exec(
                select(CheckInAsk)
                .where(CheckInAsk.subject_id == request.subject_id)
                .order_by(col(CheckInAsk.id).desc())
                .limit(200)
            )
        )
        asker_ids = {a.asker_id for a in asks}
        askers = {
            m.id: m for m in await s.exec(select(Member).where(col(Member.id).in_(asker_ids)))
        }
        since = utcnow() - timedelta(days=30)
        totals = {
            asker_id: count
            for asker_id, count in await s.exec(
                select(CheckInAsk.asker_id, func.count())
                .where(col(CheckInAsk.asker_id).in_(asker_ids), CheckInAsk.created_at >= since)
                .group_by(CheckInAsk.asker_id)
            )
        }
        views = await registry.views(s, ((a.target_kind, a.target_id) for a in asks))
        await record(
            s,
            moderator,
            "reveal_check_in_askers",
            "member",
            request.subject_id,
            request.community_id,
            f"check-in request {request.id}",
        )
        # The page names the member beside each thing asked about: for anonymous posts that
        # is a look behind them, audited as on the thread page, and shown to the member.
        for view in views.values():
            if view.anonymous:
                await record(
                    s,
                    moderator,
                    REVEAL,
                    view.kind,
                    view.id,
                    view.community_id,
                    f"check-in request {request.id}",
                    subject_id=request.subject_id,
                )
    return WhoAsked(
        subject,
        [AskRecord(a, askers[a.asker_id], views.get((a.target_kind, a.target_id))) for a in asks],
        Counter(a.asker_id for a in asks),
        totals,
    )


# --------------------------------------------------------------------------- accounts


async def export_asks(s: AsyncSession, member_id: int) -> list[dict[str, object]]:
    """A member's own asks, for their export: what they asked about and when (never whether
    it reached supporters)."""
    rows = await s.exec(
        select(CheckInAsk).where(CheckInAsk.asker_id == member_id).order_by(col(CheckInAsk.id))
    )
    return [
        {"kind": a.target_kind, "id": a.target_id, "asked_at": a.created_at.isoformat()}
        for a in rows
    ]


async def erase_asks(s: AsyncSession, member_id: int) -> None:
    """On erasure: the member's asks, and the requests about them, go."""
    await s.exec(CheckInAsk.__table__.delete().where(CheckInAsk.asker_id == member_id))  # type: ignore[attr-defined]
    await s.exec(CheckInRequest.__table__.delete().where(CheckInRequest.subject_id == member_id))  # type: ignore[attr-defined]


async def close_requests_about(s: AsyncSession, member_id: int) -> None:
    """On every deletion: a request still open about a member who left is closed (nobody is
    there to check on). Kept content keeps the asks about it, for moderators.

    Not those about their anonymous posts: cards about "Anonymous member A" vanishing from
    the supporters' queue as the member's named posts turn "[deleted member]" would tell
    supporters whose they were. Those close as any other, by a supporter."""
    await s.exec(
        update(CheckInRequest)
        .where(
            col(CheckInRequest.subject_id) == member_id,
            CheckInRequest.persona == "",
            col(CheckInRequest.closed_at).is_(None),
        )
        .values(closed_at=utcnow(), resolution="member_left")
    )
