"""Layering: the core does no I/O-framework imports; single look-ups never import pandas."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "matcher"
CORE = [
    "criteria/__init__",
    "criteria/node",
    "criteria/disease",
    "criteria/history",
    "criteria/person",
    "criteria/logic",
    "engine",
    "ranking",
    "costs",
    "verdict",
    "patient",
    "values",
    "vocab",
    "entry",
    "catalog",
    "base",
    "lookup",
]
FORBIDDEN_IN_CORE = {"click", "pandas", "sqlite3", "sqlite_utils", "yaml", "os", "pathlib"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module", CORE)
def test_core_imports_no_click_pandas_or_sqlite(module):
    # base reads one environment flag (schema docs); nothing else in the core touches os.
    allowed = {"os"} if module == "base" else set()
    assert not imports_of(PACKAGE / f"{module}.py") & (FORBIDDEN_IN_CORE - allowed)


def test_only_the_cli_imports_click():
    for path in PACKAGE.rglob("*.py"):
        if "cli" not in path.parts:
            assert "click" not in imports_of(path), path


def test_only_screening_and_importers_import_pandas():
    for path in PACKAGE.rglob("*.py"):
        if "screen" not in path.parts and "importers" not in path.parts:
            assert "pandas" not in imports_of(path), path


PROBE = """
import json, sys
from matcher.cli import cli
try:
    cli(sys.argv[1:], standalone_mode=False)
finally:
    mods = set(sys.modules)
    sys.stderr.write("\\nMODULES=" + json.dumps(sorted(m for m in mods if m.split('.')[0] in
        ('pandas', 'sqlite_utils', 'numpy'))))
"""


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["match", "--diagnosis", "DLBCL", "--prior-lines", "2"], id="match"),
        pytest.param(["lookup", "BCMA"], id="lookup"),
        pytest.param(["show", "axi-cel"], id="show"),
    ],
)
def test_single_lookups_do_not_import_pandas(args, db_path):
    env = {**os.environ, "CARTMATCH_DB": str(db_path)}
    # The first run builds the database (which may use sqlite-utils); measure the second.
    subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True, check=True)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, check=True
    )
    loaded = json.loads(done.stderr.rsplit("MODULES=", 1)[1])
    assert loaded == [], f"{args[0]} imported {loaded}"
