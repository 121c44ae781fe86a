"""The forms of member text the filters read: normalised, for matching, and visible, what a
reader sees once the HTML is rendered.

Plain string functions, knowing nothing of kinds of content or policy, so the types and the
filters can all build on them.
"""

from __future__ import annotations

import html as html_lib
import unicodedata
from html.parser import HTMLParser


def _normalise_segment(segment: str) -> str:
    folded = unicodedata.normalize("NFKC", segment).casefold()
    if folded.isascii():
        # No ASCII character is a format character: nothing to drop.
        return folded
    # Format characters (zero-width space/joiner, soft hyphen, bidi controls) are invisible,
    # so they are dropped before matching: "b\u200bad" reads as "bad".
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")


def normalise(text: str) -> str:
    """NFKC + casefold, format characters removed: the form watched words are matched in."""
    return _normalise_segment(text)


def _starts_segment(ch: str) -> bool:
    # Normalisation can compose a base character with the marks after it (and Hangul jamo
    # with each other), so those are normalised together as one segment.
    return unicodedata.combining(ch) == 0 and not ("\u1160" <= ch <= "\u11ff")


def normalise_with_map(text: str) -> tuple[str, list[int], list[int]]:
    """Normalise `text`, also returning for each normalised character the source span it came
    from, so a match found in the normalised text can be replaced in the member's own text."""
    if text.isascii():
        # Fast path for most posts: ASCII casefolds one character to one character.
        return text.casefold(), list(range(len(text))), list(range(1, len(text) + 1))
    normalised: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i < len(text) and not _starts_segment(text[i]):
            continue
        piece = _normalise_segment(text[start:i])
        normalised.append(piece)
        starts.extend([start] * len(piece))
        ends.extend([i] * len(piece))
        start = i
    return "".join(normalised), starts, ends


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_text(html: str) -> str:
    """The text a reader sees in stored HTML (what filters check, and search indexes and
    snippets): entities decoded, tags gone."""
    # The plain-text path's HTML is paragraphs and nothing else: no parser needed.
    bare = html.replace("<p>", "").replace("</p>", "")
    if "<" not in bare:
        return html_lib.unescape(bare)
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return "".join(extractor.parts)
