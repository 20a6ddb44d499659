"""The wheel carries catalog/ and rules/: an installed cartmatch matches outside the repo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_matches_outside_the_repo(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("cartmatch-*.whl"))
    env_dir = tmp_path / "fresh"
    venv.create(env_dir, with_pip=True)
    python = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # Dependencies come from this environment's site-packages (no .pth of ours is processed
    # from there, so the editable checkout stays invisible); the wheel itself is installed.
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    fonts = Path(site, "matcher", "report", "fonts")  # the report's own font, with its licence
    assert {p.name for p in fonts.iterdir()} >= {
        "ReportSansCommon.otf", "ReportSansCommon.chars", "OFL.txt"
    }  # fmt: skip
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {**os.environ, "CARTMATCH_DB": str(outside / "c.db"), "PYTHONPATH": ""}
    where = subprocess.run(
        [str(python), "-c", "import matcher; print(matcher.__file__)"],
        cwd=outside,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    assert where.stdout.startswith(str(env_dir)), where.stdout
    done = subprocess.run(
        [
            str(python),
            "-m",
            "matcher",
            "match",
            "--diagnosis",
            "DLBCL",
            "--prior-lines",
            "2",
            "--status",
            "refractory",
            "--age",
            "54",
            "--format",
            "json",
        ],
        cwd=outside,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["options"][0]["entry_id"] == "axi-cel"
