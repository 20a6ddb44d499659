"""cartmatch benchmarks: each prints its figures; comparisons are measured side by side.

startup: median wall time of `cartmatch match` (a single look-up on a built database) against
`sqlite-utils --help` on the same machine, interleaved so machine noise hits both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
MATCH = [str(BIN / "cartmatch"), "match", "--diagnosis", "DLBCL", "--status", "refractory",
         "--prior-lines", "2", "--age", "54"]  # fmt: skip
SQLITE_UTILS = [str(BIN / "sqlite-utils"), "--help"]


def wall(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def startup(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CARTMATCH_DB": str(Path(tmp) / "bench.db")}
        wall(MATCH, env)  # builds the database: first use, not what is measured
        ours, theirs = [], []
        for _ in range(runs):
            ours.append(wall(MATCH, env))
            theirs.append(wall(SQLITE_UTILS, env))
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"startup ({runs} interleaved runs each)")
    print(f"  cartmatch match        median {a * 1000:7.1f} ms")
    print(f"  sqlite-utils --help    median {b * 1000:7.1f} ms")
    print(f"  ratio                  {a / b:7.2f}  (target < 1.0)")


BENCHES = {"startup": startup}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("which", nargs="*", choices=[*BENCHES, []], help="benchmarks to run")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    for name in args.which or BENCHES:
        BENCHES[name](args.runs)


if __name__ == "__main__":
    main()
