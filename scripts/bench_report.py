"""`scripts/bench report`: wall time of `cartmatch report` (the README's DLBCL example) as
HTML, as an English family PDF and as a Chinese MDT PDF, beside `cartmatch match` for the same
referral, each the median of interleaved runs on a built database, in wall and CPU seconds.
Target: under 3 s a report.
Figures are printed, never asserted."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CARTMATCH = str(Path(sys.executable).parent / "cartmatch")
DLBCL = ["--diagnosis", "DLBCL", "--status", "refractory", "--prior-lines", "2", "--age", "54"]


def _wall(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one command: on a shared machine the CPU time
    says what the command costs, the wall time what its user waits."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([CARTMATCH, *args], env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


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
        times: dict[str, list[tuple[float, float]]] = {label: [] for label in kinds}
        for _ in range(runs):
            for label, cmd in kinds.items():
                times[label].append(_wall(cmd, env))
    print(f"report ({runs} interleaved runs each; target under 3 s a report)")
    for label, runs_of in times.items():
        wall = statistics.median(w for w, _ in runs_of)
        cpu = statistics.median(c for _, c in runs_of)
        print(f"  {label}  median {wall:6.2f} s wall, {cpu:6.2f} s CPU")
