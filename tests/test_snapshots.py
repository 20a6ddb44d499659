"""Byte-for-byte outputs on the repo's fixtures: `match --format json`, `screen` and
`catalog export`. A refactor keeps them; an intended change regenerates them with
`./scripts/snapshots` and the diff is reviewed in the commit."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

from matcher.cli import cli

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOTS = ROOT / "tests" / "data" / "snapshots"
UPDATE = os.environ.get("CARTMATCH_UPDATE_SNAPSHOTS") == "1"
TODAY = ["--today", "2026-11-23"]

MATCHES = {
    "dlbcl": [
        "--diagnosis",
        "DLBCL",
        "--status",
        "refractory",
        "--prior-lines",
        "2",
        "--age",
        "54",
    ],
    "gastric": [
        "--diagnosis",
        "胃癌",
        "--antigen",
        "CLDN18.2=60%:2+",
        "--antigen",
        "HER2=negative",
        "--prior-lines",
        "2",
        "--age",
        "61",
    ],
    "myeloma-all": [
        "--diagnosis",
        "multiple myeloma",
        "--prior-lines",
        "3",
        "--prior-therapy",
        "bortezomib",
        "--prior-therapy",
        "lenalidomide",
        "--all",
    ],
    "lupus-usd": [
        "--diagnosis",
        "lupus nephritis",
        "--prior-lines",
        "3",
        "--currency",
        "USD",
        "--fx",
        "7.1",
    ],
    "dlbcl-rapid": [
        "--diagnosis",
        "DLBCL",
        "--status",
        "refractory",
        "--prior-lines",
        "2",
        "--tempo",
        "rapid",
        "--budget-cny",
        "1200000",
        "--all",
    ],
}


def _check(name: str, produced: bytes) -> None:
    path = SNAPSHOTS / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(produced)
    assert path.exists(), f"{name} has no snapshot: run ./scripts/snapshots"
    assert produced == path.read_bytes(), f"{name} differs from its snapshot"


@pytest.mark.parametrize("name", sorted(MATCHES))
def test_match_json(runner, name):
    done = runner.invoke(cli, ["match", *MATCHES[name], *TODAY, "--format", "json"])
    assert done.exit_code == 0, done.output
    # The database is built at test time: its build time is the one varying byte.
    stable = re.sub(r'"updated_at": "[^"]*"', '"updated_at": "BUILD-TIME"', done.stdout)
    _check(f"match-{name}.json", stable.encode())


def _referrals(tmp_path: Path) -> Path:
    """Every golden case's patient as one JSON Lines referral."""
    rows = []
    for path in sorted((ROOT / "tests" / "cases").glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            rows.append({"referral_id": case["id"], **case["patient"]})
    out = tmp_path / "referrals.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows))
    return out


@pytest.mark.parametrize("extra", [[], ["--all"]], ids=["default", "all"])
def test_screen_csv(runner, tmp_path, extra):
    out = tmp_path / "out.csv"
    done = runner.invoke(
        cli, ["screen", str(_referrals(tmp_path)), "-o", str(out), "--no-save", *TODAY, *extra]
    )
    assert done.exit_code in (0, 1), done.output
    _check(f"screen{'-all' if extra else ''}.csv", out.read_bytes())


def test_catalog_export(runner, tmp_path):
    folder = tmp_path / "export"
    done = runner.invoke(cli, ["catalog", "export", str(folder)])
    assert done.exit_code == 0, done.output
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    joined = b"".join(
        f"=== {p.relative_to(folder).as_posix()}\n".encode() + p.read_bytes() for p in files
    )
    _check("catalog-export.txt", joined)
