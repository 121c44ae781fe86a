"""The docs stay true to the code."""

from __future__ import annotations

import subprocess
from pathlib import Path

from core.settings import DEFAULT_LIMITS, Settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for name, _value, _help in Settings().describe():
        assert f"`{name}`" in readme, f"{name} is missing from README.md"


def test_every_rate_limited_action_is_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    for action in DEFAULT_LIMITS:
        assert f"`{action}`" in readme, f"rate limit {action} is missing from README.md"


def test_make_help_lists_the_two_commands() -> None:
    out = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True)
    assert "make run" in out.stdout and "make test" in out.stdout
