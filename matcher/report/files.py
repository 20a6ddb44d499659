"""Where a report goes: its format by the file's suffix, the checks made before any layout,
and the file itself, written whole or not at all and readable by its owner only. Standard
library only: the command reads the format and checks the target before importing anything
heavy."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

from matcher.errors import CartmatchError


def report_format(target: Path) -> str:
    """ "pdf" or "html", by the file's suffix; one sentence for any other."""
    suffix = target.suffix.lower()
    if suffix not in (".pdf", ".html", ".htm"):
        raise CartmatchError(f"{target.name}: a report is written as .pdf or .html")
    return "pdf" if suffix == ".pdf" else "html"


def check_target(target: Path) -> None:
    """Refuse now, not after the layout, a target whose folder is missing or that is
    read-only (it would be replaced)."""
    if not target.parent.is_dir():
        raise cannot_write(target, os.strerror(errno.ENOENT))
    if target.is_file() and not target.stat().st_mode & stat.S_IWUSR:
        raise CartmatchError(f"{target.name} is read-only; remove it or choose another name")


def cannot_write(target: Path, reason: str | None) -> CartmatchError:
    return CartmatchError(
        f"cannot write {target.name}: {reason}; check the folder exists and is writable"
    )


class PrivateFile:
    """A file written whole or not at all, readable by its owner only: the bytes go to a hidden
    file beside the target (created 0600), which replaces the target once closed; on any
    failure, or when the process is stopped meanwhile, the hidden file is removed."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.partial = target.with_name(f".{target.name}.partial")

    def __enter__(self) -> Any:
        try:
            fd = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError as error:
            raise cannot_write(self.target, error.strerror) from error
        os.chmod(self.partial, 0o600)
        self.handle = os.fdopen(fd, "wb")
        return self.handle

    def __exit__(self, kind: type[BaseException] | None, *exc: Any) -> None:
        try:
            self.handle.close()
            if kind is None:
                os.replace(self.partial, self.target)
        except OSError as error:
            raise CartmatchError(
                f"cannot write {self.target.name}: {error.strerror}; check the folder is "
                "writable and has space"
            ) from error
        finally:
            self.partial.unlink(missing_ok=True)
