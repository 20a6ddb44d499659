"""`scripts/bench report`: wall time of `cartmatch report` (the README's DLBCL example) as
HTML, as an English family PDF and as a Chinese MDT PDF, beside `cartmatch match` for the same
referral, each the median of interleaved runs on a built database. Target: under 3 s a report.
Figures are printed, never asserted."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CARTMATCH = str(Path(sys.executable).parent / "cartmatch")
DLBCL = ["--diagnosis", "DLBCL", "--status", "refractory", "--prior-lines", "2", "--age", "54"]


def _wall(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([CARTMATCH, *args], env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def report(args: object) -> None:
    runs = min(getattr(args, "runs", 5), 5)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CARTMATCH_DB": str(Path(tmp) / "bench.db")}
        _wall(["match", *DLBCL], env)  # builds the database: first use, not what is measured
        kinds = {
            "match (terminal)      ": ["match", *DLBCL],
            "report HTML, family en": ["report", *DLBCL, "-o", f"{tmp}/r.html"],
            "report PDF, family en ": ["report", *DLBCL, "-o", f"{tmp}/r.pdf"],
            "report PDF, MDT zh    ": [
                "report", *DLBCL, "--audience", "mdt", "--lang", "zh", "-o", f"{tmp}/r-zh.pdf"
            ],
        }  # fmt: skip
        times: dict[str, list[float]] = {label: [] for label in kinds}
        for _ in range(runs):
            for label, cmd in kinds.items():
                times[label].append(_wall(cmd, env))
    print(f"report ({runs} interleaved runs each; target under 3 s a report)")
    for label, seconds in times.items():
        print(f"  {label}  median {statistics.median(seconds):6.2f} s")
