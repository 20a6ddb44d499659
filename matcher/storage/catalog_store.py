"""The catalog tables (DESIGN section 7): the current catalog, every earlier version of each
entry, the raw registry records, and the catalog version in `meta`.

`read_catalog` is the standard-library read path; `CatalogStore` holds every write, handed an
open, migrated sqlite-utils Database inside a write transaction (`storage.db.writing`).
Building the database from the bundled catalog/ is curation's job (`curation.bundle`).
"""

from __future__ import annotations

import hashlib
import sqlite3
from typing import TYPE_CHECKING, Any

from matcher.core.catalog import Catalog, CatalogVersion, Rules
from matcher.core.entry import Entry
from matcher.model.base import digest as content_hash
from matcher.storage.db import canonical_json, meta, now_iso

if TYPE_CHECKING:
    import sqlite_utils


def entry_body(entry: Entry) -> str:
    return canonical_json(entry.model_dump(mode="json", by_alias=True, exclude_none=True))


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


__all__ = ["CatalogStore", "entry_body", "read_catalog"]
