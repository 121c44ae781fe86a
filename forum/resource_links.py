"""The link and phone number of a resource directory entry, checked as data.

A directory entry's link is the one place Kindred prints an address someone else typed
into an `href`, so it is held to a narrow shape rather than cleaned up: `http` or `https`,
a registered-looking host name (no IP address, no `localhost`, no single-label name), no
user name or password, and only the characters a URL may carry (no spaces, quotes, angle
brackets or backslashes, which browsers read differently from one another). Anything else
is refused with a reason the member can act on, never rewritten into something they did
not write. Nothing is ever fetched from the address: pages print it in a plain link.
"""

from __future__ import annotations

import re
import string
from urllib.parse import urlsplit

from core.errors import Refusal

MAX_URL = 500
MAX_PHONE = 40
# RFC 3986's unreserved and reserved characters, and "%" for escapes: nothing else.
_URL_CHARS = frozenset(string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=%")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PHONE = re.compile(r"^\+?[0-9 ().-]+$")


def _refuse(message: str) -> Refusal:
    return Refusal("invalid_link", message, field="url")


def _ascii_host(host: str) -> str:
    """A host name as browsers send it: an international name in its punycode form, so
    look-alike letters can't pass for a well-known name."""
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise _refuse("That web address has a site name we can't read.") from None


def check_url(raw: str) -> str:
    """The entry's web address, as it will be printed in the link, or a Refusal that says
    what to change."""
    url = raw.strip()
    if len(url) > MAX_URL:
        raise _refuse(f"That web address is too long (the most is {MAX_URL} characters).")
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise _refuse("A web address must start with https:// (or http://).")
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    netloc, tail = rest[:end], rest[end:]
    if "@" in netloc:
        raise _refuse("A web address here can't include a user name or password.")
    if not netloc.isascii():  # an international name: punycode, then checked like any
        host, colon, port_text = netloc.partition(":")
        url = f"{scheme}://{_ascii_host(host)}{colon}{port_text}{tail}"
    if any(ch not in _URL_CHARS for ch in url):
        raise _refuse(
            "That web address has spaces or characters a link can't carry. Copy it from "
            "your browser's address bar."
        )
    if _BAD_ESCAPE.search(url):
        raise _refuse("That web address has a broken %-escape. Copy it from your browser.")
    parts = urlsplit(url)
    if "@" in parts.netloc:
        raise _refuse("A web address here can't include a user name or password.")
    if not parts.netloc or "[" in parts.netloc or "]" in parts.netloc:
        raise _refuse("That web address needs a site name, like https://www.example.org.")
    try:
        port = parts.port
    except ValueError:
        raise _refuse("That web address has a port number that can't be right.") from None
    host = (parts.hostname or "").rstrip(".")
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise _refuse("That web address needs a site name, like https://www.example.org.")
    if not _TLD.match(labels[-1]):  # an IP address, or a name that isn't on the internet
        raise _refuse("Give the site's name (like https://www.example.org), not a number.")
    shown = f"{scheme.lower()}://{host}" + (f":{port}" if port is not None else "")
    shown += parts.path
    if parts.query:
        shown += f"?{parts.query}"
    if parts.fragment:
        shown += f"#{parts.fragment}"
    return shown


def site_of(url: str) -> str:
    """The site's name as a reader checks it before following a link ("samaritans.org")."""
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def check_phone(raw: str) -> str:
    """A phone number as people write it ("+44 116 123", "(800) 273-8255"), or a Refusal."""
    phone = " ".join(raw.split())
    digits = sum(ch.isdigit() for ch in phone)
    if (
        len(phone) > MAX_PHONE
        or not _PHONE.match(phone)
        or "+" in phone[1:]
        or not 3 <= digits <= 20
    ):
        raise Refusal(
            "invalid_phone",
            "A phone number here has 3 to 20 digits, and may start with + and use spaces, "
            "dashes, dots or brackets.",
            field="phone",
        )
    return phone


def dial(phone: str) -> str:
    """The number for a tel: link: the digits, and a leading + where it has one."""
    return ("+" if phone.startswith("+") else "") + "".join(ch for ch in phone if ch.isdigit())
