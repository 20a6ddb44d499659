"""The bundled catalog/ and rules/ in the database: built on first use, synced when they change.

When the bundled files change (a new release, a curator's edit), the entries whose bundled text
changed are written in one logged refresh; entries changed by a refresh since are kept.
"""

from __future__ import annotations

from pathlib import Path

from matcher.core.catalog import Catalog
from matcher.curation.loader import load_catalog
from matcher.paths import bundle_hash, catalog_dir, default_db_path, rules_dir
from matcher.storage.catalog_store import CatalogStore, read_catalog
from matcher.storage.db import meta, reading, writing


def open_catalog(path: Path | None = None) -> Catalog:
    """The current catalog, building or syncing the database from the bundle first if needed."""
    path = path or default_db_path()
    wanted = bundle_hash()
    with reading(path) as conn:
        if meta(conn).get("bundle_hash") == wanted:
            return read_catalog(conn)
    sync_bundle(path, wanted)
    with reading(path) as conn:
        return read_catalog(conn)


def sync_bundle(path: Path, wanted_hash: str) -> int | None:
    """Load catalog/ and rules/ and write what changed since the last sync, as one refresh."""
    entries, rules = load_catalog(catalog_dir(), rules_dir())
    with writing(path) as db:
        if meta(db.conn).get("bundle_hash") == wanted_hash:
            return None  # another process synced it while we waited for the lock
        return CatalogStore(db).sync_from_bundle(entries, rules, wanted_hash)


__all__ = ["open_catalog", "sync_bundle"]
