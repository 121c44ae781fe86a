"""Forum writes: communities, threads, replies, edits, reactions, "this helped", follows.

Validate, then write, then tell: member text runs through the moderation pipeline (on a
worker thread: Markdown and bleach are CPU work) before the short write transaction opens;
notifications are written in the same transaction as the post they are about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from communities import roles
from communities import service as communities
from communities.models import Community
from communities.roles import Action
from core.context import AppContext
from core.db import utcnow
from core.errors import Refusal, not_found
from forum import search
from forum.models import (
    HELP_TYPES,
    REACTIONS,
    THREAD_KINDS,
    WARNING_MODES,
    AliasBlock,
    AnonymousAlias,
    Notification,
    Post,
    PostRevision,
    Reaction,
    Thread,
    ThreadFollow,
    WarningPreference,
)
from forum.queries import post_and_thread, thread_and_community
from identity.models import Member, MemberBlock
from moderation import api as moderation

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])?$")
MENTION = re.compile(r"(?<![\w@/])@([A-Za-z0-9_-]{3,32})")


@dataclass(frozen=True)
class Published:
    """What became of a member's text: published or held (refusals raise Refusal)."""

    thread: Thread
    post: Post
    verdict: moderation.Verdict

    @property
    def held(self) -> bool:
        return self.post.status == "held"


# --------------------------------------------------------------------------- communities


async def create_community(
    ctx: AppContext,
    admin: Member,
    *,
    slug: str,
    name: str,
    description: str = "",
    rules: str = "",
    visibility: str = "public",
    allow_anonymous: bool = True,
    content_warnings: str = "",
) -> Community:
    if not roles.holds(admin, Action.RUN_SITE):
        raise Refusal("forbidden", "Only site admins can create communities.", status=403)
    slug = slug.strip().lower()
    if not SLUG.match(slug):
        raise Refusal(
            "invalid",
            "The address name needs 3–40 lowercase letters, digits or dashes.",
            field="slug",
        )
    if not name.strip():
        raise Refusal("invalid", "Give the community a name.", field="name")
    if visibility not in ("public", "members"):
        raise Refusal("invalid", "Visibility is public or members.", field="visibility")
    rules_html = ""
    if rules.strip():
        place = moderation.Place(moderation.COMMUNITY_RULES, None)
        rules_verdict = await moderation.vet(ctx, admin, place, rules)
        if rules_verdict.refused:
            raise rules_verdict.refusal(draft=rules)
        rules_html = rules_verdict.html
    community = Community(
        slug=slug,
        name=name.strip()[:80],
        description=description.strip()[:500],
        rules=rules,
        rules_html=rules_html,
        visibility=visibility,
        allow_anonymous=allow_anonymous,
        content_warnings=content_warnings,
    )
    try:
        async with ctx.db.transaction() as s:
            await communities.add(s, community)
    except IntegrityError:
        raise Refusal(
            "slug_taken", "A community already uses that address.", status=409, field="slug"
        ) from None
    return community


# --------------------------------------------------------------------------- the pipeline


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
        raise verdict.refusal()
    return verdict


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


# --------------------------------------------------------------------------- threads


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
) -> Published:
    kind = kind or "discussion"
    if kind not in THREAD_KINDS:
        raise Refusal(
            "invalid", "Choose asking for help, offering help or discussion.", field="kind"
        )
    if kind == "discussion":
        help_type = None
    elif help_type not in HELP_TYPES:
        raise Refusal(
            "invalid",
            "Say what kind of help: emotional, practical, information or financial.",
            field="help_type",
        )
    content_warning = (content_warning or "").strip() or None
    if content_warning and content_warning not in community.warning_list:
        raise Refusal(
            "invalid",
            "Choose a content warning from this community's list.",
            field="content_warning",
        )
    _check_anonymous(community, anonymous)
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
    async with ctx.db.transaction() as s:
        thread = Thread(
            community_id=community.id,  # type: ignore[arg-type]
            author_id=member.id,  # type: ignore[arg-type]
            anonymous=anonymous,
            title=verdict["title"].text,
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
        s.add(post)
        await s.flush()
        if anonymous:
            await _alias(s, thread.id, member.id)  # type: ignore[arg-type]
        s.add(ThreadFollow(thread_id=thread.id, member_id=member.id))  # type: ignore[arg-type]
        if not held:
            await search.index_post(s, post, thread.title)
            await _notify_mentions(s, thread, post, member)
        await _open_case_if_needed(s, community.id, post, verdict)  # type: ignore[arg-type]
    return Published(thread, post, verdict)


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
        await _notify_mentions(s, thread, post, author)
    else:
        await _after_publish(s, thread, post, author)


def _check_anonymous(community: Community, anonymous: bool) -> None:
    if anonymous and not community.allow_anonymous:
        raise Refusal(
            "anonymous_not_allowed",
            "This community doesn't allow anonymous posts. Untick 'post anonymously' to post "
            "under your pseudonym.",
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


def alias_label(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: a stable letter per anonymous member in a thread."""
    label = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        label = chr(65 + rest) + label
    return label


async def _alias(s: AsyncSession, thread_id: int, member_id: int) -> str:
    existing = await s.get(AnonymousAlias, (thread_id, member_id))
    if existing is not None:
        return existing.label
    count = await s.exec(
        select(func.count())
        .select_from(AnonymousAlias)
        .where(AnonymousAlias.thread_id == thread_id)
    )
    label = alias_label(int(count.one()))
    s.add(AnonymousAlias(thread_id=thread_id, member_id=member_id, label=label))
    await s.flush()
    return label


async def _thread_for_write(
    s: AsyncSession, thread_id: int, member: Member
) -> tuple[Thread, Community]:
    thread, community = await thread_and_community(s, thread_id)
    hidden = thread.status != "published" and thread.author_id != member.id
    if hidden and not await roles.may(s, member, Action.MODERATE, community.id):
        raise not_found("thread")
    return thread, community


async def reply(
    ctx: AppContext,
    member: Member,
    thread_id: int,
    *,
    body: str,
    anonymous: bool = False,
    region: str | None = None,
) -> Published:
    async with ctx.db.read() as s:
        thread, community = await _thread_for_write(s, thread_id, member)
    if thread.locked:
        raise Refusal(
            "locked", "This thread is locked, so no new replies can be added.", status=409
        )
    if thread.status != "published":
        raise Refusal(
            "not_open",
            "This thread is waiting for a moderator; replies open once it's up.",
            status=409,
        )
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
    async with ctx.db.transaction() as s:
        post = _new_post(thread, member, verdict, anonymous, opening=False)
        s.add(post)
        await s.flush()
        if anonymous:
            await _alias(s, thread.id, member.id)  # type: ignore[arg-type]
        followers = await _followers(s, thread.id, member.id, anonymous)  # type: ignore[arg-type]
        if member.id not in followers:
            s.add(ThreadFollow(thread_id=thread.id, member_id=member.id))  # type: ignore[arg-type]
        if not verdict.held:
            await _after_publish(s, thread, post, member, followers)
        await _open_case_if_needed(s, community.id, post, verdict)  # type: ignore[arg-type]
    return Published(thread, post, verdict)


def _blocks_author(blocker: Any, thread_id: int, author_id: int, anonymous: bool) -> Any:
    """Whether `blocker` (a column) has blocked the author as this post shows them: by
    pseudonym for named posts, by label in this thread for anonymous ones. A pseudonym's
    block never silences their anonymous posts: a missing notice would tell the blocker
    who wrote them."""
    if not anonymous:
        return (
            select(MemberBlock.blocker_id)
            .where(MemberBlock.blocker_id == blocker, MemberBlock.blocked_id == author_id)
            .exists()
        )
    return (
        select(AliasBlock.member_id)
        .join(
            AnonymousAlias,
            and_(  # type: ignore[arg-type]
                AnonymousAlias.thread_id == AliasBlock.thread_id,
                AnonymousAlias.label == AliasBlock.label,
            ),
        )
        .where(
            AliasBlock.member_id == blocker,
            AliasBlock.thread_id == thread_id,
            AnonymousAlias.member_id == author_id,
        )
        .exists()
    )


async def _followers(
    s: AsyncSession, thread_id: int, author_id: int, anonymous: bool
) -> dict[int, bool]:
    """Who follows the thread, each with whether they have blocked the author: one query
    where a follow check and a blockers query used to be two more."""
    blocks = _blocks_author(ThreadFollow.member_id, thread_id, author_id, anonymous)
    rows = await s.exec(
        select(ThreadFollow.member_id, blocks.correlate(ThreadFollow)).where(
            ThreadFollow.thread_id == thread_id
        )
    )
    return dict(rows.all())  # type: ignore[arg-type]


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
    notified = await _notify_mentions(s, thread, post, author)
    if followers is None:
        followers = await _followers(s, thread.id, author.id, post.anonymous)  # type: ignore[arg-type]
    to_tell = {
        member_id
        for member_id, blocked_author in followers.items()
        if member_id != author.id and not blocked_author
    }
    actor = await display_name(s, thread.id, author, post.anonymous)  # type: ignore[arg-type]
    for follower in to_tell - notified:
        s.add(
            Notification(
                member_id=follower, kind="reply", thread_id=thread.id, post_id=post.id, actor=actor
            )
        )


async def display_name(s: AsyncSession, thread_id: int, member: Member, anonymous: bool) -> str:
    if not anonymous:
        return member.display_name
    alias = await s.get(AnonymousAlias, (thread_id, member.id))
    return f"Anonymous member {alias.label if alias else ''}".strip()


async def _notify_mentions(s: AsyncSession, thread: Thread, post: Post, author: Member) -> set[int]:
    """Notify members @mentioned in a post (not those who blocked the author as shown)."""
    names = {m.casefold() for m in MENTION.findall(post.body)}
    if not names:
        return set()
    rows = await s.exec(
        select(Member.id).where(
            Member.pseudonym_key.in_(list(names)[:20]),  # type: ignore[attr-defined]
            Member.deleted_at.is_(None),  # type: ignore[union-attr]
            Member.id != author.id,
        )
    )
    mentioned = set(rows)
    if not mentioned:
        return set()
    blockers = await s.exec(
        select(Member.id).where(
            Member.id.in_(mentioned),  # type: ignore[union-attr]
            _blocks_author(Member.id, thread.id, author.id, post.anonymous).correlate(Member),  # type: ignore[arg-type]
        )
    )
    mentioned -= set(blockers)
    actor = await display_name(s, thread.id, author, post.anonymous)  # type: ignore[arg-type]
    for member_id in mentioned:
        s.add(
            Notification(
                member_id=member_id,
                kind="mention",
                thread_id=thread.id,
                post_id=post.id,
                actor=actor,
            )
        )
    return mentioned


# --------------------------------------------------------------------------- posts


async def _own_post(s: AsyncSession, member: Member, post_id: int) -> tuple[Post, Thread]:
    post, thread = await post_and_thread(s, post_id)
    if post.status in ("deleted", "removed"):
        raise not_found()
    if post.author_id != member.id:
        # Someone else's post that this member cannot see (held, hidden): not found, as it
        # reads for them everywhere else; a 403 would confirm it exists.
        published = post.status == "published" and thread.status == "published"
        if not published and not await roles.may(s, member, Action.MODERATE, thread.community_id):
            raise not_found()
        raise Refusal("forbidden", "You can only change your own posts.", status=403)
    return post, thread


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


async def _visible_post(s: AsyncSession, member: Member, post_id: int) -> tuple[Post, Thread]:
    post, thread = await post_and_thread(s, post_id)
    if post.status != "published" or thread.status != "published":
        raise not_found()
    return post, thread


async def react(ctx: AppContext, member: Member, post_id: int, kind: str) -> Post:
    if kind not in REACTIONS:
        raise Refusal("invalid", "Reactions are thank you, me too and sending strength.")
    try:
        async with ctx.db.transaction() as s:
            post, _thread = await _visible_post(s, member, post_id)
            s.add(Reaction(post_id=post.id, member_id=member.id, kind=kind))  # type: ignore[arg-type]
    except IntegrityError:
        raise Refusal(
            "already_reacted", f"You've already sent “{REACTIONS[kind]}” to this post.", status=409
        ) from None
    return post


async def unreact(ctx: AppContext, member: Member, post_id: int, kind: str) -> None:
    async with ctx.db.transaction() as s:
        await s.exec(
            delete(Reaction).where(
                Reaction.post_id == post_id, Reaction.member_id == member.id, Reaction.kind == kind
            )
        )


async def mark_helped(ctx: AppContext, member: Member, post_id: int) -> Thread:
    """The author of a request marks the reply that helped; the thread shows as resolved."""
    async with ctx.db.transaction() as s:
        post, thread = await _visible_post(s, member, post_id)
        if thread.author_id != member.id:
            raise Refusal(
                "forbidden", "Only the person who asked can mark what helped.", status=403
            )
        if thread.kind != "request":
            raise Refusal("invalid", "Only requests for help can be marked as helped.")
        if post.is_opening or post.author_id == member.id:
            raise Refusal("invalid", "Mark a reply from someone else as the one that helped.")
        thread.resolved_post_id = post.id
        s.add(thread)
        if post.author_id != member.id:
            s.add(
                Notification(
                    member_id=post.author_id,
                    kind="helped",
                    thread_id=thread.id,
                    post_id=post.id,
                    actor=await display_name(s, thread.id, member, thread.anonymous),  # type: ignore[arg-type]
                )
            )
    return thread


async def set_follow(ctx: AppContext, member: Member, thread_id: int, follow: bool) -> None:
    async with ctx.db.transaction() as s:
        await _thread_for_write(s, thread_id, member)
        existing = await s.get(ThreadFollow, (thread_id, member.id))
        if follow and existing is None:
            s.add(ThreadFollow(thread_id=thread_id, member_id=member.id))  # type: ignore[arg-type]
        elif not follow and existing is not None:
            await s.delete(existing)


async def set_warning_preference(ctx: AppContext, member: Member, warning: str, mode: str) -> None:
    if mode not in WARNING_MODES:
        raise Refusal("invalid", "Choose collapse, show or hide.")
    warning = warning.strip()[:60]
    async with ctx.db.transaction() as s:
        existing = await s.get(WarningPreference, (member.id, warning))
        if existing is None:
            s.add(WarningPreference(member_id=member.id, warning=warning, mode=mode))  # type: ignore[arg-type]
        else:
            existing.mode = mode
            s.add(existing)


async def mark_notifications_read(ctx: AppContext, member: Member) -> None:
    async with ctx.db.transaction() as s:
        await s.exec(
            update(Notification)
            .where(Notification.member_id == member.id, Notification.read_at.is_(None))  # type: ignore[union-attr]
            .values(read_at=utcnow())
        )


# --------------------------------------------------------------------------- anonymous blocks


def _label(text: str) -> str:
    """ "A", "a" or "Anonymous member A" as the label stored: "A"."""
    return text.strip().upper().removeprefix("ANONYMOUS MEMBER ").strip()


async def block_alias(ctx: AppContext, member: Member, thread_id: int, label: str) -> str:
    """Stop seeing one anonymous author ("Anonymous member A") in one thread: their posts,
    the thread itself if they started it, and notices from them there. Returns the label
    as shown. Blocking nobody, or yourself, is refused; nothing says who the label is."""
    label = _label(label)
    async with ctx.db.transaction() as s:
        thread, _community = await thread_and_community(s, thread_id)
        if thread.status != "published":
            raise not_found("thread")
        alias = (
            await s.exec(
                select(AnonymousAlias).where(
                    AnonymousAlias.thread_id == thread_id, AnonymousAlias.label == label
                )
            )
        ).first()
        if alias is None:
            raise Refusal("invalid", "There's no anonymous member with that label in this thread.")
        if alias.member_id == member.id:
            raise Refusal("invalid", "That's you: your own posts can't be blocked.")
        if await s.get(AliasBlock, (member.id, thread_id, label)) is None:
            s.add(AliasBlock(member_id=member.id, thread_id=thread_id, label=label))  # type: ignore[arg-type]
    return f"Anonymous member {label}"


async def unblock_alias(ctx: AppContext, member: Member, thread_id: int, label: str) -> None:
    label = _label(label)
    async with ctx.db.transaction() as s:
        await s.exec(
            delete(AliasBlock).where(
                AliasBlock.member_id == member.id,
                AliasBlock.thread_id == thread_id,
                AliasBlock.label == label,
            )
        )
