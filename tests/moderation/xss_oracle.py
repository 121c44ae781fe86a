"""An XSS oracle for HTML we serve: judged by parsing, never by grepping.

Escaped text may legitimately contain "onerror=" or "javascript:" (a member quoting a payload),
so string searches give both false alarms and false comfort. Instead the HTML is parsed the
way a browser would (html5lib implements the WHATWG algorithm) and, as a cross-check, with the
standard library's parser; a payload that confuses one of them is still caught by the other.

    from tests.moderation.xss_oracle import assert_script_free
    assert_script_free(decision.html)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

try:  # the real package if installed, otherwise the copy bleach vendors
    import html5lib  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the environment
    from bleach._vendor import html5lib  # type: ignore[no-redef]

FORBIDDEN_ELEMENTS = frozenset(
    {
        "script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "meta",
        "link", "form", "button", "input", "style", "svg", "math", "template", "noscript",
        "img", "image", "video", "audio", "source", "track", "portal",
    }
)  # fmt: skip
FORBIDDEN_SCHEMES = frozenset({"javascript", "vbscript", "data", "file"})
# Attributes a browser treats as URLs (local names; xlink:href and xml:base arrive as "href"
# and "base" in their own namespaces).
URL_ATTRIBUTES = frozenset(
    {
        "href", "src", "action", "formaction", "background", "poster", "data", "code",
        "codebase", "cite", "longdesc", "lowsrc", "dynsrc", "srcset", "ping", "manifest",
        "profile", "usemap", "icon", "base", "classid", "archive", "to", "from", "values",
        "by", "xlink:href", "xml:base",
    }
)  # fmt: skip
# Attributes that are HTML or script by themselves, whatever their value.
FORBIDDEN_ATTRIBUTES = frozenset({"srcdoc"})

# What the URL parser does before reading a scheme: trim C0 controls and spaces at the ends,
# drop tabs and newlines anywhere.
_URL_TRIM = "".join(chr(c) for c in range(0x21))
_URL_DROP = re.compile(r"[\t\n\r]")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6}\s?|.)", re.S)


def url_scheme(value: str) -> str | None:
    """The scheme a browser would read from an attribute value (entities already decoded)."""
    cleaned = _URL_DROP.sub("", value.strip(_URL_TRIM)).lower()
    match = _SCHEME.match(cleaned)
    return match.group(1) if match else None


def _css_unescape(css: str) -> str:
    def one(match: re.Match[str]) -> str:
        text = match.group(1).strip()
        if re.fullmatch(r"[0-9a-fA-F]{1,6}", text):
            code = int(text, 16)
            return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"
        return text

    return _CSS_ESCAPE.sub(one, _CSS_COMMENT.sub("", css))


def _local(name: str) -> str:
    """Strip an ElementTree namespace: "{http://www.w3.org/2000/svg}svg" -> "svg"."""
    return name.rsplit("}", 1)[-1].lower()


def _html5lib_elements(html: str) -> Iterator[tuple[str, dict[str, str]]]:
    fragment = html5lib.parseFragment(
        html, container="div", treebuilder="etree", namespaceHTMLElements=False
    )
    for element in fragment.iter():
        # Skip the fragment root itself, and comments (whose tag isn't a string).
        if element is not fragment and isinstance(element.tag, str):
            yield _local(element.tag), {_local(k): v for k, v in element.attrib.items()}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag.lower(), {k.lower(): v or "" for k, v in attrs}))


def _stdlib_elements(html: str) -> Iterator[tuple[str, dict[str, str]]]:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    yield from collector.elements


def parsed_elements(html: str) -> list[tuple[str, dict[str, str]]]:
    """Every element (tag, attributes) as html5lib sees the fragment, then as html.parser
    sees it."""
    return [*_html5lib_elements(html), *_stdlib_elements(html)]


def _attribute_problem(tag: str, name: str, value: str) -> str | None:
    bare = name.split(":")[-1]
    if bare.startswith("on"):
        return f"<{tag}> has event handler attribute {name}"
    if bare in FORBIDDEN_ATTRIBUTES or name in FORBIDDEN_ATTRIBUTES:
        return f"<{tag}> has attribute {name}"
    if name in URL_ATTRIBUTES or bare in URL_ATTRIBUTES:
        candidates = value.split(",") if bare == "srcset" else [value]
        for candidate in candidates:
            scheme = url_scheme(candidate)
            if scheme in FORBIDDEN_SCHEMES:
                return f"<{tag} {name}> uses the {scheme}: scheme: {value!r}"
    if bare == "style":
        css = _css_unescape(value).lower()
        for needle in ("expression", "javascript:", "vbscript:", "url(", "behavior", "@import"):
            if needle in css:
                return f"<{tag}> style contains {needle!r}: {value!r}"
    return None


def script_problems(html: str) -> list[str]:
    """Everything script-capable found in `html`, as readable descriptions."""
    problems = []
    for tag, attrs in parsed_elements(html):
        if tag in FORBIDDEN_ELEMENTS:
            problems.append(f"forbidden element <{tag}>")
        for name, value in attrs.items():
            if (problem := _attribute_problem(tag, name, value)) is not None:
                problems.append(problem)
    return problems


def assert_script_free(html: str) -> None:
    """Fail with every problem found if `html` could run script or load active content."""
    problems = script_problems(html)
    assert not problems, "script-capable HTML:\n  " + "\n  ".join(problems) + f"\nin: {html!r}"
