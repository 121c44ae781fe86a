"""Passphrase policy: length limits, a common-passphrase list, and not reusing the pseudonym.

Pure functions only. Hashing (argon2) happens elsewhere, and it must hash
``normalise_passphrase(p)``, the same form that was checked here; otherwise a member who typed
"ﬁsh" on one keyboard and "fish" on another would be locked out.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path

from core.i18n import N_, gettext
from identity.names import skeleton

PASSPHRASE_MIN = 10
# Upper bound because argon2 cost grows with input length; an unbounded field lets one request
# burn CPU. 1024 characters is far beyond any passphrase a person types.
PASSPHRASE_MAX = 1024

# NFKC can expand a character up to 18-fold, so normalising an enormous input is itself work.
# Anything this long is refused before normalising; the exact limit is applied afterwards.
_RAW_LENGTH_GUARD = 4 * PASSPHRASE_MAX

# A passphrase is "mostly the pseudonym" when, after removing the pseudonym, fewer than this many
# letters remain: "rowan2024", "Rowan_abc!" and "R0wan-R0wan" are refused, while
# "rowan walks the long beach" is not. Digits and symbols do not count, because tacking them on
# is exactly the guessable pattern we want to stop.
_MIN_LETTERS_BESIDES_PSEUDONYM = 4

# Fewer distinct characters than this ("aaaaaaaaaa", "ababababab") is trivially guessable.
_MIN_DISTINCT_CHARACTERS = 3

_WHITESPACE = re.compile(r"\s+")
_NON_ALNUM = re.compile(r"[\W_]+")
_NON_LETTER = re.compile(r"[\W\d_]+")

_TRY_INSTEAD = N_(
    "Try three or four unrelated words you'll remember — a small, odd picture only you would "
    "think of."
)


class PassphraseError(ValueError):
    """A passphrase was refused.

    ``code`` is stable for programs; ``message`` is written for the member and suggests what to
    do instead.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def normalise_passphrase(passphrase: str) -> str:
    """Return the NFKC form of ``passphrase``: the form to check and the form to hash.

    NFKC makes look-identical input from different keyboards and input methods (ligatures,
    full-width letters, precomposed vs combining accents) into the same characters. Case and
    whitespace are kept: they are part of what the member chose.
    """
    return unicodedata.normalize("NFKC", passphrase)


@functools.cache
def common_passphrases() -> frozenset[str]:
    """Return the shipped list of common passphrases (casefolded), loaded once on first use."""
    text = (Path(__file__).parent / "data" / "common_passphrases.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().casefold()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def _is_common(normalised: str) -> bool:
    folded = normalised.strip().casefold()
    # Also without spaces, so "i love you 123" counts as "iloveyou123".
    return (
        folded in common_passphrases()
        or _WHITESPACE.sub("", folded) in common_passphrases()
        or len(set(folded)) < _MIN_DISTINCT_CHARACTERS
    )


def _letters_left_after_removing(haystack: str, needle: str) -> int | None:
    """Count letters in ``haystack`` once every ``needle`` is removed; None if it never occurs."""
    if not needle or needle not in haystack:
        return None
    return len(_NON_LETTER.sub("", haystack.replace(needle, " ")))


def _is_mostly_pseudonym(normalised: str, pseudonym: str) -> bool:
    passphrase_folded = normalised.casefold()
    pseudonym_folded = unicodedata.normalize("NFKC", pseudonym).strip().casefold()
    # Several readings, any one of which may give the game away:
    #  - letters and digits only: "quiet-heron-42!!" vs "quiet-heron-42";
    #  - letters only: "quietheron2024" vs "quiet-heron-42";
    #  - look-alike skeletons: "R0wan!!!!!!" vs "rowan".
    readings = [
        (_NON_ALNUM.sub("", passphrase_folded), _NON_ALNUM.sub("", pseudonym_folded)),
        (_NON_LETTER.sub("", passphrase_folded), _NON_LETTER.sub("", pseudonym_folded)),
        (skeleton(passphrase_folded), skeleton(pseudonym_folded)),
    ]
    for haystack, needle in readings:
        # Too short a needle ("ab") would match inside unrelated words; pseudonyms are at least
        # three characters, so a reading that leaves fewer is just not informative.
        if len(needle) < 3:
            continue
        left = _letters_left_after_removing(haystack, needle)
        if left is not None and left < _MIN_LETTERS_BESIDES_PSEUDONYM:
            return True
    return False


def check_passphrase(passphrase: str, pseudonym: str | None = None) -> None:
    """Raise PassphraseError if ``passphrase`` is not acceptable; return None if it is.

    Checks the NFKC form (see ``normalise_passphrase``, which is also what must be hashed):
    length in Unicode characters, the shipped common-passphrase list (case-insensitive), and,
    when ``pseudonym`` is given, that the passphrase is not mostly the pseudonym.
    """
    if len(passphrase) > _RAW_LENGTH_GUARD:
        raise PassphraseError("too_long", _too_long_message())
    normalised = normalise_passphrase(passphrase)
    if len(normalised) < PASSPHRASE_MIN:
        raise PassphraseError(
            "too_short",
            gettext("Your passphrase needs at least %(min)d characters.") % {"min": PASSPHRASE_MIN}
            + " "
            + gettext(_TRY_INSTEAD),
        )
    if len(normalised) > PASSPHRASE_MAX:
        raise PassphraseError("too_long", _too_long_message())
    if _is_common(normalised):
        raise PassphraseError(
            "too_common",
            gettext(
                "That passphrase is one of the most commonly used ones, so it is easy to guess."
            )
            + " "
            + gettext(_TRY_INSTEAD),
        )
    if pseudonym and _is_mostly_pseudonym(normalised, pseudonym):
        raise PassphraseError(
            "contains_pseudonym",
            gettext("Your passphrase is too close to your pseudonym, which everyone here can see.")
            + " "
            + gettext(_TRY_INSTEAD),
        )


def _too_long_message() -> str:
    message = gettext("Passphrases can be at most %(max)d characters — please use a shorter one.")
    return message % {"max": PASSPHRASE_MAX}
