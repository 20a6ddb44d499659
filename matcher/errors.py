"""One error hierarchy. Every message says what happened and what to do next.

The CLI maps these to one line on stderr and a non-zero exit in one place
(`matcher.cli.CartmatchGroup`); core code raises, never prints or exits.
"""

from __future__ import annotations


class CartmatchError(Exception):
    """Base class: a problem the user can fix, explained in one sentence."""


class ProfileError(CartmatchError):
    """A referral profile is malformed, contradictory or uses an unknown field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InputFileError(CartmatchError):
    """A file given on the command line cannot be read or parsed."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class CatalogError(CartmatchError):
    """A catalog or rules file is invalid; names the file and the dotted location."""

    def __init__(self, message: str, *, path: str | None = None, location: str | None = None):
        super().__init__(message)
        self.path = path
        self.location = location


class NotFoundError(CartmatchError):
    """An id asked for does not exist (entry, indication, refresh, run)."""


class StoreError(CartmatchError):
    """The database cannot be opened, migrated or written."""
