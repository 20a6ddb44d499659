"""The web app's team and its audit log: who may sign in, with which role, and who changed what.

Passwords arrive here already hashed (argon2, `matcher.web.passwords`); this module stores
and reads rows only. The session-signing secret of `cartmatch serve` lives in `meta`, so that
sessions outlive a restart and every worker signs alike.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matcher.errors import CartmatchError
from matcher.storage.db import canonical_json, now_iso, reading, writing

if TYPE_CHECKING:
    import sqlite_utils

ROLES = ("coordinator", "curator", "admin")
#: What each role may do beyond the one below it: a curator refreshes the catalog, an admin
#: also manages users.
RANK = {role: n for n, role in enumerate(ROLES)}
SECRET_KEY = "web_session_secret"


class UserError(CartmatchError):
    """A user name or role that cannot be used."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    password_hash: str
    disabled: bool = False

    def may(self, role: str) -> bool:
        """Whether this user holds `role` or one above it."""
        return not self.disabled and RANK[self.role] >= RANK[role]


def check_name(name: str) -> str:
    """A user name: 1-64 letters, digits, dot, dash or underscore."""
    name = name.strip()
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-" for c in name):
        raise UserError(
            f"user name '{name[:64]}' is not usable: use 1-64 letters, digits, '.', '-' or '_'"
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"role '{role[:40]}' is not a role: use one of {', '.join(ROLES)}")
    return role


class Users:
    """Users and the audit log, read through a connection it is handed."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @classmethod
    @contextmanager
    def at(cls, path: Path) -> Iterator[Users]:
        _ensure_migrated(path)
        with reading(path) as conn:
            yield cls(conn)

    def get(self, name: str) -> User | None:
        row = self.conn.execute(
            "SELECT id, name, role, password_hash, disabled FROM users WHERE name = ?", [name]
        ).fetchone()
        return User(row[0], row[1], row[2], row[3], bool(row[4])) if row else None

    def all(self) -> list[User]:
        rows = self.conn.execute(
            "SELECT id, name, role, password_hash, disabled FROM users ORDER BY name"
        ).fetchall()
        return [User(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

    def count_admins(self) -> int:
        return int(
            self.conn.execute(
                "SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled"
            ).fetchone()[0]
        )

    def audit(self, limit: int = 200) -> list[dict[str, Any]]:
        """The newest changes first: at, user, action, subject, detail."""
        rows = self.conn.execute(
            "SELECT at, user_name, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT ?",
            [limit],
        ).fetchall()
        keys = ("at", "user", "action", "subject", "detail")
        return [dict(zip(keys, row, strict=True)) for row in rows]


#: Databases seen to hold the users table (checked once a process, not on every request).
_MIGRATED: set[Path] = set()


def _ensure_migrated(path: Path) -> None:
    """Apply the users migration to a database the CLI built before it existed."""
    if path in _MIGRATED:
        return
    with reading(path) as conn:
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'"
        ).fetchone()
    if not found:
        with writing(path):
            pass  # open_db applies the migrations
    _MIGRATED.add(path)


def record(
    db: sqlite_utils.Database, who: str | None, action: str, subject: str, **detail: Any
) -> None:
    """One line of the audit log, in the caller's write transaction. Name no patient here."""
    db["audit_log"].insert(
        {
            "at": now_iso(),
            "user_name": who,
            "action": action,
            "subject": subject,
            "detail": canonical_json(detail) if detail else None,
        }
    )


def add_user(path: Path, name: str, role: str, password_hash: str, by: str | None) -> User:
    """A new user, recorded in the audit log; a name already taken is one sentence."""
    name, role = check_name(name), check_role(role)
    with writing(path) as db:
        if db.conn.execute("SELECT 1 FROM users WHERE name = ?", [name]).fetchone():
            raise UserError(f"user '{name}' exists already; choose another name")
        table = db["users"]
        table.insert(
            {
                "name": name,
                "role": role,
                "password_hash": password_hash,
                "created_at": now_iso(),
                "created_by": by,
                "disabled": 0,
            }
        )
        user_id = int(table.last_pk)
        record(db, by, "user.add", name, role=role)
    return User(user_id, name, role, password_hash)


def set_password(path: Path, name: str, password_hash: str, by: str | None) -> None:
    with writing(path) as db:
        if not db.conn.execute("SELECT 1 FROM users WHERE name = ?", [name]).fetchone():
            raise UserError(f"no user '{name}'; `cartmatch users list` lists them")
        db.conn.execute("UPDATE users SET password_hash = ? WHERE name = ?", [password_hash, name])
        record(db, by, "user.password", name)


def log_change(path: Path, who: str | None, action: str, subject: str, **detail: Any) -> None:
    """Record one change made outside a store's own transaction (an upload, a refresh)."""
    with writing(path) as db:
        record(db, who, action, subject, **detail)


def session_secret(path: Path) -> str:
    """The secret that signs session cookies: made once, kept in the database."""
    _ensure_migrated(path)
    with reading(path) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", [SECRET_KEY]).fetchone()
    if row:
        return str(row[0])
    with writing(path) as db:
        row = db.conn.execute("SELECT value FROM meta WHERE key = ?", [SECRET_KEY]).fetchone()
        if row:
            return str(row[0])
        secret = secrets.token_urlsafe(48)
        db["meta"].insert({"key": SECRET_KEY, "value": secret})
        return secret


__all__ = [
    "RANK",
    "ROLES",
    "User",
    "UserError",
    "Users",
    "add_user",
    "check_name",
    "check_role",
    "log_change",
    "record",
    "session_secret",
    "set_password",
]
