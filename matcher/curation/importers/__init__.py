"""Importers: turn an outside file into proposed catalog entries (no database, no click).

Each importer reads one source and applies it to a working copy of the catalog, a mapping of
entry id -> entry data (the JSON form of `Entry`). It returns an `Outcome`: which
entries it touched, which records it skipped and why, and the raw records to keep. Every
problem raises `CatalogError` naming the file, the row or record, and the field.

- `ctgov`: ClinicalTrials.gov API v2 JSON (one study record or a `/api/v2/studies` page).
- `spreadsheet`: a CSV or XLSX sheet of updates, one row per entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from matcher.core.entry import Entry
from matcher.model.base import digest
from matcher.model.facts import CLOSED_STATUSES

EntryData = dict[str, Any]
State = dict[str, EntryData]
#: Validates one entry's data (model and vocabulary); raises CatalogError naming `where`.
Checker = Callable[[EntryData, str], Entry]


@dataclass
class Outcome:
    """What one source did to the working catalog."""

    touched: list[str] = field(default_factory=list)
    """Entry ids the source added or updated (in source order, no repeats)."""
    skipped: list[dict[str, str]] = field(default_factory=list)
    """Records left out, each {"record", "reason"}."""
    notes: list[str] = field(default_factory=list)
    raw: list[dict[str, Any]] = field(default_factory=list)
    """Raw registry records to keep: {"nct_id", "entry_ids", "version_date", "body"}."""

    def touch(self, entry_id: str) -> None:
        if entry_id not in self.touched:
            self.touched.append(entry_id)


def source_id(prefix: str, *parts: str | None) -> str:
    """A stable id for a source in an entry's `sources` table (same source, same id)."""
    return f"{prefix}-{digest('|'.join(p or '' for p in parts))[:8]}"


def add_source(data: EntryData, sid: str, source: dict[str, Any]) -> None:
    sources = data.setdefault("sources", {})
    sources[sid] = {k: v for k, v in source.items() if v is not None}


def set_status(data: EntryData, fact: dict[str, Any]) -> None:
    """Set the entry's status; its cohorts follow when they tracked it.

    A cohort follows when its status was the entry's old status or unknown; every cohort
    follows when the new status is a closed one (a closed trial enrols nobody). A cohort with
    its own curated status otherwise keeps it.
    """
    old = (data.get("status") or {}).get("value")
    data["status"] = dict(fact)
    closing = fact["value"] in CLOSED_STATUSES
    for indication in data.get("indications") or []:
        current = (indication.get("status") or {}).get("value")
        if closing or current in (old, "unknown"):
            indication["status"] = dict(fact)


def dig(data: Any, *keys: str) -> Any:
    """data[k1][k2]... or None when any level is missing or not a mapping."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def mapping(value: Any) -> dict[str, Any]:
    """The value when it is a mapping, else {} (a registry field of the wrong shape)."""
    return value if isinstance(value, dict) else {}


def records(value: Any) -> list[dict[str, Any]]:
    """The mappings of a value that should be a list of records (anything else is left out)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def text_of(value: Any) -> str | None:
    """A non-empty stripped string, or None (numbers, lists and blanks are not text)."""
    return value.strip() or None if isinstance(value, str) else None


def texts(value: Any) -> list[str]:
    """The strings of a value that is a string or a list (anything else gives [])."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


__all__ = [
    "Checker",
    "EntryData",
    "Outcome",
    "State",
    "add_source",
    "dig",
    "mapping",
    "records",
    "set_status",
    "source_id",
    "text_of",
    "texts",
]
