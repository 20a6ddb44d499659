"""`scripts/bench hostile`: every file of the hostile corpus (tests/hostile.py) screened end
to end, and `match` on a 1 MB diagnosis beside an ordinary `match`, each timed, the slowest
named. Time bounds live here as printed figures, never as asserts in the tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hostile import cases, write, zip_bomb  # noqa: E402

CARTMATCH = str(Path(sys.executable).parent / "cartmatch")


def _timed(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    start = time.perf_counter()
    done = subprocess.run([CARTMATCH, *args], env=env, capture_output=True, text=True)
    last = (done.stderr.strip().splitlines() or [""])[-1]
    return time.perf_counter() - start, done.returncode, last


def hostile(_args: object) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {**os.environ, "CARTMATCH_DB": str(folder / "bench.db")}
        _timed(["match", "--diagnosis", "DLBCL"], env)  # builds the database: not measured
        rows = []
        for case in cases():
            source = write(case, folder)
            seconds, code, last = _timed(
                ["screen", str(source), "-o", str(folder / "out.csv"), "--no-save"],
                {**env, **case.env},
            )
            rows.append((case.name, seconds, code, "Traceback" in last, last))
        bomb = zip_bomb(folder / "bomb.xlsx", 2048)
        seconds, code, last = _timed(["screen", str(bomb), "-o", str(folder / "o.csv")], env)
        rows.append(("xlsx-zip-bomb-2GB", seconds, code, "Traceback" in last, last))
        big = folder / "big.json"
        big.write_text(json.dumps({"diagnosis": "lymphoma " * 116_000}))
        for name, args in (
            ("match, ordinary", ["match", "--diagnosis", "DLBCL", "--prior-lines", "2"]),
            ("match, 1 MB diagnosis", ["match", str(big)]),
        ):
            seconds, code, last = _timed(args, env)
            rows.append((name, seconds, code, "Traceback" in last, last))
    print(f"hostile corpus ({len(rows)} cases, each a fresh process)")
    for name, seconds, code, traceback, last in rows:
        flag = "  TRACEBACK" if traceback else ""
        print(f"  {name:28} {seconds * 1000:8.0f} ms  exit {code}{flag}  {last[:70]}")
    slowest = max(rows, key=lambda r: r[1])
    print(f"  slowest: {slowest[0]} ({slowest[1]:.2f} s); tracebacks: {sum(r[3] for r in rows)}")
