"""Uploaded files: saved in a private folder (0700, the file 0600) under a safe name, read as
data only (never executed, never served back as they came), removed when done."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from matcher.errors import CartmatchError, InputFileError

#: Bytes copied at a time from the upload to its private file.
COPY_CHUNK = 1024 * 1024


def private_dir(prefix: str) -> Path:
    """A new folder only this user can open (mkdtemp makes it 0700)."""
    return Path(tempfile.mkdtemp(prefix=prefix))


def safe_name(filename: str | None, suffixes: tuple[str, ...]) -> str:
    """The upload's own name reduced to letters, digits, dot, dash and underscore, with one
    of the accepted suffixes; anything else is one sentence."""
    name = Path(filename or "").name
    suffix = Path(name).suffix.lower()
    if suffix not in suffixes:
        raise InputFileError(
            f"'{name[:80] or 'the upload'}' is not a {', '.join(s[1:].upper() for s in suffixes)} "
            "file: choose one of those",
            path=name,
        )
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).stem).strip("._")[:60] or "upload"
    return stem + suffix


def store(upload: Any, folder: Path, *, suffixes: tuple[str, ...]) -> Path:
    """Copy an uploaded file into `folder` as a 0600 file; returns its path."""
    if upload is None or isinstance(upload, str) or not getattr(upload, "filename", None):
        raise InputFileError("choose a file to upload", path="file")
    target = folder / safe_name(upload.filename, suffixes)
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as out:
        upload.file.seek(0)
        shutil.copyfileobj(upload.file, out, COPY_CHUNK)
    return target


@contextmanager
def saved_upload(upload: Any, suffixes: tuple[str, ...]) -> Iterator[Path]:
    """The upload as a private file for the length of the block, then gone."""
    folder = private_dir("cartmatch-upload-")
    try:
        yield store(upload, folder, suffixes=suffixes)
    except CartmatchError as error:
        raise CartmatchError(without_folder(str(error), folder)) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def without_folder(message: str, folder: Path) -> str:
    """A message about an upload names the file as uploaded, not the private folder."""
    return message.replace(f"{folder}{os.sep}", "")
