"""Full-text search over published posts: SQLite FTS5 or PostgreSQL's own full-text search.

The index holds only visible text of published posts; the write paths keep it in step.
Queries still join back to posts and threads so results respect status and visibility at
read time as well; which communities a visitor may see and whom the viewer has blocked come
from communities and identity (their tables are theirs), as bound lists.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlmodel.ext.asyncio.session import AsyncSession

from communities import service as communities
from core.db import Database
from forum.models import Post
from identity.blocks import blocked_ids
from identity.models import Member
from moderation.api import visible_text

# Control characters never survive the pipeline, so they are safe snippet markers.
MARK_START, MARK_END = "\x02", "\x03"
MAX_TERMS = 12


@dataclass(frozen=True)
class SearchHit:
    post_id: int
    thread_id: int
    title: str
    community_slug: str
    community_name: str
    snippet_html: str  # escaped, with <mark> around the matched words
    content_warning: str | None = None
    folded: bool = False  # under a content warning the viewer hasn't chosen to show


async def _dialect(s: AsyncSession) -> str:
    return (await s.connection()).dialect.name


async def index_post(s: AsyncSession, post: Post, title: str) -> None:
    body = visible_text(post.html)
    # Only the opening post carries the thread title, so a title match finds the thread once.
    title = title if post.is_opening else ""
    if await _dialect(s) == "sqlite":
        await s.exec(text("DELETE FROM post_search WHERE rowid = :id").bindparams(id=post.id))
        await s.exec(
            text(
                "INSERT INTO post_search (rowid, title, body) VALUES (:id, :title, :body)"
            ).bindparams(id=post.id, title=title, body=body)
        )
    else:
        await s.exec(
            text(
                "INSERT INTO post_search (post_id, document) VALUES (:id, "
                "setweight(to_tsvector('english', :title), 'A') || to_tsvector('english', :body)) "
                "ON CONFLICT (post_id) DO UPDATE SET document = EXCLUDED.document"
            ).bindparams(id=post.id, title=title, body=body)
        )


async def unindex_post(s: AsyncSession, post_id: int) -> None:
    column = "rowid" if await _dialect(s) == "sqlite" else "post_id"
    await s.exec(text(f"DELETE FROM post_search WHERE {column} = :id").bindparams(id=post_id))


async def compact(s: AsyncSession) -> None:
    """Rewrite SQLite's full-text index in one piece, leaving out deleted posts: FTS5 records
    a deletion as a marker and keeps the words (with their positions, enough to rebuild the
    text) in older segments until they are merged. Costs about a second per 50,000 posts, so
    it runs when a member erases their account, not for every deleted post. PostgreSQL's
    index row is gone with the DELETE (and its space reused after VACUUM)."""
    if await _dialect(s) == "sqlite":
        await s.exec(text("INSERT INTO post_search (post_search) VALUES ('optimize')"))


def _terms(query: str) -> list[str]:
    return re.findall(r"\w+", query.casefold())[:MAX_TERMS]


_VISIBLE = """
    JOIN post p ON p.id = {key}
    JOIN thread t ON t.id = p.thread_id
    WHERE p.status = 'published' AND t.status = 'published'
      AND (:signed_in OR t.community_id IN :public)
      AND (p.anonymous OR p.author_id NOT IN :blocked)
      AND NOT (p.anonymous AND EXISTS (
            SELECT 1 FROM alias_block ab
            JOIN anonymous_alias aa ON aa.thread_id = ab.thread_id AND aa.label = ab.label
            WHERE ab.member_id = :viewer AND ab.thread_id = t.id AND aa.member_id = p.author_id))
      AND (t.content_warning IS NULL OR t.content_warning NOT IN (
            SELECT warning FROM warning_preference WHERE member_id = :viewer AND mode = 'hide'))
"""
# A pseudonym's block reaches only what they wrote under it (hiding their anonymous posts
# too would tell the blocker which ones are theirs); anonymous authors are blocked by label.
# Threads under a warning the viewer hides never come back; others come back folded.
_WARNING = (
    "t.content_warning, (SELECT mode FROM warning_preference "
    "WHERE member_id = :viewer AND warning = t.content_warning)"
)


async def find(db: Database, query: str, viewer: Member | None) -> list[SearchHit]:
    """search() in a read of its own, as the viewer: what the search page and API show."""
    async with db.read() as s:
        return await search(s, query, viewer_id=viewer.id if viewer else None)


async def search(
    s: AsyncSession, query: str, *, viewer_id: int | None, limit: int = 20, offset: int = 0
) -> list[SearchHit]:
    terms = _terms(query)
    if not terms:
        return []
    every = {c.id: c for c in await communities.all_communities(s)}
    params = {
        "signed_in": viewer_id is not None,
        "public": [i for i, c in every.items() if not c.members_only],
        "blocked": sorted(await blocked_ids(s, viewer_id)) if viewer_id else [],
        "viewer": viewer_id or 0,
        "limit": limit,
        "offset": offset,
    }
    if await _dialect(s) == "sqlite":
        # Each word quoted (no FTS syntax from members), all required, the last as a prefix.
        match = " ".join(f'"{t}"' for t in terms[:-1]) + f' "{terms[-1]}"*'
        # Only our own constants are formatted in; member input goes through bind parameters.
        sql = (
            f"SELECT p.id, t.id, t.title, t.community_id, {_WARNING}, "
            f"snippet(post_search, -1, '{MARK_START}', '{MARK_END}', '…', 16) "
            "FROM post_search"
            + _VISIBLE.format(key="post_search.rowid")
            + " AND post_search MATCH :match ORDER BY bm25(post_search, 4.0, 1.0) "
            "LIMIT :limit OFFSET :offset"
        )
        params["match"] = match.strip()
    else:
        sql = (
            f"SELECT p.id, t.id, t.title, t.community_id, {_WARNING}, "
            # Headline the stored HTML with its tags stripped; entities are decoded below.
            "ts_headline('english', regexp_replace(p.html, '<[^>]+>', ' ', 'g'), "
            "to_tsquery('english', :match), "
            f"'StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=10') "
            "FROM post_search ps"
            + _VISIBLE.format(key="ps.post_id")
            + " AND ps.document @@ to_tsquery('english', :match) "
            "ORDER BY ts_rank(ps.document, to_tsquery('english', :match)) DESC, p.id DESC "
            "LIMIT :limit OFFSET :offset"
        )
        params["match"] = " & ".join([*terms[:-1], f"{terms[-1]}:*"])
    lists = (bindparam("public", expanding=True), bindparam("blocked", expanding=True))
    rows = await s.exec(text(sql).bindparams(*lists).bindparams(**params))
    from_html = await _dialect(s) != "sqlite"
    return [
        SearchHit(
            row[0],
            row[1],
            row[2],
            every[row[3]].slug,
            every[row[3]].name,
            _snippet(row[6], from_html),
            content_warning=row[4],
            folded=row[4] is not None and row[5] != "show",
        )
        for row in rows
    ]


def _snippet(raw: str, from_html: bool) -> str:
    if from_html:
        raw = " ".join(html_lib.unescape(raw).split())
    escaped = html_lib.escape(raw)
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
