"""The palette in static/css/kindred.css meets WCAG 2.2 AA in both themes: text 4.5:1 on every
ground it is used on, and 3:1 for what must be seen but isn't text (focus ring, field borders,
the lines that mark notices). Changing a colour that breaks a pair fails here, not in a
reader's eyes."""

from __future__ import annotations

import re
from pathlib import Path

CSS = Path(__file__).resolve().parents[1] / "static" / "css" / "kindred.css"

TEXT = 4.5
NON_TEXT = 3.0
# (foreground, background, ratio needed)
PAIRS = [
    *[("fg", ground, TEXT) for ground in ("bg", "card", "ok-bg", "warn-bg", "err-bg")],
    *[("muted", ground, TEXT) for ground in ("bg", "card", "ok-bg", "warn-bg")],
    *[("accent", ground, TEXT) for ground in ("bg", "card", "ok-bg", "warn-bg", "err-bg")],
    *[("err", ground, TEXT) for ground in ("bg", "card", "err-bg")],
    ("accent-fg", "accent", TEXT),  # a button's label
    ("bg", "err", TEXT),  # a danger button's label
    ("focus", "bg", NON_TEXT),
    ("focus", "card", NON_TEXT),
    ("muted", "card", NON_TEXT),  # a text field's border
    ("warn-line", "card", NON_TEXT),
    ("ok-line", "card", NON_TEXT),
]


def _palettes() -> tuple[dict[str, str], dict[str, str]]:
    """The light theme's colours, and those the dark theme sets (only colours: lengths too
    live in :root)."""
    css = CSS.read_text()
    light = css[: css.index("@media (prefers-color-scheme: dark)")]
    dark = css[css.index("@media (prefers-color-scheme: dark)") :]
    grab = lambda block: dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{3,6})\b", block))  # noqa: E731
    return grab(light), grab(dark[: dark.index("}")])


def _luminance(colour: str) -> float:
    hex_ = colour.lstrip("#")
    if len(hex_) == 3:
        hex_ = "".join(c * 2 for c in hex_)
    channels = [int(hex_[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_is_computed_as_wcag_defines_it() -> None:
    assert round(contrast("#000", "#fff"), 2) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48  # the classic near miss


def test_every_colour_pair_meets_aa_in_both_themes() -> None:
    light, dark = _palettes()
    assert set(dark) == set(light), "every colour is chosen again for the dark theme"
    palettes = {"light": light, "dark": dark}
    short = [
        f"{theme}: --{fg} on --{bg} is {contrast(colours[fg], colours[bg]):.2f}, needs {need}"
        for theme, colours in palettes.items()
        for fg, bg, need in PAIRS
        if contrast(colours[fg], colours[bg]) < need
    ]
    assert not short, "\n".join(short)
    # The dark theme really is dark, the light one light (a swapped block would pass above).
    assert _luminance(palettes["dark"]["bg"]) < 0.05 < 0.8 < _luminance(palettes["light"]["bg"])
