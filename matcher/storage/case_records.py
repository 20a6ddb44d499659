"""Cases written in bulk: made from saved referrals, re-checked, deleted with every trace.

The counterpart of `CaseStore` for whole runs and re-checks: a screening run saves its
referrals' cases in a few statements (100,000 at once), a re-check records the new options of
the cases it changed, and deleting a patient removes its rows from every table in the
transaction it is given; `erase_free_space` then rebuilds the file so no byte of it remains.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from matcher.storage.cases import KEY_SQL, OPEN_STATUSES, legacy_snapshot, listed_all
from matcher.storage.db import connect, meta, now_iso

_UPSERT = (
    "INSERT INTO cases (key, referral_id, status, run_id, row_number, include_all, contact, "
    "told, told_at, seen, seen_at, seen_refresh, created_at, created_by, updated_at) "
    "VALUES (?, ?, 'new', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(key) DO UPDATE SET run_id = excluded.run_id, row_number = excluded.row_number, "
    "include_all = excluded.include_all, contact = excluded.contact, told = excluded.told, "
    "told_at = excluded.told_at, seen = excluded.seen, seen_at = excluded.seen_at, "
    "seen_refresh = excluded.seen_refresh, updated_at = excluded.updated_at"
)


def current_refresh(conn: sqlite3.Connection) -> int | None:
    """The refresh the catalog in the database is at."""
    value = meta(conn).get("refresh_id")
    return int(value) if value and value.isdigit() else None


def save_cases(
    conn: sqlite3.Connection,
    run_id: int,
    rows: Sequence[tuple[Any, ...]],
    include_all: bool,
    by: str | None,
    *,
    source: str = "screen",
    checked: bool = True,
) -> None:
    """A case for each saved referral (row number, referral id, profile, options[, options
    in full, contact]); a referral saved before keeps its case, status and notes, and what
    it was shown now is what its family was told. `checked`: the options are the catalog's
    now (else the case is re-checked against every entry at the next re-check)."""
    at = now_iso()
    refresh = current_refresh(conn) if checked else None
    records = []
    for row in rows:
        number, referral_id, _, options = row[:4]
        told = row[4] if len(row) > 4 and row[4] else legacy_snapshot(options)
        contact = row[5] if len(row) > 5 and row[5] else "{}"
        key = referral_id or f"run {run_id} row {number}"
        records.append((key, referral_id, run_id, number, int(include_all), contact, told))
    conn.executemany(
        _UPSERT,
        [(*r, at, r[6], at, refresh, at, by, at) for r in records],
    )
    conn.executemany(
        "INSERT INTO case_checks (case_id, refresh_id) SELECT id, ? FROM cases WHERE key = ? "
        "ON CONFLICT(case_id) DO UPDATE SET refresh_id = excluded.refresh_id",
        [(refresh, r[0]) for r in records],
    )
    conn.executemany(
        "INSERT INTO case_events (case_id, at, by, kind, text, refresh_id) "
        "SELECT id, ?, ?, 'saved', ?, ? FROM cases WHERE key = ?",
        [(at, by, f"{source}: run {r[2]}, row {r[3]}", refresh, r[0]) for r in records],
    )
    conn.executemany(
        "INSERT INTO case_matches (case_id, at, by, refresh_id, source, options) "
        "SELECT id, ?, ?, ?, ?, ? FROM cases WHERE key = ?",
        [(at, by, refresh, source, r[6], r[0]) for r in records],
    )


def sync(conn: sqlite3.Connection, by: str | None) -> int:
    """Cases for saved referrals that have none yet (saved before cases existed), or whose
    case points at an older row; returns how many. They are re-checked in full next time."""
    rows = conn.execute(
        "SELECT r.run_id, r.row_number, r.referral_id, r.options, s.include_all "
        "FROM screening_referrals r JOIN screening_runs s ON s.id = r.run_id "
        f"WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.key = {KEY_SQL} AND "
        "(c.run_id > r.run_id OR (c.run_id = r.run_id AND c.row_number >= r.row_number))) "
        "ORDER BY r.run_id, r.row_number"
    ).fetchall()
    for run_id, number, referral_id, options, include_all in rows:
        save_cases(
            conn,
            run_id,
            [(number, referral_id, None, options)],
            bool(include_all),
            by,
            source="saved run",
            checked=False,
        )
    return len(rows)


def needs_sync(conn: sqlite3.Connection) -> bool:
    """Whether some saved referral has no case yet: every referral row a case was saved from
    has its 'saved' event (deleted together), so the counts differ only then."""
    rows = conn.execute("SELECT count(*) FROM screening_referrals").fetchone()[0]
    saved = conn.execute("SELECT count(*) FROM case_events WHERE kind = 'saved'").fetchone()[0]
    return bool(rows != saved)


#: Open cases (c) not yet checked (k) against a refresh.
_STALE = (
    "cases c JOIN case_checks k ON k.case_id = c.id "
    f"WHERE c.status IN ({', '.join('?' * len(OPEN_STATUSES))}) "
    "AND (k.refresh_id IS NULL OR k.refresh_id < ?)"
)


def floors(conn: sqlite3.Connection, refresh: int | None) -> set[int | None]:
    """The refreshes the open cases not yet checked against `refresh` were last checked
    against (None: never)."""
    rows = conn.execute(
        f"SELECT DISTINCT k.refresh_id FROM {_STALE}", [*OPEN_STATUSES, _id(refresh)]
    )
    return {floor for (floor,) in rows.fetchall()}


def _id(refresh: int | None) -> int:
    return refresh if refresh is not None else 1 << 62


def to_recheck(
    conn: sqlite3.Connection, refresh: int | None, marks: Sequence[str] | None = None
) -> list[tuple[Any, ...]]:
    """Open cases not yet checked against `refresh`: (id, include_all, profile JSON, seen
    JSON, seen_refresh), by case number. With `marks`, seen is read only when it holds one of
    them (else None): most cases have no option on the entries a refresh touched."""
    seen = "c.seen"
    if marks is not None:
        seen = f"CASE WHEN {' OR '.join(['instr(c.seen, ?) > 0'] * len(marks))} THEN c.seen END"
    return conn.execute(
        f"SELECT c.id, c.include_all, r.profile, {seen}, k.refresh_id FROM cases c "
        "JOIN case_checks k ON k.case_id = c.id "
        "JOIN screening_referrals r ON r.run_id = c.run_id AND r.row_number = c.row_number "
        f"WHERE c.status IN ({', '.join('?' * len(OPEN_STATUSES))}) "
        "AND (k.refresh_id IS NULL OR k.refresh_id < ?) ORDER BY c.id",
        [*(marks or ()), *OPEN_STATUSES, _id(refresh)],
    ).fetchall()


def seen_of(conn: sqlite3.Connection, case_ids: Sequence[int]) -> dict[int, str]:
    """The options last seen of these cases (JSON)."""
    out: dict[int, str] = {}
    for at in range(0, len(case_ids), 500):
        part = list(case_ids[at : at + 500])
        rows = conn.execute(
            f"SELECT id, seen FROM cases WHERE id IN ({', '.join('?' * len(part))})", part
        )
        out.update(rows.fetchall())
    return out


def touched_after(conn: sqlite3.Connection, refresh: int | None) -> set[str] | None:
    """Entries changed by refreshes after `refresh`; None when any entry may have changed
    (never checked, or a sync of the bundled catalog, which may change the rules too)."""
    if refresh is None:
        return None
    kinds = conn.execute("SELECT DISTINCT kind FROM refreshes WHERE id > ?", [refresh])
    if "bundle" in {kind for (kind,) in kinds.fetchall()}:
        return None
    rows = conn.execute(
        "SELECT DISTINCT entry_id FROM entry_versions WHERE refresh_id > ?", [refresh]
    )
    return {entry_id for (entry_id,) in rows.fetchall()}


def record_checks(
    conn: sqlite3.Connection,
    changed: dict[int, str],
    unreadable: Iterable[int],
    refresh: int | None,
    by: str | None,
) -> None:
    """After a re-check: the cases whose options changed get them (and a history row); every
    open case not yet checked against `refresh` is marked as checked against it, but those
    whose profile could not be read."""
    at = now_iso()
    conn.executemany(
        "UPDATE cases SET seen = ?, seen_at = ?, changed_at = ?, changed_refresh = ? WHERE id = ?",
        [(seen, at, at, refresh, case_id) for case_id, seen in changed.items()],
    )
    conn.executemany(  # a case deleted while it was re-checked gets no history row
        "INSERT INTO case_matches (case_id, at, by, refresh_id, source, options) "
        "SELECT id, ?, ?, ?, 'recheck', ? FROM cases WHERE id = ?",
        [(at, by, refresh, seen, case_id) for case_id, seen in changed.items()],
    )
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS unread (id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM unread")
    conn.executemany("INSERT OR IGNORE INTO unread VALUES (?)", [(c,) for c in unreadable])
    conn.execute(
        "UPDATE case_checks SET refresh_id = ? WHERE case_id IN (SELECT c.id FROM "
        f"{_STALE}) AND case_id NOT IN (SELECT id FROM unread)",
        [refresh, *OPEN_STATUSES, _id(refresh)],
    )


# -- call-backs ---------------------------------------------------------------------------------


class Pending(NamedTuple):
    """An open case whose stored options differ from those told (raw, for comparing: an
    option saved before cases existed has its status only)."""

    id: int
    key: str
    referral_id: str | None
    status: str
    told_raw: dict[str, Any]
    seen_raw: dict[str, Any]
    changed_refresh: int | None
    told_at: str | None
    contact: dict[str, str]


def open_changed(
    conn: sqlite3.Connection, *, since: int | None = None, only: Sequence[int] | None = None
) -> list[Pending]:
    """Open cases whose options now differ from those told (as stored), by case number;
    with `since`, changed in that refresh or later; with `only`, among those cases."""
    where = [f"status IN ({', '.join('?' * len(OPEN_STATUSES))})", "told != seen"]
    args: list[Any] = list(OPEN_STATUSES)
    if since is not None:
        where.append("changed_refresh >= ?")
        args.append(since)
    if only is not None:
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS picked (id INTEGER PRIMARY KEY)")
        conn.execute("DELETE FROM picked")
        conn.executemany("INSERT OR IGNORE INTO picked VALUES (?)", [(i,) for i in only])
        where.append("id IN (SELECT id FROM picked)")
    rows = conn.execute(
        "SELECT id, key, referral_id, status, told, seen, changed_refresh, told_at, contact "
        f"FROM cases WHERE {' AND '.join(where)} ORDER BY id",
        args,
    ).fetchall()
    return [
        Pending(
            *row[:4],
            listed_all(json.loads(row[4])),
            listed_all(json.loads(row[5])),
            *row[6:8],
            json.loads(row[8] or "{}"),
        )
        for row in rows
    ]


def options_gone(conn: sqlite3.Connection, case_ids: Sequence[int]) -> dict[int, set[str]]:
    """Per case, the options that were offered once and later went (from its history)."""
    gone: dict[int, set[str]] = {}
    last: dict[int, set[str]] = {}
    for at in range(0, len(case_ids), 500):
        part = list(case_ids[at : at + 500])
        rows = conn.execute(
            "SELECT case_id, options FROM case_matches WHERE case_id IN "
            f"({', '.join('?' * len(part))}) ORDER BY id",
            part,
        )
        for case_id, options in rows.fetchall():
            now = set(json.loads(options))
            if case_id in last:
                gone.setdefault(case_id, set()).update(last[case_id] - now)
            last[case_id] = now
    return gone


# -- a patient's data, gone ------------------------------------------------------------------


def delete_cases(conn: sqlite3.Connection, case_ids: Sequence[int]) -> int:
    """Remove cases with their events, matches and every saved referral row of the same
    referral (all runs); returns how many cases. Runs keep their counts, not the patient."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS gone (id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM gone")
    conn.executemany("INSERT OR IGNORE INTO gone VALUES (?)", [(c,) for c in case_ids])
    conn.execute("PRAGMA secure_delete = ON")  # freed pages are zeroed, not left to VACUUM
    conn.execute(
        "DELETE FROM screening_referrals WHERE referral_id IN (SELECT referral_id FROM cases "
        "WHERE id IN (SELECT id FROM gone) AND referral_id IS NOT NULL)"
    )
    conn.execute(
        "DELETE FROM screening_referrals AS r WHERE r.referral_id IS NULL AND "
        f"{KEY_SQL} IN (SELECT key FROM cases WHERE id IN (SELECT id FROM gone))"
    )
    for table in ("case_events", "case_matches", "case_checks"):
        conn.execute(f"DELETE FROM {table} WHERE case_id IN (SELECT id FROM gone)")
    count = conn.execute("DELETE FROM cases WHERE id IN (SELECT id FROM gone)").rowcount
    conn.execute("DELETE FROM gone")
    return int(count)


def idle_since(conn: sqlite3.Connection, before: str) -> list[int]:
    """Cases with no change by anyone since `before` (an ISO date or time)."""
    rows = conn.execute("SELECT id FROM cases WHERE updated_at < ? ORDER BY id", [before])
    return [case_id for (case_id,) in rows.fetchall()]


def erase_free_space(path: Path) -> None:
    """After a delete: rebuild the file (VACUUM) and empty the write-ahead log, so deleted
    rows are in neither. Runs outside any transaction."""
    conn = connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    with contextlib.suppress(OSError):
        wal = path.with_name(path.name + "-wal")
        if wal.exists() and wal.stat().st_size:  # a reader held it open: clear what is left
            conn = connect(path)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()


__all__ = [
    "Pending",
    "current_refresh",
    "delete_cases",
    "erase_free_space",
    "floors",
    "idle_since",
    "needs_sync",
    "open_changed",
    "options_gone",
    "record_checks",
    "save_cases",
    "seen_of",
    "sync",
    "to_recheck",
    "touched_after",
]
