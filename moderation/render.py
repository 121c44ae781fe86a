"""Markdown to HTML for member-written content.

The renderer is deliberately conservative: raw HTML is off (markdown-it escapes it), link
destinations are limited to web and mail addresses, and images become plain links so that
reading a post never makes a reader's browser contact a third party.

`render_content` is the pipeline's render stage: a title is escaped plain text, a post or
message Markdown, both sanitised.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Sequence
from functools import cache, lru_cache

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from moderation.content import ContentKind
from moderation.sanitise import is_allowed_url, sanitise_html

# Member headings are demoted by this many levels (h1 -> h3, h2 -> h4, ...; capped at h6) so
# that a post can never compete with the page's own h1/h2 structure.
_HEADING_SHIFT = 2


class _MemberMarkdown(MarkdownIt):
    def validateLink(self, url: str) -> bool:
        # The sanitiser's own URL rule, applied here as well so a disallowed URL never
        # reaches the HTML at all: markdown-it leaves such a link as literal text.
        return is_allowed_url(url)


def _inside_link(tokens: Sequence[Token], idx: int) -> bool:
    depth = 0
    for token in tokens[:idx]:
        if token.type == "link_open":
            depth += 1
        elif token.type == "link_close":
            depth -= 1
    return depth > 0


def _render_image_as_link(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # An <img> would be fetched by every reader's browser, leaking their address to whoever
    # hosts the image. A link is only followed by someone who chooses to click it.
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    label = self.renderInlineAsText(token.children or [], options, env) or src
    if _inside_link(tokens, idx):
        # The common "[![badge](img)](page)": links can't nest, so keep the outer link (the
        # one the author meant as the target) and show the image as its text.
        return escapeHtml(label)
    title = token.attrGet("title")
    title_attr = f' title="{escapeHtml(str(title))}"' if title else ""
    return f'<a href="{escapeHtml(src)}"{title_attr}>{escapeHtml(label)}</a>'


def _demote_headings(state: StateCore) -> None:
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(int(token.tag[1]) + _HEADING_SHIFT, 6)
            token.tag = f"h{level}"


@cache
def _markdown() -> MarkdownIt:
    # Built once: the instance is only read after this, and rendering keeps its state per call.
    md = _MemberMarkdown("commonmark", {"html": False, "linkify": True, "typographer": False})
    md.enable(["linkify", "strikethrough", "table"])
    md.add_render_rule("image", _render_image_as_link)
    md.core.ruler.push("kindred_demote_headings", _demote_headings)
    return md


def render_markdown(text: str) -> str:
    """Render member Markdown to (not yet sanitised) HTML."""
    return _markdown().render(text)


# A paragraph Markdown leaves exactly as typed: it starts with a letter (so never a list
# number) and holds only ASCII letters, digits, spaces and , ; ? ! ' — plus full stops
# followed by a space or the end, so no link can be read into it ("example.org") — and it
# doesn't end in a space (two would be a line break). No character in it starts Markdown,
# HTML, an entity or a link, and none needs escaping.
_PLAIN_PARAGRAPH = re.compile(r"[A-Za-z](?:[A-Za-z0-9,;?!' ]|\.(?= |\Z))*(?<! )")


def _plain_paragraphs(text: str) -> list[str] | None:
    """`text` as its paragraphs when every one is plain (see above), else None."""
    paragraphs = text.split("\n\n")
    if all(_PLAIN_PARAGRAPH.fullmatch(paragraph) for paragraph in paragraphs):
        return paragraphs
    return None


# Cached because a rewriting filter renders its result to check it, and the pipeline then
# needs the same HTML; sanitising is the slowest stage (html5lib is pure Python).
@lru_cache(maxsize=16)
def render_content(text: str, kind: ContentKind) -> str:
    """The sanitised HTML stored and shown for member text of this kind."""
    if kind is ContentKind.TITLE:
        # Titles are plain text: no Markdown, so "#1 tip" or "*sigh*" read as typed. Fully
        # escaped (quotes too), which is also exactly what sanitise_html leaves unchanged.
        return sanitise_html(html_lib.escape(text, quote=True))
    if (paragraphs := _plain_paragraphs(text)) is not None:
        # What Markdown and the sanitiser would make of it, without running them (tested
        # to be identical): most chat messages and many posts are plain sentences.
        return "".join(f"<p>{paragraph}</p>\n" for paragraph in paragraphs)
    return sanitise_html(render_markdown(text))
