"""cases: the re-check of saved cases after a catalog change, beside the bulk screen.

For each size (10,000 and 100,000 synthetic referrals, the `screen` benchmark's generator; no
real patient data), each step is a `cartmatch` command in its own process, as a coordinator
runs it (cold: nothing cached from another step):

- `screen` with the run saved (the cases made), and `screen --no-save`: the bulk screen of the
  same referrals, the reference;
- `catalog refresh --apply` of a sheet that cuts axi-cel's list price and closes one trial:
  the re-check of the cases against those two entries (its own time, from the command's
  JSON), the whole command, and how many families are to be called back;
- the same sheet again: no entry changes, so no case is re-checked;
- `cases callbacks` after every case is marked never checked (as after a bundle sync): every
  case re-checked against every entry, and the list written;

with the ratio of each re-check to the bulk screen.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
TODAY = "2026-11-23"  # the screen benchmark's reference date
SIZES = (10_000, 100_000)
CHANGE = (
    "id,list_price_cny,status,source,as_of\n"
    "axi-cel,900000,,Price letter,2026-11-20\n"
    "ct011,,closed,Site letter,2026-11-20\n"
)


def _run(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "cartmatch"), *args], env=env, capture_output=True, text=True, check=True
    )
    return time.perf_counter() - start, done.stdout


def one_size(n: int, tmp: Path) -> None:
    from bench import synthetic_referrals  # here: bench.py imports this module

    source, db, sheet = tmp / f"referrals-{n}.csv", tmp / f"cases-{n}.db", tmp / "change.csv"
    synthetic_referrals(source, n)
    sheet.write_text(CHANGE, encoding="utf-8")
    env = {**os.environ, "CARTMATCH_DB": str(db)}
    _run(["catalog", "validate"], env)  # builds the database: not measured
    saved, _ = _run(["screen", str(source), "-o", str(tmp / "saved.csv"), "--today", TODAY], env)
    bulk, _ = _run(["screen", str(source), "-o", str(tmp / "bulk.csv"), "--no-save",
                    "--today", TODAY], env)  # fmt: skip
    refresh = ["catalog", "refresh", str(sheet), "--apply", "--today", TODAY, "--format", "json"]
    wall, out = _run(refresh, env)
    touched = json.loads(out)["referrals"]
    again, out = _run(refresh, env)
    nothing = json.loads(out)["referrals"]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE case_checks SET refresh_id = NULL")  # as after a bundle sync
    every, _ = _run(["cases", "callbacks", "--today", TODAY, "-o", str(tmp / "calls.csv")], env)
    print(f"cases: {n:,} saved referrals (each step a command in its own process)")
    print(f"  screen, run saved as cases        {saved:7.2f} s")
    print(f"  bulk screen (screen --no-save)    {bulk:7.2f} s   the reference")
    for label, seconds, report, whole in (
        ("re-check, 2 entries changed", touched["seconds"], touched, wall),
        ("re-check, no entry changed", nothing["seconds"], nothing, again),
    ):
        print(
            f"  {label:<33} {seconds:7.2f} s   ratio {seconds / bulk:5.2f}  "
            f"({report['checked']:,} re-checked, {len(report['changed']):,} to call back; "
            f"the whole refresh command {whole:.2f} s)"
        )
    print(
        f"  re-check, every entry, and list {every:7.2f} s   ratio {every / bulk:5.2f}  "
        "(cases callbacks after a bundle sync)"
    )


def cases(args: argparse.Namespace) -> None:
    sizes = args.sizes or SIZES
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            one_size(n, Path(tmp))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", help="numbers of saved referrals")
    cases(parser.parse_args())
