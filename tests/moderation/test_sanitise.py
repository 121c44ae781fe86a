from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from moderation.sanitise import LINK_REL, is_allowed_url, sanitise_html
from tests.moderation.xss_oracle import assert_script_free


def test_every_link_gets_exactly_our_rel() -> None:
    html = sanitise_html('<a href="https://example.org">x</a>')
    assert html == f'<a href="https://example.org" rel="{LINK_REL}">x</a>'
    assert LINK_REL == "nofollow noopener noreferrer ugc"


def test_existing_rel_is_replaced_not_merged() -> None:
    html = sanitise_html('<a href="https://example.org" rel="me opener">x</a>')
    assert html == f'<a href="https://example.org" rel="{LINK_REL}">x</a>'


def test_link_without_href_still_gets_rel() -> None:
    assert sanitise_html("<a>x</a>") == f'<a rel="{LINK_REL}">x</a>'


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "&#x6a;avascript:alert(1)",
        "&#106;avascript&colon;alert(1)",
        # bleach's own check reads these as "path:port" and would keep them.
        "javascript:123",
        "&#x6a;avascript:1",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "data:image/png;base64,AAAA",
        "file:///etc/passwd",
        "ftp://example.org/x",
    ],
)
def test_disallowed_link_schemes_lose_their_href(href: str) -> None:
    html = sanitise_html(f'<a href="{href}">x</a>')
    assert html == f'<a rel="{LINK_REL}">x</a>'
    assert not is_allowed_url(href)


@pytest.mark.parametrize(
    "href",
    [
        "https://example.org/a?b=1&amp;c=2",
        "http://example.org",
        "mailto:someone@example.org",
        "/c/rules",
        "#top",
        "../up",
        "/wiki/Time:Zones",
    ],
)
def test_allowed_links_keep_their_href(href: str) -> None:
    assert f'href="{href}"' in sanitise_html(f'<a href="{href}">x</a>')


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        # Disallowed tags are stripped to their text (see the module for why not escaped).
        ("<h1>Big</h1>", "Big"),
        ("<h2>Big</h2>", "Big"),
        ("<h3>ok</h3>", "<h3>ok</h3>"),
        ("<span class='x'>text</span>", "text"),
        ("<script>alert(1)</script>", "alert(1)"),
        ("<img src=x onerror=alert(1)>", ""),
        ("<!-- note -->after", "after"),
        # Only the allow-listed attributes survive.
        ('<p style="color:red" class="x" id="y">p</p>', "<p>p</p>"),
        ('<ol start="3" type="a"><li>x</li></ol>', '<ol start="3"><li>x</li></ol>'),
        (
            '<table><tbody><tr><th style="text-align:right" align="right">h</th></tr></tbody>',
            "<table><tbody><tr><th>h</th></tr></tbody></table>",
        ),
        ('<code class="language-py">x</code>', "<code>x</code>"),
        # Text is escaped, existing references are kept as they are.
        ("a < b & c", "a &lt; b &amp; c"),
        ("&quot;&#x27;&amp;", "&quot;&#x27;&amp;"),
    ],
)
def test_allow_list(dirty: str, clean: str) -> None:
    assert sanitise_html(dirty) == clean


@pytest.mark.parametrize(
    "html",
    [
        "<p>hello <strong>there</strong> <em>you</em> <del>x</del> <s>y</s></p>",
        "<blockquote><p>q</p></blockquote><ul><li>a</li></ul><hr><pre><code>x</code></pre>",
        "<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>",
        '<p><a href="https://e.org" title="t">x</a><br>y</p>',
        "<h3>a</h3><h4>b</h4><h5>c</h5><h6>d</h6>",
    ],
)
def test_allowed_markup_passes_and_is_idempotent(html: str) -> None:
    once = sanitise_html(html)
    assert sanitise_html(once) == once
    assert_script_free(once)
    # Nothing allowed was lost (rel added to links only).
    assert once.replace(f' rel="{LINK_REL}"', "") == html


def test_cleaner_is_safe_to_use_from_many_threads() -> None:
    # bleach's Cleaner isn't thread-safe; we keep one per thread.
    docs = [
        f'<p><a href="https://e.org/{n}" onclick="x">{n}</a><script>s</script></p>'
        for n in range(200)
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(sanitise_html, docs))
    assert results == [
        f'<p><a href="https://e.org/{n}" rel="{LINK_REL}">{n}</a>s</p>' for n in range(200)
    ]
