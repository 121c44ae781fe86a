import hashlib
import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity.recovery import (
    RECOVERY_ALPHABET,
    RECOVERY_CODE_LENGTH,
    generate_recovery_codes,
    hash_recovery_code,
    is_well_formed_recovery_code,
    normalise_recovery_code,
)

CODE_SHAPE = re.compile(r"[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}")


def fullwidth(text: str) -> str:
    """Return ``text`` with ASCII replaced by its full-width forms, as some keyboards type it."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


codes = st.text(alphabet=RECOVERY_ALPHABET, min_size=16, max_size=16).map(
    lambda raw: "-".join(raw[i : i + 4] for i in range(0, 16, 4))
)


def test_alphabet_is_32_symbols_without_lookalike_letters():
    assert len(RECOVERY_ALPHABET) == 32
    assert len(set(RECOVERY_ALPHABET)) == 32
    assert not set("ilou") & set(RECOVERY_ALPHABET)
    assert RECOVERY_ALPHABET.islower()


def test_codes_shape_and_count():
    generated = generate_recovery_codes()
    assert len(generated) == 10
    assert len(set(generated)) == 10
    for code in generated:
        assert CODE_SHAPE.fullmatch(code)
        assert set(code.replace("-", "")) <= set(RECOVERY_ALPHABET)
        assert len(code.replace("-", "")) == RECOVERY_CODE_LENGTH


def test_codes_carry_80_bits():
    assert RECOVERY_CODE_LENGTH * (len(RECOVERY_ALPHABET).bit_length() - 1) == 80


@pytest.mark.parametrize("n", [0, 1, 25])
def test_code_count(n):
    assert len(generate_recovery_codes(n)) == n


@pytest.mark.parametrize("n", [-1, 101])
def test_code_count_is_bounded(n):
    with pytest.raises(ValueError):
        generate_recovery_codes(n)


def test_codes_differ_between_calls_and_use_the_whole_alphabet():
    seen = generate_recovery_codes(50) + generate_recovery_codes(50)
    assert len(set(seen)) == 100
    # 1600 draws from 32 symbols: every symbol shows up (a missing one has odds ~ 32 * e^-50).
    assert set("".join(seen).replace("-", "")) == set(RECOVERY_ALPHABET)


def test_generated_codes_are_already_normal_apart_from_dashes():
    for code in generate_recovery_codes():
        assert normalise_recovery_code(code) == code.replace("-", "")
        assert is_well_formed_recovery_code(code)


@pytest.mark.parametrize(
    "typed",
    [
        "k7mq-x3vd-9fpn-2hcw",
        "K7MQ-X3VD-9FPN-2HCW",
        "k7mqx3vd9fpn2hcw",
        "k7mq x3vd 9fpn 2hcw",
        "  k7mq - x3vd - 9fpn - 2hcw  ",
        "K7MQ\tX3VD\n9FPN 2HCW",
        "k7mq\u2013x3vd\u20149fpn\u20102hcw",  # dashes a phone or word processor may substitute
        fullwidth("k7mq-x3vd-9fpn-2hcw"),  # full-width
    ],
)
def test_normalisation_round_trips(typed):
    assert normalise_recovery_code(typed) == "k7mqx3vd9fpn2hcw"
    assert hash_recovery_code(typed) == hash_recovery_code("k7mq-x3vd-9fpn-2hcw")


def test_misread_letters_map_to_the_digits_they_resemble():
    assert normalise_recovery_code("o0ab-1ilc-dddd-eeee") == "00ab111cddddeeee"
    assert normalise_recovery_code("OILo-0000-0000-0000") == "0110000000000000"
    assert hash_recovery_code("ab0c-1111-2222-3333") == hash_recovery_code("abOc-IiLl-2222-3333")


def test_hash_is_sha256_hex_of_normalised_code():
    expected = hashlib.sha256(b"k7mqx3vd9fpn2hcw").hexdigest()
    assert hash_recovery_code("K7MQ x3vd-9fpn 2hcw") == expected
    assert re.fullmatch(r"[0-9a-f]{64}", expected)


def test_different_codes_hash_differently():
    a, b = generate_recovery_codes(2)
    assert hash_recovery_code(a) != hash_recovery_code(b)


@given(codes, st.data())
def test_any_typing_variant_hashes_the_same(code, data):
    # Randomly upper-case characters, drop or double the dashes, and pad with spaces.
    raw = code.replace("-", "")
    flips = data.draw(st.lists(st.booleans(), min_size=16, max_size=16))
    cased = "".join(c.upper() if flip else c for c, flip in zip(raw, flips, strict=True))
    separator = data.draw(st.sampled_from(["", "-", " ", " - ", "--"]))
    typed = " " + separator.join(cased[i : i + 4] for i in range(0, 16, 4)) + " "
    assert normalise_recovery_code(typed) == raw
    assert hash_recovery_code(typed) == hash_recovery_code(code)
    assert is_well_formed_recovery_code(typed)


@given(st.text(alphabet=string.printable + "\u2010\u2013\u2014\u2212\u3000" + fullwidth("k7-")))
def test_normalise_is_idempotent(text):
    # Restricted to what people plausibly type; for exotic Unicode the result is only required
    # not to match a real code (it cannot: it is not made of the ASCII alphabet).
    once = normalise_recovery_code(text)
    assert normalise_recovery_code(once) == once


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "k7mq-x3vd-9fpn",
        "k7mq-x3vd-9fpn-2hcw-aaaa",
        "k7mq-x3vd-9fpn-2hcu",
        "k7mq_x3vd_9fpn_2hcw",
    ],
)
def test_malformed_codes_are_recognised(typed):
    assert not is_well_formed_recovery_code(typed)
    # ...and they still hash without error, matching nothing real.
    assert len(hash_recovery_code(typed)) == 64
