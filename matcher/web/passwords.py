"""Password hashing (argon2 through pwdlib) and first passwords."""

from __future__ import annotations

import secrets
from functools import cache
from typing import Any

from matcher.errors import CartmatchError

#: Shortest password accepted: a team tool holding patient data.
MIN_PASSWORD_CHARS = 10


class PasswordError(CartmatchError):
    """A password that cannot be used."""


@cache
def _hasher() -> Any:
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    # OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): the library default (64 MiB,
    # 3 passes, 4 lanes) took ~0.7 s a sign-in on a shared two-core machine.
    return PasswordHash((Argon2Hasher(time_cost=2, memory_cost=19456, parallelism=1),))


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise PasswordError(
            f"the password is too short: use at least {MIN_PASSWORD_CHARS} characters"
        )
    return password


def hash_password(password: str) -> str:
    """An argon2 hash of a password long enough to use."""
    return str(_hasher().hash(check_password(password)))


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return bool(_hasher().verify(password, password_hash))
    except Exception:  # a damaged hash signs no one in
        return False


#: A hash that takes as long to check as a real one: a sign-in with an unknown name costs
#: the same time as one with a wrong password, so timing does not tell names apart.
@cache
def dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def generate_password() -> str:
    """A first password: 20 URL-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)
