"""The safety filters on labelled lines by category: the splits are what the issue asked for,
the frozen test split's figures are printed on every run (and must not fall), the shipped
models are the ones `make model` builds from the data, and adversarial input stays linear.

The test split (tests/moderation/data/*_test.tsv) was written by someone who saw neither the
dev splits nor the code, and committed before any tuning; nothing is tuned on it. Its
figures are the honest ones, and docs/moderators.md reports them."""

from __future__ import annotations

import importlib.util
import itertools
from collections import Counter
from pathlib import Path

import pytest

from moderation.contact import contact_filter
from moderation.content import ContentKind, ContentPolicy, FilterInput
from moderation.crisis import crisis_filter
from moderation.watched import watched_words_filter
from tests.conftest import skip_or_fail
from tests.moderation.labelled import load_split
from tools.filter_report import report

DATA = Path(__file__).parent / "data"

CRISIS_POSITIVE = {"explicit", "indirect", "plan", "preparatory", "passive", "self_harm", "texting"}
CRISIS_NEGATIVE = {
    "figure_of_speech", "third_person", "helping", "recovery", "grief", "news_fiction", "denial",
    "ordinary_plans", "general",
}  # fmt: skip
CONTACT_POSITIVE = {
    "phone_plain", "phone_split", "phone_area_apart", "phone_words", "phone_lookalike",
    "phone_spaced", "phone_app", "email_plain", "email_spelled", "email_spaced", "email_implied",
    "handle", "address_uk", "address_us", "address_in",
}  # fmt: skip
CONTACT_NEGATIVE = {
    "dose", "time_date", "room_ward", "price", "scripture", "count", "mention", "support_site",
    "helpline", "general",
}  # fmt: skip

SPLITS = {
    "crisis": ([f"crisis_dev{n}.tsv" for n in ("", *range(2, 20))],
               "crisis_test.tsv", CRISIS_POSITIVE, CRISIS_NEGATIVE),
    "contact": ([f"contact_dev{n}.tsv" for n in ("", 2, 3, 4, 5, 6)],
                "contact_test.tsv", CONTACT_POSITIVE, CONTACT_NEGATIVE),
}  # fmt: skip

# What the frozen test split must keep achieving: the figures measured when the filters were
# last changed (docs/moderators.md), less a little room. They are floors against
# regressions, not the targets (crisis R >= 0.97 at P >= 0.92; contact R >= 0.97 at P >= 0.98).
FLOORS = {"crisis": (0.90, 0.93), "contact": (0.98, 0.95)}  # (precision, recall)


@pytest.mark.parametrize("name", SPLITS)
def test_the_splits_are_big_balanced_and_apart(name: str) -> None:
    dev_files, test_file, positive, negative = SPLITS[name]
    dev = [row for file in dev_files for row in load_split(DATA / file)]
    test = load_split(DATA / test_file)
    assert len(dev) + len(test) >= 800
    for rows in (dev, test):
        categories = Counter((label, category) for label, category, _ in rows)
        assert {c for label, c in categories if label} == positive
        assert {c for label, c in categories if not label} == negative
        positives = sum(label for label, _, _ in rows)
        assert len(rows) - positives >= positives, "at least as many hard negatives"
    texts = [text.casefold() for _, _, text in itertools.chain(dev, test)]
    assert len(set(texts)) == len(texts), "a line appears twice (or in both splits)"


@pytest.mark.parametrize("name", SPLITS)
def test_figures_on_the_frozen_test_split(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    # The same table `make filter-report` prints, on every run.
    with capsys.disabled():
        precision, recall = report(name, "test", show_misses=False)
    floor_precision, floor_recall = FLOORS[name]
    assert precision >= floor_precision and recall >= floor_recall


# The Spanish sets (data/es/, issue 18): their own dev and frozen test split, the same crisis
# categories, and Spanish and Latin American address categories in place of the UK, US and
# Indian ones. Floors as above: the test split's figures when the Spanish rules were
# written (docs/moderators.md), less a little room.
ES_CONTACT_POSITIVE = (CONTACT_POSITIVE - {"address_uk", "address_us", "address_in"}) | {
    "address_es", "address_mx", "address_latam",
}  # fmt: skip
ES_SPLITS = {
    "crisis": (CRISIS_POSITIVE, CRISIS_NEGATIVE),
    "contact": (ES_CONTACT_POSITIVE, CONTACT_NEGATIVE),
}
ES_FLOORS = {"crisis": (0.84, 0.73), "contact": (0.97, 0.89)}  # (precision, recall)
# The second frozen Spanish crisis split, written after the first had been read.
ES_TEST2_FLOORS = (0.88, 0.85)


@pytest.mark.parametrize("name", ES_SPLITS)
def test_the_spanish_splits_are_balanced_and_apart(name: str) -> None:
    positive, negative = ES_SPLITS[name]
    dev = load_split(DATA / "es" / f"{name}_dev.tsv")
    test = load_split(DATA / "es" / f"{name}_test.tsv")
    for rows in (dev, test):
        categories = Counter((label, category) for label, category, _ in rows)
        assert {c for label, c in categories if label} == positive
        assert {c for label, c in categories if not label} == negative
        positives = sum(label for label, _, _ in rows)
        assert len(rows) - positives >= positives, "at least as many hard negatives"
    texts = [text.casefold() for _, _, text in itertools.chain(dev, test)]
    assert len(set(texts)) == len(texts), "a line appears twice (or in both splits)"


def test_the_second_spanish_crisis_test_split_is_balanced_and_apart() -> None:
    """crisis_test2.tsv: every category, more hard negatives than positives, and no line
    of it trained on. Its writer read no other file, so one everyday line ("me quiero
    morir"-short) may stand in a dev set too: the trainer leaves such a line out, and more
    than one would mean the splits were mixed."""
    test2 = load_split(DATA / "es" / "crisis_test2.tsv")
    categories = Counter((label, category) for label, category, _ in test2)
    assert {c for label, c in categories if label} == CRISIS_POSITIVE
    assert {c for label, c in categories if not label} == CRISIS_NEGATIVE
    positives = sum(label for label, _, _ in test2)
    assert len(test2) - positives >= positives
    texts = {text.casefold() for _, _, text in test2}
    assert len(texts) == len(test2)
    from tools.train_filters import SPECS

    spec = SPECS["crisis_es"]
    assert "crisis_test2.tsv" in spec.frozen and "crisis_test.tsv" in spec.frozen
    trained = {
        text.casefold()
        for source in spec.sources
        for _, _, text in load_split(spec.folder / source)
    }
    assert len(texts & trained) <= 1
    assert not texts & {t.casefold() for _, _, t in load_split(DATA / "es" / "crisis_test.tsv")}


def test_spanish_crisis_figures_on_the_second_frozen_test_split(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with capsys.disabled():
        precision, recall = report("crisis", "test2", show_misses=False, lang="es")
    assert precision >= ES_TEST2_FLOORS[0] and recall >= ES_TEST2_FLOORS[1]


@pytest.mark.parametrize("name", ES_SPLITS)
def test_spanish_figures_on_the_frozen_test_split(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The Spanish half of what `make filter-report` prints.
    with capsys.disabled():
        precision, recall = report(name, "test", show_misses=False, lang="es")
    floor_precision, floor_recall = ES_FLOORS[name]
    assert precision >= floor_precision and recall >= floor_recall


def test_the_shipped_models_are_what_make_model_builds(tmp_path: Path) -> None:
    if importlib.util.find_spec("sklearn") is None:  # locally a skip; in CI a failure
        skip_or_fail("scikit-learn is a dev dependency (make dev)")
    from tools.train_filters import SPECS, train

    shipped = Path(__file__).resolve().parents[2] / "moderation" / "data"
    for spec in SPECS.values():
        built = train(spec, out=tmp_path)
        # The same data and code give the same file on one machine, but the solver's last
        # digits depend on the CPU's vector instructions: compare the models, not bytes.
        # A change to the data or the features moves far more than a rounding step.
        ours, theirs = (_model(path) for path in (built, shipped / built.name))
        stale = f"{built.name} is out of date with its data: run `make model` and commit it"
        assert ours.keys() == theirs.keys(), stale
        for key in ours.keys() - {"weights", "bias", "threshold"}:
            assert ours[key] == theirs[key], f"{stale} ({key})"
        assert abs(ours["bias"] - theirs["bias"]) <= ROUNDING, f"{stale} (bias)"
        assert abs(ours["threshold"] - theirs["threshold"]) <= 0.01, f"{stale} (threshold)"
        # Weights that round to nothing are left out, so a feature at the edge may be in one
        # file only: it counts as 0 in the other.
        mine, shipped_weights = ours["weights"], theirs["weights"]
        features = mine.keys() | shipped_weights.keys()
        assert len(features) <= 1.001 * len(shipped_weights), f"{stale} (new features)"
        drift = max(abs(mine.get(f, 0.0) - shipped_weights.get(f, 0.0)) for f in features)
        assert drift <= ROUNDING, f"{stale} (a weight moved by {drift})"


ROUNDING = 0.002  # a few steps of the 4 decimals the weights are shipped with


def _model(path: Path) -> dict:
    import gzip
    import json

    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def _adversarial(size: int = 50_000) -> dict[str, str]:
    return {
        "digits": "1" * size,
        "digit groups": "123 " * (size // 4),
        "spaced digits": "1 " * (size // 2),
        "separators": "1-" * (size // 2),
        "dotted letters": "a." * (size // 2),
        "at and dot": "jane at gmail dot " * (size // 18),
        "spaced letters": "a " * (size // 2),
        "digit words": "one two three " * (size // 14),
        "at signs": "@" * size,
        "look-alikes": "O0lI" * (size // 4),
        "one long clause": "i want to " * (size // 10),
        "no spaces": "x" * size,
        "street numbers": "12 high " * (size // 8),
        "leet": "k!ll " * (size // 5),
        "negations": "not never no " * (size // 13),
        # Shapes the newer patterns start on, over and over without ever finishing.
        "names without a platform": "i go by a_b on " * (size // 15),
        "platform then no name": "on discord im " * (size // 14),
        "better off half said": "better off with me out of the " * (size // 30),
        "checking out nowhere": "checking out of " * (size // 16),
        "one word repeated": "i " * (size // 2),
        # The Spanish rules' shapes (issue 18).
        "spanish number words": "seis uno dos " * (size // 13),
        "arroba and punto": "luna arroba gmail punto " * (size // 24),
        "spanish streets": "calle mayor 12 " * (size // 15),
        "platform cues": "búscame en insta como " * (size // 22),
        "spanish long clause": "me kiero morir no " * (size // 18),
        "ojalá repeated": "ojalá que " * (size // 10),
    }


@pytest.mark.parametrize(("name", "text"), list(_adversarial().items()))
def test_adversarial_input_runs_through_every_filter(name: str, text: str) -> None:
    # Catastrophic backtracking would take minutes here; bench/filters.py times these.
    item = FilterInput(text, f"<p>{text}</p>", ContentKind.POST, ContentPolicy())
    for filter_ in (watched_words_filter, contact_filter("hold"), crisis_filter(lambda: [])):
        filter_(item)


def test_the_held_out_crisis_lines_are_in_no_other_split() -> None:
    # crisis_heldout.tsv measures wording the model never saw: none of its lines may be
    # trained on (the trainer lists it as frozen) or repeat a test line.
    held_out = {text.casefold() for _, _, text in load_split(DATA / "crisis_heldout.tsv")}
    dev_files, test_file, *_ = SPLITS["crisis"]
    others = [row for file in [*dev_files, test_file] for row in load_split(DATA / file)]
    assert len(held_out) >= 2000
    assert held_out.isdisjoint(text.casefold() for _, _, text in others)
