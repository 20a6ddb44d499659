"""Refresh the catalog from sources: read, validate, diff; with `apply`, one logged write.

A refresh reads any mix of sources, in the order given, into a working copy of the current
catalog:

- a catalog folder (`catalog/`, or any folder holding `entries/*.yaml` or `*.yaml`): curated
  entries, each replacing the entry of the same id whole;
- a spreadsheet of updates (`.csv`, `.xlsx`; see `matcher.curation.importers.spreadsheet`);
- ClinicalTrials.gov API v2 JSON (`.json`; see `matcher.curation.importers.ctgov`).

Every touched entry is validated (model and vocabulary) as it is read; the first problem
raises `CatalogError` naming the file, the row or record and the field, and nothing is written.
The plan is then a diff against the current catalog: entries added, changed (field by field),
unchanged, and, when a catalog folder is among the sources, missing from it (kept unless
`prune`). Spreadsheets and registry files are partial updates: nothing is missing from them.

`apply_plan` writes the plan in one transaction (BEGIN IMMEDIATE ... COMMIT) and records it in
the refresh log with its sources, content hash, time and diff. A process killed in the middle
leaves the database exactly as before; readers (WAL) keep answering meanwhile.

Test hook: when the environment variable CARTMATCH_TEST_PAUSE_AFTER_WRITES is set to a number
of seconds, `apply_plan` sleeps that long after its writes, inside the open transaction, so a
test can kill the process mid-write or query the database while the write lock is held. It is
read here and nowhere else.
"""

from __future__ import annotations

import copy
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from matcher.core.catalog import Catalog
from matcher.core.entry import Entry
from matcher.curation.importers import Checker, EntryData, Outcome, State
from matcher.curation.loader import check_references, entry_files, load_entry
from matcher.curation.newer import keep_newer
from matcher.errors import CatalogError, StoreError
from matcher.model.base import digest, first_error
from matcher.paths import files_hash

PAUSE_ENV = "CARTMATCH_TEST_PAUSE_AFTER_WRITES"
SPREADSHEET_SUFFIXES = {".csv", ".xlsx", ".xlsm"}
_MISSING = object()


def entry_data(entry: Entry) -> EntryData:
    """The JSON form of an entry (the same data the store keeps as its body)."""
    return entry.model_dump(mode="json", by_alias=True, exclude_none=True)


# -- sources ---------------------------------------------------------------------------------


def source_kind(path: Path) -> str:
    """`catalog`, `spreadsheet` or `ctgov`, from what the path is."""
    if path.is_dir():
        return "catalog"
    if not path.exists():
        raise CatalogError(f"{path}: no such file or folder", path=str(path))
    suffix = path.suffix.casefold()
    if suffix in SPREADSHEET_SUFFIXES:
        return "spreadsheet"
    if suffix == ".json":
        return "ctgov"
    raise CatalogError(
        f"{path}: cannot tell what this source is; give a catalog folder, a .csv or .xlsx "
        "spreadsheet of updates, or ClinicalTrials.gov API v2 .json",
        path=str(path),
    )


def source_hash(path: Path) -> str:
    return files_hash(path)


def checker(catalog: Catalog) -> Checker:
    """Validate one entry's data against the model and the catalog's vocabulary."""

    def check(data: EntryData, where: str) -> Entry:
        try:
            entry = Entry.model_validate(data)
        except ValidationError as error:
            problem = first_error(error)
            loc = problem.where or "top level"
            raise CatalogError(
                f"{where}, field {loc}: {problem.msg}; fix the source and run the refresh again",
                location=loc,
            ) from None
        check_references(entry, catalog.lexicon, Path(where))
        return entry

    return check


def _read_folder(path: Path, state: State, catalog: Catalog) -> Outcome:
    files = entry_files(path) if (path / "entries").is_dir() else sorted(path.glob("*.yaml"))
    if not files:
        raise CatalogError(
            f"{path}: no entry files (*.yaml) in it or in {path / 'entries'}", path=str(path)
        )
    outcome = Outcome()
    for file in files:
        entry = load_entry(file, catalog.rules, catalog.lexicon)
        state[entry.id] = entry_data(entry)
        outcome.touch(entry.id)
    return outcome


def read_source(path: Path, kind: str, state: State, catalog: Catalog, today: date) -> Outcome:
    """Apply one source to the working catalog `state`."""
    if kind == "catalog":
        return _read_folder(path, state, catalog)
    if kind == "spreadsheet":
        from matcher.curation.importers.spreadsheet import import_sheet

        return import_sheet(path, state, checker(catalog), today)
    from matcher.curation.importers.ctgov import import_studies

    return import_studies(path, state, catalog.lexicon, checker(catalog), today)


# -- the plan --------------------------------------------------------------------------------


@dataclass
class Plan:
    """What a refresh would change, before anything is written."""

    sources: list[dict[str, Any]]
    base_version: str
    proposed: dict[str, Entry]
    origin: dict[str, str]
    added: list[str] = field(default_factory=list)
    changed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    prune: bool = False
    skipped: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    raw: list[dict[str, Any]] = field(default_factory=list)
    older: list[dict[str, Any]] = field(default_factory=list)
    """Facts a source would set back to a value older than the one held (kept unless
    --overwrite-newer; see matcher.curation.newer)."""

    @property
    def removed(self) -> list[str]:
        return list(self.missing) if self.prune else []

    @property
    def source_text(self) -> str:
        return ", ".join(s["path"] for s in self.sources)

    @property
    def content_hash(self) -> str:
        return digest("\n".join(s["hash"] for s in self.sources))

    def summary(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "changed": len(self.changed),
            "unchanged": len(self.unchanged),
            "missing": len(self.missing),
            "removed": len(self.removed),
            "skipped": len(self.skipped),
            "kept_newer": sum(1 for o in self.older if not o["applied"]),
        }

    def diff(self) -> dict[str, Any]:
        """The JSON form of the diff (printed, and stored in the refresh log)."""
        return {
            "sources": self.sources,
            "base_version": self.base_version,
            "summary": self.summary(),
            "added": [
                {"id": i, "name": self.proposed[i].name, "source": self.origin[i]}
                for i in self.added
            ],
            "changed": [{"id": i, "fields": f} for i, f in self.changed.items()],
            "unchanged": self.unchanged,
            "missing": self.missing,
            "removed": self.removed,
            "skipped": self.skipped,
            "notes": self.notes,
            "older": self.older,
        }


def plan_refresh(
    paths: list[Path],
    catalog: Catalog,
    *,
    prune: bool = False,
    today: date | None = None,
    overwrite_newer: bool = False,
) -> Plan:
    """Read and validate every source, then diff the result against the current catalog.

    A fact a source would set back to a value dated before the one held is kept as held
    (and listed in `older`) unless `overwrite_newer`."""
    today = today or date.today()
    current = {e.id: entry_data(e) for e in catalog.entries}
    state: State = copy.deepcopy(current)
    plan = Plan(sources=[], base_version=catalog.version.version, proposed={}, origin={})
    kinds = [source_kind(path) for path in paths]
    full = "catalog" in kinds
    if prune and not full:
        raise CatalogError(
            "--prune needs a catalog folder among the sources: spreadsheets and registry files "
            "are partial updates, so no entry is missing from them"
        )
    touched: list[str] = []
    for path, kind in zip(paths, kinds, strict=True):
        outcome = read_source(path, kind, state, catalog, today)
        plan.sources.append(
            {
                "path": str(path),
                "kind": kind,
                "hash": source_hash(path),
                "entries": len(outcome.touched),
                "skipped": len(outcome.skipped),
            }
        )
        plan.skipped += [{"source": str(path), **s} for s in outcome.skipped]
        plan.notes += outcome.notes
        plan.raw += outcome.raw
        for entry_id in outcome.touched:
            plan.origin[entry_id] = kind
            if entry_id not in touched:
                touched.append(entry_id)
    for entry_id in sorted(touched):
        _propose(plan, entry_id, current, state, overwrite_newer)
    plan.missing = sorted(set(current) - set(touched)) if full else []
    plan.prune = prune
    return plan


def _propose(
    plan: Plan, entry_id: str, current: State, state: State, overwrite_newer: bool
) -> None:
    """One touched entry into the plan: added, changed (field by field) or unchanged, with
    any fact a source would set back to an older value kept as held."""
    if entry_id in current:
        plan.older += keep_newer(
            entry_id, current[entry_id], state[entry_id], overwrite=overwrite_newer
        )
    plan.proposed[entry_id] = Entry.model_validate(state[entry_id])
    if entry_id not in current:
        plan.added.append(entry_id)
    elif fields := field_changes(current[entry_id], state[entry_id]):
        plan.changed[entry_id] = fields
    else:
        plan.unchanged.append(entry_id)


def field_changes(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """Field-by-field differences: [{"field": dotted path, "old", "new"}] (absent = None).

    Lists of records with an `id` (indications, criteria) or a `name` (sites) are compared
    record by record under `field[key]`; other lists element by element when their lengths
    agree, else whole.
    """
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in [*old, *(k for k in new if k not in old)]:
            sub = f"{path}.{key}" if path else str(key)
            out += field_changes(old.get(key, _MISSING), new.get(key, _MISSING), sub)
        return out
    if isinstance(old, list) and isinstance(new, list) and old != new:
        keys = {_list_key(items) for items in (old, new) if items}
        key = keys.pop() if len(keys) == 1 else None
        if key:
            before = {item[key]: item for item in old}
            after = {item[key]: item for item in new}
            out = []
            for name in [*before, *(n for n in after if n not in before)]:
                out += field_changes(
                    before.get(name, _MISSING), after.get(name, _MISSING), f"{path}[{name}]"
                )
            return out
        if len(old) == len(new):
            return [
                c
                for i, (a, b) in enumerate(zip(old, new, strict=True))
                for c in field_changes(a, b, f"{path}.{i}")
            ]
    if old == new:
        return []
    return [
        {
            "field": path,
            "old": None if old is _MISSING else old,
            "new": None if new is _MISSING else new,
        }
    ]


def _list_key(items: list[Any]) -> str | None:
    for key in ("id", "name"):
        keyed = all(isinstance(i, dict) and isinstance(i.get(key), str) for i in items)
        if items and keyed and len({i[key] for i in items}) == len(items):
            return key
    return None


# -- applying --------------------------------------------------------------------------------


def apply_plan(plan: Plan, db_path: Path) -> int:
    """Write the plan in one transaction and log it; returns the refresh id."""
    from matcher.storage.catalog_store import CatalogStore
    from matcher.storage.db import meta, writing

    with writing(db_path) as db:
        if meta(db.conn).get("catalog_version") != plan.base_version:
            raise StoreError(
                "the catalog changed while this refresh was being prepared (another "
                "refresh or a bundle sync); run the refresh again"
            )
        store = CatalogStore(db)
        refresh_id = store.log_refresh("refresh", plan.source_text, plan.content_hash, {})
        for entry_id in [*plan.added, *plan.changed]:
            store.put_entry(plan.proposed[entry_id], refresh_id, origin=plan.origin[entry_id])
        for entry_id in plan.removed:
            store.remove_entry(entry_id, refresh_id)
        for raw in plan.raw:
            store.put_registry_record(
                raw["nct_id"],
                raw["body"],
                refresh_id,
                entry_ids=raw["entry_ids"],
                version_date=raw["version_date"],
            )
        store.finish_refresh(refresh_id, plan.summary(), plan.diff())
        _pause_for_tests()
        store.set_version(refresh_id, plan.source_text)
    return refresh_id


def _pause_for_tests() -> None:
    """The test hook: sleep inside the open transaction (see the module docstring)."""
    seconds = os.environ.get(PAUSE_ENV)
    if seconds:
        sys.stderr.write(f"cartmatch: {PAUSE_ENV}: pausing {seconds}s inside the transaction\n")
        sys.stderr.flush()
        time.sleep(float(seconds))


__all__ = ["Plan", "apply_plan", "field_changes", "plan_refresh", "source_kind"]
