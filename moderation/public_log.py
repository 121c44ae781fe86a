"""The public moderation log's sentences, in the reader's language.

A public summary is stored once, in English, when the action is taken (moderation/audit.py:
the log is append-only, and its readers speak different languages). The sentences Kindred
writes are marked for translation where they are made (moderation/actions.py, cases.py,
sanctions.py; other packages mark theirs), and translated here as the log is read. A
moderator's reason after ": " is their own words and is shown as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from core.i18n import gettext, ngettext

# "A member was muted in chat for 3 days": a sanction's length, said whole in each language.
_SPAN = re.compile(r"A member was (muted in chat|suspended) for (\d{1,6}) (hour|day)s?")


@dataclass(frozen=True)
class PublicEntry:
    """One line of a community's public log, as the page shows it."""

    created_at: datetime
    public_summary: str


def shown(summary: str) -> str:
    """A stored summary in this request's language: the whole sentence, or the sentence
    before a moderator's ": reason"; as stored when it is not one of ours."""
    if not summary:
        return summary
    if (whole := _sentence(summary)) is not None:
        return whole
    head, sep, reason = summary.partition(": ")
    if sep and (said := _sentence(head)) is not None:
        return f"{said}: {reason}"
    return summary


def _sentence(english: str) -> str | None:
    """Our translation of one of our sentences, or None when it isn't one."""
    if found := _SPAN.fullmatch(english):
        what, count, unit = found.group(1), int(found.group(2)), found.group(3)
        return _span_sentence(what, unit, count) % {"num": count}
    translated = gettext(english)
    return translated if translated != english else None


def _span_sentence(what: str, unit: str, count: int) -> str:
    if what == "suspended":
        if unit == "day":
            return ngettext(
                "A member was suspended for %(num)d day",
                "A member was suspended for %(num)d days",
                count,
            )
        return ngettext(
            "A member was suspended for %(num)d hour",
            "A member was suspended for %(num)d hours",
            count,
        )
    if unit == "day":
        return ngettext(
            "A member was muted in chat for %(num)d day",
            "A member was muted in chat for %(num)d days",
            count,
        )
    return ngettext(
        "A member was muted in chat for %(num)d hour",
        "A member was muted in chat for %(num)d hours",
        count,
    )
