"""The team behind the app: the first admin, created when `cartmatch serve` finds none."""

from __future__ import annotations

import os
from pathlib import Path

from matcher.storage.users import Users, add_user
from matcher.web.passwords import generate_password, hash_password

FIRST_ADMIN = "admin"
PASSWORD_ENV = "CARTMATCH_ADMIN_PASSWORD"


def ensure_first_admin(db_path: Path) -> tuple[str, str | None] | None:
    """Create the user `admin` when the database has no admin: its password is
    $CARTMATCH_ADMIN_PASSWORD, else a new one returned to be printed once (never stored in
    the clear). Returns (name, generated password or None), or None when an admin exists."""
    with Users.at(db_path) as users:
        if users.count_admins():
            return None
        name = FIRST_ADMIN if users.get(FIRST_ADMIN) is None else "admin-1"
    given = os.environ.get(PASSWORD_ENV)
    password = given or generate_password()
    add_user(db_path, name, "admin", hash_password(password), by="cartmatch serve")
    return name, None if given else password
