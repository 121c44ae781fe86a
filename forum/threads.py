"""Threads and posts: starting a thread, replying, editing, withdrawing, and the publish
path a held post takes once a moderator approves it.

Validate, then write, then tell: a member's words are vetted (moderation.vet runs the
pipeline on a worker thread: Markdown and bleach are CPU work) before the short write
transaction opens; notices are written in the same transaction as the post they are about.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ParamSpec, TypeVar

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from communities.models import Community
from core.context import AppContext
from core.db import utcnow
from core.errors import Refusal, not_found
from core.i18n import gettext as _
from forum import search
from forum.aliases import assign_alias
from forum.been_there import check_ask, start_ask, tell_matching
from forum.models import HELP_TYPES, THREAD_KINDS, Post, PostRevision, Thread, ThreadFollow
from forum.notifications import followers_of, notify_mentions, notify_reply
from forum.queries import may_see_post, post_and_thread, thread_for_member
from identity.models import Member
from moderation import api as moderation

P = ParamSpec("P")
PublishedT = TypeVar("PublishedT")


@dataclass(frozen=True)
class Published:
    """What became of a member's text: published or held (refusals raise Refusal). A resent
    submission is answered with the original post and no verdict: it was not vetted again."""

    thread: Thread
    post: Post
    verdict: moderation.Verdict | None

    @property
    def held(self) -> bool:
        return self.post.status == "held"

    @property
    def resent(self) -> bool:
        return self.verdict is None


# A submission id: what a form or client sends so that sending the same words again (an
# outbox flushing when the link returns, a browser resending a form whose answer was lost)
# finds the first post instead of making a second one.
SUBMISSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")


def _submission(submission_id: str | None) -> str | None:
    if not submission_id:
        return None
    if not SUBMISSION_ID.match(submission_id):
        raise Refusal(
            "invalid", _("A submission id is 1–64 letters, digits, dashes or _."), status=400
        )
    return submission_id


async def _write_once(
    ctx: AppContext,
    member: Member,
    submission_id: str | None,
    body: str,
    write: Callable[[str | None], Awaitable[Published]],
) -> Published:
    """`write` with the submission id. When the unique index says the same id was used at the
    same instant, the same words are answered with the post that won; other words (a forged
    or replayed form) are written again without the id: a post of their own, never lost."""
    try:
        return await write(submission_id)
    except IntegrityError:
        if sent := (await _resend(ctx, member, submission_id, body))[0]:
            return sent
        return await write(None)


async def _resend(
    ctx: AppContext, member: Member, submission_id: str | None, body: str
) -> tuple[Published | None, str | None]:
    """(the post this is a resend of, if it is one; the submission id a new post keeps).

    A resend carries the same words. The same id with other words is a new post written on
    a page the browser kept (the back button, a cached copy): it is posted, without the id,
    rather than mistaken for the first and lost."""
    if submission_id is None:
        return None, None
    async with ctx.db.read() as s:
        found = (
            await s.exec(
                select(Post, Thread)
                .join(Thread, Thread.id == Post.thread_id)  # type: ignore[arg-type]
                .where(Post.author_id == member.id, Post.submission_id == submission_id)
            )
        ).first()
    if found is None:
        return None, submission_id
    post, thread = found
    if post.body.split() == body.split():
        return Published(thread, post, None), submission_id
    return None, None


async def _vet(
    ctx: AppContext,
    member: Member,
    surface: moderation.Surface,
    community_id: int,
    text: str | dict[str, str],
    *,
    anonymous: bool,
    region: str | None,
) -> moderation.Verdict:
    """moderation.vet, refusing with the member's words kept (a refusal names its field)."""
    place = moderation.Place(surface, community_id, anonymous=anonymous)
    verdict = await moderation.vet(ctx, member, place, text, region=region)
    if verdict.refused:
        raise verdict.refusal(draft=_draft(text))
    return verdict


def _draft(text: str | Mapping[str, str]) -> str:
    """What the member wrote, as one text they can copy back (a thread's title, then its
    body)."""
    parts = [text] if isinstance(text, str) else list(text.values())
    return "\n\n".join(part.strip() for part in parts if part.strip())


def _keeps_draft(
    service: Callable[P, Awaitable[PublishedT]],
) -> Callable[P, Awaitable[PublishedT]]:
    """Whatever refuses a member's words (a lock, a thread gone while they wrote, a choice
    on the form), the refusal carries the words back (`title`, `body`), so the page or client
    that shows it can give them back: nothing a member writes is silently dropped."""

    @functools.wraps(service)
    async def keeping(*args: P.args, **kwargs: P.kwargs) -> PublishedT:
        try:
            return await service(*args, **kwargs)
        except Refusal as refusal:
            if not refusal.draft:
                written = {k: kwargs.get(k) for k in ("title", "body")}
                refusal.draft = _draft({k: v for k, v in written.items() if isinstance(v, str)})
            raise

    return keeping


async def preview(
    ctx: AppContext,
    member: Member | None,
    community_id: int | None,
    body: str,
    *,
    region: str | None = None,
    anonymous: bool = False,
) -> dict:
    """What posting `body` (anonymously or not) would do, stored nowhere. For a signed-in
    member in a community the new-member rules apply exactly as they will on posting;
    otherwise it is the content's own verdict."""
    place = moderation.Place(moderation.FORUM_POST, community_id, anonymous=anonymous)
    return await moderation.preview(ctx, member, place, body, region=region)


async def preview_reply(
    ctx: AppContext,
    member: Member,
    thread_id: int,
    body: str,
    *,
    region: str | None = None,
    anonymous: bool = False,
) -> dict:
    """preview() for a reply: in the thread's community, under its new-member rules, and
    refused as the reply itself would be where the thread takes none (locked, not open)."""
    async with ctx.db.read() as s:
        thread, community = await thread_for_member(s, thread_id, member)
    _check_open_for_replies(thread)
    return await preview(ctx, member, community.id, body, region=region, anonymous=anonymous)


async def is_first_post(ctx: AppContext, member: Member, community_id: int) -> bool:
    """Whether the member has nothing published in this community yet: the new-thread form
    then opens the community's rules for them."""
    async with ctx.db.read() as s:
        return not await moderation.has_taken_part(s, ctx, member, community_id)


@_keeps_draft
async def start_thread(
    ctx: AppContext,
    member: Member,
    community: Community,
    *,
    title: str,
    body: str,
    kind: str = "discussion",
    help_type: str | None = None,
    content_warning: str | None = None,
    anonymous: bool = False,
    region: str | None = None,
    submission_id: str | None = None,
    been_there: int | None = None,
) -> Published:
    sent, submission_id = await _resend(ctx, member, _submission(submission_id), body)
    if sent:
        return sent
    kind = kind or "discussion"
    if kind not in THREAD_KINDS:
        raise Refusal(
            "invalid",
            _("Choose asking for help, offering help, discussion or a story of hope."),
            field="kind",
        )
    if kind in ("discussion", "story"):
        help_type = None
    elif help_type not in HELP_TYPES:
        raise Refusal(
            "invalid",
            _("Say what kind of help: emotional, practical, information or financial."),
            field="help_type",
        )
    content_warning = (content_warning or "").strip() or None
    if content_warning and content_warning not in community.warning_list:
        raise Refusal(
            "invalid",
            _("Choose a content warning from this community's list."),
            field="content_warning",
        )
    _check_anonymous(community, anonymous)
    async with ctx.db.read() as s:  # "someone who's been there": a label from this list
        await check_ask(s, community, kind, been_there)
    verdict = await _vet(
        ctx,
        member,
        moderation.FORUM_POST,
        community.id,  # type: ignore[arg-type]
        {"title": title, "body": body},
        anonymous=anonymous,
        region=region,
    )
    held = verdict.held
    status = "held" if held else "published"
    now = utcnow()

    async def write(submission: str | None) -> Published:
        thread, post = await _write_thread(
            ctx,
            member,
            community,
            verdict,
            anonymous,
            submission,
            title=verdict["title"].text,
            kind=kind,
            help_type=help_type,
            content_warning=content_warning,
            status=status,
            now=now,
            been_there=been_there,
        )
        return Published(thread, post, verdict)

    return await _write_once(ctx, member, submission_id, body, write)


async def _write_thread(
    ctx: AppContext,
    member: Member,
    community: Community,
    verdict: moderation.Verdict,
    anonymous: bool,
    submission_id: str | None,
    *,
    title: str,
    kind: str,
    help_type: str | None,
    content_warning: str | None,
    status: str,
    now: datetime,
    been_there: int | None = None,
) -> tuple[Thread, Post]:
    held = status == "held"
    async with ctx.db.transaction() as s:
        thread = Thread(
            community_id=community.id,  # type: ignore[arg-type]
            author_id=member.id,  # type: ignore[arg-type]
            anonymous=anonymous,
            title=title,
            kind=kind,
            help_type=help_type,
            content_warning=content_warning,
            status=status,
            created_at=now,
            last_activity_at=now,
        )
        s.add(thread)
        await s.flush()
        post = _new_post(thread, member, verdict, anonymous, opening=True)
        post.submission_id = submission_id
        s.add(post)
        await s.flush()
        if anonymous:
            await assign_alias(s, thread.id, member.id)  # type: ignore[arg-type]
        s.add(ThreadFollow(thread_id=thread.id, member_id=member.id))  # type: ignore[arg-type]
        if not held:
            await search.index_post(s, post, thread.title)
            await notify_mentions(s, thread, post, member)
        if been_there is not None:  # tells members now, or when a moderator publishes it
            await start_ask(s, thread, been_there, published=not held)
        await _open_case_if_needed(s, community.id, post, verdict)  # type: ignore[arg-type]
    return thread, post


async def _open_case_if_needed(
    s: AsyncSession, community_id: int, post: Post, verdict: moderation.Verdict
) -> None:
    """Held or crisis-flagged posts go to the review queue (crisis ones to its top, with the
    pipeline's reason for the flag)."""
    if post.status == "held" or post.crisis:
        await moderation.open_case(
            s,
            kind="post",
            target_id=post.id,  # type: ignore[arg-type]
            community_id=community_id,
            author_id=post.author_id,
            held=post.status == "held",
            crisis=post.crisis,
            crisis_why=verdict.crisis_why,
        )


async def publish_held(s: AsyncSession, thread: Thread, post: Post) -> None:
    """A moderator approved held content: publish it as if it had gone straight through."""
    author = await s.get(Member, post.author_id)
    assert author is not None
    post.status, post.hold_reason, post.hold_message = "published", None, None
    s.add(post)
    if post.is_opening:
        thread.status = "published"
        s.add(thread)
        await search.index_post(s, post, thread.title)
        await notify_mentions(s, thread, post, author)
        await tell_matching(s, thread)  # a held request for "someone who's been there"
    else:
        await _after_publish(s, thread, post, author)


def _check_anonymous(community: Community, anonymous: bool) -> None:
    if anonymous and not community.allow_anonymous:
        raise Refusal(
            "anonymous_not_allowed",
            _(
                "This community doesn't allow anonymous posts. Untick 'post anonymously' to "
                "post under your pseudonym."
            ),
            field="anonymous",
        )


def _new_post(
    thread: Thread, member: Member, verdict: moderation.Verdict, anonymous: bool, *, opening: bool
) -> Post:
    held = verdict.held
    return Post(
        thread_id=thread.id,  # type: ignore[arg-type]
        author_id=member.id,  # type: ignore[arg-type]
        is_opening=opening,
        anonymous=anonymous,
        body=verdict.text,
        html=verdict.html,
        status="held" if held else "published",
        hold_reason=verdict.reason.code if held and verdict.reason else None,
        hold_message=verdict.reason.message if held and verdict.reason else None,
        crisis=verdict.crisis,
    )


@_keeps_draft
async def reply(
    ctx: AppContext,
    member: Member,
    thread_id: int,
    *,
    body: str,
    anonymous: bool = False,
    region: str | None = None,
    submission_id: str | None = None,
) -> Published:
    sent, submission_id = await _resend(ctx, member, _submission(submission_id), body)
    if sent:
        return sent
    async with ctx.db.read() as s:
        thread, community = await thread_for_member(s, thread_id, member)
    _check_open_for_replies(thread)
    _check_anonymous(community, anonymous)
    verdict = await _vet(
        ctx,
        member,
        moderation.FORUM_POST,
        community.id,  # type: ignore[arg-type]
        body,
        anonymous=anonymous,
        region=region,
    )

    async def write(submission: str | None) -> Published:
        async with ctx.db.transaction() as s:
            post = _new_post(thread, member, verdict, anonymous, opening=False)
            post.submission_id = submission
            s.add(post)
            await s.flush()
            if anonymous:
                await assign_alias(s, thread.id, member.id)  # type: ignore[arg-type]
            followers = await followers_of(s, thread.id, member.id, anonymous)  # type: ignore[arg-type]
            if member.id not in followers:
                s.add(ThreadFollow(thread_id=thread.id, member_id=member.id))  # type: ignore[arg-type]
            if not verdict.held:
                await _after_publish(s, thread, post, member, followers)
            await _open_case_if_needed(s, community.id, post, verdict)  # type: ignore[arg-type]
        return Published(thread, post, verdict)

    return await _write_once(ctx, member, submission_id, body, write)


def _check_open_for_replies(thread: Thread) -> None:
    if thread.locked:
        raise Refusal(
            "locked", _("This thread is locked, so no new replies can be added."), status=409
        )
    if thread.status != "published":
        raise Refusal(
            "not_open",
            _("This thread is waiting for a moderator; replies open once it's up."),
            status=409,
        )


async def _after_publish(
    s: AsyncSession,
    thread: Thread,
    post: Post,
    author: Member,
    followers: dict[int, bool] | None = None,
) -> None:
    """Bump the thread, index the post and notify followers and mentioned members."""
    await s.exec(
        update(Thread)
        .where(Thread.id == thread.id)
        .values(reply_count=Thread.reply_count + 1, last_activity_at=post.created_at)
    )
    await search.index_post(s, post, thread.title)
    await notify_reply(s, thread, post, author, followers)


async def _own_post(s: AsyncSession, member: Member, post_id: int) -> tuple[Post, Thread]:
    """The member's own post, to change or withdraw. Someone else's reads as not found if
    they may not see it (as everywhere else), and as forbidden only if they may."""
    post, thread = await post_and_thread(s, post_id)
    if post.status in ("deleted", "removed"):
        raise not_found()
    if post.author_id != member.id:
        if not await may_see_post(s, member, post, thread):
            raise not_found()
        raise Refusal("forbidden", _("You can only change your own posts."), status=403)
    return post, thread


@_keeps_draft
async def edit_post(
    ctx: AppContext, member: Member, post_id: int, *, body: str, region: str | None = None
) -> Published:
    async with ctx.db.read() as s:
        post, thread = await _own_post(s, member, post_id)
    verdict = await _vet(
        ctx,
        member,
        moderation.FORUM_EDIT,
        thread.community_id,
        body,
        anonymous=post.anonymous,
        region=region,
    )
    async with ctx.db.transaction() as s:
        s.add(PostRevision(post_id=post.id, body=post.body, html=post.html))  # type: ignore[arg-type]
        post.body, post.html, post.edited_at = verdict.text, verdict.html, utcnow()
        if verdict.held:
            post.status, post.hold_reason = (
                "held",
                verdict.reason.code if verdict.reason else None,
            )
        post.crisis = post.crisis or verdict.crisis
        s.add(post)
        if post.status == "published":
            await search.index_post(s, post, thread.title)
        else:
            await search.unindex_post(s, post.id)  # type: ignore[arg-type]
        await _open_case_if_needed(s, thread.community_id, post, verdict)
    return Published(thread, post, verdict)


async def delete_post(ctx: AppContext, member: Member, post_id: int) -> Thread:
    """The author withdraws a post: its text is erased; a marker keeps the thread readable."""
    async with ctx.db.transaction() as s:
        post, thread = await _own_post(s, member, post_id)
        was_published = post.status == "published"
        post.status, post.body, post.html = "deleted", "", ""
        s.add(post)
        await s.exec(delete(PostRevision).where(PostRevision.post_id == post.id))
        await search.unindex_post(s, post.id)  # type: ignore[arg-type]
        if was_published and not post.is_opening:
            await s.exec(
                update(Thread)
                .where(Thread.id == thread.id)
                .values(reply_count=Thread.reply_count - 1)
            )
        if thread.resolved_post_id == post.id:
            await s.exec(update(Thread).where(Thread.id == thread.id).values(resolved_post_id=None))
    return thread
