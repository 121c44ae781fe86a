"""The public moderation log: stored in English, read in the reader's language, with a
moderator's reason shown as written."""

from __future__ import annotations

import gettext as stdlib_gettext

import pytest

from core import i18n
from moderation.public_log import shown

STORED = [
    "A post was hidden",
    "A thread was locked: spam, again: twice",
    "A member was muted in chat for 24 hours: rude",
    "A member was suspended for 1 day",
    "A member was banned",
    "A group session was cancelled",  # another package's sentence
    "",
]


class _Spanish(stdlib_gettext.NullTranslations):
    """A stand-in catalogue holding a few of the log's sentences."""

    TEXTS = {
        "A post was hidden": "Se ocultó una publicación",
        "A thread was locked": "Se cerró un hilo",
    }
    PLURALS = {
        "A member was muted in chat for %(num)d hour": (
            "Se silenció a un miembro en el chat durante %(num)d hora",
            "Se silenció a un miembro en el chat durante %(num)d horas",
        ),
        "A member was suspended for %(num)d day": (
            "Se suspendió a un miembro durante %(num)d día",
            "Se suspendió a un miembro durante %(num)d días",
        ),
    }

    def gettext(self, message: str) -> str:
        return self.TEXTS.get(message, message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        forms = self.PLURALS.get(msgid1)
        if forms is None:
            return msgid1 if n == 1 else msgid2
        return forms[0] if n == 1 else forms[1]


@pytest.mark.parametrize("summary", STORED)
def test_english_is_shown_as_stored(summary: str) -> None:
    assert shown(summary) == summary


def test_each_sentence_in_the_readers_language_and_the_reason_as_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spanish = _Spanish()
    monkeypatch.setattr(i18n, "translations", lambda code: spanish)
    assert shown("A post was hidden") == "Se ocultó una publicación"
    assert (
        shown("A thread was locked: spam, again: twice") == "Se cerró un hilo: spam, again: twice"
    )
    assert (
        shown("A member was muted in chat for 24 hours: rude")
        == "Se silenció a un miembro en el chat durante 24 horas: rude"
    )
    assert shown("A member was suspended for 1 day") == "Se suspendió a un miembro durante 1 día"
    # Not one of ours (or not translated yet): as stored, never half-translated.
    assert shown("A group session was cancelled") == "A group session was cancelled"
    assert (
        shown("A member was banned: A post was hidden") == "A member was banned: A post was hidden"
    )
