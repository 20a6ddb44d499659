"""Re-check the open cases after the catalog changed, on the bulk engine (`screen_frame`).

Only what a change can affect is checked. A case remembers the refresh it was last checked
against (`seen_refresh`); the entries changed by later refreshes are the touched ones. Each
open case not yet checked against the current refresh is screened against the touched
entries only (a catalog of just those, so the screening costs what they cost): its options on
touched entries are replaced by what they give now (an option can appear, go, or change),
its options on other entries stay as they were. Options are independent of one another (each
is one entry x indication for one patient), so this equals a full re-match on the entries
that changed. When any entry may have changed (a case never checked, a sync of the bundled
catalog, which can change the rules) the case is screened against every entry. A refresh that
touched no entry screens nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from matcher.core.catalog import Catalog

#: Cases screened at a time (one progress step).
CHUNK_CASES = 50_000

Progress = Callable[[int, int], None]


@dataclass
class Recheck:
    """What a re-check did."""

    refresh_id: int | None
    """The catalog refresh the cases were checked against."""
    checked: int = 0
    entries: list[str] | None = field(default_factory=list)
    """The entries re-checked (None: every entry)."""
    changed: dict[int, str] = field(default_factory=dict)
    """Case id -> its new options (JSON), for the cases whose options changed."""
    unreadable: dict[int, str] = field(default_factory=dict)
    """Case id -> why its saved profile could not be matched again (its options are kept)."""
    seconds: float = 0.0


def recheck(
    db_path: Path,
    catalog: Catalog,
    today: date,
    *,
    by: str | None,
    progress: Progress | None = None,
) -> Recheck:
    """Re-check the open cases not yet checked against the catalog now in the database."""
    from matcher.storage import case_records as records
    from matcher.storage.db import reading, writing

    start = time.perf_counter()
    with reading(db_path) as conn:
        stale = records.needs_sync(conn)
    if stale:
        with writing(db_path) as db:
            records.sync(db.conn, by)
    with reading(db_path) as conn:
        refresh = records.current_refresh(conn)
        floors = records.floors(conn, refresh)
        touched: set[str] | None = set()
        for floor in floors:
            more = records.touched_after(conn, floor)
            touched = None if more is None or touched is None else touched | more
        marks = None if touched is None else _marks(touched)
        rows = records.to_recheck(conn, refresh, marks) if touched is None or touched else []
    done = Recheck(refresh, entries=None if touched is None else sorted(touched))
    if rows:
        newly = _screen_cases(done, rows, catalog, today, touched, progress)
        if newly:  # cases with a first option on a touched entry: the rest of theirs too
            with reading(db_path) as conn:
                seen = records.seen_of(conn, list(newly))
            for case_id, options in newly.items():
                before = json.loads(seen[case_id])
                done.changed[case_id] = _canonical({**before, **options})
    if floors:
        with writing(db_path) as db:
            records.record_checks(db.conn, done.changed, done.unreadable, refresh, by)
    done.seconds = time.perf_counter() - start
    return done


def _screen_cases(
    done: Recheck,
    rows: list[tuple[Any, ...]],
    catalog: Catalog,
    today: date,
    touched: set[str] | None,
    progress: Progress | None,
) -> dict[int, dict[str, Any]]:
    """Screen the cases in chunks (each with its run's include_all) and keep the changes;
    returns the options on touched entries of the cases that had none there before (their
    other options were not read)."""
    from matcher.bulk.saved import screen_saved

    scope = catalog if touched is None else _only(catalog, touched)
    newly: dict[int, dict[str, Any]] = {}
    for include_all in (False, True):
        group = [row for row in rows if bool(row[1]) is include_all]
        for at in range(0, len(group), CHUNK_CASES):
            chunk = group[at : at + CHUNK_CASES]
            now, errors = screen_saved([row[2] for row in chunk], scope, today, include_all)
            for n, (case_id, _, _, seen, _) in enumerate(chunk):
                if n in errors:
                    done.unreadable[case_id] = errors[n]
                    continue
                if seen is None:  # no option on a touched entry before (read in SQL)
                    if n in now:
                        newly[case_id] = now[n]
                    continue
                before = json.loads(seen)
                kept = {} if touched is None else _untouched(before, touched)
                after = {**kept, **now.get(n, {})}
                if after != before:
                    done.changed[case_id] = _canonical(after)
            done.checked += len(chunk)
            if progress is not None:
                progress(done.checked, len(rows))
    return newly


def _marks(touched: set[str]) -> tuple[str, ...]:
    """How a touched entry's options start in a case's JSON ('"entry_id/')."""
    return tuple(f'"{entry_id}/' for entry_id in sorted(touched))


def _only(catalog: Catalog, touched: set[str]) -> Catalog:
    """The catalog with only the touched entries still in it (same rules and version)."""
    scope = Catalog([e for e in catalog.entries if e.id in touched], catalog.rules, catalog.version)
    scope.__dict__["lexicon"] = catalog.lexicon  # the same vocabulary: built once, shared
    return scope


def _untouched(options: dict[str, Any], touched: set[str]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k.partition("/")[0] not in touched}


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


__all__ = ["CHUNK_CASES", "Recheck", "recheck"]
