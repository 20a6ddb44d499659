"""The SQLite store: built on first use, owner-only, versioned, synced when the bundle changes."""

from __future__ import annotations

import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from matcher import paths
from matcher.curation.bundle import open_catalog
from matcher.errors import StoreError
from tests.conftest import ROOT


def test_first_use_builds_the_database_owner_only(db_path):
    catalog = open_catalog(db_path)
    assert catalog.version.entries == len(list((ROOT / "catalog" / "entries").glob("*.yaml")))
    assert catalog.version.refresh_id == 1
    for path in db_path.parent.glob(db_path.name + "*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_second_open_reads_without_writing(db_path):
    first = open_catalog(db_path)
    second = open_catalog(db_path)
    assert second.version.version == first.version.version
    refreshes = sqlite3.connect(db_path).execute("SELECT count(*) FROM refreshes").fetchone()[0]
    assert refreshes == 1


def test_migrations_are_recorded(db_path):
    open_catalog(db_path)
    names = [
        r[0]
        for r in sqlite3.connect(db_path).execute(
            "SELECT name FROM _sqlite_migrations ORDER BY rowid"
        )
    ]
    assert names[0] == "m001_catalog"


@pytest.fixture
def bundle_copy(tmp_path, monkeypatch) -> Path:
    """A copy of catalog/ and rules/ that the store treats as the bundled data."""
    root = tmp_path / "bundle"
    shutil.copytree(ROOT / "catalog", root / "catalog")
    shutil.copytree(ROOT / "rules", root / "rules")
    monkeypatch.setattr(paths, "data_root", lambda: root)
    return root


def test_a_changed_bundle_is_synced_as_one_refresh_keeping_history(db_path, bundle_copy):
    before = open_catalog(db_path)
    entry = bundle_copy / "catalog" / "entries" / "axi-cel.yaml"
    entry.write_text(
        entry.read_text("utf-8").replace("amount_cny: 1200000", "amount_cny: 1100000"), "utf-8"
    )
    after = open_catalog(db_path)
    assert after.version.version != before.version.version
    assert after.entry("axi-cel").price.amount_cny == 1100000
    conn = sqlite3.connect(db_path)
    versions = conn.execute(
        "SELECT version, change FROM entry_versions WHERE entry_id='axi-cel' ORDER BY version"
    ).fetchall()
    assert versions == [(1, "added"), (2, "changed")]
    kinds = [r[0] for r in conn.execute("SELECT kind FROM refreshes ORDER BY id")]
    assert kinds == ["bundle", "bundle"]


def test_a_broken_bundle_leaves_the_database_as_it_was(db_path, bundle_copy):
    from matcher.errors import CatalogError

    before = open_catalog(db_path)
    entry = bundle_copy / "catalog" / "entries" / "axi-cel.yaml"
    entry.write_text(
        entry.read_text("utf-8").replace("track: nmpa_commercial", "track: x"), "utf-8"
    )
    with pytest.raises(CatalogError):
        open_catalog(db_path)
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT count(*) FROM refreshes").fetchone()[0] == 1
    version = conn.execute("SELECT value FROM meta WHERE key='catalog_version'").fetchone()[0]
    assert version == before.version.version


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path):
    bad = tmp_path / "not.db"
    bad.write_text("hello, I am not SQLite" * 100)
    with pytest.raises(StoreError, match="not a cartmatch database"):
        open_catalog(bad)


def test_an_unwritable_location_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="set CARTMATCH_DB or pass --db"):
        open_catalog(blocker / "sub" / "cartmatch.db")


def test_a_pruned_entry_comes_back_with_a_fresh_version_only_when_its_bundled_text_changes(
    db_path, bundle_copy
):
    from matcher.storage.catalog_store import CatalogStore
    from matcher.storage.db import open_db, write_transaction

    open_catalog(db_path)
    db = open_db(db_path)
    with write_transaction(db):
        store = CatalogStore(db)
        refresh = store.log_refresh("refresh", "test prune", "x", {})
        store.remove_entry("tyu19", refresh)
        store.set_version(refresh, "test prune")
    db.close()
    # Another bundled entry changes: the pruned one stays out.
    other = bundle_copy / "catalog" / "entries" / "axi-cel.yaml"
    other.write_text(other.read_text("utf-8").replace("Adult patients", "Adults"), "utf-8")
    assert open_catalog(db_path).entry("tyu19") is None
    # Its own bundled text changes: it comes back as a new version after its history.
    mine = bundle_copy / "catalog" / "entries" / "tyu19.yaml"
    text = mine.read_text("utf-8")
    mine.write_text(text.replace("last_verified: 2026-11-23", "last_verified: 2026-11-24"), "utf-8")
    assert open_catalog(db_path).entry("tyu19") is not None
    versions = (
        sqlite3.connect(db_path)
        .execute(
            "SELECT version, change FROM entry_versions WHERE entry_id='tyu19' ORDER BY version"
        )
        .fetchall()
    )
    assert versions == [(1, "added"), (2, "removed"), (3, "added")]
