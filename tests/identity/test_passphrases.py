import unicodedata
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity.passphrases import (
    PASSPHRASE_MAX,
    PASSPHRASE_MIN,
    PassphraseError,
    check_passphrase,
    common_passphrases,
    normalise_passphrase,
)

GOOD = "lantern otter biscuit drizzle"


def fullwidth(text: str) -> str:
    """Return ``text`` with ASCII replaced by its full-width forms, as some keyboards type it."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def refusal_code(passphrase: str, pseudonym: str | None = None) -> str:
    with pytest.raises(PassphraseError) as excinfo:
        check_passphrase(passphrase, pseudonym)
    return excinfo.value.code


# --- shipped list ----------------------------------------------------------------------------


def data_lines() -> list[str]:
    text = resources.files("identity").joinpath("data", "common_passphrases.txt").read_text("utf-8")
    return text.splitlines()


def test_list_header_names_source_and_count():
    lines = data_lines()
    entries = [line for line in lines if not line.startswith("#")]
    header = lines[0]
    assert header.startswith('# source: zxcvbn (MIT) frequency list "passwords", entries with 10+')
    # The header counts the zxcvbn entries; the second comment line gives the total.
    zxcvbn_count = int(header.rsplit(";", 1)[1].split()[0])
    assert 1000 < zxcvbn_count <= len(entries)
    assert f"{len(entries)} entries in all" in lines[1]


def test_list_entries_are_long_lowercase_and_unique():
    entries = [line for line in data_lines() if not line.startswith("#")]
    assert all(len(e) >= PASSPHRASE_MIN for e in entries)
    assert all(e == e.lower() and e == e.strip() and e for e in entries)
    assert len(set(entries)) == len(entries)
    assert len(common_passphrases()) == len(entries)


def test_list_keeps_rank_order():
    entries = [line for line in data_lines() if not line.startswith("#")]
    # The two most common 10+ character passwords in zxcvbn's ranking come first.
    assert entries[:2] == ["qwertyuiop", "1234567890"]


def test_list_is_loaded_once():
    assert common_passphrases() is common_passphrases()


def test_data_readme_describes_the_list():
    readme = resources.files("identity").joinpath("data", "README.md").read_text("utf-8")
    assert 'zxcvbn (MIT) frequency list "passwords", entries with 10+ characters' in readme


# --- common passphrases ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "passphrase",
    [
        "password123",
        "PASSWORD123",
        "Password123",
        "1234567890",
        "qwertyuiop",
        "QwertyUiop",
        "iloveyou123",
        "0987654321",
        "passw0rd123",
        "kindred123",
        "  password123  ",  # surrounding spaces do not make it new
        "i love you 123",  # nor do spaces inside
        fullwidth("password123"),  # full-width, NFKC-normalised first
        "manchester",
    ],
)
def test_common_passphrases_are_refused(passphrase):
    assert refusal_code(passphrase) == "too_common"


@pytest.mark.parametrize("passphrase", ["aaaaaaaaaa", "ababababab", "1111111111111", "          "])
def test_too_few_distinct_characters_is_refused(passphrase):
    assert refusal_code(passphrase) == "too_common"


def test_too_common_message_suggests_words():
    with pytest.raises(PassphraseError) as excinfo:
        check_passphrase("password123")
    assert "unrelated words" in excinfo.value.message
    assert str(excinfo.value) == excinfo.value.message
    assert isinstance(excinfo.value, ValueError)


# --- length ----------------------------------------------------------------------------------


def test_long_unusual_passphrase_is_accepted():
    assert check_passphrase(GOOD) is None
    assert (
        check_passphrase("Marmalade canoe under a violet stepladder, 1987", "quiet-heron-42")
        is None
    )


def test_length_limits():
    check_passphrase("x7#kq9!zpw")  # exactly PASSPHRASE_MIN
    assert refusal_code("x7#kq9!zp") == "too_short"
    assert refusal_code("") == "too_short"
    check_passphrase(("ab3" * PASSPHRASE_MAX)[:PASSPHRASE_MAX])
    assert refusal_code(("ab3" * PASSPHRASE_MAX)[: PASSPHRASE_MAX + 1]) == "too_long"


def test_huge_input_is_refused_cheaply():
    assert refusal_code("y" * 10_000_000) == "too_long"


def test_length_counts_unicode_characters_not_bytes():
    # Ten characters, many more bytes in UTF-8.
    passphrase = "ŝ木🙂ŝ木🙂ŝ木🙂é"
    assert len(passphrase.encode()) > PASSPHRASE_MIN
    check_passphrase(passphrase)
    assert refusal_code("木🙂ŝ木🙂ŝ木🙂é") == "too_short"


def test_length_counts_after_nfkc():
    # "e" + combining acute is two code points, one after NFKC.
    decomposed = "cafe\u0301" + "xyz12"  # 10 code points, 9 characters after NFKC
    assert len(decomposed) == PASSPHRASE_MIN
    assert refusal_code(decomposed) == "too_short"
    # A ligature expands: "ﬃ" is one code point, three characters after NFKC.
    check_passphrase("ﬃnk-qrst9")


def test_too_short_message_is_member_facing():
    with pytest.raises(PassphraseError) as excinfo:
        check_passphrase("short")
    assert excinfo.value.code == "too_short"
    assert str(PASSPHRASE_MIN) in excinfo.value.message
    assert "words" in excinfo.value.message


# --- pseudonym -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("passphrase", "pseudonym"),
    [
        ("quiet-heron-42", "quiet-heron-42"),
        ("Quiet-Heron-42", "quiet-heron-42"),
        ("quiet-heron-42!!", "quiet-heron-42"),
        ("quietheron2024", "quiet-heron-42"),
        ("rowan12345", "Rowan"),
        ("Rowan1990!", "Rowan"),
        ("rowanrowan", "Rowan"),
        ("R0wan!!!!!!", "Rowan"),
        ("Rowan_abc123", "Rowan"),
        ("12345 rowan", "Rowan"),
        ("samsamsamsam", "sam"),
    ],
)
def test_passphrase_that_is_mostly_the_pseudonym_is_refused(passphrase, pseudonym):
    assert refusal_code(passphrase, pseudonym) == "contains_pseudonym"


@pytest.mark.parametrize(
    ("passphrase", "pseudonym"),
    [
        ("rowan walks the long beach", "Rowan"),
        ("the heron waited by cold water", "quiet-heron-42"),
        ("sample tractor buzz", "sam"),
        (GOOD, "Rowan"),
        ("rowan12345", None),
        ("rowan12345", ""),
    ],
)
def test_passphrase_mentioning_the_pseudonym_among_other_words_is_fine(passphrase, pseudonym):
    assert check_passphrase(passphrase, pseudonym) is None


def test_pseudonym_message_does_not_echo_secrets():
    with pytest.raises(PassphraseError) as excinfo:
        check_passphrase("rowan12345", "Rowan")
    assert "rowan" not in excinfo.value.message.casefold()
    assert "12345" not in excinfo.value.message


# --- normalisation ---------------------------------------------------------------------------


def test_normalise_is_nfkc_and_keeps_case_and_spaces():
    assert normalise_passphrase("\ufb01sh " + fullwidth("Taco") + "  ") == "fish Taco  "
    assert normalise_passphrase("cafe\u0301") == "café"


@given(st.text())
def test_normalise_is_idempotent(passphrase):
    once = normalise_passphrase(passphrase)
    assert normalise_passphrase(once) == once
    assert unicodedata.is_normalized("NFKC", once)


@given(st.text(max_size=2000))
def test_check_only_raises_passphrase_error(passphrase):
    try:
        check_passphrase(passphrase, "quiet-heron-42")
    except PassphraseError as err:
        assert err.code in {"too_short", "too_long", "too_common", "contains_pseudonym"}
        assert err.message


@given(st.lists(st.sampled_from(["otter", "lantern", "biscuit", "violet", "canoe"]), min_size=3))
def test_unusual_word_sequences_pass(words):
    phrase = " ".join(words)
    if len(set(words)) >= 2:
        assert check_passphrase(phrase[:PASSPHRASE_MAX]) is None
