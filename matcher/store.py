"""The SQLite store (DESIGN section 7): current catalog, every earlier version, refresh log.

Writes go through sqlite-utils (explicit, named migrations; one transaction a write). The read
path of single look-ups (`match`, `lookup`, `show`) uses the standard library's sqlite3 only,
so it never pays for importing pandas, which sqlite-utils pulls in.

The first command on a fresh machine builds the database from the bundled catalog/ and rules/.
When the bundled files change (a new release, a curator's edit), the entries whose bundled
text changed are synced in one logged refresh; entries changed by a refresh since are kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matcher.catalog import Catalog, CatalogVersion, Rules
from matcher.entry import Entry
from matcher.errors import StoreError
from matcher.paths import bundle_hash, catalog_dir, rules_dir

if TYPE_CHECKING:
    import sqlite_utils

BUSY_TIMEOUT_S = 30


def canonical_json(data: Any) -> str:
    """Deterministic JSON: sorted keys, no ASCII escaping (Chinese stays readable)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def entry_body(entry: Entry) -> str:
    return canonical_json(entry.model_dump(mode="json", by_alias=True, exclude_none=True))


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -- opening -------------------------------------------------------------------------------


def create_private_file(path: Path) -> None:
    """Create the database file readable and writable by its owner only (0600)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
        os.chmod(path, 0o600)
    except OSError as error:
        raise StoreError(
            f"cannot create the database at {path} ({error.strerror}); "
            "set CARTMATCH_DB or pass --db to a writable location"
        ) from None


def connect(path: Path) -> sqlite3.Connection:
    """A standard-library connection with WAL (readers never wait for a refresh)."""
    if not path.exists():
        create_private_file(path)
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
    except sqlite3.Error as error:
        raise StoreError(
            f"cannot open the database {path} ({error}); it may be damaged or not a cartmatch "
            "database: move it away and run again to rebuild it"
        ) from None
    return conn


def open_db(path: Path) -> sqlite_utils.Database:
    """A migrated sqlite-utils Database for writing (imports sqlite-utils lazily)."""
    import sqlite_utils

    from matcher.migrations import migrations

    db = sqlite_utils.Database(connect(path))
    migrations.apply(db)
    return db


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write, all or nothing; takes the write lock up front (BEGIN IMMEDIATE)."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


# -- reading (standard library only) -------------------------------------------------------


def meta(conn: sqlite3.Connection) -> dict[str, str]:
    try:
        return dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.OperationalError:
        return {}


def read_catalog(conn: sqlite3.Connection) -> Catalog:
    """The current catalog from the database."""
    info = meta(conn)
    rules = Rules.model_validate_json(
        conn.execute("SELECT body FROM rules WHERE name = 'rules'").fetchone()[0]
    )
    entries = [
        Entry.model_validate_json(body)
        for (body,) in conn.execute("SELECT body FROM entries ORDER BY id")
    ]
    version = CatalogVersion(
        version=info.get("catalog_version", "unknown"),
        entries=len(entries),
        refresh_id=int(info["refresh_id"]) if info.get("refresh_id") else None,
        updated_at=info.get("updated_at"),
        source=info.get("source"),
    )
    return Catalog(entries, rules, version)


def open_catalog(path: Path | None = None) -> Catalog:
    """The current catalog, building or syncing the database from the bundle first if needed."""
    from matcher.paths import default_db_path

    path = path or default_db_path()
    wanted = bundle_hash()
    conn = connect(path)
    try:
        if meta(conn).get("bundle_hash") != wanted:
            conn.close()
            sync_bundle(path, wanted)
            conn = connect(path)
        return read_catalog(conn)
    finally:
        conn.close()


# -- writing -------------------------------------------------------------------------------


def sync_bundle(path: Path, wanted_hash: str) -> int | None:
    """Load catalog/ and rules/ and write what changed since the last sync, as one refresh."""
    from matcher.loader import load_catalog

    entries, rules = load_catalog(catalog_dir(), rules_dir())
    db = open_db(path)
    try:
        with write_transaction(db):
            if meta(db.conn).get("bundle_hash") == wanted_hash:
                return None  # another process synced it while we waited for the lock
            store = CatalogStore(db)
            refresh_id = store.sync_from_bundle(entries, rules, wanted_hash)
        return refresh_id
    finally:
        db.close()


class CatalogStore:
    """All writes to the catalog tables. Handed an open, migrated Database."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def sync_from_bundle(self, entries: list[Entry], rules: Rules, bundle: str) -> int:
        """Write bundled entries whose bundled text changed; log it as one refresh."""
        current = {row["id"]: row for row in self.db["entries"].rows}
        changes: dict[str, list[str]] = {"added": [], "changed": [], "unchanged": []}
        refresh_id = self.log_refresh("bundle", "bundled catalog/ and rules/", bundle, {})
        for entry in entries:
            body = entry_body(entry)
            digest = content_hash(body)
            row = current.get(entry.id)
            unchanged = row is not None and row["bundle_hash"] == digest
            # A bundled entry pruned by a refresh stays out until its bundled text changes.
            if unchanged or (row is None and self.was_pruned_unchanged(entry.id, digest)):
                changes["unchanged"].append(entry.id)
                continue
            changes["changed" if row else "added"].append(entry.id)
            self.put_entry(entry, refresh_id, origin="bundle", bundle_hash=digest)
        self.db["rules"].upsert(
            {"name": "rules", "body": canonical_json(rules.model_dump(mode="json"))}, pk="name"
        )
        summary = {k: len(v) for k, v in changes.items()}
        diff = {k: v for k, v in changes.items() if k != "unchanged"}
        self.db["refreshes"].update(
            refresh_id, {"summary": canonical_json(summary), "diff": canonical_json(diff)}
        )
        self.set_version(refresh_id, "bundled catalog", extra={"bundle_hash": bundle})
        return refresh_id

    def log_refresh(self, kind: str, source: str, digest: str, diff: dict[str, Any]) -> int:
        table = self.db["refreshes"]
        table.insert(
            {
                "at": now_iso(),
                "kind": kind,
                "source": source,
                "content_hash": digest,
                "summary": "{}",
                "diff": canonical_json(diff),
            }
        )
        return int(table.last_pk)

    def put_entry(
        self, entry: Entry, refresh_id: int, *, origin: str, bundle_hash: str | None = None
    ) -> None:
        """Write the current version of an entry and keep it in the version history."""
        body = entry_body(entry)
        digest = content_hash(body)
        existing = self.db.execute(
            "SELECT version, bundle_hash FROM entries WHERE id = ?", [entry.id]
        ).fetchone()
        # Number after the whole history: a pruned entry that comes back keeps its old versions.
        version = self.last_version(entry.id) + 1
        keep_bundle = (
            bundle_hash if bundle_hash is not None else (existing[1] if existing else None)
        )
        self.db["entries"].upsert(
            {
                "id": entry.id,
                "version": version,
                "content_hash": digest,
                "body": body,
                "origin": origin,
                "bundle_hash": keep_bundle,
                "refresh_id": refresh_id,
                "updated_at": now_iso(),
            },
            pk="id",
        )
        self.db["entry_versions"].insert(
            {
                "entry_id": entry.id,
                "version": version,
                "content_hash": digest,
                "body": body,
                "change": "changed" if existing else "added",
                "refresh_id": refresh_id,
                "recorded_at": now_iso(),
            }
        )

    def last_version(self, entry_id: str) -> int:
        """The highest version ever recorded for an entry (0 when it has none)."""
        row = self.db.execute(
            "SELECT max(version) FROM entry_versions WHERE entry_id = ?", [entry_id]
        ).fetchone()
        return int(row[0] or 0)

    def was_pruned_unchanged(self, entry_id: str, bundled_hash: str) -> bool:
        """True when a refresh removed the entry and the bundle offers no text it has not had."""
        latest = self.db.execute(
            "SELECT change FROM entry_versions WHERE entry_id = ? ORDER BY version DESC LIMIT 1",
            [entry_id],
        ).fetchone()
        if latest is None or latest[0] != "removed":
            return False
        seen = self.db.execute(
            "SELECT 1 FROM entry_versions WHERE entry_id = ? AND content_hash = ?",
            [entry_id, bundled_hash],
        ).fetchone()
        return seen is not None

    def remove_entry(self, entry_id: str, refresh_id: int) -> None:
        """Remove an entry from the current catalog; its history is kept."""
        row = self.db.execute("SELECT version FROM entries WHERE id = ?", [entry_id]).fetchone()
        if row is None:
            return
        self.db["entries"].delete(entry_id)
        self.db["entry_versions"].insert(
            {
                "entry_id": entry_id,
                "version": row[0] + 1,
                "content_hash": None,
                "body": None,
                "change": "removed",
                "refresh_id": refresh_id,
                "recorded_at": now_iso(),
            }
        )

    def set_version(self, refresh_id: int, source: str, extra: dict[str, str] | None = None) -> str:
        """Recompute the catalog version hash after a write and record it in meta."""
        digest = hashlib.sha256()
        for entry_id, entry_hash in self.db.execute(
            "SELECT id, content_hash FROM entries ORDER BY id"
        ).fetchall():
            digest.update(f"{entry_id}:{entry_hash}\n".encode())
        rules_body = self.db.execute("SELECT body FROM rules WHERE name='rules'").fetchone()
        digest.update((rules_body[0] if rules_body else "").encode())
        version = digest.hexdigest()[:12]
        values = {
            "catalog_version": version,
            "refresh_id": str(refresh_id),
            "updated_at": now_iso(),
            "source": source,
            **(extra or {}),
        }
        self.db["meta"].upsert_all([{"key": k, "value": v} for k, v in values.items()], pk="key")
        return version

    def finish_refresh(
        self, refresh_id: int, summary: dict[str, Any], diff: dict[str, Any]
    ) -> None:
        """Record what a refresh did (its summary counts and its diff) in the refresh log."""
        self.db["refreshes"].update(
            refresh_id, {"summary": canonical_json(summary), "diff": canonical_json(diff)}
        )

    def put_registry_record(
        self,
        record_id: str,
        body: str,
        refresh_id: int,
        *,
        registry: str = "ctgov",
        entry_ids: list[str] | None = None,
        version_date: str | None = None,
    ) -> bool:
        """Keep a raw registry record, once per distinct content; True when it was new."""
        digest = content_hash(body)
        seen = self.db.execute(
            "SELECT 1 FROM registry_records WHERE record_id = ? AND content_hash = ?",
            [record_id, digest],
        ).fetchone()
        if seen:
            return False
        self.db["registry_records"].insert(
            {
                "registry": registry,
                "record_id": record_id,
                "entry_ids": canonical_json(entry_ids or []),
                "version_date": version_date,
                "content_hash": digest,
                "body": body,
                "refresh_id": refresh_id,
                "recorded_at": now_iso(),
            }
        )
        return True

    def readd_entry(self, entry: Entry, refresh_id: int, *, origin: str) -> None:
        """Write an entry; one removed earlier continues its version numbers (put_entry would
        number it 1 again and collide with its kept history)."""
        if self.db.execute("SELECT 1 FROM entries WHERE id = ?", [entry.id]).fetchone():
            self.put_entry(entry, refresh_id, origin=origin)
            return
        last = self.db.execute(
            "SELECT max(version) FROM entry_versions WHERE entry_id = ?", [entry.id]
        ).fetchone()[0]
        if last is None:
            self.put_entry(entry, refresh_id, origin=origin)
            return
        body = entry_body(entry)
        row = {
            "id": entry.id,
            "version": last + 1,
            "content_hash": content_hash(body),
            "body": body,
            "origin": origin,
            "bundle_hash": None,
            "refresh_id": refresh_id,
            "updated_at": now_iso(),
        }
        self.db["entries"].insert(row)
        self.db["entry_versions"].insert(
            {
                "entry_id": entry.id,
                "version": last + 1,
                "content_hash": row["content_hash"],
                "body": body,
                "change": "added",
                "refresh_id": refresh_id,
                "recorded_at": now_iso(),
            }
        )
