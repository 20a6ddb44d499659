"""Shared fixtures: the real bundled catalog, a reference date, a CLI runner on a temp database."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from matcher.core.catalog import Catalog, CatalogVersion
from matcher.core.engine import MatchResult, match
from matcher.core.patient import load_patient
from matcher.curation.bundle import open_catalog
from matcher.curation.loader import load_catalog
from matcher.model.patient import Patient

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 11, 23)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    entries, rules = load_catalog(ROOT / "catalog", ROOT / "rules")
    return Catalog(entries, rules, CatalogVersion(version="test", entries=len(entries)))


#: Fixtures through which a test uses the database at $CARTMATCH_DB.
USES_DB = {"db_path", "runner"}
#: Test files that watch the database being built from the bundle: they start with no file.
FRESH_DB_FILES = {"test_store.py"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fresh_db: start with no database file (not a copy of the session's), to build it",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in FRESH_DB_FILES:
            item.add_marker(pytest.mark.fresh_db)


@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The user's cache folder (compiled report templates) of this test session, not the
    real one of whoever runs the tests."""
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(folder))
        yield folder


@pytest.fixture(scope="session")
def _session_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The database built once from the bundled catalog, as the first run of the CLI builds
    it; tests get copies. Checkpointed, so the file holds everything (no -wal to copy)."""
    path = tmp_path_factory.mktemp("session-db") / "cartmatch.db"
    open_catalog(path)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def copy_db(source: Path, target: Path) -> None:
    """A copy of a database file, with its write-ahead log when one is left (WAL mode)."""
    shutil.copy2(source, target)
    wal = source.with_name(source.name + "-wal")
    if wal.exists() and wal.stat().st_size:
        shutil.copy2(wal, target.with_name(target.name + "-wal"))


@pytest.fixture(autouse=True)
def _private_db(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets its own database file, never the user's. A test that uses it (through
    the CLI runner or db_path) finds there a copy of the database built for the session, so
    it does not build its own, unless it is marked fresh_db."""
    path = tmp_path / "cartmatch.db"
    monkeypatch.setenv("CARTMATCH_DB", str(path))
    fresh = request.node.get_closest_marker("fresh_db") is not None
    if USES_DB & set(request.fixturenames) and not fresh:
        copy_db(request.getfixturevalue("_session_db"), path)
    return path


@pytest.fixture
def db_path(_private_db: Path) -> Path:
    return _private_db


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def patient_of(catalog: Catalog, **fields: Any) -> Patient:
    patient, _ = load_patient(fields, catalog.lexicon, TODAY)
    return patient


def run_match(catalog: Catalog, **fields: Any) -> MatchResult:
    patient, warnings = load_patient(fields, catalog.lexicon, TODAY)
    return match(patient, catalog, warnings=warnings, include_all=True)


def status_of(result: MatchResult, option: str) -> str:
    entry_id, _, indication_id = option.partition("/")
    for o in result.options:
        if o.entry.id == entry_id and o.indication.id == indication_id:
            return o.status.value
    raise AssertionError(f"{option} not among the options")
