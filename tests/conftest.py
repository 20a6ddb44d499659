"""Shared fixtures: the real bundled catalog, a reference date, a CLI runner on a temp database."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from matcher.core.catalog import Catalog, CatalogVersion
from matcher.core.engine import MatchResult, match
from matcher.core.patient import load_patient
from matcher.curation.loader import load_catalog
from matcher.model.patient import Patient

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 11, 23)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    entries, rules = load_catalog(ROOT / "catalog", ROOT / "rules")
    return Catalog(entries, rules, CatalogVersion(version="test", entries=len(entries)))


@pytest.fixture(autouse=True)
def _private_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own database file, never the user's."""
    path = tmp_path / "cartmatch.db"
    monkeypatch.setenv("CARTMATCH_DB", str(path))
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
