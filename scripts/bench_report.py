"""`scripts/bench report`: wall time of `cartmatch report` for the README's DLBCL example (six
options) as HTML and as a PDF for each audience and language, and for its lupus example (18
options, the longest report: 9 pages for the family, 12 for the MDT), beside `cartmatch
match` for the DLBCL referral, each the median of interleaved runs on a built database, in wall
and CPU seconds (CPU counts the PDF writer's process too). Target: under 3 s a report.

Python's bytecode cache is on, as in an installed cartmatch: a PYTHONDONTWRITEBYTECODE in the
calling shell (some sandboxes set it) would make every run compile the package again.
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
LUPUS = ["--diagnosis", "lupus nephritis", "--prior-lines", "3", "--currency", "USD", "--fx", "7.1"]


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
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        _wall(["match", *DLBCL], env)  # builds the database: first use, not what is measured
        kinds = {
            "match (terminal)      ": ["match", *DLBCL],
            "report HTML, family en": ["report", *DLBCL, "-o", f"{tmp}/r.html"],
        }
        for audience in ("family", "mdt"):
            for lang in ("en", "zh"):
                label = f"report PDF, {audience.replace('mdt', 'MDT')} {lang}".ljust(22)
                kinds[label] = [
                    "report", *DLBCL, "--audience", audience, "--lang", lang,
                    "-o", f"{tmp}/r-{audience}-{lang}.pdf",
                ]  # fmt: skip
        for audience, lang in (("family", "en"), ("mdt", "zh")):
            label = f"lupus PDF, {audience.replace('mdt', 'MDT')} {lang}".ljust(22)
            kinds[label] = [
                "report", *LUPUS, "--audience", audience, "--lang", lang,
                "-o", f"{tmp}/l-{audience}-{lang}.pdf",
            ]  # fmt: skip
        _wall(kinds["report HTML, family en"], env)  # writes the bytecode cache, if not there
        times: dict[str, list[tuple[float, float]]] = {label: [] for label in kinds}
        for _ in range(runs):
            for label, cmd in kinds.items():
                times[label].append(_wall(cmd, env))
    print(f"report ({runs} interleaved runs each; target under 3 s a report)")
    for label, runs_of in times.items():
        wall = statistics.median(w for w, _ in runs_of)
        cpu = statistics.median(c for _, c in runs_of)
        print(f"  {label}  median {wall:6.2f} s wall, {cpu:6.2f} s CPU")
