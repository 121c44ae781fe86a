"""A directory entry's link is the one address someone else typed that Kindred prints in an
href: hostile ones are refused, and whatever is accepted is a plain http(s) link to a named
site (forum/resource_links.py). Properties, over many generated addresses."""

from __future__ import annotations

import re
import string
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import Refusal
from forum.resource_links import check_phone, check_url, dial, site_of

SAFE_CHARS = set(string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=%")
HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]+)$")


def accepted(url: str) -> str | None:
    try:
        return check_url(url)
    except Refusal as refusal:
        assert refusal.field == "url" and refusal.message
        return None


def _mixed_case(word: str) -> st.SearchStrategy[str]:
    return st.tuples(*(st.sampled_from([c.lower(), c.upper()]) for c in word)).map("".join)


hostile_scheme = st.sampled_from(
    ["javascript", "data", "vbscript", "file", "blob", "ftp", "about", "jar", "view-source"]
).flatmap(_mixed_case)
padding = st.text(alphabet=" \t\n\r\x00\x0b\x0c\u00a0\u200b", max_size=3)
anything = st.text(max_size=60)


@settings(max_examples=300)
@given(padding, hostile_scheme, st.sampled_from([":", "://", ":/", ": "]), anything)
def test_other_schemes_are_always_refused(pad: str, scheme: str, sep: str, rest: str) -> None:
    assert accepted(f"{pad}{scheme}{sep}{rest}") is None


@settings(max_examples=300)
@given(
    st.sampled_from(["http", "https", "HTTPS"]),
    st.text(alphabet=string.ascii_letters + string.digits + ":%._-", min_size=1, max_size=12),
    st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=10),
    anything,
)
def test_credentials_in_the_address_are_refused(
    scheme: str, user: str, host: str, rest: str
) -> None:
    assert accepted(f"{scheme}://{user}@{host}.org/{rest}") is None


@settings(max_examples=200)
@given(st.ip_addresses(), st.sampled_from(["http", "https"]))
def test_ip_addresses_are_refused(address, scheme: str) -> None:
    host = f"[{address}]" if address.version == 6 else str(address)
    assert accepted(f"{scheme}://{host}/") is None


@settings(max_examples=1000)
@given(
    st.one_of(
        anything,
        st.builds(
            "".join,
            st.lists(
                st.sampled_from(
                    [
                        "http",
                        "https",
                        "://",
                        ":",
                        "/",
                        "\\",
                        "@",
                        "example",
                        ".org",
                        ".",
                        "%",
                        "%2f",
                        "#",
                        "?",
                        "\"'<>",
                        " ",
                        "\t",
                        "javascript:",
                        "[::1]",
                        "127.0.0.1",
                        ":8080",
                        "xn--",
                        "ü",
                        "-",
                    ]
                ),
                max_size=12,
            ),
        ),
    )
)
def test_whatever_is_accepted_is_a_plain_link_to_a_named_site(raw: str) -> None:
    url = accepted(raw)
    if url is None:
        return
    assert url.startswith(("http://", "https://"))
    assert set(url) <= SAFE_CHARS  # no spaces, quotes, angle brackets, backslashes
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https")
    assert parts.username is None and parts.password is None
    assert HOST.match(parts.hostname or ""), url
    assert check_url(url) == url  # stable: checking again changes nothing


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("https://www.samaritans.org/", "https://www.samaritans.org/"),
        ("  HTTPS://Example.ORG/a?b=c#d ", "https://example.org/a?b=c#d"),
        ("https://bücher.de/x", "https://xn--bcher-kva.de/x"),
        ("http://example.com:8080/path", "http://example.com:8080/path"),
    ],
)
def test_real_addresses_are_kept(raw: str, shown: str) -> None:
    assert check_url(raw) == shown


@pytest.mark.parametrize(
    "raw",
    [
        "javascript:alert(1)",
        " JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "//evil.example/",
        "https:evil.example",
        "https://user:pass@example.org/",
        "https://example.org\\@evil.example/",
        "http://localhost/",
        "http://127.0.0.1/",
        "http://2130706433/",
        "https://[::1]/",
        "https://example.org:99999/",
        'https://example.org/"onmouseover="x',
        "https://example.org/<script>",
        "https://example.org/%zz",
        "https://example.org/ space",
        "https://-bad-.org/",
        "https://" + "a" * 600 + ".org/",
    ],
)
def test_hostile_addresses_are_refused(raw: str) -> None:
    assert accepted(raw) is None


def test_the_site_name_is_what_a_reader_checks() -> None:
    assert site_of("https://www.samaritans.org/about") == "samaritans.org"


@settings(max_examples=300)
@given(st.text(max_size=50))
def test_a_phone_number_dials_only_digits(raw: str) -> None:
    try:
        phone = check_phone(raw)
    except Refusal as refusal:
        assert refusal.field == "phone"
        return
    assert re.fullmatch(r"\+?[0-9]{3,20}", dial(phone))
    assert re.fullmatch(r"\+?[0-9 ().-]+", phone)


def test_phone_numbers_as_people_write_them() -> None:
    assert dial(check_phone("+44 (0) 116-123")) == "+440116123"
    assert check_phone("  988 ") == "988"
