"""Labelled test sets for the pipeline's filters: loading them, and scoring a filter on them
with precision and recall printed in the test output (every run, not only on failure)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


def load_labelled(path: Path) -> list[tuple[bool, str]]:
    rows = []
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "label\ttext"
    for number, line in enumerate(lines[1:], start=2):
        label, sep, text = line.partition("\t")
        assert sep and label in ("0", "1") and text, f"{path.name}:{number}: bad row {line!r}"
        # "\n" in a row stands for a line break, so multi-line posts fit on one line.
        rows.append((label == "1", text.replace("\\n", "\n")))
    return rows


def load_split(path: Path) -> list[tuple[bool, str, str]]:
    """(label, category, text) rows of a split by category (label, category, text columns)."""
    rows = []
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "label\tcategory\ttext", f"{path.name}: bad header"
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        assert len(fields) == 3 and fields[0] in ("0", "1") and fields[1] and fields[2], (
            f"{path.name}:{number}: bad row {line!r}"
        )
        rows.append((fields[0] == "1", fields[1], fields[2].replace("\\n", "\n")))
    return rows


def assert_big_and_balanced(rows: list[tuple[bool, str]]) -> None:
    positives = sum(label for label, _ in rows)
    assert len(rows) >= 120
    assert 0.35 <= positives / len(rows) <= 0.65
    texts = [text for _, text in rows]
    assert len(set(texts)) == len(texts), "duplicate rows"


def score_and_print(
    name: str,
    rows: list[tuple[bool, str]],
    predict: Callable[[str], bool],
    explain: Callable[[str], object],
    capsys: pytest.CaptureFixture[str],
) -> tuple[float, float]:
    """Precision and recall of `predict` on `rows`, printed with every misclassified row."""
    tp = fp = fn = 0
    wrong: list[str] = []
    for expected, text in rows:
        hit = predict(text)
        if hit and expected:
            tp += 1
        elif hit:
            fp += 1
            wrong.append(f"  false positive: {text!r} ({explain(text)})")
        elif expected:
            fn += 1
            wrong.append(f"  false negative: {text!r}")
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    with capsys.disabled():
        print(f"\n{name}: precision {precision:.2f} recall {recall:.2f} (n={len(rows)})")
        print("\n".join(wrong))
    return precision, recall
