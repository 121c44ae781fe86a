"""A session (or a whole weekly series) as an iCalendar file (RFC 5545) for a member's own
calendar app: a download, never a link to a third-party calendar service."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from chat.groups.models import GroupSession
from chat.groups.service import ends_at

PRODID = "-//Kindred//Group sessions//EN"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


# Every character some calendar reader takes for the end of a line (Python's splitlines
# list): left raw, a title could start a property of its own ("…\u2028ATTENDEE:…").
_LINE_BREAKS = re.compile(r"\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Other control characters are not allowed in TEXT at all (RFC 5545 3.3.11; tab is).
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]")


def escape(text: str) -> str:
    """TEXT values: backslash, semicolon and comma escaped, line breaks as \\n, other
    control characters dropped."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return _LINE_BREAKS.sub("\\\\n", _CONTROLS.sub("", text))


def fold(line: str) -> list[str]:
    """Lines of at most 75 octets; continuations start with a space (RFC 5545 3.1)."""
    out, current = [], ""
    for char in line:
        limit = 75 if not out else 74
        if len((current + char).encode()) > limit:
            out.append(current)
            current = char
        else:
            current += char
    out.append(current)
    return [out[0], *(" " + part for part in out[1:])]


def calendar(sessions: list[GroupSession], site_url: str, host: str, now: datetime) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    lines.append("METHOD:PUBLISH")
    for session in sessions:
        url = f"{site_url.rstrip('/')}/sessions/{session.id}"
        description = session.description or session.title
        lines += [
            "BEGIN:VEVENT",
            f"UID:group-session-{session.id}@{host}",
            f"DTSTAMP:{_stamp(now)}",
            f"DTSTART:{_stamp(session.starts_at)}",
            f"DTEND:{_stamp(ends_at(session))}",
            f"SUMMARY:{escape(session.title)}",
            f"DESCRIPTION:{escape(description + ' — join from ' + url)}",
            f"URL:{url}",
            "STATUS:CANCELLED" if session.status == "cancelled" else "STATUS:CONFIRMED",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(part + "\r\n" for line in lines for part in fold(line))
