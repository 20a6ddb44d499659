"""Screening runs and the referrals saved with them (what each was shown, for call-backs)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matcher.storage.db import canonical_json, now_iso, reading

if TYPE_CHECKING:
    import sqlite_utils


class RunStore:
    """Writes runs through a migrated Database inside a write transaction (`db.writing`)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def start(
        self, *, input_name: str, input_hash: str, catalog_version: str, include_all: bool
    ) -> int:
        """A new run's row, counted as empty until `finish`; returns its id."""
        table = self.db["screening_runs"]
        table.insert(
            {
                "at": now_iso(),
                "input_name": input_name,
                "input_hash": input_hash,
                "catalog_version": catalog_version,
                "include_all": int(include_all),
                "rows_in": 0,
                "rows_screened": 0,
                "rows_rejected": 0,
                "summary": "{}",
            }
        )
        return int(table.last_pk)

    def add_referrals(
        self, run_id: int, rows: Iterable[tuple[Any, ...]], by: str | None = None
    ) -> None:
        """(row number, referral id, profile JSON, options shown[, the options in full, the
        carried columns as JSON]) for each screened referral; each becomes (or updates) a case
        (`storage.cases`), saved by `by` (default: the OS user)."""
        from matcher.storage.case_records import save_cases
        from matcher.storage.cases import current_user

        rows = list(rows)
        self.db.conn.executemany(
            "INSERT INTO screening_referrals (run_id, row_number, referral_id, profile, "
            "options) VALUES (?, ?, ?, ?, ?)",
            [(run_id, *row[:4]) for row in rows],
        )
        include_all = self.db.conn.execute(
            "SELECT include_all FROM screening_runs WHERE id = ?", [run_id]
        ).fetchone()
        save_cases(self.db.conn, run_id, rows, bool(include_all and include_all[0]),
                   by or current_user())  # fmt: skip

    def finish(self, run_id: int, counts: dict[str, int], summary: dict[str, Any]) -> None:
        self.db["screening_runs"].update(
            run_id,
            {
                "rows_in": counts["rows_in"],
                "rows_screened": counts["screened"],
                "rows_rejected": counts["rejected"],
                "summary": canonical_json(summary),
            },
        )


class SavedReferrals:
    """The saved referrals, read through a connection it is handed."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @classmethod
    @contextlib.contextmanager
    def at(cls, path: Path) -> Iterator[SavedReferrals]:
        with reading(path) as conn:
            yield cls(conn)

    def latest(self) -> list[tuple[Any, ...]]:
        """Each referral's latest saved row: (run id, row number, referral id, profile JSON,
        options shown, the run's include_all). A referral without an id is its own."""
        try:
            rows = self.conn.execute(
                "SELECT r.run_id, r.row_number, r.referral_id, r.profile, r.options, "
                "s.include_all FROM screening_referrals r JOIN screening_runs s "
                "ON s.id = r.run_id ORDER BY r.run_id, r.row_number"
            ).fetchall()
        except sqlite3.OperationalError:
            return []
        latest: dict[str, tuple[Any, ...]] = {}
        for row in rows:
            key = row[2] or f"run {row[0]} row {row[1]}"
            latest[key] = row  # later runs replace earlier ones
        return list(latest.values())


__all__ = ["RunStore", "SavedReferrals"]
