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

# Each layer may import itself and the layers listed; `errors` is shared by all.
# cli -> web -> report -> render, curation -> bulk, storage -> core -> criteria -> model.
LAYERS = {
    "model": set(),
    "criteria": {"model"},
    "core": {"criteria", "model"},
    "render": {"core", "criteria", "model"},
    "storage": {"core", "criteria", "model", "paths"},
    "bulk": {"storage", "core", "criteria", "model", "paths"},
    "curation": {"bulk", "storage", "core", "criteria", "model", "paths"},
    "report": {"render", "core", "criteria", "model", "paths"},
    "web": {
        "report",
        "render",
        "bulk",
        "curation",
        "storage",
        "core",
        "criteria",
        "model",
        "paths",
    },
    "cli": {
        "web",
        "report",
        "render",
        "bulk",
        "curation",
        "storage",
        "core",
        "criteria",
        "model",
        "paths",
    },
}
PURE = ("model", "criteria", "core")
FORBIDDEN_IN_PURE = {"click", "pandas", "sqlite3", "sqlite_utils", "yaml", "os", "pathlib"}


def _parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def imports_of(path: Path) -> set[str]:
    """Top-level names of every module `path` imports (`matcher.core.engine` -> `matcher`)."""
    return {name.split(".")[0] for name in _modules(path)}


def _modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(_parsed(path)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "matcher":
                names |= {f"matcher.{alias.name}" for alias in node.names}
    return names


def _layer(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if _layer(p) in LAYERS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_module_imports_only_its_own_and_lower_layers(path):
    layer = _layer(path)
    allowed = LAYERS[layer] | {layer, "errors", "limits"}
    used = {m.split(".")[1] for m in _modules(path) if m.startswith("matcher.")}
    assert used <= allowed, f"{layer} may not import {sorted(used - allowed)}"


def test_every_package_module_is_in_a_layer():
    top = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in PACKAGE.glob("*")}
    loose = (
        top
        - set(LAYERS)
        - {"__init__", "__main__", "__pycache__", "errors", "limits", "paths", "_data"}
    )
    assert not loose, f"modules outside the layers: {sorted(loose)}"


@pytest.mark.parametrize(
    "path",
    [p for p in MODULES if _layer(p) in PURE],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_the_pure_layers_do_no_io(path):
    # model/base reads one environment flag (schema docs); nothing else in them touches os.
    allowed = {"os"} if path.name == "base.py" and _layer(path) == "model" else set()
    assert not imports_of(path) & (FORBIDDEN_IN_PURE - allowed)


def test_only_the_cli_imports_click():
    for path in PACKAGE.rglob("*.py"):
        if "cli" not in path.parts:
            assert "click" not in imports_of(path), path


def test_only_bulk_and_importers_import_pandas():
    for path in PACKAGE.rglob("*.py"):
        if "bulk" not in path.parts and "importers" not in path.parts:
            assert "pandas" not in imports_of(path), path


def test_sql_lives_in_storage():
    for path in PACKAGE.rglob("*.py"):
        if "storage" in path.parts:
            continue
        assert not imports_of(path) & {"sqlite3", "sqlite_utils"}, path


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
