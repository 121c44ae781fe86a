"""Crisis resources: the helplines a member is shown, for where they are
(moderation/data/crisis_resources.json). The crisis filter is handed them; pages, vetting
notices and 1:1 support show them too."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from core.i18n import N_, gettext

_RESOURCES_PATH = Path(__file__).parent.parent / "data" / "crisis_resources.json"
_ENTRY_KEYS = frozenset({"name", "phone", "text", "url", "region"})
# Region names people use that aren't ISO 3166 codes.
_REGION_ALIASES = {"UK": "GB"}
_EVERYONE = "*"
_UNKNOWN_REGION = "INTL"


@cache
def _load_resources() -> dict[str, tuple[dict[str, str], ...]]:
    # Loaded once per process; checked here so a bad edit fails loudly at first use (and in
    # the tests), not by showing a member a blank helpline.
    data = json.loads(_RESOURCES_PATH.read_text(encoding="utf-8"))
    by_region: dict[str, list[dict[str, str]]] = {}
    for entry in data["resources"]:
        unknown = set(entry) - _ENTRY_KEYS
        if unknown or not entry.get("name") or not entry.get("region"):
            raise ValueError(f"bad crisis resource entry {entry!r} (unknown keys: {unknown})")
        if not all(isinstance(value, str) for value in entry.values()):
            raise ValueError(f"crisis resource fields must be strings: {entry!r}")
        by_region.setdefault(entry["region"], []).append(entry)
    if _EVERYONE not in by_region:
        raise ValueError("crisis resources need at least one entry for region '*'")
    return {region: tuple(entries) for region, entries in by_region.items()}


def crisis_resources(region: str | None) -> list[dict[str, str]]:
    """Helplines for a member in `region` (ISO 3166-1 alpha-2, e.g. "GB"), followed by the
    entries for everyone. An unknown or missing region gets international resources instead.
    Returns fresh dicts, so callers may change them."""
    resources = _load_resources()
    code = (region or "").strip().upper()
    code = _REGION_ALIASES.get(code, code)
    if code in (_EVERYONE, _UNKNOWN_REGION) or code not in resources:
        code = _UNKNOWN_REGION
    local = [dict(entry) for entry in resources.get(code, ())]
    # The lines for everyone are in Kindred's words: shown in the page's language. A
    # country's own lines keep their own names (a service's name is what its callers know).
    everyone = [{**entry, "name": gettext(entry["name"])} for entry in resources[_EVERYONE]]
    return [*local, *everyone]


# The entries for everyone (region "*" in the data), marked so `make messages` extracts them;
# a test keeps this list and the data in step.
FOR_EVERYONE = (
    N_("If you're in immediate danger, call your local emergency number"),
    N_("Find a helpline near you"),
)
