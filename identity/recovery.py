"""One-time recovery codes: the only way back into an anonymous account without email.

A code looks like "k7mq-x3vd-9fpn-2hcw": 16 characters from Crockford's base32 alphabet
(lowercase), shown in four groups of four. Each character carries 5 bits, so a code carries
80 bits from ``secrets``.

Why a fast hash is enough: argon2 exists to slow down guessing of low-entropy human passwords.
80 random bits cannot be brute-forced from a leaked SHA-256 digest (2^80 guesses), so stored codes
are plain SHA-256 of the normalised code, with no salt: salts only defeat precomputed tables,
which are useless against random 80-bit inputs. A fast hash also lets the caller look a code up
by its digest instead of trying every stored hash.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata

# Crockford base32: digits plus letters, leaving out i, l and o (they pass for 1 and 0) and u
# (so that codes do not spell out some common rude words). 32 symbols, 5 bits each.
RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
RECOVERY_CODE_LENGTH = 16
RECOVERY_GROUP_SIZE = 4

# The letters we leave out are read back as the digit they resemble, as Crockford specifies, so
# a member who copies "o" for "0" or "l"/"i" for "1" from a handwritten note still gets in.
_MISREADS = str.maketrans({"o": "0", "i": "1", "l": "1"})

# Spaces of any kind and the dashes phones and word processors substitute for "-".
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")

# A single call never needs more; keeps the uniqueness loop below obviously finite.
_CODES_MAX = 100


def generate_recovery_codes(n: int = 10) -> list[str]:
    """Return ``n`` distinct recovery codes, each formatted like "k7mq-x3vd-9fpn-2hcw".

    Show them to the member once and store only ``hash_recovery_code`` of each.
    """
    if not 0 <= n <= _CODES_MAX:
        raise ValueError(f"n must be between 0 and {_CODES_MAX}, got {n}")
    codes: list[str] = []
    # A repeat is astronomically unlikely (80 bits), but checking costs nothing and a duplicate
    # would silently give the member one code fewer than they were promised.
    while len(codes) < n:
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        code = "-".join(
            raw[i : i + RECOVERY_GROUP_SIZE] for i in range(0, len(raw), RECOVERY_GROUP_SIZE)
        )
        if code not in codes:
            codes.append(code)
    return codes


def normalise_recovery_code(code: str) -> str:
    """Return the canonical form of a typed recovery code: 16 characters, no separators.

    NFKC-normalises (full-width characters from some keyboards), drops spaces and dashes,
    lowercases, and maps the misreads o -> 0, i -> 1, l -> 1 (safe, since o, i and l are not in
    the alphabet). Anything else is left as typed: a malformed code simply normalises to
    something that matches no stored hash, so callers need no separate error path.
    """
    folded = unicodedata.normalize("NFKC", code).lower()
    return _SEPARATORS.sub("", folded).translate(_MISREADS)


def is_well_formed_recovery_code(code: str) -> bool:
    """Return whether ``code`` normalises to 16 characters of the recovery alphabet.

    Useful to tell a member "that doesn't look like a recovery code" before any lookup.
    """
    normalised = normalise_recovery_code(code)
    return len(normalised) == RECOVERY_CODE_LENGTH and all(
        c in RECOVERY_ALPHABET for c in normalised
    )


def hash_recovery_code(code: str) -> str:
    """Return the SHA-256 hex digest of the normalised code (see the module docstring for why)."""
    return hashlib.sha256(normalise_recovery_code(code).encode("utf-8")).hexdigest()
