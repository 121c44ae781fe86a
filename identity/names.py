"""Pseudonym policy: what a member may call themselves, and friendly suggestions.

Pure functions only (no database, no HTTP). The caller supplies anything that lives in storage,
such as the current staff pseudonyms, so these rules stay easy to test and reuse.
"""

from __future__ import annotations

import itertools
import random
import re
import secrets
import unicodedata
from collections.abc import Iterable

from core.i18n import gettext

PSEUDONYM_MIN = 3
PSEUDONYM_MAX = 32

# fullmatch, not match + "$": "$" would accept a trailing newline.
_ALLOWED = re.compile(r"[A-Za-z0-9_-]+")
_HAS_ALNUM = re.compile(r"[A-Za-z0-9]")

# --- look-alike skeleton -------------------------------------------------------------------------
#
# skeleton() folds a name to the shape a reader sees, so "R0wan", "rowan_" and "Rovvan" all read
# as "rowan". Steps, in this order:
#   1. NFKC-normalise and casefold (full-width "Rowan" and "ROWAN" become "rowan").
#   2. Map single characters that pass for letters:
#        0 -> o    1 -> l    i -> l    | -> l    3 -> e    4 -> a
#        5 -> s    7 -> t    8 -> b    9 -> g
#      ("i", "1" and "|" all become "l" because all four are a vertical stroke in many fonts;
#      which one is the shared target does not matter, as both names go through the same map.)
#   3. Drop the separators "-" and "_" ("row_an" reads as "rowan").
#   4. Map letter pairs that pass for one letter:  vv -> w,  rn -> m.
#      This runs after step 3 so "r-n" is caught too, and before step 5 so "vv" is not first
#      collapsed to "v".
#   5. Collapse runs of the same character ("rowwan" -> "rowan", "staff" -> "staf").
# Collapsing cannot create a new "vv" or "rn" (a run shrinks to one copy of the same character),
# so one pass is enough and skeleton(skeleton(x)) == skeleton(x) for the names we accept.
_CONFUSABLE_CHARS = str.maketrans(
    {
        "0": "o",
        "1": "l",
        "i": "l",
        "|": "l",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "8": "b",
        "9": "g",
        "-": None,
        "_": None,
    }
)
_CONFUSABLE_PAIRS: tuple[tuple[str, str], ...] = (("vv", "w"), ("rn", "m"))

# How many times skeleton() re-applies its steps at most. Names we accept settle after one pass;
# exotic Unicode (where casefolding un-normalises text) may need another to reach a fixed point.
_SKELETON_MAX_PASSES = 4


def pseudonym_key(pseudonym: str) -> str:
    """Return the case-insensitive uniqueness key for a pseudonym ("Rowan" and "rowan" clash)."""
    return pseudonym.strip().casefold()


def _skeleton_once(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name).casefold().translate(_CONFUSABLE_CHARS)
    for pair, letter in _CONFUSABLE_PAIRS:
        folded = folded.replace(pair, letter)
    return "".join(char for char, _run in itertools.groupby(folded))


def skeleton(name: str) -> str:
    """Return the look-alike skeleton of ``name`` (see the mapping described above).

    Two names with the same skeleton look alike to a reader. The result is only ever compared
    with other skeletons, never shown, so it does not need to be a readable word.
    """
    current = _skeleton_once(name)
    if current.isascii():
        # ASCII output is already a fixed point (see the note above the mapping).
        return current
    # Repeat until stable so the function is idempotent even for odd Unicode input.
    for _ in range(_SKELETON_MAX_PASSES):
        again = _skeleton_once(current)
        if again == current:
            break
        current = again
    return current


# --- telling members apart -----------------------------------------------------------------------
#
# lookalike_key() is a narrower fold than skeleton(), for keeping members from passing for each
# other: only what Unicode's confusables data (UTS #39, confusables.txt) says reads the same
# within our alphabet (0 and O; 1, l and I, with i that many fonts draw alike; rn and m; vv and
# w), plus capitals and the separators. Runs and leetspeak digits are left alone: "heron-1" and
# "heron-11", or "Ana" and "Anna", are different people. Every other confusable in that data is
# outside the alphabet _ALLOWED admits, so such a name is refused before it gets here.
_LOOKALIKE_CHARS = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "-": None, "_": None})


def lookalike_key(pseudonym: str) -> str:
    """Two names with the same key read the same ("R0wan", "rowan_", "Rovvan", "ROWAN")."""
    folded = unicodedata.normalize("NFKC", pseudonym.strip()).casefold()
    return folded.translate(_LOOKALIKE_CHARS).replace("rn", "m").replace("vv", "w")


# --- reserved staff terms ------------------------------------------------------------------------

STAFF_TERMS: tuple[str, ...] = (
    "admin",
    "administrator",
    "moderator",
    "mod",
    "mods",
    "staff",
    "kindred",
    "official",
    "support-team",
    "supportteam",
    "helpdesk",
    "system",
    "sysop",
    "root",
    "team-kindred",
    "peer-supporter",
    "peersupporter",
    "crisis-team",
    "crisisteam",
    "safeguarding",
    "facilitator",  # group sessions' leaders
    "moderation",
)
"""Words a member's pseudonym must not contain because they read as a claim to be staff.

Most are matched by skeleton anywhere in the name ("TheAdm1n", "kindred_helper"). The short ones
in ``WHOLE_TOKEN_STAFF_TERMS`` are matched only as a whole token, because as substrings they
hide inside ordinary words ("modern-pine", "commodore", "beetroot").
"""

WHOLE_TOKEN_STAFF_TERMS: frozenset[str] = frozenset({"mod", "mods", "root"})

# Ordinary words that contain a substring staff term but plainly are not a staff claim. They are
# blanked out before the substring search, so "badminton-fan" is fine while "badminton-admin"
# is still refused. Kept short on purpose: when in doubt we refuse, and the member picks again.
_INNOCENT_WORDS: tuple[str, ...] = ("badminton", "ecosystem", "stafford")

LABEL_TERMS: tuple[str, ...] = ("anonymous", "deleted-member", "deletedmember")
"""Words of the labels Kindred shows instead of a name ("Anonymous member A", "[deleted
member]"): a pseudonym reading like one could pass for an anonymous author in a thread and
answer as them, or for an account that is gone."""

_LABEL_SKELETONS: frozenset[str] = frozenset(skeleton(term) for term in LABEL_TERMS)

_SUBSTRING_TERM_SKELETONS: frozenset[str] = frozenset(
    skeleton(term) for term in STAFF_TERMS if term not in WHOLE_TOKEN_STAFF_TERMS
)
_WHOLE_TOKEN_SKELETONS: frozenset[str] = frozenset(
    skeleton(term) for term in WHOLE_TOKEN_STAFF_TERMS
)
_INNOCENT_SKELETONS: tuple[str, ...] = tuple(skeleton(word) for word in _INNOCENT_WORDS)

_SEPARATOR_RUNS = re.compile(r"[-_]+")
# camelCase and "MODAnna"-style boundaries: a lowercase letter then a capital, or the last capital
# of an upper-case run when a capitalised word follows.
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_DIGIT_RUNS = re.compile(r"[0-9]+")
_DIGITS = "0123456789"


def _tokens(pseudonym: str) -> set[str]:
    """Split a pseudonym into the words a reader would see.

    Tokens are separated by "-"/"_" and by camelCase. Digits are ambiguous: in "m0d" a digit is
    a disguised letter, in "mod42" it is a separate number. So we keep both readings: each token
    as written, with digits at its edges trimmed, and its pieces between digit runs. Capitals
    are ambiguous too ("MODAnna" is two words, "mOd" one), so each part between separators is
    also a token as a whole.
    """
    tokens: set[str] = set()
    for part in _SEPARATOR_RUNS.split(pseudonym):
        for word in {part, *_CAMEL_BOUNDARY.split(part)}:
            if not word:
                continue
            tokens.add(word)
            tokens.add(word.strip(_DIGITS))
            tokens.update(_DIGIT_RUNS.split(word))
    tokens.discard("")
    return tokens


def _contains_staff_term(pseudonym: str) -> bool:
    whole = skeleton(pseudonym)
    # The whole name as one token catches split-up spellings such as "m-o-d".
    if whole in _WHOLE_TOKEN_SKELETONS:
        return True
    if any(skeleton(token) in _WHOLE_TOKEN_SKELETONS for token in _tokens(pseudonym)):
        return True
    # A space cannot occur in a skeleton of an accepted name, so blanking with it cannot join
    # the text on either side into a new term. An innocent word excuses a term only when it is
    # written as one word: "badminton-fan" is fine, "b_admin_ton" (admin on its own) is not.
    parts = []
    for part in _SEPARATOR_RUNS.split(pseudonym):
        folded = skeleton(part)
        for innocent in _INNOCENT_SKELETONS:
            folded = folded.replace(innocent, " ")
        parts.append(folded)
    whole = skeleton("".join(parts))
    return any(term in whole for term in _SUBSTRING_TERM_SKELETONS)


def _impersonates(pseudonym: str, staff_pseudonyms: Iterable[str]) -> bool:
    # Besides the whole name, compare it without a number or separators tacked on at the ends,
    # so staff "Rowan" also blocks "Rowan_1" and "R0wan99". Only the member's side is trimmed:
    # staff "heron42" does not block "heron17", which reads as a different name.
    staff_skeletons = {skeleton(name.strip()) for name in staff_pseudonyms}
    staff_skeletons.discard("")
    if not staff_skeletons:
        return False
    candidates = {skeleton(pseudonym), skeleton(pseudonym.strip(_DIGITS + "-_"))}
    return not candidates.isdisjoint(staff_skeletons)


class PseudonymError(ValueError):
    """A pseudonym was refused.

    ``code`` is stable for programs (tests, API clients); ``message`` is written for the member:
    it says what is wrong and what to do instead.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_pseudonym(pseudonym: str, staff_pseudonyms: Iterable[str] = ()) -> str:
    """Return ``pseudonym`` with surrounding whitespace stripped, or raise PseudonymError.

    ``staff_pseudonyms`` are the current moderators' and admins' names; a name that looks like
    one of them is refused. When a staff member renames themselves, leave their own current name
    out of it. Uniqueness among members is the caller's job (compare ``pseudonym_key``).
    """
    name = pseudonym.strip()
    if len(name) < PSEUDONYM_MIN:
        raise PseudonymError(
            "too_short",
            gettext("Pseudonyms need at least %(min)d characters — try a slightly longer one.")
            % {"min": PSEUDONYM_MIN},
        )
    if len(name) > PSEUDONYM_MAX:
        raise PseudonymError(
            "too_long",
            gettext("Pseudonyms can be at most %(max)d characters — try a shorter one.")
            % {"max": PSEUDONYM_MAX},
        )
    if not _ALLOWED.fullmatch(name):
        raise PseudonymError(
            "bad_characters",
            gettext(
                "Pseudonyms can use letters, digits, '-' and '_' — spaces and other symbols "
                "aren't allowed."
            ),
        )
    if not _HAS_ALNUM.search(name):
        # "---" or "___" is hard to read aloud or mention in a post.
        raise PseudonymError(
            "bad_characters",
            gettext("Pseudonyms need at least one letter or digit, not only '-' and '_'."),
        )
    if _contains_staff_term(name):
        raise PseudonymError(
            "reserved",
            gettext(
                "That pseudonym contains a word we keep for the Kindred team (like 'admin' or "
                "'moderator'), so members can always tell who is staff. Please choose another."
            ),
        )
    if any(label in skeleton(name) for label in _LABEL_SKELETONS):
        raise PseudonymError(
            "reserved",
            gettext(
                "That pseudonym reads like a label Kindred shows in place of a name (for "
                "anonymous posts or deleted accounts), so it could be mistaken for one. Please "
                "choose another."
            ),
        )
    if _impersonates(name, staff_pseudonyms):
        # Deliberately vague: saying which staff name it resembles would help someone map out
        # who the staff are.
        raise PseudonymError(
            "impersonation",
            gettext(
                "That pseudonym is too close to a staff member's name. "
                "Please choose a different one."
            ),
        )
    return name


# --- suggestions ---------------------------------------------------------------------------------

# Calm, kind words only: people may arrive here on a bad day, so nothing that could sting
# (no "lonely", "broken", "lost", "blue", "crazy"...), nothing about bodies or weight, and no
# animals used as slurs for mental illness ("cuckoo", "loon", "bat") or bodies ("whale").
# Every adjective-noun pair is checked against the staff terms by tests (e.g. "glad" + "mint"
# would read as "admin").
SUGGESTION_ADJECTIVES: tuple[str, ...] = (
    "quiet", "gentle", "calm", "kind", "bright", "warm", "soft", "steady", "brave", "hopeful",
    "patient", "tender", "sunny", "mellow", "serene", "golden", "silver", "peaceful", "cheerful",
    "friendly", "curious", "graceful", "humble", "joyful", "merry", "mild", "noble", "playful",
    "restful", "rosy", "sincere", "sunlit", "tranquil", "trusty", "wise", "earnest", "fair",
    "fresh", "clever", "dreamy", "eager", "fond", "generous", "hearty", "honest", "snug",
    "sturdy", "thoughtful", "breezy", "dappled", "velvet", "nimble", "shining", "caring",
    "loyal", "plucky", "upbeat", "valiant", "cordial", "radiant",
)  # fmt: skip

SUGGESTION_NOUNS: tuple[str, ...] = (
    "heron", "willow", "fern", "meadow", "river", "brook", "cedar", "maple", "otter", "sparrow",
    "robin", "wren", "finch", "hare", "fox", "owl", "bee", "clover", "daisy", "aster", "birch",
    "aspen", "pine", "acorn", "pebble", "harbor", "lagoon", "glade", "grove", "valley", "ridge",
    "summit", "dune", "tide", "shore", "coral", "kelp", "lichen", "moss", "heather", "poppy",
    "lotus", "orchid", "comet", "moon", "breeze", "cloud", "creek", "pond", "island", "canyon",
    "prairie", "glacier", "puffin", "dolphin", "panda", "koala", "lark", "kestrel", "falcon",
)  # fmt: skip

SUGGESTION_NUMBER_MIN = 10
SUGGESTION_NUMBER_MAX = 99

# A single call never needs more than a handful; the caps keep the loop below obviously finite.
_SUGGESTIONS_MAX = 100
_SUGGESTION_ATTEMPTS_PER_NAME = 50


def suggest_pseudonyms(n: int = 3, rng: random.Random | None = None) -> list[str]:
    """Return ``n`` distinct friendly pseudonyms such as "quiet-heron-42".

    Uses ``secrets.SystemRandom()`` unless ``rng`` is given (tests pass a seeded Random).
    Every suggestion passes ``check_pseudonym`` (with no staff names); whether it is still free
    is for the caller to check.
    """
    if not 0 <= n <= _SUGGESTIONS_MAX:
        raise ValueError(f"n must be between 0 and {_SUGGESTIONS_MAX}, got {n}")
    chooser = rng if rng is not None else secrets.SystemRandom()
    suggestions: list[str] = []
    for _ in range(_SUGGESTION_ATTEMPTS_PER_NAME * n):
        if len(suggestions) == n:
            break
        name = "-".join(
            (
                chooser.choice(SUGGESTION_ADJECTIVES),
                chooser.choice(SUGGESTION_NOUNS),
                str(chooser.randint(SUGGESTION_NUMBER_MIN, SUGGESTION_NUMBER_MAX)),
            )
        )
        # Tests show every combination passes; the check stays as a guard for future word-list
        # edits, so a bad pairing is skipped rather than offered.
        try:
            check_pseudonym(name)
        except PseudonymError:
            continue
        if name not in suggestions:
            suggestions.append(name)
    if len(suggestions) < n:
        # Only reachable if the word lists were edited into mostly refused pairings.
        raise RuntimeError("could not generate enough acceptable pseudonym suggestions")
    return suggestions
