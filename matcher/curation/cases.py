"""Case work behind `cartmatch cases` and `match --save`: find, export, save, delete.

Files written here hold patient data: they are created readable by their owner only (0600)
through the screening writers (`bulk.writers.Writer`: CSV or XLSX, formula-looking text
neutralised). Deleting a patient removes every row about them in one transaction, then
rebuilds the database file so the bytes are gone too.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from matcher.core.catalog import Catalog
from matcher.errors import CartmatchError

#: The retention setting: saved referrals untouched for longer are purged by `cases purge`.
RETENTION_ENV = "CARTMATCH_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 365
#: What the call-back and export files may be.
TABLE_SUFFIXES = (".csv", ".xlsx")


@contextlib.contextmanager
def case_store(path: Path, by: str | None) -> Iterator[Any]:
    """The cases (referrals saved before cases existed made into cases first), in one write
    transaction."""
    from matcher.storage.case_records import sync
    from matcher.storage.cases import CaseStore
    from matcher.storage.db import writing

    with writing(path) as db:
        sync(db.conn, by)
        yield CaseStore(db.conn)


def find_cases(
    path: Path,
    catalog: Catalog,
    *,
    status: Sequence[str] = (),
    entry: str | None = None,
    changed_since: date | None = None,
    city: str | None = None,
) -> list[Any]:
    """Cases with the filters given; `city`: an option now at a site in that city."""
    from matcher.storage.cases import CASE_STATUSES

    for name in status:
        if name not in CASE_STATUSES:
            raise CartmatchError(
                f"unknown case status '{name}': use one of {', '.join(CASE_STATUSES)}"
            )
    with case_store(path, None) as store:
        cases = store.cases(
            status=status,
            entry=entry.strip().casefold() if entry else None,
            changed_since=changed_since.isoformat() if changed_since else None,
        )
    if city:
        from matcher.core.places import at_place

        place = catalog.place(city)
        there = at_place(catalog.entries, catalog.places, place)
        cases = [c for c in cases if any(k.partition("/")[0] in there for k in c.seen)]
    return cases


def write_table(rows: list[dict[str, Any]], columns: list[str], output: Path) -> None:
    """Rows of text to a CSV or XLSX file (0600, formula-looking text neutralised)."""
    from matcher.bulk.saved import write_rows

    if output.suffix.lower() not in TABLE_SUFFIXES:
        raise CartmatchError(
            f"{output}: write the list as .csv or .xlsx (got '{output.suffix or 'no extension'}')"
        )
    write_rows(rows, columns, output)


def contact_columns(items: Sequence[Any]) -> list[str]:
    """The carried-through columns of these cases, in order of first appearance."""
    return list(dict.fromkeys(name for item in items for name in item.contact))


def export_rows(cases: Sequence[Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per case for `cases export`, with its contact columns last."""
    contact = contact_columns(cases)
    base = ["case", "referral_id", "status", "options", "created_at", "updated_at"]
    base += ["told_at", "changed_at"]
    rows = []
    for case in cases:
        row = {
            "case": str(case.id),
            "referral_id": case.referral_id,
            "status": case.status,
            "options": "; ".join(f"{k} ({s.status})" for k, s in sorted(case.seen.items())),
            "created_at": case.created_at,
            "updated_at": case.updated_at,
            "told_at": case.told_at,
            "changed_at": case.changed_at,
        }
        rows.append({**row, **{_free(name, base): v for name, v in case.contact.items()}})
    return rows, base + [_free(name, base) for name in contact]


def callback_rows(calls: Sequence[Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per call-back: the case, the change in words, the contact columns."""
    contact = contact_columns(calls)
    base = ["case", "referral_id", "status", "changes", "changed_in_refresh", "last_told"]
    rows = [
        {
            "case": str(call.case_id),
            "referral_id": call.referral_id or call.key,
            "status": call.status,
            "changes": "; ".join(call.changes),
            "changed_in_refresh": str(call.changed_refresh or ""),
            "last_told": call.told_at,
            **{_free(name, base): v for name, v in call.contact.items()},
        }
        for call in calls
    ]
    return rows, base + [_free(name, base) for name in contact]


def _free(name: str, taken: list[str]) -> str:
    """A carried column named like one of ours keeps its text under another name."""
    return f"{name} (input)" if name in taken else name


# -- match --save ------------------------------------------------------------------------------


def save_lookup(path: Path, raw: dict[str, Any], result: Any, *, include_all: bool, by: str) -> int:
    """A single look-up saved as a one-referral run and its case; returns the case number."""
    from matcher.storage.cases import CaseStore
    from matcher.storage.db import canonical_json, writing
    from matcher.storage.runs import RunStore

    referral_id = str(raw.get("referral_id") or "").strip()
    if not referral_id:
        raise CartmatchError("--save needs --referral-id (or a referral_id in the profile)")
    given = {k: v for k, v in raw.items() if v is not None and v != [] and v != {}}
    profile = canonical_json({**given, "referral_id": referral_id})
    options = [f"{o.entry.id}/{o.indication.id}:{o.status.value}" for o in result.options]
    states = {
        f"{o.entry.id}/{o.indication.id}": [
            o.status.value,
            o.enrolment,
            _number(o.cost.low),
            _number(o.cost.high),
        ]
        for o in result.options
    }
    with writing(path) as db:
        runs = RunStore(db)
        run_id = runs.start(
            input_name="cartmatch match",
            input_hash=hashlib.sha256(profile.encode()).hexdigest(),
            catalog_version=result.catalog.version,
            include_all=include_all,
        )
        row = (1, referral_id, profile, canonical_json(options), canonical_json(states), "{}")
        runs.add_referrals(run_id, [row], by)
        runs.finish(run_id, {"rows_in": 1, "screened": 1, "rejected": 0}, {"source": "match"})
        return CaseStore(db.conn).get(referral_id).id


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


# -- a patient's data, gone ----------------------------------------------------------------------


def retention_days() -> int:
    """The retention setting (CARTMATCH_RETENTION_DAYS), else a year."""
    raw = os.environ.get(RETENTION_ENV, "").strip()
    if not raw:
        return DEFAULT_RETENTION_DAYS
    if not raw.isdigit() or not 0 < int(raw) <= 36_500:
        raise CartmatchError(f"{RETENTION_ENV} '{raw[:20]}' is not a number of days (1-36500)")
    return int(raw)


def delete_cases(path: Path, refs: Sequence[str]) -> int:
    """Remove these cases' patient data from every table, then from the file itself."""
    from matcher.storage.case_records import delete_cases as delete_rows
    from matcher.storage.case_records import erase_free_space

    with case_store(path, None) as store:
        ids = [store.get(ref).id for ref in refs]
        count = delete_rows(store.conn, ids)
    erase_free_space(path)
    return count


def purge_cases(path: Path, days: int, today: date, *, dry_run: bool = False) -> int:
    """Remove every case no one has changed for `days` days (with its saved referrals)."""
    from matcher.storage.case_records import delete_cases as delete_rows
    from matcher.storage.case_records import erase_free_space, idle_since

    before = (today - timedelta(days=days)).isoformat()
    with case_store(path, None) as store:
        ids = idle_since(store.conn, before)
        if dry_run or not ids:
            return len(ids)
        count = delete_rows(store.conn, ids)
    erase_free_space(path)
    return count


__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "RETENTION_ENV",
    "callback_rows",
    "case_store",
    "delete_cases",
    "export_rows",
    "find_cases",
    "purge_cases",
    "retention_days",
    "save_lookup",
    "write_table",
]
