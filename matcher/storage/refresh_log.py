"""The refresh log: list refreshes (all, or those that touched one entry) and roll one back.

Rolling back refresh R restores every entry R touched to its version before R: entries R added
are removed, entries R removed come back, entries R changed get their earlier body. It is one
transaction, recorded as a new refresh of kind `rollback`, so it can itself be rolled back.
An entry changed again by a later refresh is not silently clobbered: roll that one back first.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from matcher.core.entry import Entry
from matcher.errors import CatalogError, NotFoundError
from matcher.storage.catalog_store import CatalogStore
from matcher.storage.db import reading, writing


def _loads(text: str | None) -> Any:
    return json.loads(text) if text else {}


class RefreshLog:
    """The refresh log, read through a connection it is handed."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @classmethod
    @contextlib.contextmanager
    def at(cls, path: Path) -> Iterator[RefreshLog]:
        with reading(path) as conn:
            yield cls(conn)

    def refreshes(self, entry_id: str | None = None) -> list[dict[str, Any]]:
        """Refreshes, newest first; with `entry_id`, only those that touched it, with the change."""
        columns = "r.id, r.at, r.kind, r.source, r.content_hash, r.summary, r.diff"
        if entry_id is None:
            rows = self.conn.execute(
                f"SELECT {columns}, NULL, NULL FROM refreshes r ORDER BY r.id DESC"
            )
        else:
            rows = self.conn.execute(
                f"SELECT {columns}, v.change, v.version FROM refreshes r JOIN entry_versions v "
                "ON v.refresh_id = r.id WHERE v.entry_id = ? ORDER BY r.id DESC, v.version DESC",
                [entry_id],
            )
        out = []
        for rid, at, kind, source, digest, summary, diff, change, version in rows.fetchall():
            item = {
                "id": rid,
                "at": at,
                "kind": kind,
                "source": source,
                "content_hash": digest,
                "summary": _loads(summary),
                "diff": _loads(diff),
            }
            if entry_id is not None:
                item.update(entry_id=entry_id, change=change, version=version)
            out.append(item)
        return out

    def refresh(self, refresh_id: int) -> dict[str, Any]:
        if not 0 < refresh_id < 1 << 63:  # beyond SQLite's integers: no such refresh
            raise NotFoundError(
                f"no refresh {refresh_id}; `cartmatch catalog history` lists the refreshes"
            )
        row = self.conn.execute(
            "SELECT id, at, kind, source, content_hash, summary, diff FROM refreshes WHERE id = ?",
            [refresh_id],
        ).fetchone()
        if row is None:
            raise NotFoundError(
                f"no refresh {refresh_id}; `cartmatch catalog history` lists the refreshes"
            )
        keys = ("id", "at", "kind", "source", "content_hash", "summary", "diff")
        item = dict(zip(keys, row, strict=True))
        item["summary"], item["diff"] = _loads(item["summary"]), _loads(item["diff"])
        return item


def rollback(db_path: Path, refresh_id: int) -> dict[str, Any]:
    """Undo one refresh in one transaction; returns the new refresh (kind `rollback`)."""
    with writing(db_path) as db:
        target = RefreshLog(db.conn).refresh(refresh_id)
        if target["kind"] == "bundle":
            raise CatalogError(
                f"refresh {refresh_id} synced the bundled catalog/; it cannot be rolled back "
                "(edit catalog/ instead, or roll back the refreshes after it)"
            )
        plan = _restore_plan(db.conn, refresh_id)
        store = CatalogStore(db)
        new_id = store.log_refresh(
            "rollback", f"rollback of refresh {refresh_id}", target["content_hash"] or "", {}
        )
        diff: dict[str, Any] = {"rollback_of": refresh_id, "restored": [], "removed": []}
        for entry_id, body in plan:
            if body is None:
                store.remove_entry(entry_id, new_id)
                diff["removed"].append(entry_id)
            else:
                store.put_entry(Entry.model_validate_json(body), new_id, origin="rollback")
                diff["restored"].append(entry_id)
        summary = {"restored": len(diff["restored"]), "removed": len(diff["removed"])}
        store.finish_refresh(new_id, summary, diff)
        store.set_version(new_id, f"rollback of refresh {refresh_id}")
        done = RefreshLog(db.conn).refresh(new_id)
    return done


def _undone(conn: sqlite3.Connection) -> tuple[set[int], set[int]]:
    """Refreshes that were rolled back with the rollbacks that undid them (together they
    changed nothing, so they do not stand in the way of rolling back an earlier refresh), and
    the rolled-back ones alone."""
    undone: set[int] = set()
    targets: set[int] = set()
    rows = conn.execute("SELECT id, diff FROM refreshes WHERE kind = 'rollback' ORDER BY id DESC")
    for rid, diff in rows.fetchall():
        if rid in undone:
            continue  # this rollback was itself rolled back: what it undid stands again
        target = _loads(diff).get("rollback_of")
        if target is not None:
            undone |= {rid, int(target)}
            targets.add(int(target))
    return undone, targets


def _restore_plan(conn: sqlite3.Connection, refresh_id: int) -> list[tuple[str, str | None]]:
    """(entry id, body to restore or None to remove) for every entry the refresh touched."""
    touched = conn.execute(
        "SELECT entry_id, min(version) FROM entry_versions WHERE refresh_id = ? "
        "GROUP BY entry_id ORDER BY entry_id",
        [refresh_id],
    ).fetchall()
    if not touched:
        raise CatalogError(f"refresh {refresh_id} changed no entry: there is nothing to roll back")
    undone, rolled_back = _undone(conn)
    if refresh_id in rolled_back:
        raise CatalogError(
            f"refresh {refresh_id} has already been rolled back; `cartmatch catalog history` "
            "shows the log"
        )
    plan = []
    for entry_id, version in touched:
        later_ids = [
            rid
            for (rid,) in conn.execute(
                "SELECT DISTINCT refresh_id FROM entry_versions WHERE entry_id = ? AND "
                "version > ? AND refresh_id != ? ORDER BY refresh_id",
                [entry_id, version, refresh_id],
            )
            if rid not in undone
        ]
        later = later_ids[-1] if later_ids else None
        if later is not None:
            raise CatalogError(
                f"entry '{entry_id}' was changed again by refresh {later} after refresh "
                f"{refresh_id}; roll back refresh {later} first"
            )
        before = conn.execute(
            "SELECT body FROM entry_versions WHERE entry_id = ? AND version < ? "
            "ORDER BY version DESC LIMIT 1",
            [entry_id, version],
        ).fetchone()
        plan.append((entry_id, before[0] if before else None))
    return plan


__all__ = ["RefreshLog", "rollback"]
