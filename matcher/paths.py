"""Where cartmatch finds its bundled data and keeps its database. Standard library only."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def data_root() -> Path:
    """Folder holding catalog/ and rules/: inside an installed wheel, else the checkout."""
    bundled = PACKAGE / "_data"
    return bundled if (bundled / "catalog").is_dir() else PACKAGE.parent


def catalog_dir() -> Path:
    return data_root() / "catalog"


def rules_dir() -> Path:
    return data_root() / "rules"


def default_db_path() -> Path:
    """CARTMATCH_DB, else the per-user data directory of this platform."""
    if env := os.environ.get("CARTMATCH_DB"):
        return Path(env).expanduser()
    return _user_folder("Application Support", "XDG_DATA_HOME", ".local/share") / "cartmatch.db"


def cache_dir() -> Path:
    """The per-user cache directory of this platform: what is kept there (compiled report
    templates) is rebuilt when missing."""
    return _user_folder("Caches", "XDG_CACHE_HOME", ".cache")


def _user_folder(macos: str, xdg_variable: str, xdg_default: str) -> Path:
    """cartmatch's folder of one kind in the user's home: ~/Library/<macos> on macOS, the
    local application data on Windows, $<xdg_variable> or ~/<xdg_default> elsewhere."""
    if sys.platform == "darwin":
        base = Path.home() / "Library" / macos
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    else:
        base = Path(os.environ.get(xdg_variable) or Path.home() / xdg_default)
    return base / "cartmatch"


def bundle_hash() -> str:
    """Content hash of every bundled catalog and rules file: tells when the data changed."""
    return files_hash(catalog_dir(), rules_dir())


def files_hash(*roots: Path) -> str:
    """SHA-256 of files and folders (a folder: its YAML files, with their relative names)."""
    digest = hashlib.sha256()
    for root in roots:
        if not root.is_dir():
            digest.update(root.read_bytes())
            continue
        for path in sorted(root.rglob("*.yaml")):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()
