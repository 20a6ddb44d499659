"""XLSX workbooks in, read with python-calamine (Rust; about ten times openpyxl's speed).

The rules for cells, explicit:

- a formula cell reads as the value the spreadsheet program last calculated and saved with
  the file; the formula itself is never run (a workbook saved by a program that does not
  calculate holds no value there, and the cell reads as what was saved, often empty);
- an error value (#N/A, #DIV/0!) reads as an empty cell: unknown, never a value;
- a date cell reads as its ISO date (2016-08-15; with its time when it has one); a number in
  a date field is an Excel day number, read so by the profile (`model.written.day_of`);
- a whole number reads without ".0" (a count typed as 3 is "3"); true/false as words;
- every cell reaches the profile as the text a CSV export of it would hold, so a workbook and
  its CSV are screened alike.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from matcher.bulk.headers import HeaderReader
from matcher.bulk.table import find_header
from matcher.errors import InputFileError
from matcher.limits import XLSX_BYTES

Found = tuple[int, list[str], list[tuple[int, list[Any]]]] | None


def _book(path: Path) -> Any:
    from python_calamine import CalamineWorkbook

    _check_size(path)
    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as error:
        raise InputFileError(
            f"{path}: cannot be read as an Excel workbook ({error}); save it as .xlsx",
            path=str(path),
        ) from None


def _check_size(path: Path) -> None:
    """A workbook's uncompressed size, from its zip directory, within the limit (a zip bomb
    is refused before a cell is inflated)."""
    try:
        with zipfile.ZipFile(path) as archive:
            size = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        return  # not a zip: calamine says what it is not
    if XLSX_BYTES.exceeded(size):
        raise InputFileError(f"{path}: {XLSX_BYTES.message(size)}", path=str(path))


def xlsx_rows(path: Path, sheet: str | None) -> tuple[str, Iterator[tuple[int, list[Any]]]]:
    """(sheet name, (line, cells as text or None) of every row); the first sheet by default."""
    book = _book(path)
    name = sheet if sheet is not None else book.sheet_names[0]
    return name, _rows(book.get_sheet_by_name(name))


def _rows(sheet: Any) -> Iterator[tuple[int, list[Any]]]:
    # calamine yields rows from the sheet's first row, and columns from its first used one
    for line, row in enumerate(sheet.iter_rows(), start=1):
        yield line, [cell_text(v) for v in row]


def find_sheet(
    path: Path, reader: HeaderReader, sheet: str | None, header_row: int | None
) -> tuple[str, Found, Iterator[tuple[int, list[Any]]]]:
    """The sheet given (a name, or a number from 1), else the first visible sheet whose
    rows hold a header naming two fields or more (an instructions sheet is passed over)."""
    book = _book(path)
    names = list(book.sheet_names)
    if sheet is not None:
        name = _sheet_name(path, names, sheet)
        rows = _rows(book.get_sheet_by_name(name))
        return name, find_header(rows, reader, f"{path} (sheet {name})", header_row), rows
    visible = [m.name for m in book.sheets_metadata if str(m.visible).endswith("Visible")]
    fallback: tuple[str, Found, Iterator[tuple[int, list[Any]]]] | None = None
    for name in visible or names:
        rows = _rows(book.get_sheet_by_name(name))
        found = find_header(rows, reader, f"{path} (sheet {name})", header_row)
        if found is not None and reader.score(found[1]) >= 2:
            return name, found, rows
        if found is not None and fallback is None:
            fallback = (name, found, rows)
    return fallback or (names[0], None, iter(()))


def _sheet_name(path: Path, names: list[str], sheet: str) -> str:
    if sheet in names:
        return sheet
    if sheet.isdigit() and 1 <= int(sheet) <= len(names):
        return names[int(sheet) - 1]
    raise InputFileError(
        f"{path}: --sheet {sheet}: no such sheet; the sheets are "
        + ", ".join(f"{n} ({k})" for k, n in enumerate(names, start=1)),
        path=str(path),
    )


def cell_text(value: Any) -> str | None:
    """An Excel cell as the text a CSV export of it would hold (None when empty)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
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
    if isinstance(value, timedelta):
        return str(value)
    return str(value)
