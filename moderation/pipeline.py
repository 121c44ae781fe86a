"""The content pipeline: the one place member-written text becomes something we store and show.

    moderate(Content) -> Decision

Stages, in order: clean up the source (line endings, control characters), size limits, render
(Markdown, or escaped plain text for titles), sanitise, then policy filters. Filters are plain
callables so other modules (contact details, crisis language, new-member trust) can add theirs:

    moderate(content, filters=(*DEFAULT_FILTERS, my_filter))

A filter that needs per-request data (say, the author's trust level) is built per request as a
closure; FilterInput deliberately carries only the content itself.

The types are in moderation/content.py, the normalised and visible text in moderation/text.py,
the render stage in moderation/render.py and the watched-words filter in moderation/watched.py.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from core.i18n import N_, gettext, ngettext, number
from moderation.content import (
    Action,
    Content,
    ContentKind,
    Decision,
    Filter,
    FilterInput,
    Reason,
)
from moderation.render import render_content
from moderation.watched import watched_words_filter

# Strictest wins when filters disagree.
_SEVERITY = {Action.PUBLISH: 0, Action.HOLD: 1, Action.REFUSE: 2}

# C0/C1 controls other than tab and newline: invisible, never typed on purpose, and they
# confuse other consumers (JSON, terminals, search). Carriage returns are handled separately.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Characters that render as nothing, so a post made only of these is empty.
_INVISIBLE = frozenset("\u2800\u3164\u115f\u1160\uffa0")


def _clean_source(text: str, kind: ContentKind) -> str:
    # Browsers submit textarea newlines as CRLF; counting those twice would make the length
    # limit disagree with what the member's own counter shows.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL_CHARS.sub("", text)
    if kind is ContentKind.TITLE:
        text = " ".join(text.split())
    return text


def _is_blank(text: str) -> bool:
    return all(
        ch.isspace() or ch in _INVISIBLE or unicodedata.category(ch) in ("Cc", "Cf") for ch in text
    )


# Whole sentences for each kind of content (see content.noun), marked here and translated
# as each text is judged.
_EMPTY = {
    ContentKind.TITLE: N_("Your title is empty. Write something, then send it again."),
    ContentKind.POST: N_("Your post is empty. Write something, then send it again."),
    ContentKind.CHAT: N_("Your message is empty. Write something, then send it again."),
    ContentKind.PROFILE: N_("Your profile is empty. Write something, then send it again."),
    ContentKind.NOTE: N_("Your note is empty. Write something, then send it again."),
}
# By how many characters are over the limit (ngettext at the call, for the plural forms).
_TOO_LONG: dict[ContentKind, Callable[[int], str]] = {
    ContentKind.TITLE: lambda over: ngettext(
        "Your title is %(length)s characters long and the limit here is %(limit)s. "
        "Please shorten it by %(over)s character and send it again.",
        "Your title is %(length)s characters long and the limit here is %(limit)s. "
        "Please shorten it by %(over)s characters and send it again.",
        over,
    ),
    ContentKind.POST: lambda over: ngettext(
        "Your post is %(length)s characters long and the limit here is %(limit)s. "
        "Please shorten it by %(over)s character and send it again.",
        "Your post is %(length)s characters long and the limit here is %(limit)s. "
        "Please shorten it by %(over)s characters and send it again.",
        over,
    ),
    ContentKind.CHAT: lambda over: ngettext(
        "Your message is %(length)s characters long and the limit here is %(limit)s. "
        "Please shorten it by %(over)s character and send it again.",
        "Your message is %(length)s characters long and the limit here is %(limit)s. "
        "Please shorten it by %(over)s characters and send it again.",
        over,
    ),
    ContentKind.PROFILE: lambda over: ngettext(
        "Your profile is %(length)s characters long and the limit here is %(limit)s. "
        "Please shorten it by %(over)s character and send it again.",
        "Your profile is %(length)s characters long and the limit here is %(limit)s. "
        "Please shorten it by %(over)s characters and send it again.",
        over,
    ),
    ContentKind.NOTE: lambda over: ngettext(
        "Your note is %(length)s characters long and the limit here is %(limit)s. "
        "Please shorten it by %(over)s character and send it again.",
        "Your note is %(length)s characters long and the limit here is %(limit)s. "
        "Please shorten it by %(over)s characters and send it again.",
        over,
    ),
}


def _empty_reason(kind: ContentKind) -> Reason:
    return Reason("empty", gettext(_EMPTY[kind]))


def _size_reason(text: str, content: Content) -> Reason | None:
    if _is_blank(text):
        return _empty_reason(content.kind)
    limit = content.policy.max_chars
    if len(text) > limit:
        over = len(text) - limit
        return Reason(
            "too_long",
            _TOO_LONG[content.kind](over)
            % {"length": number(len(text)), "limit": number(limit), "over": number(over)},
        )
    return None


DEFAULT_FILTERS: tuple[Filter, ...] = (watched_words_filter,)


def moderate(content: Content, filters: Sequence[Filter] = DEFAULT_FILTERS) -> Decision:
    """Decide whether member content is published, held for a moderator, or refused, and
    produce the sanitised HTML to store with it."""
    text = _clean_source(content.text, content.kind)
    # Size first: over-long text is refused before we spend any time rendering it.
    if (reason := _size_reason(text, content)) is not None:
        return Decision(Action.REFUSE, html="", text=text, reason=reason)

    html = render_content(text, content.kind)
    # One FilterInput for all the filters (until one rewrites the text), so the visible and
    # normalised text each filter may ask for are worked out once, not once per filter.
    item = FilterInput(text, html, content.kind, content.policy)
    if _is_blank(item.visible_text):
        # Markdown that renders to nothing a reader can see, e.g. only a link reference
        # definition ("[a]: https://...") or a lone "---", is as empty as no text at all.
        return Decision(Action.REFUSE, html="", text=text, reason=_empty_reason(content.kind))
    action, reason = Action.PUBLISH, None
    notice: dict[str, Any] = {}
    flags: dict[str, str] = {}
    for filter_ in filters:
        result = filter_(item)
        if result is None:
            continue
        if result.text is not None and result.text != text:
            text = _clean_source(result.text, content.kind)
            html = render_content(text, content.kind)
            item = FilterInput(text, html, content.kind, content.policy)
        if _SEVERITY[result.action] > _SEVERITY[action]:
            action, reason = result.action, result.reason
        for key, value in (result.notice or {}).items():
            notice.setdefault(key, value)
        for key, why in (result.flags or {}).items():
            flags.setdefault(key, why)

    return Decision(
        action,
        html="" if action is Action.REFUSE else html,
        text=text,
        reason=reason,
        notice=notice or None,
        flags=flags or None,
    )
