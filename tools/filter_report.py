"""Precision and recall of the safety filters on a labelled split, by category.

    .venv/bin/python tools/filter_report.py [--split test|test2|dev|...] [--lang en|es] [--misses]

Runs each line through the whole pipeline with the filter's default action, as a member's
post would go, and prints one table per filter: for each category of crisis or contact
lines, how many were caught (positives) or wrongly flagged (hard negatives), then precision
and recall overall. `--misses` lists the lines it got wrong. The test split is frozen: it
was written before the filters were tuned, by someone who saw neither the dev split nor the
code, so its figures are the honest ones (docs/moderators.md). `--lang es` scores the Spanish
sets in tests/moderation/data/es/ (their own dev and frozen test splits; no "labelled" file;
Spanish crisis has a second frozen split, `test2`, written after the first had been read).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moderation.contact import contact_filter  # noqa: E402
from moderation.content import Content, ContentKind  # noqa: E402
from moderation.crisis import crisis_filter  # noqa: E402
from moderation.pipeline import moderate  # noqa: E402

DATA = ROOT / "tests" / "moderation" / "data"
# Where each language's splits live: English in the folder itself, others in a folder each.
LANGUAGES = {"en": DATA, "es": DATA / "es"}

_CRISIS = (crisis_filter(lambda: []),)
_CONTACT = (contact_filter("hold"),)


def crisis_flags(text: str) -> bool:
    decision = moderate(Content(text, ContentKind.POST), filters=_CRISIS)
    return bool(decision.notice and decision.notice.get("code") == "crisis")


def contact_flags(text: str) -> bool:
    return moderate(Content(text, ContentKind.POST), filters=_CONTACT).held


FILTERS = {"crisis": crisis_flags, "contact": contact_flags}


def load(path: Path) -> list[tuple[bool, str, str]]:
    """(label, category, text) rows; files without a category column get "all"."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    rows = []
    for line in lines[1:]:
        record = dict(zip(header, line.split("\t"), strict=True))
        text = record["text"].replace("\\n", "\n")
        rows.append((record["label"] == "1", record.get("category", "all"), text))
    return rows


def report(name: str, split: str, show_misses: bool, lang: str = "en") -> tuple[float, float]:
    folder = LANGUAGES[lang]
    path = folder / (f"{name}_labelled.tsv" if split == "labelled" else f"{name}_{split}.tsv")
    if not path.exists():  # (the second frozen split is Spanish crisis only)
        print(f"\n{name} filter: no {split} split in {folder.relative_to(DATA.parent)}")
        return 0.0, 0.0
    rows = load(path)
    flags = FILTERS[name]
    caught: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses: list[str] = []
    tp = fp = fn = 0
    for label, category, text in rows:
        hit = flags(text)
        counts = caught[(label, category)]
        counts[0] += hit
        counts[1] += 1
        tp += hit and label
        fp += hit and not label
        fn += label and not hit
        if hit != label:
            misses.append(f"  {'missed' if label else 'false alarm'} [{category}] {text!r}")
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    where = path.relative_to(DATA)
    print(f"\n{name} filter, {split} split ({where}, {len(rows)} lines)")
    print(f"| {'category':<20} | lines | {'result':<26} |")
    print(f"| {'-' * 20} | ----: | {'-' * 26} |")
    for (label, category), (hits, total) in sorted(
        caught.items(), key=lambda kv: (not kv[0][0], kv[0][1])
    ):
        if label:
            result = f"caught {hits}/{total} (recall {hits / total:.2f})"
        else:
            result = f"flagged {hits}/{total} by mistake"
        print(f"| {category + (' (+)' if label else ' (-)'):<20} | {total:>5} | {result:<26} |")
    print(f"precision {precision:.3f}  recall {recall:.3f}  (tp {tp}, fp {fp}, fn {fn})")
    if show_misses:
        print("\n".join(misses))
    return precision, recall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--split",
        default="test",
        help="test (frozen), test2 (Spanish crisis, frozen), heldout (crisis lines never "
        "trained on), labelled, dev, dev2, ... "
        "(default: %(default)s)",
    )
    parser.add_argument("--lang", choices=tuple(LANGUAGES), default="en")
    parser.add_argument("--misses", action="store_true", help="list the lines it got wrong")
    parser.add_argument("filters", nargs="*", default=list(FILTERS))
    args = parser.parse_args()
    for name in args.filters:
        report(name, args.split, args.misses, args.lang)


if __name__ == "__main__":
    main()
