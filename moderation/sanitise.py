"""Allow-list HTML sanitising, the last step before anything member-written is stored.

Markdown rendering already refuses raw HTML and unsafe links; this is the second, independent
line of defence, and the only one that sees the exact bytes we store and serve.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from html import unescape
from typing import Any

import bleach
from bleach.html5lib_shim import Filter

# h1/h2 are not allowed: the renderer demotes member headings by two levels (h1 -> h3), so
# member content never competes with the page's own headings. Anything that still arrives
# as h1/h2 is stripped to its text.
ALLOWED_TAGS = frozenset(
    {
        "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
        "a", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
# No style/class anywhere: table alignment and code-language classes are dropped on purpose,
# because every extra attribute is surface for CSS injection or UI spoofing.
ALLOWED_ATTRIBUTES: dict[str, list[str]] = {
    "a": ["href", "title", "rel"],
    "ol": ["start"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

# Everything a browser may ignore inside a URL before reading its scheme (whitespace and
# controls anywhere, to be safe, not only at the ends), plus non-ASCII, as bleach also drops.
_URL_IGNORED = re.compile(r"[\x00-\x20\x7f-\xa0\s`]|[^\x00-\x7f]")
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")


def is_allowed_url(url: str) -> bool:
    """True for relative URLs and http/https/mailto ones.

    bleach's own check can be fooled: it uses urlparse, which reads "javascript:123" as a
    path with a port number and so as having no scheme at all. This reads the scheme the way
    a browser does, after decoding character references as the HTML parser would.
    """
    match = _SCHEME.match(_URL_IGNORED.sub("", unescape(url)).lower())
    return match is None or match.group(1) in ALLOWED_PROTOCOLS


def _allow_attribute(tag: str, name: str, value: str) -> bool:
    # bleach hands us attribute values with character references still encoded.
    if name not in ALLOWED_ATTRIBUTES.get(tag, ()):
        return False
    return name != "href" or is_allowed_url(value)


# ugc: tells search engines this is user-generated; nofollow: no SEO value for spammers;
# noopener/noreferrer: the opened page can't script our window or learn which post linked it.
LINK_REL = "nofollow noopener noreferrer ugc"


class _LinkRelFilter(Filter):
    """Set rel on every link, replacing any rel already there rather than merging with it,
    so a member can never add e.g. rel="me" or drop "noopener"."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EmptyTag") and token["name"] == "a":
                attrs = dict(token["data"])
                attrs[(None, "rel")] = LINK_REL
                token["data"] = attrs
            yield token


# bleach's Cleaner keeps parser state between calls and is documented as not thread-safe;
# Starlette runs sync code in a thread pool, so each thread gets its own.
_local = threading.local()


def _cleaner() -> bleach.Cleaner:
    cleaner: bleach.Cleaner | None = getattr(_local, "cleaner", None)
    if cleaner is None:
        cleaner = bleach.Cleaner(
            tags=ALLOWED_TAGS,
            attributes=_allow_attribute,
            protocols=ALLOWED_PROTOCOLS,
            # strip, not escape: markdown-it (html=False) already escapes everything a member
            # typed, so any tag that reaches here was produced by our renderer. Escaping it
            # would show our own markup as literal text; stripping keeps the member's words.
            strip=True,
            strip_comments=True,
            filters=[_LinkRelFilter],
        )
        _local.cleaner = cleaner
    return cleaner


def sanitise_html(html: str) -> str:
    """Reduce HTML to the allow-list above.

    Idempotent on everything the renderer produces (tested over the XSS corpus and with
    Hypothesis). Arbitrary hand-written HTML, e.g. links nested inside links, may be
    restructured again by a second pass, but never outside the allow-list.
    """
    return _cleaner().clean(html)
