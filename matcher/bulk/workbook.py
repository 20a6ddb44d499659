"""XLSX results a coordinator can open and work from, written with XlsxWriter in its
constant-memory mode (each row goes to disk as it is written): a summary sheet first, the
results with a frozen header, filters and widths that fit, and the rejected rows on an
errors sheet. Past Excel's 1,048,576 rows a sheet continues on the next ("results (2)")."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

XLSX_MAX_ROWS = 1_048_576
#: Column widths in characters: wide enough for the usual text, never wider than this.
MAX_WIDTH = 60
MIN_WIDTH = 6
#: Rows sampled for the widths (the first chunk's).
WIDTH_SAMPLE = 200


class Book:
    """One workbook: summary, results (one or more sheets), errors."""

    def __init__(self, path: Path, columns: dict[str, str], errors: dict[str, str]) -> None:
        import xlsxwriter

        self.book = xlsxwriter.Workbook(
            str(path), {"constant_memory": True, "strings_to_numbers": False}
        )
        self.bold = self.book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        self.wrap = self.book.add_format({"text_wrap": False})
        self.summary = self.book.add_worksheet("summary")
        self.columns = list(columns)
        self.numeric = [dtype in ("int64", "Int64", "float64") for dtype in columns.values()]
        self.results: list[Any] = []
        self.rows = 0
        self.widths: list[int] | None = None
        self._new_results()
        self.errors = _Sheet(self, "errors", list(errors))

    def _new_results(self) -> None:
        n = len(self.results)
        name = "results" if n == 0 else f"results ({n + 1})"
        self.results.append(_Sheet(self, name, self.columns))

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        if self.widths is None:
            self.widths = _widths(self.columns, rows[:WIDTH_SAMPLE])
            for sheet in self.results:
                sheet.set_widths(self.widths)
        for row in rows:
            sheet = self.results[-1]
            if sheet.rows >= XLSX_MAX_ROWS:
                self._new_results()
                sheet = self.results[-1]
                sheet.set_widths(self.widths)
            sheet.append(row)

    def write_errors(self, rows: list[tuple[Any, ...]]) -> None:
        if self.errors.rows == 1 and rows:
            self.errors.set_widths(_widths(self.errors.columns, rows[:WIDTH_SAMPLE]))
        for row in rows:
            self.errors.append(row)

    def close(self, summary: list[str]) -> None:
        self.summary.set_column(0, 0, 110)
        for n, line in enumerate(summary or ["(no summary)"]):
            self.summary.write_string(n, 0, line)
        for sheet in [*self.results, self.errors]:
            sheet.finish()
        self.summary.activate()
        self.book.close()


class _Sheet:
    """A worksheet of a header and rows, written row by row."""

    def __init__(self, book: Book, name: str, columns: list[str]) -> None:
        self.sheet = book.book.add_worksheet(name)
        self.columns = columns
        self.sheet.freeze_panes(1, 0)
        for c, name in enumerate(columns):
            self.sheet.write_string(0, c, name, book.bold)
        self.rows = 1
        self._string = self.sheet.write_string
        self._number = self.sheet.write_number
        self._boolean = self.sheet.write_boolean

    def set_widths(self, widths: list[int]) -> None:
        for c, width in enumerate(widths):
            self.sheet.set_column(c, c, width)

    def append(self, row: tuple[Any, ...]) -> None:
        r = self.rows
        for c, value in enumerate(row):
            if value is None:
                continue
            kind = type(value)
            if kind is str:
                self._string(r, c, value)
            elif kind is bool:
                self._boolean(r, c, value)
            elif value == value and not math.isinf(value):  # NaN: empty
                self._number(r, c, value)
        self.rows += 1

    def finish(self) -> None:
        self.sheet.autofilter(0, 0, max(self.rows - 1, 0), max(len(self.columns) - 1, 0))


def _widths(columns: list[str], rows: list[tuple[Any, ...]]) -> list[int]:
    widths = []
    for c, name in enumerate(columns):
        longest = max((_shown_width(row[c]) for row in rows), default=0)
        widths.append(max(MIN_WIDTH, min(MAX_WIDTH, max(longest, len(name)) + 2)))
    return widths


def _shown_width(value: Any) -> int:
    if value is None:
        return 0
    text = value if isinstance(value, str) else str(value)
    # Chinese characters take two columns' width
    return len(text) + sum(1 for ch in text if ord(ch) > 0x2E80)
