"""The filters' linear text model: how text becomes words and features, that scoring adds up
exactly what training counted, and that a long text costs in proportion to its length."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moderation.textmodel import (
    LinearTextModel,
    chunks,
    concept_of,
    features,
    fold,
    mark_negation,
    phrase_features,
    words,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I w@nt to k!ll myself!!", ["i", "want", "to", "kill", "myself"]),
        ("su1c1de", ["suicide"]),
        ("$uicide", ["suicide"]),
        ("d1e 2nite", ["die", "tonight"]),
        ("gonna kms tbh", ["going", "to", "kill", "myself", "to", "be", "honest"]),
        ("I’m done…", ["im", "done"]),
        # Numbers and measures stay as they are.
        ("50mg at 8.30am, day 45", ["50mg", "at", "8", "30am", "day", "45"]),
        ("2024", ["2024"]),
        ("<3 :)", ["3"]),
        # Emoji that say a word are read as it; the rest are dropped.
        ("planning my exit 🪦", ["planning", "my", "exit", "grave"]),
        ("💊💊 + 🍺 = bye", ["pills", "pills", "bye"]),
        ("the 🔪 is here ⚰️", ["the", "knife", "is", "here", "coffin"]),
        # "Hang" with its particle is everyday talk, read as a word of its own.
        ("getting the hang of it", ["getting", "the", "hangof", "it"]),
        ("hang in there x", ["hangin", "there", "x"]),
        ("i want to hang myself", ["i", "want", "to", "hang", "myself"]),
    ],
)
def test_words_read_look_alikes_and_slang_the_plain_way(text: str, expected: list[str]) -> None:
    assert words(fold(text)) == expected


def test_negation_marks_the_few_words_after_it_until_a_contrast() -> None:
    marked = mark_negation(words(fold("I would never kill myself but I want to die")))
    assert marked == ["i", "would", "never", "!kill", "!myself", "but", "i", "want", "to", "die"]
    assert concept_of("!kill", {"kill": "DEATH"}) == "!DEATH"
    assert concept_of("123", {}) == "D3"
    assert concept_of("12345678", {}) == "D6"


WEIGHTS = {
    "w die": 2.0,
    "w want": 0.5,
    "c <di": 0.25,
    "b want to": 0.75,
    "b to die": 1.0,
    "k DEATH": 0.5,
    "kb WANT DEATH": 1.5,
    "w !die": -3.0,
}


def _model() -> LinearTextModel:
    return LinearTextModel(WEIGHTS, -2.0, 1.0, {"die": "DEATH", "want": "WANT"})


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="adeiotw n!.?1\n", max_size=120))
def test_scoring_adds_up_exactly_the_features_training_counts(text: str) -> None:
    model = _model()
    for piece in chunks(fold(text)):
        expected = -2.0 + sum(WEIGHTS.get(name, 0.0) for name in features(piece, model.concepts))
        assert model.score(piece) == pytest.approx(expected)


def test_the_best_chunk_is_the_sentence_that_says_it() -> None:
    model = _model()
    calm = "A long day at work and a good walk after. " * 20
    best = model.best_chunk(calm + "I want to die. " + calm)
    assert best is not None and "i want to die" in best.text
    assert best.score >= model.threshold
    assert model.flags(calm) is None
    assert model.flags("I would never die") is None


def test_a_short_text_is_read_whole_and_a_long_one_in_overlapping_windows() -> None:
    assert chunks("one. two.") == ["one. two."]
    sentences = [f"sentence number {n} is here." for n in range(100)]
    windows = chunks(" ".join(sentences))
    assert len(windows) > 5
    assert all(len(window) <= 500 for window in windows)
    # Every pair of neighbouring sentences is read together in some window.
    for first, second in itertools.pairwise(sentences):
        assert any(first[:-1] in w and second[:-1] in w for w in windows)


def test_the_shipped_models_load_and_have_sane_thresholds() -> None:
    from moderation import crisis

    model = crisis._model()
    assert model.concepts and model.rules_gate <= model.threshold
    flagged = model.flags("I want to kill myself tonight")
    assert flagged is not None and flagged.score >= model.threshold
    assert flagged.text == "i want to kill myself tonight"  # the chunk that tipped it
    assert model.flags("See you all at the meeting on Thursday") is None


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab kms1!$@.*,é ñ\n-_'wannaIİ٣²", max_size=80))
def test_the_quick_path_for_plain_words_reads_them_as_the_slow_one_would(text: str) -> None:
    from moderation.textmodel import _SEPARATORS, _words_one_by_one

    folded = fold(text)
    assert words(folded) == _words_one_by_one(folded.translate(_SEPARATORS).split())


PHRASE_WEIGHTS = {
    **WEIGHTS,
    "t want to die": 2.0,
    "t <s> i want": 0.5,
    "s want die": 1.25,
    "s <s> want": -0.5,
}


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="adeiotw n!.?1\n", max_size=120))
def test_the_phrase_reading_adds_its_triples_and_skips(text: str) -> None:
    # A model trained with the phrase reading (tools/train_filters.py, phrases=True) holds
    # both readings' weights summed: its words and pairs once, its triples and one-apart
    # pairs on top.
    model = _model_with_phrases()
    for piece in chunks(fold(text)):
        expected = -2.0 + sum(
            PHRASE_WEIGHTS.get(name, 0.0) for name in features(piece, model.concepts)
        )
        expected += sum(
            PHRASE_WEIGHTS.get(name, 0.0)
            for name in phrase_features(piece)
            if name.startswith(("t ", "s "))
        )
        assert model.score(piece) == pytest.approx(expected)


def test_the_phrase_reading_is_words_in_order() -> None:
    assert phrase_features("i want to die") == [
        "w i", "w want", "w to", "w die",
        "b <s> i", "b i want", "b want to", "b to die",
        "t <s> i want", "t i want to", "t want to die",
        "s <s> want", "s i to", "s want die",
    ]  # fmt: skip
    assert _model_with_phrases().score("i want to die") > _model().score("i want to die")


def _model_with_phrases() -> LinearTextModel:
    return LinearTextModel(PHRASE_WEIGHTS, -2.0, 1.0, {"die": "DEATH", "want": "WANT"})
