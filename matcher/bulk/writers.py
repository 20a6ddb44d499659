"""Screening results out: CSV, XLSX, JSON, JSON Lines or Parquet, from the file extension.

Written chunk by chunk to a temporary file that replaces the target only when the run
completes. Text cells written to CSV and XLSX that a spreadsheet could run as a formula
(`model.cells`: = + - @ after any whitespace or invisible character, their full-width forms,
a leading tab or carriage return) get a leading ' so that a spreadsheet shows them as text
(JSON and Parquet are left as they are).
"""

from __future__ import annotations

import codecs
import contextlib
import glob
import os
from pathlib import Path
from typing import Any

from matcher.bulk.frame import ERROR_COLUMNS
from matcher.errors import CartmatchError
from matcher.model.cells import FORMULA, neutral

_TMP = ".tmp"

WRITE_FORMATS = {
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}


def output_format(path: Path, what: str = "output") -> str:
    fmt = WRITE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise CartmatchError(
            f"{what} {path}: cannot tell the format from '{path.suffix or 'no extension'}'; "
            f"name it with one of {', '.join(sorted(WRITE_FORMATS))}"
        )
    return fmt


# ----------------------------------------------------------------------------- reading


def neutralise(frame: Any) -> Any:
    """Text cells that a spreadsheet would run as a formula get a leading '."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if column.dtype == "category":
            categories = [neutral(c) for c in column.cat.categories]
            if len(set(categories)) == len(categories):
                out[name] = column.cat.rename_categories(categories)
                continue
            column = column.astype("str")
        elif column.dtype.kind in "iufb" or str(column.dtype) in ("Int64", "boolean"):
            continue
        text = column.astype("str")
        risky = text.str.match(FORMULA.pattern).fillna(False).to_numpy(dtype=bool)
        if risky.any():
            out[name] = text.where(~risky, "'" + text)
    return out


class Writer:
    """Rows of one frame shape, written chunk by chunk to a temporary file."""

    def __init__(self, path: Path, columns: dict[str, str], what: str = "output") -> None:
        self.path = path
        self.format = output_format(path, what)
        self.columns = columns
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}{_TMP}")
        self.rows = 0
        self._handle: Any = None
        self._book: Any = None
        self._parquet: Any = None
        self.summary: list[str] = []
        """XLSX: the run's summary, written on the first sheet when the file is closed."""
        if not path.parent.is_dir():
            raise CartmatchError(
                f"{what} {path}: the folder {path.parent} does not exist; create it first, or "
                "give a path in a folder that does"
            )
        _sweep(path)
        try:
            # Created readable by its owner only (patient data) before any library opens it;
            # a library that opens it again truncates it and keeps the mode.
            os.close(os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            self._open()
        except OSError as error:
            self.abort()
            raise CartmatchError(f"{what} {path}: cannot be written ({error.strerror})") from None

    def _open(self) -> None:
        if self.format == "csv":
            self._handle = open(self.tmp, "wb")  # noqa: SIM115
            self._handle.write(codecs.BOM_UTF8)  # Excel then reads the UTF-8 (Chinese) right
        elif self.format in ("json", "jsonl"):
            self._handle = open(self.tmp, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
            if self.format == "json":
                self._handle.write("[")
        elif self.format == "xlsx":
            from matcher.bulk.workbook import Book

            self._book = Book(self.tmp, self.columns, ERROR_COLUMNS)
        elif self.format == "parquet":
            import pyarrow.parquet as pq

            self._parquet = pq.ParquetWriter(self.tmp, _arrow_schema(self.columns))

    def write(self, frame: Any) -> None:
        if not len(frame):
            return
        frame = frame[list(self.columns)]
        if self.format in ("csv", "xlsx"):
            frame = neutralise(frame)
        if self.format == "csv":
            import pyarrow.csv as pa_csv

            options = pa_csv.WriteOptions(include_header=self.rows == 0, quoting_style="needed")
            pa_csv.write_csv(self._arrow(frame), self._handle, options)
        elif self.format in ("json", "jsonl"):
            text = frame.to_json(
                orient="records", lines=True, force_ascii=False, double_precision=15
            ).replace("\\/", "/")
            lines = text.rstrip("\n").split("\n")
            if self.format == "json":
                sep = "\n  " if self.rows == 0 else ",\n  "
                self._handle.write(sep + ",\n  ".join(lines))
            else:
                self._handle.write("\n".join(lines) + "\n")
        elif self.format == "xlsx":
            self._book.write(frame)
        elif self.format == "parquet":
            self._parquet.write_table(self._arrow(frame))
        self.rows += len(frame)

    def _arrow(self, frame: Any) -> Any:
        import pyarrow as pa

        return pa.Table.from_pandas(frame, schema=_arrow_schema(self.columns), preserve_index=False)

    def write_errors(self, frame: Any) -> None:
        """XLSX: the rejected rows on the workbook's errors sheet too (other formats: none)."""
        if self.format == "xlsx" and len(frame):
            self._book.write_errors(neutralise(frame[list(ERROR_COLUMNS)]))

    def close(self) -> None:
        """Finish the file and put it in place."""
        self.finish()
        self.place()

    def finish(self) -> None:
        """Finish the temporary file (the target is not touched yet)."""
        if self.format == "csv" and self.rows == 0:
            self._handle.write(",".join(f'"{c}"' for c in self.columns).encode() + b"\n")
        if self.format == "json":
            self._handle.write("\n]\n" if self.rows else "]\n")
        if self._handle is not None:
            self._handle.close()
        if self._book is not None:
            self._book.close(self.summary)
        if self._parquet is not None:
            self._parquet.close()
        self._handle = self._book = self._parquet = None

    def place(self) -> None:
        """Put the finished file in place of the target, in one rename."""
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            if self._handle is not None:
                self._handle.close()
            if self._book is not None:
                self._book.abort()
            if self._parquet is not None:
                self._parquet.close()
        with contextlib.suppress(OSError):
            self.tmp.unlink()


class OutputSet:
    """The results and the errors file, written as one set: each to a temporary file, then,
    when both are finished, moved into place (the results first); on failure both
    temporaries are removed and neither target is touched."""

    def __init__(self, output: Path, columns: dict[str, str], errors: Path) -> None:
        self.results = Writer(output, columns, "output")
        try:
            self.rejects = Writer(errors, ERROR_COLUMNS, "errors file")
        except BaseException:
            self.results.abort()
            raise

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, kind: Any, error: Any, _: Any) -> None:
        if kind is None:
            try:
                self.results.finish()
                self.rejects.finish()
            except OSError as failed:
                self._abort(failed)
            except BaseException:
                self._abort(None)
                raise
            self.results.place()
            self.rejects.place()
            return
        self._abort(error if isinstance(error, OSError) else None)

    def _abort(self, error: OSError | None) -> None:
        """Both temporaries removed; a file-system error becomes one sentence."""
        self.results.abort()
        self.rejects.abort()
        if error is not None:
            raise CartmatchError(
                f"the run could not be finished ({error.strerror or error}); neither "
                f"{self.results.path} nor {self.rejects.path} was written: check the free "
                "space and that the folder is writable, then run again"
            ) from None


def _sweep(path: Path) -> None:
    """Remove temporaries beside `path` left by a run that was killed (its process is gone):
    they hold patient data."""
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*{_TMP}"):
        pid = stale.name[len(path.name) + 2 : -len(_TMP)]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                stale.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    return True


def _arrow_schema(columns: dict[str, str]) -> Any:
    import pyarrow as pa

    types = {
        "int64": pa.int64(),
        "Int64": pa.int64(),
        "float64": pa.float64(),
        "boolean": pa.bool_(),
        "str": pa.string(),
        "category": pa.dictionary(pa.int32(), pa.string()),
    }
    return pa.schema([(name, types[dtype]) for name, dtype in columns.items()])
