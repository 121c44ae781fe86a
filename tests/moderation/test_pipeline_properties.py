"""Property tests: whatever a member types, the output is script-free and stable, and the
linear-time watched-word regexes mean exactly what the obvious (slow) translation means."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moderation.content import Content, ContentKind, ContentPolicy, WatchedWord
from moderation.pipeline import moderate
from moderation.sanitise import sanitise_html
from moderation.text import normalise, visible_text
from moderation.watched import compile_watched_words, pattern_regex
from tests.moderation.xss_oracle import assert_script_free

PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Pieces of Markdown and HTML syntax that, glued together at random, reach the corners of
# the renderer and sanitiser much faster than uniformly random text does.
FRAGMENTS = [
    "<", ">", "</", "/>", '"', "'", "`", "```", "\n", "\n\n", " ", "    ", "\t", "=", "&",
    "&#", "&#x", ";", "&lt;", "&amp;", "&#106;", "&colon;", "javascript:", "JaVaScRiPt:",
    "vbscript:", "data:text/html,", "data:image/png;base64,", "file:", "http://", "https://x.org",
    "www.x.org", "a@b.org", "mailto:", "[x](", "](", "[", "]", "(", ")", "![", "![x](", "<http",
    "onerror=", "onclick=", "alert(1)", "<svg", "<img src=x", "<script>", "</script>", "<a href=",
    "<iframe", "<math", "<style>", "<!--", "-->", "<![CDATA[", "*", "**", "_", "~~", "#", "> ",
    "- ", "1. ", "|", "|-|", "---", "\\", "\x00", "\u200b", "\u2028", "\ufeff", "\u0301", "x",
]  # fmt: skip

markup = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=40).map("".join)
any_text = st.text(max_size=300) | markup
kinds = st.sampled_from(list(ContentKind))


@PROPERTY_SETTINGS
@given(text=any_text, kind=kinds)
def test_output_is_script_free_and_stable(text: str, kind: ContentKind) -> None:
    decision = moderate(Content(text, kind))
    assert_script_free(decision.html)
    assert sanitise_html(decision.html) == decision.html
    if decision.refused:
        assert decision.html == ""
    else:
        assert visible_text(decision.html).strip()


@PROPERTY_SETTINGS
@given(text=markup)
def test_titles_are_exactly_the_escaped_single_line_text(text: str) -> None:
    decision = moderate(Content(text, ContentKind.TITLE))
    if not decision.refused:
        assert "\n" not in decision.text
        assert decision.html == (
            decision.text.replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace('"', "&quot;")
            .replace("'", "&#x27;")
        )


# --------------------------------------------------------------------------- watched words

pattern_words = st.text(alphabet="ab.*", min_size=1, max_size=5)
patterns = (
    st.lists(pattern_words, min_size=1, max_size=3)
    .map(" ".join)
    .filter(lambda p: p.replace("*", "").strip() != "")
)
haystacks = st.text(alphabet="ab.! \n_", max_size=30)


def naive_regex(pattern: str) -> str:
    """The obvious translation: each * becomes \\w* (a lone * is one word, \\w+). Correct, but
    can take polynomial time."""
    words = normalise(pattern).split()
    regex = r"\s+".join(
        r"\w+" if set(word) == {"*"} else r"\w*".join(re.escape(p) for p in word.split("*"))
        for word in words
    )
    if re.match(r"[\w*]", words[0][0]):
        regex = r"(?<!\w)" + regex
    if re.match(r"[\w*]", words[-1][-1]):
        regex += r"(?!\w)"
    return regex


@settings(max_examples=1000, deadline=None)
@given(pattern=patterns, text=haystacks)
def test_linear_regex_matches_exactly_like_the_naive_one(pattern: str, text: str) -> None:
    fast = re.search(pattern_regex(pattern), text)
    slow = re.search(naive_regex(pattern), text)
    assert (fast and fast.span()) == (slow and slow.span())


@PROPERTY_SETTINGS
@given(pattern=patterns, text=haystacks)
def test_replace_leaves_no_match_behind(pattern: str, text: str) -> None:
    word = WatchedWord(pattern, "replace", "~")
    decision = moderate(Content(text, ContentKind.TITLE, ContentPolicy(watched_words=(word,))))
    if decision.published:
        regex = compile_watched_words((word,)).replace
        assert regex is not None
        assert regex.search(normalise(decision.text)) is None


@PROPERTY_SETTINGS
@given(text=any_text, pattern=patterns, kind=kinds)
def test_watched_words_never_break_safety(text: str, pattern: str, kind: ContentKind) -> None:
    words = (WatchedWord(pattern, "replace", "<img src=x onerror=alert(1)>"),)
    decision = moderate(Content(text, kind, ContentPolicy(watched_words=words)))
    assert_script_free(decision.html)
    assert sanitise_html(decision.html) == decision.html
