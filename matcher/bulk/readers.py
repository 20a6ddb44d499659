"""Files of referrals in: formats from the file extension, read in chunks of rows.

Inputs: CSV (and TSV), XLSX, JSON (an array of objects) and JSON Lines. Every row has a
number, unique and increasing through the file, that identifies it (the index of the referral
frame) and is the `line` column of the results and errors files:

- CSV, TSV and XLSX: the line a spreadsheet or an editor shows the row starting on (the
  header is line 1; a quoted cell over several lines makes the rows after it start further
  down, and they are numbered so);
- JSON Lines: the line of the file;
- JSON array: the item's place in the array, 1 to N, whatever the layout (`json.dump` writes
  every item on one line, so the line alone cannot tell items apart). Errors name the item
  and where it starts as an editor shows it: "item 3 (line 1, column 85): ...".

Text is UTF-8, UTF-8 with a BOM, or GB18030 (GBK) as a Chinese Excel saves it: detected, or
given. A row that cannot even be split into cells (too many cells, invalid JSON, a JSON item
that is not an object) is rejected here with its reason; empty rows are passed on and rejected
as such; empty rows at the very end of a file are not rows and only counted.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import pandas as pd

from matcher.bulk.frame import referral_frame
from matcher.bulk.headers import ColumnMap, HeaderReader
from matcher.bulk.rows import (
    Header,
    Positioned,
    Rejected,
    item_at,
    json_columns,
    json_rows,
    jsonl_rows,
)
from matcher.bulk.sheets import find_sheet, xlsx_rows
from matcher.bulk.table import HEADER_SEARCH_ROWS, Table, find_header, table_of, table_rows
from matcher.errors import InputFileError

READ_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
#: Encodings tried in turn when none is given: Excel's "CSV UTF-8" (BOM or not), then GBK's
#: superset GB18030, which a Chinese Excel uses for plain "CSV".
DETECT = ("utf-8-sig", "gb18030")
BLOCK = 1 << 20
#: The CSV parser's own cell limit: far above the per-cell limit (limits.CELL_CHARS), which
#: rejects a long cell's row and goes on; a cell past this one stops the run, naming its line.
_FIELD_BYTES = 64 << 20


def input_format(path: Path) -> str:
    fmt = READ_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputFileError(
            f"{path}: cannot tell the format from '{path.suffix or 'no extension'}'; "
            f"give a {', '.join(sorted(READ_FORMATS))} file",
            path=str(path),
        )
    return fmt


@dataclass
class Chunk:
    """Rows read: a referral frame (index = row numbers, see the module docstring) and rows
    rejected while reading."""

    frame: Any
    rejected: list[tuple[int, str | None, str]] = field(default_factory=list)
    """(row number, referral id if known, reason)."""
    positions: dict[int, tuple[int, int]] = field(default_factory=dict)
    """JSON array items: row number -> (line, column) where the item starts."""
    carried: Any = None
    """CSV and XLSX: the columns read as no profile field, as written (index = row numbers)."""

    @property
    def rows(self) -> int:
        return len(self.frame) + len(self.rejected)

    def located(self, errors: Any) -> Any:
        """Rows for the errors file with a reason that begins "line N:" for a JSON array item
        N (screening says "line" for every row number) naming the item and where it starts."""
        if not self.positions or not len(errors):
            return errors
        reasons = []
        for number, reason in zip(errors["line"].tolist(), errors["reason"].tolist(), strict=True):
            prefix = f"line {number}:"
            if number in self.positions and isinstance(reason, str) and reason.startswith(prefix):
                reason = item_at(number, *self.positions[number]) + reason[len(prefix) - 1 :]
            reasons.append(reason)
        errors = errors.copy()
        errors["reason"] = pd.array(reasons, dtype="str")
        return errors


@dataclass
class Source:
    """An input file: its format, its encoding (text formats) and the SHA-256 of its bytes;
    for CSV and XLSX, once `find_table` has run, the sheet and table its referrals are in."""

    path: Path
    format: str
    encoding: str | None
    sha256: str
    trailing_empty: int = 0
    """Empty rows after the last row with data: not rows, only counted."""
    sheet: str | None = None
    table: Table | None = None
    multiline: list[tuple[int, int]] = field(default_factory=list)
    """CSV: rows with a quoted cell over several lines, (first line, last line)."""
    _rows: Iterator[tuple[int, list[Any]]] | None = None

    @property
    def tabular(self) -> bool:
        return self.format in ("csv", "tsv", "xlsx")

    def find_table(
        self, reader: HeaderReader, *, sheet: str | None = None, header_row: int | None = None
    ) -> Table | None:
        """CSV and XLSX: the header row (below any title rows), its columns read as profile
        fields or carried through, on the sheet given or the first with such a header.
        Without it, the first row is the header and names the fields as they are."""
        if not self.tabular:
            return None
        if self.format == "xlsx":
            self.sheet, found, rows = find_sheet(self.path, reader, sheet, header_row)
        else:
            rows = self._csv_rows()
            found = find_header(rows, reader, str(self.path), header_row)
        if found is None and self.format != "xlsx" and not self._has_text():
            _header(None, self.path)  # an empty file: the first row must name the fields
        if found is None:
            raise InputFileError(
                f"{self.path}{f' (sheet {self.sheet})' if self.sheet else ''}: no header row "
                f"found in the first {HEADER_SEARCH_ROWS} rows (no cell names a profile field "
                "such as 诊断/diagnosis, 年龄/age); give --header-row N and --map "
                "'COLUMN=field'",
                path=str(self.path),
            )
        line, headers, seen = found
        n = next(k for k, (at, _) in enumerate(seen) if at == line)
        where = f"{self.path}" + (f" (sheet {self.sheet})" if self.sheet else "")
        self.table = table_of(line, headers, reader, seen[:n], where)
        self._rows = chain(seen[n + 1 :], rows)
        return self.table

    def chunks(self, size: int) -> Iterator[Chunk]:
        """The rows in chunks of about `size`, each row with its row number."""
        rows = {
            "csv": self._table_rows,
            "tsv": self._table_rows,
            "xlsx": self._table_rows,
            "json": lambda: json_rows(self.path, self.encoding),
            "jsonl": lambda: jsonl_rows(self.path, self.encoding),
        }[self.format]()
        columns: list[str] | None = None
        lines: list[int] = []
        cells: list[list[Any]] = []
        rejected: list[tuple[int, str | None, str]] = []
        positions: dict[int, tuple[int, int]] = {}
        pending: list[tuple[int, Any]] = []  # empty rows, kept until a row with data follows
        for line, row in rows:
            if isinstance(row, Positioned):
                positions[line] = row.position
                row = row.row
            if type(row) is list and not pending:  # the common case: a row with data
                lines.append(line)
                cells.append(row)
            elif isinstance(row, Header):
                columns = row.columns
                continue
            elif row is None:
                pending.append((line, row))
                continue
            else:
                for item_line, item in [*pending, (line, row)]:
                    if isinstance(item, Rejected):
                        rejected.append((item_line, item.referral_id, item.reason))
                    else:
                        lines.append(item_line)
                        cells.append(item if item is not None else [])
                pending = []
            if len(lines) + len(rejected) >= size:
                yield self._chunk(columns, lines, cells, rejected, positions)
                lines, cells, rejected, positions = [], [], [], {}
        self.trailing_empty = len(pending)
        if lines or rejected:
            yield self._chunk(columns, lines, cells, rejected, positions)

    def _chunk(
        self,
        columns: list[str] | None,
        lines: list[int],
        cells: list[Any],
        rejected: list[tuple[int, str | None, str]],
        positions: dict[int, tuple[int, int]] | None = None,
    ) -> Chunk:
        if self.format in ("json", "jsonl"):
            columns, cells = json_columns(cells)
        width = len(columns or [])
        rows = [row if len(row) == width else row + [None] * (width - len(row)) for row in cells]
        if self.table is None or not self.table.columns.carried:
            return Chunk(referral_frame(columns or [], rows, lines), rejected, positions or {})
        k = len(self.table.columns.fields)
        frame = referral_frame(self.table.fields(), [r[:k] for r in rows], lines)
        carried = referral_frame(self.table.columns.carried_names, [r[k:] for r in rows], lines)
        return Chunk(frame, rejected, positions or {}, carried)

    # -- CSV and XLSX -----------------------------------------------------------------------

    def _table_rows(self) -> Iterator[tuple[int, Any]]:
        """(line, cells) under the header: as found by find_table, else the first row names
        the fields as they are (update sheets of a catalog refresh)."""
        skip_blank = self.table is not None
        if self.table is None:
            rows = self._csv_rows() if self.format != "xlsx" else xlsx_rows(self.path, None)[1]
            first = next(rows, None)
            headers = _header([_text(c) for c in first[1]] if first else None, self.path)
            identity = ColumnMap(headers, dict(enumerate(headers)))
            self.table = Table(1, identity)
            self._rows = rows
        yield 1, Header(self.table.fields() + self.table.columns.carried_names)
        assert self._rows is not None
        yield from table_rows(
            self.table, self._rows, reject_wide=self.format != "xlsx", skip_blank=skip_blank
        )

    def _has_text(self) -> bool:
        with open(self.path, encoding=self.encoding) as handle:
            return bool(handle.read(4096).strip(" \t\r\n,\ufeff"))

    def _csv_rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(line, cells) of every row; a row's line is the physical line it starts on (the
        reader counts the lines inside quoted cells too)."""
        delimiter = "\t" if self.format == "tsv" else ","
        csv.field_size_limit(_FIELD_BYTES)
        with open(self.path, encoding=self.encoding, newline="") as handle:
            # strict: a quote left open or followed by text is an error, never a silent merge
            reader = csv.reader(handle, delimiter=delimiter, strict=True)
            start = 1
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    raise _malformed(self.path, start, reader.line_num, error) from None
                line, start = start, reader.line_num + 1
                if start - line > 1:
                    self.multiline.append((line, start - 1))
                if line == 1 and row:
                    row[0] = row[0].lstrip("\ufeff")  # a BOM read as text under utf-8
                yield line, row


def open_source(path: Path, encoding: str | None = None) -> Source:
    """Check the file, hash it and settle its encoding (given, or detected)."""
    fmt = input_format(path)
    if not path.exists():
        raise InputFileError(f"{path}: no such file; check the path", path=str(path))
    if not path.is_file():
        what = "a folder" if path.is_dir() else "not a regular file (a device or a pipe)"
        raise InputFileError(
            f"{path} is {what}; save the referrals to a file and give its path", path=str(path)
        )
    text = fmt != "xlsx"
    if encoding is not None:
        _check_encoding(encoding, path)
    tried = [encoding] if encoding else list(DETECT) if text else []
    digest, problems = _scan(path, tried)
    found = next((enc for enc in tried if enc not in problems), None)
    if text and found is None:
        where = "; ".join(f"{enc}: {msg}" for enc, msg in problems.items())
        hint = "give the right --encoding" if encoding else "save it as UTF-8 or give --encoding"
        raise InputFileError(f"{path}: cannot be decoded ({where}); {hint}", path=str(path))
    if found == "utf-8-sig" and not _has_bom(path):
        found = "utf-8"
    return Source(path=path, format=fmt, encoding=found, sha256=digest)


def _check_encoding(encoding: str, path: Path) -> None:
    """A text encoding Python knows (base64, zlib and rot13 are codecs, not encodings)."""
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        info = None
    if info is None or not info._is_text_encoding:
        raise InputFileError(
            f"--encoding {encoding}: not a text encoding; use e.g. utf-8, utf-8-sig, gb18030",
            path=str(path),
        )


def _scan(path: Path, encodings: list[str]) -> tuple[str, dict[str, str]]:
    """SHA-256 of the bytes, and why each encoding tried fails (it stops at the first that
    decodes the whole file)."""
    digest = hashlib.sha256()
    problems: dict[str, str] = {}
    for n, enc in enumerate(encodings or [None]):
        decoder = codecs.getincrementaldecoder(enc)() if enc else None
        offset = 0
        with open(path, "rb") as handle:
            try:
                while block := handle.read(BLOCK):
                    if n == 0:
                        digest.update(block)
                    if decoder is not None:
                        decoder.decode(block)
                    offset += len(block)
                if decoder is not None:
                    decoder.decode(b"", final=True)
                return digest.hexdigest(), problems
            except UnicodeDecodeError as error:
                problems[enc or ""] = f"invalid bytes at offset {offset + error.start}"
                if n == 0:
                    while block := handle.read(BLOCK):
                        digest.update(block)
    return digest.hexdigest(), problems


def _malformed(path: Path, start: int, at: int, error: csv.Error) -> InputFileError:
    """A CSV that cannot be split into rows past a line: the run stops there, naming it
    (the rows after a quote left open cannot be told apart, so none is guessed)."""
    text = str(error)
    if "end of data" in text or at > start:
        what = f"a quoted cell opens on line {start} and is not closed " + (
            "before the end of the file" if "end of data" in text else f"before line {at}"
        )
    elif "field larger" in text:
        what = f"line {start} holds a cell of more than {_FIELD_BYTES:,} characters"
    else:
        what = f"line {start} cannot be split into cells ({text})"
    return InputFileError(
        f"{path}: {what}; no row from line {start} on could be read, so nothing was screened: "
        'fix the quotes on that line (a quote inside a cell is written twice: "") and run '
        "again",
        path=str(path),
    )


def _has_bom(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(3) == codecs.BOM_UTF8


def _header(row: list[str] | None, path: Path) -> list[str]:
    if not row or not any(cell.strip() for cell in row):
        raise InputFileError(
            f"{path}: the first row must name the profile fields (diagnosis, age, "
            "antigens.CD19, ...); it is empty",
            path=str(path),
        )
    columns = [cell.strip() or f"(column {n})" for n, cell in enumerate(row, start=1)]
    while columns and columns[-1].startswith("(column "):
        columns.pop()  # unnamed trailing columns: Excel's stray commas
    seen = set()
    for name in columns:
        if name in seen:
            raise InputFileError(
                f"{path}: the header names '{name}' twice; keep one column per field",
                path=str(path),
            )
        seen.add(name)
    return columns


def _text(value: Any) -> str:
    return "" if value is None else str(value)
