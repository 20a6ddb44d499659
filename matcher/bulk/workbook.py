"""XLSX results a coordinator can open and work from: a summary sheet first, the results
with a frozen header, filters and widths that fit, and the rejected rows on an errors sheet.

Written as SpreadsheetML directly, column-wise: every distinct text becomes one shared string
and each column's cells are made once per distinct value (results repeat a lot), so a
chunk's rows cost a string join each, not a call per cell (a general-purpose writer spends
most of a large run there). Sheet rows go to temporary files as they come and are zipped at
the end. Past Excel's 1,048,576 rows a sheet continues on the next ("results (2)").
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

XLSX_MAX_ROWS = 1_048_576
#: Column widths in characters: wide enough for the usual text, never wider than this.
MAX_WIDTH = 60
MIN_WIDTH = 6
#: Rows sampled for the widths (the first chunk's).
WIDTH_SAMPLE = 200
#: Characters XML 1.0 cannot hold (control characters): left out of the text.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
EMPTY = "<c/>"


class Book:
    """One workbook: summary, results (one or more sheets), errors."""

    def __init__(self, path: Path, columns: dict[str, str], errors: dict[str, str]) -> None:
        self.path = path
        self.strings: dict[str, int] = {}
        self.columns = list(columns)
        self.results = [_Sheet(self, "results", self.columns)]
        self.errors = _Sheet(self, "errors", list(errors))

    def shared(self, text: str) -> int:
        index = self.strings.get(text)
        if index is None:
            index = self.strings[text] = len(self.strings)
        return index

    def write(self, frame: pd.DataFrame) -> None:
        rows = self.cells(frame)
        while rows:
            sheet = self.results[-1]
            if sheet.rows >= XLSX_MAX_ROWS:
                sheet = _Sheet(self, f"results ({len(self.results) + 1})", self.columns)
                sheet.widths = self.results[0].widths
                self.results.append(sheet)
            room = XLSX_MAX_ROWS - sheet.rows
            sheet.append(rows[:room], frame)
            rows, frame = rows[room:], frame.iloc[room:]

    def write_errors(self, frame: pd.DataFrame) -> None:
        self.errors.append(self.cells(frame), frame)

    def cells(self, frame: pd.DataFrame) -> list[str]:
        """Each row's cells as SpreadsheetML, made column by column."""
        columns = [self._column(frame[name]) for name in frame.columns]
        return list(map("".join, zip(*columns, strict=True)))

    def _column(self, column: pd.Series) -> list[str]:
        if isinstance(column.dtype, pd.CategoricalDtype):
            made = [f'<c t="s"><v>{self.shared(_text(c))}</v></c>' for c in column.cat.categories]
            codes = column.cat.codes.to_numpy()
            return np.asarray([*made, EMPTY], dtype=object)[codes].tolist()
        if isinstance(column.dtype, np.dtype) and column.dtype.kind in "iuf":
            return [_number(v) for v in column.tolist()]
        if column.dtype == "boolean" or column.dtype.kind == "b":
            values = column.to_numpy(dtype=object, na_value=None).tolist()
            return [EMPTY if v is None else f'<c t="b"><v>{int(v)}</v></c>' for v in values]
        values = column.to_numpy(dtype=object, na_value=None).tolist()
        made: dict[Any, str] = {}
        for value in set(values):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                made[value] = EMPTY
            elif isinstance(value, int | float) and not isinstance(value, bool):
                made[value] = _number(value)
            else:
                made[value] = f'<c t="s"><v>{self.shared(_text(value))}</v></c>'
        return [made[v] for v in values]

    def close(self, summary: list[str]) -> None:
        sheets = [_summary(self, summary), *self.results, self.errors]
        with zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
            book.writestr("[Content_Types].xml", _content_types(len(sheets)))
            book.writestr("_rels/.rels", _ROOT_RELS)
            book.writestr("xl/workbook.xml", _workbook(sheets))
            book.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
            book.writestr("xl/styles.xml", _STYLES)
            book.writestr("xl/sharedStrings.xml", _shared_strings(self.strings))
            for n, sheet in enumerate(sheets, start=1):
                with book.open(f"xl/worksheets/sheet{n}.xml", "w") as out:
                    sheet.copy_to(out)

    def abort(self) -> None:
        for sheet in [*self.results, self.errors]:
            sheet.body.close()


class _Sheet:
    """A worksheet: a bold header row and rows, kept in a temporary file until the end."""

    def __init__(self, book: Book, name: str, columns: list[str], *, frozen: bool = True) -> None:
        self.name = name
        self.columns = columns
        self.frozen = frozen
        self.body = tempfile.TemporaryFile("w+b")  # noqa: SIM115  (closed in copy_to)
        header = "".join(f'<c t="s" s="1"><v>{book.shared(_text(c))}</v></c>' for c in columns)
        self.body.write(f'<row r="1">{header}</row>'.encode())
        self.rows = 1
        self.widths: list[int] | None = None

    def append(self, rows: list[str], frame: pd.DataFrame) -> None:
        if not rows:
            return
        if self.widths is None:
            self.widths = _widths(self.columns, frame.head(WIDTH_SAMPLE))
        start = self.rows + 1
        text = "".join(f'<row r="{r}">{cells}</row>' for r, cells in enumerate(rows, start=start))
        self.body.write(text.encode("utf-8"))
        self.rows += len(rows)

    def copy_to(self, out: Any) -> None:
        width = max(len(self.columns), 1)
        last = f"{_column_letter(width)}{self.rows}"
        view = (
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/>'
            "</sheetView></sheetViews>"
            if self.frozen
            else ""
        )
        widths = self.widths or [max(MIN_WIDTH, len(c) + 2) for c in self.columns]
        cols = "".join(
            f'<col min="{n}" max="{n}" width="{w}" customWidth="1"/>'
            for n, w in enumerate(widths, start=1)
        )
        out.write(
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_NS}" '
            f'xmlns:r="{_NS_R}"><dimension ref="A1:{last}"/>{view}'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'.encode()
        )
        self.body.seek(0)
        shutil.copyfileobj(self.body, out, 1 << 20)
        self.body.close()
        tail = f'<autoFilter ref="A1:{last}"/>' if self.frozen else ""
        out.write(f"</sheetData>{tail}</worksheet>".encode())

    def filter_range(self) -> str:
        width = max(len(self.columns), 1)
        return f"$A$1:${_column_letter(width)}${self.rows}"


def _summary(book: Book, lines: list[str]) -> _Sheet:
    sheet = _Sheet(book, "summary", ["summary"], frozen=False)
    frame = pd.DataFrame({"summary": pd.array(lines or ["(no summary)"], dtype="str")})
    sheet.append(book.cells(frame), frame)
    sheet.widths = [110]
    return sheet


def _text(value: Any) -> str:
    return _NOT_XML.sub("", value if isinstance(value, str) else str(value))


def _number(value: Any) -> str:
    if value is None or value != value or math.isinf(value):
        return EMPTY
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"<c><v>{int(value)}</v></c>"
    return f"<c><v>{value!r}</v></c>"


def _widths(columns: list[str], sample: pd.DataFrame) -> list[int]:
    widths = []
    for name in columns:
        values = sample[name].astype(object).tolist() if name in sample else []
        longest = max((_shown_width(v) for v in values), default=0)
        widths.append(max(MIN_WIDTH, min(MAX_WIDTH, max(longest, _shown_width(name)) + 2)))
    return widths


def _shown_width(value: Any) -> int:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return 0
    text = value if isinstance(value, str) else str(value)
    return len(text) + sum(1 for ch in text if ord(ch) > 0x2E80)  # CJK: two columns wide


def _column_letter(n: int) -> str:
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# ------------------------------------------------------------------------ package parts

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_ROOT_RELS = (
    f'{_XML}<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
    f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_STYLES = (
    f'{_XML}<styleSheet xmlns="{_NS}"><fonts count="2"><font><sz val="11"/><name val="Calibri"/>'
    '</font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts><fills count="3">'
    '<fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
    '</fill><fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/></patternFill>'
    '</fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" '
    'fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _content_types(sheets: int) -> str:
    main = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{main}.worksheet+xml"/>'
        for n in range(1, sheets + 1)
    )
    return (
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{main}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{main}.styles+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{main}.sharedStrings+xml"/>'
        f"{parts}</Types>"
    )


def _workbook(sheets: list[_Sheet]) -> str:
    listed = "".join(
        f'<sheet name="{escape(s.name)}" sheetId="{n}" r:id="rId{n}"/>'
        for n, s in enumerate(sheets, start=1)
    )
    filters = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
        f"'{escape(s.name)}'!{s.filter_range()}</definedName>"
        for n, s in enumerate(sheets)
        if s.frozen
    )
    return (
        f'{_XML}<workbook xmlns="{_NS}" xmlns:r="{_NS_R}"><bookViews><workbookView '
        f'activeTab="0"/></bookViews><sheets>{listed}</sheets>'
        f"<definedNames>{filters}</definedNames></workbook>"
    )


def _workbook_rels(sheets: int) -> str:
    parts = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, sheets + 1)
    )
    return (
        f'{_XML}<Relationships xmlns="{_PKG}">{parts}'
        f'<Relationship Id="rId{sheets + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
        f'<Relationship Id="rId{sheets + 2}" Type="{_REL}/sharedStrings" '
        'Target="sharedStrings.xml"/></Relationships>'
    )


def _shared_strings(strings: dict[str, int]) -> str:
    items = "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in strings)
    return (
        f'{_XML}<sst xmlns="{_NS}" count="{len(strings)}" uniqueCount="{len(strings)}">'
        f"{items}</sst>"
    )
