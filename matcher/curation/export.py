"""The catalog back to YAML (one file per entry, for review in git) and its stale facts.

Export is deterministic: the same catalog gives the same bytes. Keys follow the model's field
order, values equal to their defaults are left out (as a curator writes them), and the files
load back with `matcher.curation.loader.load_catalog` to the same entries.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from matcher.core.catalog import Catalog
from matcher.core.entry import Entry
from matcher.core.freshness import old_facts
from matcher.errors import CatalogError

HEADER = "# yaml-language-server: $schema=../../rules/entry.schema.json\n"
_DURATION = re.compile(r"^\s*(\d+)\s*(d|days?|w|weeks?|m|months?|y|years?)?\s*$", re.I)
_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}
#: The longest age threshold `parse_duration` accepts: 100 years.
MAX_DURATION_DAYS = 100 * 365


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line text; everything else as PyYAML's safe dumper writes it."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    """Short lists of plain values on one line (`sources: [S01, S02]`), as curators write them."""
    flow = bool(value) and all(
        isinstance(v, str | int | float) and "\n" not in str(v) for v in value
    )
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(list, _list)
#: Keys written first and last in every mapping (the rest in the model's field order).
FRONT = ("id", "name", "value", "title", "text")
BACK = ("sources", "confidence", "note", "last_verified")


def _tidy(value: Any) -> Any:
    """Readable key order; whole-number floats as integers (1200000, not 1200000.0)."""
    if isinstance(value, dict):
        middle = [k for k in value if k not in FRONT and k not in BACK]
        keys = [k for k in (*FRONT, *middle, *BACK) if k in value]
        return {k: _tidy(value[k]) for k in keys}
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def entry_yaml(entry: Entry) -> str:
    data = entry.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)
    text = yaml.dump(
        _tidy(data),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    return HEADER + text


def export_catalog(catalog: Catalog, folder: Path) -> dict[str, list[str]]:
    """Write `folder/entries/<id>.yaml` for every entry; other *.yaml files there are removed.

    Returns the entry ids written, those whose file was already identical, and removed files.
    """
    entries_dir = folder / "entries"
    if entries_dir.is_symlink():
        raise CatalogError(
            f"{entries_dir} is a symbolic link: export writes only into a real folder; remove "
            "the link or give another folder"
        )
    try:
        entries_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CatalogError(f"{entries_dir}: cannot be created ({error.strerror})") from None
    report: dict[str, list[str]] = {"written": [], "unchanged": [], "removed": []}
    wanted = set()
    for entry in catalog.entries:
        path = entries_dir / f"{entry.id}.yaml"
        wanted.add(path.name)
        text = entry_yaml(entry)
        if path.is_symlink():
            path.unlink()  # a link is replaced by a file, never followed to write elsewhere
        elif path.exists() and path.read_bytes() == text.encode("utf-8"):
            report["unchanged"].append(entry.id)
            continue
        path.write_bytes(text.encode("utf-8"))
        report["written"].append(entry.id)
    for path in sorted(entries_dir.glob("*.yaml")):
        if path.name not in wanted:
            path.unlink()
            report["removed"].append(path.name)
    return report


# -- stale facts -----------------------------------------------------------------------------


def parse_duration(text: str) -> int:
    """'180d', '26w', '6m' (30 days), '1y' (365 days) or a number of days -> days.

    At most MAX_DURATION_DAYS (100 years); CatalogError on anything else.
    """
    match = _DURATION.match(text)
    if not match:
        raise CatalogError(f"'{text}' is not a duration; write it like 180d, 26w, 6m or 1y")
    unit = (match[2] or "d")[0].lower()
    digits = match[1].lstrip("0")
    if len(digits) > len(str(MAX_DURATION_DAYS)) or int(match[1]) * _DAYS[unit] > MAX_DURATION_DAYS:
        raise CatalogError(
            f"'{text.strip()}' is more than 100 years; write an age threshold like 180d, 26w, "
            "6m or 1y"
        )
    return int(match[1]) * _DAYS[unit]


def stale_entries(
    catalog: Catalog, today: date, older_than_days: int | None = None
) -> list[dict[str, Any]]:
    """Entries with facts older than their kind's limit (rules/freshness.yaml, or
    `older_than_days` for every kind), each fact judged by its own date; oldest first."""
    out = []
    for entry in catalog.entries:
        facts = old_facts(entry, catalog.rules.freshness, today, older_than_days)
        if facts:
            out.append(
                {
                    "entry_id": entry.id,
                    "name": entry.name,
                    "track": entry.track,
                    "oldest": facts[0].dated.isoformat(),
                    "days": facts[0].days,
                    "facts": [f.as_dict() for f in facts],
                }
            )
    return sorted(out, key=lambda e: (e["oldest"], e["entry_id"]))


__all__ = ["entry_yaml", "export_catalog", "parse_duration", "stale_entries"]
