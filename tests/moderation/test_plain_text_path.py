"""Plain sentences skip Markdown and the sanitiser: only where the result is identical."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moderation.content import ContentKind
from moderation.render import _plain_paragraphs, render_content, render_markdown
from moderation.sanitise import sanitise_html

# Words and separators near the edges of the plain-text rule: list numbers, link-like
# words, full stops inside and after words, doubled and trailing spaces, paragraph breaks.
PIECES = [
    "a", "I", "hello", "Tea", "www", "example", "org", "com", "http", "mailto", "e", "g", "1",
    "2", "10", "x", ".", ". ", " ", "  ", ",", ";", "?", "!", "'", "\n", "\n\n", "-", ":", "@",
    "/", "*", "_", "#", ">", "&", "<", "~", "|", "`", "(", ")", "[", "]", "=", "\t", "é",
]  # fmt: skip


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=14).map("".join))
def test_plain_path_renders_exactly_what_markdown_and_the_sanitiser_would(text: str) -> None:
    paragraphs = _plain_paragraphs(text)
    if paragraphs is not None:
        expected = sanitise_html(render_markdown(text))
        assert "".join(f"<p>{p}</p>\n" for p in paragraphs) == expected


def test_plain_sentences_take_the_plain_path_and_markdown_does_not() -> None:
    assert _plain_paragraphs("Thank you. It helps to know I'm not alone!\n\nTake care") == [
        "Thank you. It helps to know I'm not alone!",
        "Take care",
    ]
    for text in ("1. first", "see example.org", "**bold**", "a  \nb", "x\n", "trailing "):
        assert _plain_paragraphs(text) is None
    assert render_content("Thank you.", ContentKind.POST) == "<p>Thank you.</p>\n"
