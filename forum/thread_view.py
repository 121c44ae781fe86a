"""One thread as a member sees it: read in one statement, then shaped for display.

A thread page costs a fixed number of queries however many posts it shows (tests count
them). Reading and shaping are separate steps so that a signed-out reader's page can be
reused while everything it was rendered from is unchanged (forum/rendered.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, func, literal, null, or_, union_all
from sqlmodel import select

from communities import roles
from communities.models import Community, CommunityModerator
from communities.roles import Action
from core.db import Database
from core.errors import Refusal, not_found
from forum.models import (
    REACTIONS,
    AliasBlock,
    AnonymousAlias,
    Post,
    Reaction,
    Thread,
    ThreadFollow,
    ThreadVisit,
    WarningPreference,
)
from identity.models import DELETED_NAME, Member, MemberBlock

PAGE_POSTS = 50


@dataclass
class PostView:
    # A plain row (id, status, html, created_at, edited_at, ...), not an ORM Post: the page
    # shows up to 50 of them and only reads them, so building and tracking ORM objects for
    # each would be wasted work.
    post: Any
    author: str
    author_pseudonym: str | None  # shown to moderators when the post is anonymous
    mine: bool
    is_new: bool
    reactions: dict[str, int] = field(default_factory=dict)
    my_reactions: set[str] = field(default_factory=set)
    # The author's staff badge here: "admin", "moderator" (of this community) or
    # "peer_supporter", as in chat (communities/roles.py); never on anonymous posts.
    badge: str | None = None


@dataclass
class ThreadView:
    thread: Thread
    community: Community
    author: str
    posts: list[PostView]
    next_after: int | None
    following: bool
    moderator: bool
    viewer_is_author: bool
    warning_mode: str  # collapse | show (hide only affects lists)
    hidden_by_block: int
    blocked_labels: tuple[str, ...] = ()  # anonymous labels the viewer blocks here


@dataclass(frozen=True)
class ThreadSource:
    """What one thread page reads from the database, before it is shaped for display."""

    head: Any  # the first row, which carries the thread's and the community's columns
    community: Community
    rows: list[Any]  # the page's posts, as plain rows
    next_after: int | None
    viewer_id: int | None
    moderator: bool
    following: bool = False
    seen: int = 0
    blocked: frozenset[int] = frozenset()
    warning_mode: str = "collapse"
    blocked_labels: frozenset[str] = frozenset()
    see_authors: bool = False  # anonymous posts show who wrote them (audited by the page)

    @cached_property
    def thread(self) -> Thread:
        # Built only when a page is rendered: a reused page never needs the object.
        return Thread(**{c.key: getattr(self.head, f"thread_{c.key}") for c in _THREAD_COLUMNS})

    @property
    def signed_out_key(self) -> tuple:
        """Every value a signed-out reader's page is made from: two sources with equal keys
        render the same page for signed-out readers (see forum/rendered.py)."""
        return (tuple(self.head), tuple(tuple(row) for row in self.rows), self.next_after)


async def thread_view(
    db: Database, thread_id: int, viewer: Member | None, *, after: int = 0
) -> ThreadView:
    return view_of(await thread_source(db, thread_id, viewer, after=after))


async def thread_source(
    db: Database, thread_id: int, viewer: Member | None, *, after: int = 0
) -> ThreadSource:
    viewer_id = viewer.id if viewer else None
    async with db.read() as s:
        # One query for the thread, its community and the page of posts: on SQLite every
        # statement is several hops to the driver's thread, which cost more than the SQL.
        connection = await s.connection()
        params = {"thread_id": thread_id, "after": after}
        if viewer_id is not None:
            params["viewer_id"] = viewer_id
        rows = list(await connection.execute(_page_query(viewer_id is not None), params))
        if not rows:
            raise not_found("thread")
        head = rows[0]
        community = _community_of(head)
        if community.members_only and viewer is None:
            raise Refusal(
                "not_signed_in",
                "This thread is in a members-only community. Sign in to read it.",
                status=401,
            )
        viewer_roles = await roles.roles_in(s, viewer, community.id)
        moderator = roles.allowed(viewer_roles, Action.MODERATE)
        if (
            head.thread_status != "published"
            and not moderator
            and head.thread_author_id != viewer_id
        ):
            raise not_found("thread")
        posts = [row for row in rows if row.id is not None]  # none: a thread with no posts
        page, next_after = posts[:PAGE_POSTS], None
        if len(posts) > PAGE_POSTS:
            next_after = page[-1].id
        if viewer_id is None:
            return ThreadSource(head, community, page, next_after, None, moderator)
        following = await s.get(ThreadFollow, (thread_id, viewer_id)) is not None
        visit = await s.get(ThreadVisit, (thread_id, viewer_id))
        blocks = list(await s.exec(_blocks_query(viewer_id, thread_id)))  # type: ignore[call-overload]
        warning_mode = "collapse"
        if head.thread_content_warning:
            pref = await s.get(WarningPreference, (viewer_id, head.thread_content_warning))
            warning_mode = pref.mode if pref and pref.mode == "show" else "collapse"
        return ThreadSource(
            head,
            community,
            page,
            next_after,
            viewer_id,
            moderator,
            following,
            visit.last_post_id if visit else 0,
            frozenset(member_id for member_id, _ in blocks if member_id is not None),
            warning_mode,
            frozenset(label for _, label in blocks if label is not None),
            roles.allowed(viewer_roles, Action.SEE_AUTHORS),
        )


def view_of(source: ThreadSource) -> ThreadView:
    """Shape what was read for display: names, badges, reactions, hidden and held posts."""
    viewer_id, moderator, seen = source.viewer_id, source.moderator, source.seen
    views: list[PostView] = []
    opening_author = ""
    hidden = 0
    for row in source.rows:
        name = _author_name(row)
        if row.is_opening:
            opening_author = name
        if _blocked(row, source):
            hidden += 1
            continue
        if row.status == "held" and not (moderator or row.author_id == viewer_id):
            continue
        views.append(
            PostView(
                row,
                name,
                _member_name(row) if (row.anonymous and source.see_authors) else None,
                row.author_id == viewer_id,
                # Never "New" to its own author (their reply, just posted, is past `seen`).
                viewer_id is not None and seen > 0 and row.id > seen and row.author_id != viewer_id,
                _reaction_counts(row),
                _my_reactions(row),
                None if row.anonymous else _badge(row),
            )
        )
    return ThreadView(
        source.thread,
        source.community,
        opening_author or "…",
        views,
        source.next_after,
        source.following,
        moderator,
        source.thread.author_id == viewer_id,
        source.warning_mode,
        hidden,
        tuple(sorted(source.blocked_labels)),
    )


def _blocked(row: Any, source: ThreadSource) -> bool:
    """Whether the viewer blocked this post's author: by pseudonym for what they wrote under
    it, by label for what they wrote anonymously (never by pseudonym: that would tell the
    blocker whose anonymous posts vanished). The opening post too, like every other."""
    if row.id is None or row.author_id == source.viewer_id:
        return False
    if row.anonymous:
        return row.alias in source.blocked_labels
    return row.author_id in source.blocked


def _badge(row: Any) -> str | None:
    return roles.author_badge(
        left=row.member_deleted_at is not None,
        admin=bool(row.is_admin),
        peer_supporter=bool(row.is_peer_supporter),
        appointed=bool(row.appointed),
    )


def _member_name(row: Any) -> str:
    return DELETED_NAME if row.member_deleted_at else row.member_pseudonym


def _author_name(row: Any) -> str:
    if row.anonymous:
        return f"Anonymous member {row.alias or ''}".strip()
    return _member_name(row)


def _reaction_columns(post_id: Any, signed_in: bool) -> list:
    """Per post, how many of each reaction it has, then whether the viewer sent each one:
    correlated subqueries, so the page stays one query however many posts it shows."""
    counts = [
        select(func.count())
        .where(Reaction.post_id == post_id, Reaction.kind == kind)
        .scalar_subquery()
        .label(f"n_{kind}")
        for kind in REACTIONS
    ]
    mine = [
        select(func.count())
        .where(
            Reaction.post_id == post_id,
            Reaction.kind == kind,
            Reaction.member_id == bindparam("viewer_id"),
        )
        .scalar_subquery()
        .label(f"mine_{kind}")
        if signed_in
        else literal(0).label(f"mine_{kind}")
        for kind in REACTIONS
    ]
    return counts + mine


_THREAD_COLUMNS = tuple(Thread.__table__.columns)  # type: ignore[attr-defined]


_COMMUNITY_COLUMNS = tuple(Community.__table__.columns)  # type: ignore[attr-defined]


@cache
def _page_query(signed_in: bool) -> Select:
    """The thread, its community and up to PAGE_POSTS + 1 posts after `after`, in one
    statement. Built once per process (with bound parameters): composing it per request
    cost about as much as running it."""
    in_page = and_(Post.thread_id == bindparam("thread_id"), Post.id > bindparam("after"))
    # The page's posts are chosen first, so authors and reactions are looked up for those
    # rows only, not for every post in a long thread.
    page = (
        select(Post).where(in_page).order_by(Post.id).limit(PAGE_POSTS + 1).subquery("page")  # type: ignore[arg-type]
    )
    first_post = select(func.min(Post.id)).where(in_page).scalar_subquery()
    # The thread's and community's columns only on the first row (or the only row, when
    # there are no posts): repeating them on every row would be 50 copies to convert.
    first_row = or_(page.c.id.is_(None), page.c.id == first_post)
    # Whether each post's author moderates this community: their badge, as in chat.
    appointed = (
        select(CommunityModerator.member_id)
        .where(
            CommunityModerator.community_id == Thread.community_id,
            CommunityModerator.member_id == page.c.author_id,
        )
        .exists()
    )
    return (
        select(
            page.c.id,
            page.c.author_id,
            page.c.is_opening,
            page.c.anonymous,
            page.c.status,
            page.c.html,
            page.c.hold_message,
            page.c.crisis,  # its author's held notice says help is there now
            page.c.created_at,
            page.c.edited_at,
            Member.pseudonym.label("member_pseudonym"),  # type: ignore[attr-defined]
            Member.deleted_at.label("member_deleted_at"),  # type: ignore[union-attr]
            Member.is_peer_supporter,
            Member.is_admin,
            appointed.label("appointed"),
            AnonymousAlias.label.label("alias"),  # type: ignore[attr-defined]
            *_reaction_columns(page.c.id, signed_in),
            *(case((first_row, c)).label(f"thread_{c.key}") for c in _THREAD_COLUMNS),
            *(case((first_row, c)).label(f"community_{c.key}") for c in _COMMUNITY_COLUMNS),
        )
        .select_from(Thread)
        .join(Community, Community.id == Thread.community_id)  # type: ignore[arg-type]
        .outerjoin(page, page.c.thread_id == Thread.id)
        .outerjoin(Member, Member.id == page.c.author_id)  # type: ignore[arg-type]
        .outerjoin(
            AnonymousAlias,
            and_(  # type: ignore[arg-type]
                AnonymousAlias.thread_id == page.c.thread_id,
                AnonymousAlias.member_id == page.c.author_id,
            ),
        )
        .where(Thread.id == bindparam("thread_id"))
        .order_by(page.c.id)
    )


def _blocks_query(viewer_id: int, thread_id: int) -> Any:
    """The pseudonyms the viewer blocks, and the anonymous labels they block in this thread,
    in one statement: (member id, None) and (None, label) rows."""
    return union_all(
        select(MemberBlock.blocked_id, null().label("label")).where(
            MemberBlock.blocker_id == viewer_id
        ),
        select(null(), AliasBlock.label).where(
            AliasBlock.member_id == viewer_id, AliasBlock.thread_id == thread_id
        ),
    )


def _community_of(row: Any) -> Community:
    return Community(**{c.key: getattr(row, f"community_{c.key}") for c in _COMMUNITY_COLUMNS})


def _reaction_counts(row: Any) -> dict[str, int]:
    return {kind: n for kind in REACTIONS if (n := getattr(row, f"n_{kind}"))}


def _my_reactions(row: Any) -> set[str]:
    return {kind for kind in REACTIONS if getattr(row, f"mine_{kind}")}
