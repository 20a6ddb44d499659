"""Screening results out: CSV, XLSX, JSON, JSON Lines or Parquet, from the file extension.

Written chunk by chunk to a temporary file that replaces the target only when the run
completes. Text cells written to CSV and XLSX that begin with = + - @ (or a tab or carriage
return) get a leading ' so that a spreadsheet shows them as text and never runs them as
formulas (JSON and Parquet are left as they are).
"""

from __future__ import annotations

import codecs
import contextlib
import os
from pathlib import Path
from typing import Any

from matcher.bulk.frame import ERROR_COLUMNS
from matcher.errors import CartmatchError

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

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


def neutral(text: str) -> str:
    """Text a spreadsheet shows as text: a leading ' where it would start a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


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
        risky = text.str.startswith(FORMULA_START).fillna(False).to_numpy(dtype=bool)
        if risky.any():
            out[name] = text.where(~risky, "'" + text)
    return out


class Writer:
    """Rows of one frame shape, written chunk by chunk to a temporary file."""

    def __init__(self, path: Path, columns: dict[str, str], what: str = "output") -> None:
        self.path = path
        self.format = output_format(path, what)
        self.columns = columns
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self.rows = 0
        self._handle: Any = None
        self._book: Any = None
        self._parquet: Any = None
        self.summary: list[str] = []
        """XLSX: the run's summary, written on the first sheet when the file is closed."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._open()
        except OSError as error:
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
