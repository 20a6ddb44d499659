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

    from matcher.storage.migrations import migrations

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


def meta(conn: sqlite3.Connection) -> dict[str, str]:
    """The key-value table: catalog version, bundle hash, when and from what it was built."""
    try:
        return dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.OperationalError:
        return {}


__all__ = [
    "BUSY_TIMEOUT_S",
    "canonical_json",
    "connect",
    "create_private_file",
    "meta",
    "now_iso",
    "open_db",
    "reading",
    "write_transaction",
    "writing",
]
