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
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pandas as pd

from matcher.bulk.frame import is_empty, referral_frame
from matcher.bulk.rows import (
    Header,
    Positioned,
    Rejected,
    item_at,
    json_columns,
    json_rows,
    jsonl_rows,
)
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
    """An input file: its format, its encoding (text formats) and the SHA-256 of its bytes."""

    path: Path
    format: str
    encoding: str | None
    sha256: str
    trailing_empty: int = 0
    """Empty rows after the last row with data: not rows, only counted."""

    def chunks(self, size: int) -> Iterator[Chunk]:
        """The rows in chunks of about `size`, each row with its row number."""
        if self.format in ("csv", "tsv"):
            yield from self._csv_chunks(size)
            return
        rows = {
            "xlsx": self._xlsx_rows,
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
        return Chunk(referral_frame(columns or [], rows, lines), rejected, positions or {})

    # -- CSV --------------------------------------------------------------------------------

    def _csv_chunks(self, size: int) -> Iterator[Chunk]:
        """CSV rows straight into chunks (the hot loop of a large run). A row's line is the
        physical line it starts on: the reader counts the lines inside quoted cells too."""
        delimiter = "\t" if self.format == "tsv" else ","
        with open(self.path, encoding=self.encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            columns = _header(next(reader, None), self.path)
            width = len(columns)
            lines: list[int] = []
            cells: list[list[str]] = []
            rejected: list[tuple[int, str | None, str]] = []
            empty: list[int] = []  # kept until a row with data follows: trailing ones are not rows
            start = reader.line_num + 1  # the line the next row starts on
            for row in reader:
                line, start = start, reader.line_num + 1
                if not any(row):
                    empty.append(line)
                    continue
                if empty:
                    lines += empty
                    cells += [[]] * len(empty)
                    empty = []
                if len(row) <= width:
                    lines.append(line)
                    cells.append(row)
                elif "".join(row[width:]).strip():
                    reason = (
                        f"line {line}: {len(row)} cells but the header has {width} columns: check "
                        "for an unquoted comma or a value in a column without a header"
                    )
                    rejected.append((line, _id_cell(columns, row), reason))
                else:
                    lines.append(line)
                    cells.append(row[:width])
                if len(lines) + len(rejected) >= size:
                    yield self._chunk(columns, lines, cells, rejected)
                    lines, cells, rejected = [], [], []
            self.trailing_empty = len(empty)
            if lines or rejected:
                yield self._chunk(columns, lines, cells, rejected)

    # -- XLSX -------------------------------------------------------------------------------

    def _xlsx_rows(self) -> Iterator[tuple[int, Any]]:
        from openpyxl import load_workbook

        try:
            book = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as error:
            raise InputFileError(
                f"{self.path}: cannot be read as an Excel workbook ({error}); save it as .xlsx",
                path=str(self.path),
            ) from None
        try:
            sheet = book.worksheets[0]
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None)
            columns = _header([_xlsx_text(v) or "" for v in header] if header else None, self.path)
            yield 1, Header(columns)
            for line, row in enumerate(rows, start=2):
                values = [_xlsx_text(v) for v in row[: len(columns)]]
                if all(v is None for v in values) and all(is_empty(v) for v in row):
                    yield line, None
                elif any(not is_empty(v) for v in row[len(columns) :]):
                    yield (
                        line,
                        Rejected(
                            _id_cell(columns, values),
                            f"line {line}: a value in a column without a header",
                        ),
                    )
                else:
                    yield line, values
        finally:
            book.close()


def open_source(path: Path, encoding: str | None = None) -> Source:
    """Check the file, hash it and settle its encoding (given, or detected)."""
    fmt = input_format(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file; check the path", path=str(path))
    text = fmt != "xlsx"
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputFileError(
                f"--encoding {encoding}: unknown encoding; use e.g. utf-8, utf-8-sig, gb18030",
                path=str(path),
            ) from None
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
    row = [row[0].lstrip("\ufeff"), *row[1:]]  # a BOM read as text under --encoding utf-8
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


def _id_cell(columns: list[str], row: list[Any]) -> str | None:
    if "referral_id" in columns:
        k = columns.index("referral_id")
        if k < len(row) and not is_empty(row[k]):
            return str(row[k])
    return None


def _xlsx_text(value: Any) -> str | None:
    """An Excel cell as the text a CSV export of it would hold."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


# ----------------------------------------------------------------------------- writing
