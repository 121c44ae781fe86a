import random
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity.names import (
    PSEUDONYM_MAX,
    PSEUDONYM_MIN,
    STAFF_TERMS,
    SUGGESTION_ADJECTIVES,
    SUGGESTION_NOUNS,
    SUGGESTION_NUMBER_MAX,
    SUGGESTION_NUMBER_MIN,
    PseudonymError,
    check_pseudonym,
    pseudonym_key,
    skeleton,
    suggest_pseudonyms,
)

PSEUDONYM_ALPHABET = string.ascii_letters + string.digits + "-_"


def fullwidth(text: str) -> str:
    """Return ``text`` with ASCII replaced by its full-width forms, as some keyboards type it."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def refusal_code(name: str, staff: tuple[str, ...] = ()) -> str:
    with pytest.raises(PseudonymError) as excinfo:
        check_pseudonym(name, staff)
    return excinfo.value.code


# --- pseudonym_key ---------------------------------------------------------------------------


def test_key_is_case_insensitive():
    assert pseudonym_key("Rowan") == pseudonym_key("ROWAN") == pseudonym_key("rowan")


def test_key_ignores_surrounding_whitespace():
    assert pseudonym_key("  Rowan ") == "rowan"


def test_key_keeps_distinct_names_distinct():
    assert pseudonym_key("rowan") != pseudonym_key("r0wan")


# --- skeleton --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Rowan", "rowan"),
        ("R0wan", "rowan"),
        ("rowan_", "rowan"),
        ("Rovvan", "rowan"),
        ("ro-wan", "rowan"),
        ("rowwan", "rowan"),
        ("ROWAN", "rowan"),
        ("rnoss", "mos"),
        ("r-n", "m"),
        ("1i|l", "l"),
        ("3457890", "eastbgo"),
        ("staff", "staf"),
        (fullwidth("Rowan"), "rowan"),
    ],
)
def test_skeleton_mapping(name, expected):
    assert skeleton(name) == expected


def test_skeleton_turns_vv_into_w_before_collapsing_runs():
    # If runs collapsed first, "vv" would become "v" and "Rovvan" would not match "Rowan".
    assert skeleton("vv") == "w"
    assert skeleton("vvv") == "wv"


@given(st.text(alphabet=PSEUDONYM_ALPHABET + "|"))
def test_skeleton_is_idempotent_on_pseudonym_characters(name):
    assert skeleton(skeleton(name)) == skeleton(name)


@given(st.text())
def test_skeleton_is_idempotent_on_any_text(name):
    assert skeleton(skeleton(name)) == skeleton(name)


@given(st.text(alphabet=PSEUDONYM_ALPHABET))
def test_skeleton_ignores_case(name):
    assert skeleton(name.upper()) == skeleton(name.lower()) == skeleton(name)


@given(st.text(alphabet=PSEUDONYM_ALPHABET))
def test_skeleton_has_no_separators_or_mapped_characters(name):
    assert not set(skeleton(name)) & set("-_01345789i|")


# --- length and characters -------------------------------------------------------------------


def test_accepts_and_strips():
    assert check_pseudonym("  quiet-heron_42 ") == "quiet-heron_42"


def test_length_limits():
    assert check_pseudonym("a" * PSEUDONYM_MIN) == "a" * PSEUDONYM_MIN
    assert check_pseudonym("b" * PSEUDONYM_MAX) == "b" * PSEUDONYM_MAX
    assert refusal_code("a" * (PSEUDONYM_MIN - 1)) == "too_short"
    assert refusal_code("") == "too_short"
    assert refusal_code("   ") == "too_short"
    assert refusal_code("b" * (PSEUDONYM_MAX + 1)) == "too_long"


def test_length_counts_after_stripping():
    assert refusal_code("  ab  ") == "too_short"


@pytest.mark.parametrize(
    "name",
    [
        "quiet heron",
        "heron!",
        "héron",
        "heron.42",
        fullwidth("Rowan"),
        "heron\n42",
        "he\x00ron",
        "<b>hi</b>",
    ],
)
def test_bad_characters(name):
    assert refusal_code(name) == "bad_characters"


def test_trailing_newline_is_stripped_not_smuggled():
    # Surrounding whitespace (including "\n") is stripped, so it never reaches storage.
    assert check_pseudonym("heron\n") == "heron"


@pytest.mark.parametrize("name", ["---", "___", "-_-_"])
def test_needs_a_letter_or_digit(name):
    assert refusal_code(name) == "bad_characters"


def test_bad_characters_message_is_member_facing():
    with pytest.raises(PseudonymError) as excinfo:
        check_pseudonym("quiet heron")
    assert excinfo.value.message == (
        "Pseudonyms can use letters, digits, '-' and '_' — spaces and other symbols aren't allowed."
    )
    assert str(excinfo.value) == excinfo.value.message
    assert isinstance(excinfo.value, ValueError)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("ab", "too_short"),
        ("x" * 40, "too_long"),
        ("a b", "bad_characters"),
        ("admin", "reserved"),
        ("mod", "reserved"),
        ("r0wan", "impersonation"),
    ],
)
def test_every_refusal_has_a_code_and_message(name, code):
    with pytest.raises(PseudonymError) as excinfo:
        check_pseudonym(name, ["Rowan"])
    err = excinfo.value
    assert err.code == code
    assert err.message and err.message[0].isupper()


@given(
    st.text(alphabet=PSEUDONYM_ALPHABET, min_size=PSEUDONYM_MIN, max_size=PSEUDONYM_MAX).filter(
        lambda s: any(c.isalnum() for c in s)
    )
)
def test_well_formed_names_pass_or_are_reserved(name):
    try:
        assert check_pseudonym(name) == name
    except PseudonymError as err:
        assert err.code == "reserved"


# --- reserved staff terms --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "admin",
        "Admin",
        "TheAdm1n",
        "adm1n_anna",
        "site-administrator",
        "moderator",
        "M0derator",
        "staff",
        "staff-anna",
        "kindred",
        "Kindred_Helper",
        "k1ndred",
        "official",
        "the-official-one",
        "support-team",
        "supportteam",
        "supp0rt-team",
        "helpdesk",
        "helpdeskbuddy",
        "system",
        "SYSTEM",
        "sysop",
        "sysop1",
        "team-kindred",
        "peer-supporter",
        "peer_supp0rter",
        "crisis-team",
        "crisisteam",
        "safeguarding",
        "safeguarding-lead",
        "glad-mint",  # reads as "gladmint": contains "admin" once separators go
    ],
)
def test_staff_terms_are_reserved(name):
    assert refusal_code(name) == "reserved"


@pytest.mark.parametrize("term", STAFF_TERMS)
def test_every_staff_term_is_itself_reserved(term):
    assert refusal_code(term) == "reserved"


@pytest.mark.parametrize(
    "name",
    [
        "mod",
        "MOD",
        "Mod",
        "mod-anna",
        "anna-mod",
        "the_mod",
        "the-mod-42",
        "mod42",
        "mod_1",
        "42mod",
        "TheMod",
        "ModAnna",
        "MODAnna",
        "Mod42Anna",
        "m0d",
        "M0D",
        "m0d1",
        "rnod",  # "rn" passes for "m"
        "the-rnod",
        "m-o-d",
        "mods",
        "the-mods",
        "m0ds",
    ],
)
def test_mod_as_a_whole_token_is_reserved(name):
    assert refusal_code(name) == "reserved"


@pytest.mark.parametrize(
    "name",
    [
        "modern-pine",
        "commodore",
        "modest",
        "modesty-bear",
        "remodel",
        "model-trains",
        "almond",
        "mode",
        "Modena",
        "commode",
        "accommodate",
        "themod",  # one lowercase word: indistinguishable from ordinary words, so allowed
    ],
)
def test_mod_inside_a_word_is_fine(name):
    assert check_pseudonym(name) == name


@pytest.mark.parametrize("name", ["root", "r00t", "the-root", "Root42", "BeetRoot"])
def test_root_as_a_whole_token_is_reserved(name):
    assert refusal_code(name) == "reserved"


@pytest.mark.parametrize("name", ["beetroot", "rooted", "rootless", "uproot", "grassroots"])
def test_root_inside_a_word_is_fine(name):
    assert check_pseudonym(name) == name


@pytest.mark.parametrize("name", ["badminton-fan", "ecosystem-lover", "stafford"])
def test_innocent_words_containing_terms_are_fine(name):
    assert check_pseudonym(name) == name


@pytest.mark.parametrize("name", ["badminton-admin", "ecosystem-staff", "stafford_mod"])
def test_innocent_words_do_not_shield_a_real_term(name):
    assert refusal_code(name) == "reserved"


# --- impersonation of current staff ----------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Rowan",
        "rowan",
        "ROWAN",
        "R0wan",
        "rowan_",
        "_rowan_",
        "Rovvan",
        "Rowwan",
        "ro-wan",
        "Rowan1",
        "rowan_99",
    ],
)
def test_lookalikes_of_staff_names_are_refused(name):
    assert refusal_code(name, ("Rowan",)) == "impersonation"


@pytest.mark.parametrize("name", ["rowan-tree", "rowanberry", "arowan", "Robin"])
def test_different_names_are_not_impersonation(name):
    assert check_pseudonym(name, ["Rowan"]) == name


def test_impersonation_checks_every_staff_name():
    staff = ["Rowan", "Sage_Marlow", "heron42"]
    assert refusal_code("5age-marl0w", tuple(staff)) == "impersonation"
    assert refusal_code("her0n42", tuple(staff)) == "impersonation"
    # Only the member's name is trimmed of trailing digits: a different number reads as a
    # different name.
    assert check_pseudonym("heron17", staff) == "heron17"


def test_impersonation_accepts_any_iterable_once():
    staff = (name for name in ["Rowan"])
    assert refusal_code("R0wan", staff) == "impersonation"  # type: ignore[arg-type]


def test_impersonation_message_does_not_reveal_the_staff_name():
    with pytest.raises(PseudonymError) as excinfo:
        check_pseudonym("R0wan", ["Rowan"])
    err = excinfo.value
    assert err.code == "impersonation"
    assert "too close to a staff member's name" in err.message
    assert "rowan" not in err.message.casefold()


def test_without_staff_names_lookalikes_are_fine():
    assert check_pseudonym("R0wan") == "R0wan"


def test_blank_staff_names_are_ignored():
    assert check_pseudonym("quiet-heron", ["", "  "]) == "quiet-heron"


# --- suggestions -----------------------------------------------------------------------------


def test_word_lists_are_about_sixty_distinct_words():
    for words in (SUGGESTION_ADJECTIVES, SUGGESTION_NOUNS):
        assert 55 <= len(words) <= 70
        assert len(set(words)) == len(words)
        assert all(w.isascii() and w.isalpha() and w.islower() for w in words)


def test_word_lists_hold_nothing_hurtful():
    hurtful = {
        "lonely", "broken", "dead", "lost", "sad", "empty", "blue", "dark", "crazy", "mad",
        "psycho", "nuts", "cuckoo", "loon", "bat", "whale", "fat", "ugly", "weak", "alone",
        "hollow", "grim", "grey", "gloomy", "sick", "wild", "silly", "tired", "numb", "cold",
    }  # fmt: skip
    assert not hurtful & set(SUGGESTION_ADJECTIVES)
    assert not hurtful & set(SUGGESTION_NOUNS)


def test_every_possible_suggestion_passes_check():
    # 60 x 60 x 90 names: small enough to check all of them, so no pairing (like "glad-mint")
    # can slip into the lists unnoticed.
    for adjective in SUGGESTION_ADJECTIVES:
        for noun in SUGGESTION_NOUNS:
            for number in range(SUGGESTION_NUMBER_MIN, SUGGESTION_NUMBER_MAX + 1):
                name = f"{adjective}-{noun}-{number}"
                assert check_pseudonym(name) == name


def test_suggestions_shape():
    names = suggest_pseudonyms()
    assert len(names) == 3
    assert len(set(names)) == 3
    for name in names:
        adjective, noun, number = name.split("-")
        assert adjective in SUGGESTION_ADJECTIVES
        assert noun in SUGGESTION_NOUNS
        assert SUGGESTION_NUMBER_MIN <= int(number) <= SUGGESTION_NUMBER_MAX
        assert len(number) == 2
        assert check_pseudonym(name) == name


@given(st.integers(min_value=0, max_value=20), st.integers())
def test_suggestions_with_seeded_rng(n, seed):
    names = suggest_pseudonyms(n, random.Random(seed))
    assert len(names) == n
    assert len(set(names)) == n
    for name in names:
        assert check_pseudonym(name) == name


def test_seeded_rng_is_reproducible():
    assert suggest_pseudonyms(5, random.Random(7)) == suggest_pseudonyms(5, random.Random(7))


def test_default_rng_varies():
    seen = {name for _ in range(5) for name in suggest_pseudonyms(5)}
    assert len(seen) > 5


def test_numbers_span_the_range():
    rng = random.Random(1)
    numbers = {
        int(name.rsplit("-", 1)[1]) for _ in range(10) for name in suggest_pseudonyms(100, rng)
    }
    assert min(numbers) == SUGGESTION_NUMBER_MIN
    assert max(numbers) == SUGGESTION_NUMBER_MAX


@pytest.mark.parametrize("n", [-1, 101])
def test_suggestion_count_is_bounded(n):
    with pytest.raises(ValueError):
        suggest_pseudonyms(n)
