"""cases: the re-check of saved cases after a catalog change, beside the bulk screen.

For each size (10,000 and 100,000 synthetic referrals, the `screen` benchmark's generator; no
real patient data): the referrals are screened and saved as cases (`run_screen`), then timed
in this process, each with a catalog opened afresh (no warm caches):

- bulk screen: `screen_frame` over the same referrals, the reference;
- re-check after a refresh that cuts axi-cel's list price and closes one trial (the cases
  re-checked against those two entries);
- re-check after a refresh that changes no entry (re-checks none);
- re-check of every case against every entry (the worst case: a bundle sync);

with the ratio of each re-check to the bulk screen. Wall times on a shared machine stretch
with its load, so each step also prints the CPU time it took.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from datetime import date
from pathlib import Path

TODAY = date(2026, 11, 23)  # the screen benchmark's reference date
SIZES = (10_000, 100_000)
CHANGE = (
    "id,list_price_cny,status,source,as_of\n"
    "axi-cel,900000,,Price letter,2026-11-20\n"
    "ct011,,closed,Site letter,2026-11-20\n"
)


def _refresh(db: Path, sheet: Path) -> None:
    from matcher.curation.bundle import open_catalog
    from matcher.curation.refresh import apply_plan, plan_refresh

    apply_plan(plan_refresh([sheet], open_catalog(db), today=TODAY), db)


def _recheck(db: Path) -> tuple[float, float, int, int]:
    """Seconds of the re-check, seconds with the call-back list, cases re-checked, families
    to call back."""
    from matcher.curation.bundle import open_catalog
    from matcher.curation.callbacks import after_change

    catalog = open_catalog(db)
    start, cpu = time.perf_counter(), time.process_time()
    report = after_change(db, catalog, TODAY, by="bench")
    total = time.perf_counter() - start
    print(f"    (re-check and list: {time.process_time() - cpu:.2f} s of CPU in this process)")
    return report["seconds"], total, report["checked"], len(report["changed"])


def _bulk_screen(source: Path, db: Path) -> float:
    import pandas as pd

    from matcher.bulk.screening import screen_frame
    from matcher.curation.bundle import open_catalog

    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    catalog = open_catalog(db)
    start, cpu = time.perf_counter(), time.process_time()
    screen_frame(frame, catalog, TODAY)
    print(f"    (bulk screen: {time.process_time() - cpu:.2f} s of CPU in this process)")
    return time.perf_counter() - start


def one_size(n: int, tmp: Path) -> None:
    from bench import synthetic_referrals  # here: bench.py imports this module

    from matcher.bulk.run import Settings, run_screen
    from matcher.curation.bundle import open_catalog

    source, db = tmp / f"referrals-{n}.csv", tmp / f"cases-{n}.db"
    synthetic_referrals(source, n)
    run_screen(source, tmp / f"out-{n}.csv", tmp / f"err-{n}.csv", open_catalog(db),
               Settings(today=TODAY), db_path=db)  # fmt: skip
    bulk = _bulk_screen(source, db)
    sheet = tmp / "change.csv"
    sheet.write_text(CHANGE, encoding="utf-8")
    _refresh(db, sheet)
    touched = _recheck(db)
    _refresh(db, sheet)  # the same values again: no entry changes
    nothing = _recheck(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE cases SET seen_refresh = NULL")  # as after a bundle sync
    every = _recheck(db)
    print(f"cases: {n:,} saved referrals")
    print(f"  bulk screen (screen_frame)        {bulk:7.2f} s")
    for label, (seconds, total, checked, calls) in (
        ("re-check, 2 entries changed", touched),
        ("re-check, no entry changed", nothing),
        ("re-check, every entry", every),
    ):
        print(
            f"  {label:<32} {seconds:7.2f} s  ratio {seconds / bulk:5.2f}  "
            f"({checked:,} re-checked; with the list of {calls:,} to call back {total:.2f} s)"
        )


def cases(args: argparse.Namespace) -> None:
    sizes = args.sizes or SIZES
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CARTMATCH_DB"] = str(Path(tmp) / "unused.db")
        for n in sizes:
            one_size(n, Path(tmp))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", help="numbers of saved referrals")
    cases(parser.parse_args())
