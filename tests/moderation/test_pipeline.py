from __future__ import annotations

import html
import re
from re import _parser as sre_parse  # private, but the only way to inspect a regex's shape

import pytest

from moderation.content import (
    Action,
    Content,
    ContentKind,
    ContentPolicy,
    Decision,
    FilterInput,
    FilterResult,
    Reason,
    WatchedWord,
)
from moderation.pipeline import DEFAULT_FILTERS, moderate
from moderation.sanitise import LINK_REL, sanitise_html
from moderation.text import normalise
from moderation.watched import compile_watched_words, pattern_regex
from tests.moderation.xss_oracle import assert_script_free

REL = f'rel="{LINK_REL}"'


def post(text: str, *words: WatchedWord, kind: ContentKind = ContentKind.POST) -> Decision:
    return moderate(Content(text, kind, ContentPolicy(watched_words=words)))


# --------------------------------------------------------------------------- rendering


def test_plain_post_is_published_as_a_paragraph() -> None:
    decision = post("Hello *there*")
    assert decision.published and not decision.held and not decision.refused
    assert decision.html == "<p>Hello <em>there</em></p>\n"
    assert decision.text == "Hello *there*"
    assert decision.reason is None and decision.notice is None


def test_links_get_exactly_our_rel() -> None:
    decision = post('[a page](https://example.org/x "Title")')
    assert (
        decision.html == f'<p><a href="https://example.org/x" title="Title" {REL}>a page</a></p>\n'
    )


@pytest.mark.parametrize(
    ("text", "href"),
    [
        ("see https://example.org/a?b=1 now", "https://example.org/a?b=1"),
        ("see www.example.org now", "http://www.example.org"),
        ("mail me@example.org", "mailto:me@example.org"),
        ("<https://example.org>", "https://example.org"),
    ],
)
def test_bare_urls_are_linkified(text: str, href: str) -> None:
    assert f'<a href="{href}" {REL}>' in post(text).html


def test_image_becomes_a_plain_link_with_its_alt_text() -> None:
    decision = post('![a *cat* photo](https://img.example/cat.png "t")')
    assert (
        decision.html
        == f'<p><a href="https://img.example/cat.png" title="t" {REL}>a cat photo</a></p>\n'
    )
    assert "<img" not in decision.html


def test_image_without_alt_text_shows_its_address() -> None:
    html_ = post("![](https://img.example/cat.png)").html
    assert (
        html_
        == f'<p><a href="https://img.example/cat.png" {REL}>https://img.example/cat.png</a></p>\n'
    )


def test_image_inside_a_link_keeps_only_the_outer_link() -> None:
    html_ = post("[![badge](https://img.example/b.svg)](https://example.org)").html
    assert html_ == f'<p><a href="https://example.org" {REL}>badge</a></p>\n'


@pytest.mark.parametrize(
    "text",
    [
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html,hi)",
        "![x](data:image/png;base64,AAAA)",
        "[x](file:///etc/passwd)",
        "[x](javascript:123)",
        "<javascript:alert(1)>",
    ],
)
def test_unsafe_link_destinations_stay_literal_text(text: str) -> None:
    html_ = post(text).html
    assert "<a" not in html_
    assert_script_free(html_)


def test_raw_html_is_shown_as_typed() -> None:
    assert post("I <3 <b>you</b> & me").html == "<p>I &lt;3 &lt;b&gt;you&lt;/b&gt; &amp; me</p>\n"


def test_headings_are_demoted_below_the_page_headings() -> None:
    html_ = post("# One\n\n## Two\n\n### Three\n\n#### Four\n\n###### Six").html
    assert html_ == "<h3>One</h3>\n<h4>Two</h4>\n<h5>Three</h5>\n<h6>Four</h6>\n<h6>Six</h6>\n"


def test_tables_strikethrough_and_code_render_without_attributes() -> None:
    html_ = post("a | b\n--: | :-\n1 | 2\n\n~~gone~~\n\n```py\nx < 1\n```").html
    assert "<th>a</th>" in html_ and "<td>2</td>" in html_ and "style" not in html_
    assert "<s>gone</s>" in html_
    assert "<pre><code>x &lt; 1\n</code></pre>" in html_


@pytest.mark.parametrize("kind", [ContentKind.CHAT, ContentKind.PROFILE, ContentKind.NOTE])
def test_other_kinds_use_markdown_too(kind: ContentKind) -> None:
    assert post("**hi**", kind=kind).html == "<p><strong>hi</strong></p>\n"


# --------------------------------------------------------------------------- titles


def test_title_is_plain_escaped_single_line_text() -> None:
    decision = post("  # *Not* <b>markdown</b>\n & \"quotes\" 'too'  ", kind=ContentKind.TITLE)
    assert decision.published
    assert decision.text == "# *Not* <b>markdown</b> & \"quotes\" 'too'"
    assert decision.html == html.escape(decision.text)
    assert sanitise_html(decision.html) == decision.html


def test_title_links_are_not_linkified() -> None:
    decision = post("see https://example.org", kind=ContentKind.TITLE)
    assert decision.html == "see https://example.org"


# --------------------------------------------------------------------------- size limits


@pytest.mark.parametrize("text", ["", " ", "\n\t \r\n", "\u200b\u200d", "\u3164", "\x00\x01"])
@pytest.mark.parametrize("kind", list(ContentKind))
def test_empty_content_is_refused(text: str, kind: ContentKind) -> None:
    decision = post(text, kind=kind)
    assert decision.refused and decision.html == ""
    assert decision.reason is not None and decision.reason.code == "empty"
    assert "empty" in decision.reason.message


@pytest.mark.parametrize(
    "text", ["[a]: https://example.org", "---", "***\n\n___", "[a]: https://e.org\n\n- - -"]
)
def test_markdown_that_renders_to_nothing_visible_is_empty(text: str) -> None:
    decision = post(text)
    assert decision.refused and decision.reason is not None and decision.reason.code == "empty"


def test_too_long_is_refused_with_the_limit_and_current_length() -> None:
    decision = moderate(Content("x" * 20_001, ContentKind.POST))
    assert decision.refused and decision.html == ""
    assert decision.reason is not None and decision.reason.code == "too_long"
    assert "20,000" in decision.reason.message and "20,001" in decision.reason.message
    assert "shorten it by 1 character and" in decision.reason.message
    assert decision.reason.message == (
        "Your post is 20,001 characters long and the limit here is 20,000. "
        "Please shorten it by 1 character and send it again."
    )
    # The member's text comes back so nothing is lost.
    assert decision.text == "x" * 20_001


def test_exactly_the_limit_is_fine_and_the_limit_is_per_community() -> None:
    assert moderate(Content("x" * 20_000, ContentKind.POST)).published
    small = ContentPolicy(max_chars=10)
    assert moderate(Content("x" * 10, ContentKind.CHAT, small)).published
    decision = moderate(Content("x" * 11, ContentKind.CHAT, small))
    assert decision.refused and decision.reason is not None
    assert decision.reason.message.startswith("Your message is 11 characters long")
    assert "limit here is 10." in decision.reason.message
    assert "shorten it by 1 character " in decision.reason.message
    over = moderate(Content("x" * 1_234, ContentKind.CHAT, small)).reason
    assert over is not None and "shorten it by 1,224 characters " in over.message


def test_crlf_newlines_count_once_and_control_characters_are_removed() -> None:
    policy = ContentPolicy(max_chars=5)
    decision = moderate(Content("a\r\nb\r\nc", ContentKind.POST, policy))
    assert decision.published and decision.text == "a\nb\nc"
    assert moderate(Content("a\x00b\x1bc\x7f", ContentKind.POST)).text == "abc"


# --------------------------------------------------------------------------- watched words


def test_block_word_refuses_without_teaching_the_word() -> None:
    decision = post("you absolute Muppet", WatchedWord("muppet", "block"))
    assert decision.refused and decision.html == ""
    assert decision.reason is not None and decision.reason.code == "watched_word"
    assert "muppet" not in decision.reason.message.lower()
    assert "edit" in decision.reason.message


def test_hold_word_holds_for_a_moderator() -> None:
    decision = post("meet me irl", WatchedWord("irl", "hold"))
    assert decision.held
    assert decision.html == "<p>meet me irl</p>\n"
    assert decision.reason is not None and decision.reason.code == "watched_word"
    assert "moderator" in decision.reason.message and "told" in decision.reason.message


def test_replace_word_rewrites_the_text_and_rerenders_the_html() -> None:
    decision = post("what a darn shame, DARN it", WatchedWord("darn", "replace"))
    assert decision.published
    # Escaped for Markdown so "***" stays literal instead of becoming emphasis or a rule.
    assert decision.text == r"what a \*\*\* shame, \*\*\* it"
    assert decision.html == "<p>what a *** shame, *** it</p>\n"


def test_replace_on_its_own_line_does_not_become_a_horizontal_rule() -> None:
    decision = post("darn\n\n- darn", WatchedWord("darn", "replace"))
    assert decision.html == "<p>***</p>\n<ul>\n<li>***</li>\n</ul>\n"


def test_replace_with_a_custom_replacement_and_in_titles_unescaped() -> None:
    word = WatchedWord("heck", "replace", "[redacted]")
    assert post("oh heck", word).html == "<p>oh [redacted]</p>\n"
    title = post("oh heck", word, kind=ContentKind.TITLE)
    assert title.text == "oh [redacted]" and title.html == "oh [redacted]"


def test_a_replacement_cannot_smuggle_markup() -> None:
    word = WatchedWord("heck", "replace", "[x](javascript:alert(1)) <img src=x>")
    decision = post("oh heck", word)
    assert_script_free(decision.html)
    assert "<a" not in decision.html


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("bad", ["bad", "BAD!", "so bad.", "(bad)"], ["badge", "abad", "bad_x"]),
        ("bad*", ["bad", "badly", "badness here", "a-bad"], ["abad", "a_bad"]),
        ("*bad", ["bad", "notbad", "so verybad."], ["badly"]),
        ("*bad*", ["bad", "notbadly", "xbadx"], ["b-a-d"]),
        ("f*ck", ["fck", "fuck", "fooock"], ["fuckk", "ck", "f ck"]),
        ("a*b*c", ["abc", "axxbyyc", "abbc"], ["acb", "ab", "abcd"]),
        ("bad word", ["bad word", "BAD   word", "bad\nword"], ["badword", "bad words"]),
        ("c++", ["I like c++", "c++."], ["c+"]),
    ],
)
def test_watched_word_matching(pattern: str, matches: list[str], misses: list[str]) -> None:
    word = WatchedWord(pattern, "hold")
    for text in matches:
        assert post(text, word).held, (pattern, text)
    for text in misses:
        assert post(text, word).published, (pattern, text)


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("bad", "\uff22\uff21\uff24"),  # fullwidth
        ("bad", "\U0001d41b\U0001d41a\U0001d41d"),  # mathematical bold
        ("bad", "b\u200ba\u00add"),  # zero-width space and soft hyphen
        ("strasse", "Straße"),  # casefold, not just lower()
        ("straße", "STRASSE"),
        ("café", "cafe\u0301"),  # decomposed accent
        ("\uff46\uff49\uff4e\uff45", "\ufb01ne"),  # pattern normalised too, ligature in text
    ],
)
def test_watched_words_match_after_unicode_normalisation(pattern: str, text: str) -> None:
    assert post(text, WatchedWord(pattern, "block")).refused


@pytest.mark.parametrize(
    "text", ["b**a**d", "b&#97;d", "b&#x61;d", "`bad`", "[b](https://x.org)ad"]
)
def test_words_hidden_by_markdown_are_still_found(text: str) -> None:
    assert post(text, WatchedWord("bad", "block")).refused


def test_replace_word_hidden_by_markdown_is_held_since_it_cannot_be_rewritten() -> None:
    decision = post("b**a**d and bad", WatchedWord("bad", "replace"))
    assert decision.held
    assert decision.text == r"b**a**d and \*\*\*"


def test_replace_maps_back_to_the_members_own_characters() -> None:
    # Fullwidth, decomposed and ligature text is replaced in place; the rest is untouched.
    word = WatchedWord("bad", "replace", "X")
    assert post("\uff22\uff21\uff24 café\u0301 bad", word).text == "X café\u0301 X"
    assert post("\u24b7\u24d0\u24d3 ok", word).text == "X ok"
    assert post("so \ufb01ne", WatchedWord("fine", "replace", "Y")).text == "so Y"


def test_strictest_watched_word_wins() -> None:
    words = (
        WatchedWord("one", "replace"),
        WatchedWord("two", "hold"),
        WatchedWord("three", "block"),
    )
    assert post("one two three", *words).refused
    assert post("one two", *words).held
    assert post("one", *words).published


def test_block_phrase_overlapping_a_replace_word_is_still_found() -> None:
    words = (WatchedWord("foo bar", "replace"), WatchedWord("bar baz", "block"))
    assert post("foo bar baz", *words).refused


def test_longest_replace_phrase_wins() -> None:
    words = (WatchedWord("bad", "replace", "1"), WatchedWord("bad idea", "replace", "2"))
    assert post("a bad idea, bad", *words).text == "a 2, 1"


@pytest.mark.parametrize(
    ("pattern", "action"),
    [("", "block"), ("   ", "hold"), ("*", "replace"), ("** *", "block"), ("x" * 101, "block")],
)
def test_invalid_watched_words_are_rejected_when_saved(pattern: str, action: str) -> None:
    with pytest.raises(ValueError):
        WatchedWord(pattern, action)  # type: ignore[arg-type]


def test_invalid_action_is_rejected() -> None:
    with pytest.raises(ValueError):
        WatchedWord("bad", "delete")  # type: ignore[arg-type]


def test_regex_metacharacters_in_patterns_are_literal() -> None:
    word = WatchedWord("a.b (c)+ [d]", "block")
    assert post("a.b (c)+ [d]", word).refused
    assert post("axb cc d", word).published


def test_compiled_words_are_cached_per_word_list() -> None:
    words = (WatchedWord("one", "block"), WatchedWord("two", "replace"))
    assert compile_watched_words(words) is compile_watched_words(tuple(words))


# --------------------------------------------------------------------------- regex safety


def regex_shape_problems(regex: str) -> list[str]:
    """Structural guarantees that keep matching linear:
    - no quantifier inside another quantifier (the classic catastrophic form);
    - no backtracking quantifier outside an atomic group, and at most one directly inside
      each atomic group (adjacent backtracking quantifiers, as in a.*a.*a.*b, are polynomial
      even without nesting)."""
    problems: list[str] = []

    def visit(items: sre_parse.SubPattern | list, scope: list[int] | None, in_repeat: bool) -> None:
        for op, arg in items:
            name = str(op)
            if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                if in_repeat:
                    problems.append("nested quantifier")
                if name != "POSSESSIVE_REPEAT":
                    if scope is None:
                        problems.append("backtracking quantifier outside an atomic group")
                    else:
                        scope[0] += 1
                visit(arg[2], scope, True)
            elif name == "ATOMIC_GROUP":
                inner = [0]
                visit(arg, inner, in_repeat)
                if inner[0] > 1:
                    problems.append("atomic group with several backtracking quantifiers")
            elif name == "SUBPATTERN":
                visit(arg[3], scope, in_repeat)
            elif name == "BRANCH":
                for branch in arg[1]:
                    visit(branch, scope, in_repeat)
            elif name in ("ASSERT", "ASSERT_NOT"):
                visit(arg[1], scope, in_repeat)

    visit(sre_parse.parse(regex), None, False)
    return problems


PATHOLOGICAL = [
    "a*a*a*a*a*a*",
    "a*a*a*a*a*b",
    "*a*a*a*a*a*",
    "**a**a**a**b**",
    "*a *a *a *b",
    "a* a* a* a* !",
]


def test_shape_checker_rejects_the_naive_translation() -> None:
    assert regex_shape_problems(r"(?<!\w)a\w*a\w*a\w*b(?!\w)")
    assert regex_shape_problems(r"(a+)+b")


@pytest.mark.parametrize("pattern", PATHOLOGICAL)
def test_built_regex_has_a_linear_shape(pattern: str) -> None:
    assert regex_shape_problems(pattern_regex(pattern)) == []


def test_combined_community_regexes_have_a_linear_shape() -> None:
    actions = ("block", "hold", "replace")
    words = tuple(WatchedWord(p, actions[i % 3]) for i, p in enumerate(PATHOLOGICAL * 3))
    compiled = compile_watched_words(words)
    for regex in (compiled.block, compiled.hold, compiled.replace):
        assert regex is not None
        assert regex_shape_problems(regex.pattern) == []


def test_pathological_patterns_on_a_long_input_complete() -> None:
    # No timing assertion: the shape tests above are the guarantee; this shows it working on
    # the worst input for these patterns (one 19,999-letter word that almost matches).
    text = "a" * 19_999 + "!"
    for pattern in PATHOLOGICAL:
        re.compile(pattern_regex(pattern)).search(normalise(text))
    words = tuple(
        WatchedWord(p, a)
        for p, a in zip(PATHOLOGICAL, ["replace", "block", "hold"] * 2, strict=True)
    )
    decision = moderate(Content(text, ContentKind.POST, ContentPolicy(watched_words=words)))
    # "a*a*a*a*a*b" (block) can't match; "*a*a*a*a*a*" (hold) and "a*a*a*a*a*a*" (replace) do.
    assert decision.held
    assert decision.text == r"\*\*\*!"
    # And many short words, where the phrase patterns get a chance at every word.
    spaced = moderate(
        Content("a " * 9_999 + "!", ContentKind.POST, ContentPolicy(watched_words=words))
    )
    assert spaced.held  # "a* a* a* a* !" matches the end


# --------------------------------------------------------------------------- filters


def test_extra_filters_can_hold_and_attach_a_notice() -> None:
    def crisis(item: FilterInput) -> FilterResult | None:
        if "hopeless" in item.normalised_text:
            return FilterResult(notice={"resources": "support-lines"})
        return None

    def new_member(item: FilterInput) -> FilterResult:
        return FilterResult(Action.HOLD, Reason("new_member", "Held: you're new here."))

    decision = moderate(
        Content("I feel HOPELESS", ContentKind.POST), filters=(*DEFAULT_FILTERS, crisis, new_member)
    )
    assert decision.held
    assert decision.reason == Reason("new_member", "Held: you're new here.")
    assert decision.notice == {"resources": "support-lines"}


def test_filters_see_rewritten_text_and_the_strictest_result_wins() -> None:
    seen: list[str] = []

    def rewrite(item: FilterInput) -> FilterResult:
        return FilterResult(text=item.text.replace("phone", "[contact removed]"))

    def record(item: FilterInput) -> FilterResult:
        seen.append(item.html)
        return FilterResult(Action.REFUSE, Reason("x", "no"), notice={"a": 1})

    def later_hold(item: FilterInput) -> FilterResult:
        return FilterResult(Action.HOLD, Reason("y", "held"), notice={"a": 2, "b": 3})

    decision = moderate(
        Content("my phone", ContentKind.POST), filters=(rewrite, record, later_hold)
    )
    assert seen == ["<p>my [contact removed]</p>\n"]
    assert decision.refused and decision.reason == Reason("x", "no")
    assert decision.text == "my [contact removed]" and decision.html == ""
    assert decision.notice == {"a": 1, "b": 3}


def test_no_filters_at_all() -> None:
    decision = moderate(Content("hi", ContentKind.POST, ContentPolicy()), filters=())
    assert decision.published and decision.html == "<p>hi</p>\n"


def test_hold_or_refuse_results_need_a_reason() -> None:
    with pytest.raises(ValueError):
        FilterResult(Action.HOLD)
    with pytest.raises(ValueError):
        FilterResult(Action.REFUSE)
