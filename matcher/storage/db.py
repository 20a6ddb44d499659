"""The database file: opening it (private, WAL), migrating it, and one transaction a write.

The read path of single look-ups (`match`, `lookup`, `show`) uses the standard library's
sqlite3 only, so it never pays for importing pandas, which sqlite-utils pulls in. Writes go
through sqlite-utils (explicit, named migrations in `storage.migrations`).

Callers outside `storage/` open nothing themselves: they use `reading(path)` or
`writing(path)` and hand the connection to a store (`CatalogStore`, `RefreshLog`, `RunStore`).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matcher.errors import StoreError

if TYPE_CHECKING:
    import sqlite_utils

BUSY_TIMEOUT_S = 30


def canonical_json(data: Any) -> str:
    """Deterministic JSON: sorted keys, no ASCII escaping (Chinese stays readable)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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
    """A standard-library connection with WAL (readers never wait for a refresh). A file
    other users can read is made private (0600) first; a database written by a newer
    cartmatch is refused, never used."""
    if not path.exists():
        create_private_file(path)
    else:
        _tighten(path)
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        newer = _unknown_migrations(conn)
    except sqlite3.Error as error:
        raise StoreError(_open_problem(path, error)) from None
    if newer:
        conn.close()
        raise StoreError(
            f"the database {path} was written by a newer cartmatch (schema {newer[0]}); "
            "upgrade cartmatch, or point --db or CARTMATCH_DB at another file"
        )
    return conn


#: Every migration this version knows, in order (tests check it against `migrations`); a
#: database with one not listed here was written by a newer cartmatch.
KNOWN_MIGRATIONS = (
    "m001_catalog",
    "m002_screening",
    "m003_registry_records",
    "m004_users",
    "m005_cases",
    "m006_case_checks",
)


def _unknown_migrations(conn: sqlite3.Connection) -> list[str]:
    try:
        rows = conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = 'cartmatch' ORDER BY id"
        ).fetchall()
    except sqlite3.OperationalError:
        return []  # a new file: nothing applied yet
    return [name for (name,) in rows if name not in KNOWN_MIGRATIONS]


def _tighten(path: Path) -> None:
    """Patient data is readable by its owner only: tighten a looser database file."""
    try:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
    except OSError:
        pass  # not ours to change; opening it will say what is wrong if it matters


def _open_problem(path: Path, error: sqlite3.Error) -> str:
    """One sentence for a database that cannot be opened, never suggesting to discard one
    that may hold saved runs."""
    if not os.access(path.parent, os.W_OK) or not os.access(path, os.W_OK):
        return (
            f"cannot open the database {path} ({error}): its folder or file is not writable; "
            "fix the permissions, or point --db or CARTMATCH_DB at a writable location"
        )
    return (
        f"cannot open the database {path} ({error}); it may be damaged or not a cartmatch "
        "database: check it with `cartmatch db check`, keep a copy, and use another --db"
    )


def open_db(path: Path) -> sqlite_utils.Database:
    """A migrated sqlite-utils Database for writing (imports sqlite-utils lazily); a damaged
    file is refused before anything is written to it."""
    import sqlite_utils

    from matcher.storage.migrations import migrations

    conn = connect(path)
    damage = [str(r[0]).replace("\n", " ") for r in conn.execute("PRAGMA quick_check(3)")]
    if damage != ["ok"]:
        conn.close()
        raise StoreError(
            f"the database {path} is damaged ({'; '.join(damage)}): cartmatch will not write "
            "to it; keep a copy, restore your latest `cartmatch db backup`, or use another --db"
        )
    db = sqlite_utils.Database(conn)
    migrations.apply(db)
    return db


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write, all or nothing; takes the write lock up front (BEGIN IMMEDIATE), waiting
    up to BUSY_TIMEOUT_S for another writer. A database that cannot be written (read-only,
    full, damaged, locked too long) is one StoreError, and nothing is written."""
    try:
        db.conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as error:
        raise StoreError(_write_problem(db, error)) from None
    try:
        yield db
    except sqlite3.Error as error:
        db.conn.execute("ROLLBACK")
        raise StoreError(_write_problem(db, error)) from None
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    try:
        db.conn.execute("COMMIT")
    except sqlite3.Error as error:
        with contextlib.suppress(sqlite3.Error):
            db.conn.execute("ROLLBACK")
        raise StoreError(_write_problem(db, error)) from None


def _write_problem(db: sqlite_utils.Database, error: sqlite3.Error) -> str:
    text = str(error)
    name = db.conn.execute("PRAGMA database_list").fetchone()[2]
    if "locked" in text or "busy" in text:
        hint = (
            f"another cartmatch is writing to it and did not finish within {BUSY_TIMEOUT_S} s; "
            "run this again when it has"
        )
    elif "readonly" in text or "read-only" in text:
        hint = "it is read-only; fix its permissions or point --db at a writable copy"
    elif "full" in text:
        hint = "the disk is full; free space and run this again (nothing was written)"
    else:
        hint = "check it with `cartmatch db check`; nothing was written"
    return f"cannot write to the database {name} ({text}): {hint}"


@contextlib.contextmanager
def reading(path: Path) -> Iterator[sqlite3.Connection]:
    """A read connection (standard library only), closed afterwards."""
    conn = connect(path)
    try:
        yield conn
    finally:
        conn.close()


@contextlib.contextmanager
def writing(path: Path) -> Iterator[sqlite_utils.Database]:
    """The migrated database inside one write transaction, closed afterwards."""
    db = open_db(path)
    try:
        with write_transaction(db):
            yield db
    finally:
        db.close()


def check(path: Path) -> list[str]:
    """SQLite's integrity check of a database file: [] when it is sound, else its findings."""
    if not path.exists():
        raise StoreError(f"no database at {path}; it is built on the first `cartmatch match`")
    with reading(path) as conn:
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.DatabaseError as error:
            return [str(error)]
    found = [str(row[0]) for row in rows]
    return [] if found == ["ok"] else found


def backup(path: Path, target: Path) -> None:
    """A consistent copy of the database while it is in use (SQLite's online backup), made
    private (0600) and moved into place only when complete; an existing file is never
    overwritten."""
    if target.exists():
        raise StoreError(f"{target} already exists; give a new file name for the backup")
    if not target.parent.is_dir():
        raise StoreError(f"{target.parent} is not a folder; create it or give another path")
    partial = target.with_name(f".{target.name}.partial")
    create_private_file(partial)
    try:
        with reading(path) as source:
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy)
            finally:
                copy.close()
        os.replace(partial, target)
    except (OSError, sqlite3.Error) as error:
        raise StoreError(f"cannot back up {path} to {target} ({error})") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def meta(conn: sqlite3.Connection) -> dict[str, str]:
    """The key-value table: catalog version, bundle hash, when and from what it was built."""
    try:
        return dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.OperationalError:
        return {}


__all__ = [
    "BUSY_TIMEOUT_S",
    "KNOWN_MIGRATIONS",
    "backup",
    "canonical_json",
    "check",
    "connect",
    "create_private_file",
    "meta",
    "now_iso",
    "open_db",
    "reading",
    "write_transaction",
    "writing",
]
