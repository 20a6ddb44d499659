"""Finding the referrals in a sheet as partners send it: the header row below title rows
and "filled in by" rows, blank rows skipped and counted, footnote rows ("备注：...") set
aside and reported once. Rows come in as (line, cells) from the CSV or XLSX reader and go
out as (line, profile cells, carried cells)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from matcher.bulk.frame import is_empty
from matcher.bulk.headers import ColumnMap, HeaderReader
from matcher.bulk.rows import Rejected
from matcher.errors import InputFileError
from matcher.limits import CELL_CHARS, COLUMNS

#: An id longer than this is cut where a rejected row names it (the row is rejected anyway).
ID_SHOWN = 200
#: Rows looked at for the header when it is not given (title rows come first).
HEADER_SEARCH_ROWS = 30
#: A row whose only text starts so is a note on the table, not a referral.
FOOTNOTE = re.compile(
    r"^\s*(?:备注|注[:：]|注\s*\d|注意|说明|填表说明|填表人|填报人|审核人|制表|数据来源|"
    r"notes?\s*[:：]|\*|※)",
    re.IGNORECASE,
)


@dataclass
class Table:
    """Where a sheet's referrals are and what was set aside around them."""

    header_line: int
    columns: ColumnMap
    above: int = 0
    """Rows with text above the header (titles, "filled in by")."""
    blank: int = 0
    footnotes: list[tuple[int, str]] = field(default_factory=list)

    def fields(self) -> list[str]:
        return list(self.columns.fields.values())

    def notes(self) -> list[str]:
        """What the run says once about the sheet's layout and its headers."""
        out = []
        if self.header_line > 1:
            out.append(
                f"header read on line {self.header_line}"
                + (f" ({self.above} title row(s) above it left out)" if self.above else "")
            )
        out += self.columns.notes
        if self.footnotes:
            line, text = self.footnotes[0]
            more = f" and {len(self.footnotes) - 1} more" if len(self.footnotes) > 1 else ""
            out.append(f"footnote row(s) left out: line {line} '{text[:60]}'{more}")
        return out


def find_header(
    rows: Iterator[tuple[int, list[Any]]],
    reader: HeaderReader,
    where: str,
    header_row: int | None = None,
) -> tuple[int, list[str], list[tuple[int, list[Any]]]] | None:
    """(header line, header cells as text, the rows read after it so far), or None when no
    row of the first ones names a field (or the row asked for is not there)."""
    seen: list[tuple[int, list[Any]]] = []
    for line, cells in rows:
        if COLUMNS.exceeded(len(cells)):
            raise InputFileError(f"{where} line {line}: {COLUMNS.message(len(cells))}")
        seen.append((line, cells))
        if (header_row is not None and line >= header_row) or len(seen) >= HEADER_SEARCH_ROWS:
            break
    if header_row is not None:
        found = [(n, (line, c)) for n, (line, c) in enumerate(seen) if line == header_row]
        if not found:
            raise InputFileError(f"{where}: --header-row {header_row}: there is no such row")
        n = found[0][0]
    else:
        scores = [reader.score(cells) for _, cells in seen]
        if not scores or max(scores) == 0:
            return None
        n = scores.index(max(scores))
    line, cells = seen[n]
    return line, [_text(c) for c in cells], seen


def table_of(
    header_line: int,
    headers: list[str],
    reader: HeaderReader,
    above: list[tuple[int, list[Any]]],
    where: str,
) -> Table:
    """The table under a header row; a header that cannot be used raises, once."""
    while headers and not headers[-1].strip():
        headers.pop()  # unnamed trailing columns: stray cells
    names = [h.strip() or f"(column {n})" for n, h in enumerate(headers, start=1)]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputFileError(
                f"{where}: the header names '{name}' twice; keep one column per field"
            )
        seen.add(name)
    columns = reader.map(names)
    if not {"diagnosis", "indication"} & set(columns.fields.values()):
        raise InputFileError(
            f"{where}: no column holds the diagnosis (header on line {header_line}: "
            f"{', '.join(names[:12])}); name it 诊断 or diagnosis, or give "
            "--map 'COLUMN=diagnosis'"
        )
    written = sum(1 for _, cells in above if any(not is_empty(c) for c in cells))
    return Table(header_line, columns, above=written)


def table_rows(
    table: Table,
    rows: Iterator[tuple[int, list[Any]]],
    *,
    reject_wide: bool,
    skip_blank: bool = True,
) -> Iterator[tuple[int, Any]]:
    """(line, [profile cells..., carried cells...]) per referral row (cells are text or
    None); blank rows are counted and left out (or passed on as None), footnote rows set
    aside; a row wider than the header with text past it is Rejected when `reject_wide`
    (CSV: a stray comma)."""
    width = len(table.columns.headers)
    order = [*table.columns.fields, *table.columns.carried]
    for line, cells in rows:
        text = "".join(filter(None, cells))
        too_large = (len(text) > CELL_CHARS.value or len(cells) > COLUMNS.value) and _too_large(
            table, line, cells
        )
        if too_large:
            yield line, Rejected(_id_of(table, cells), too_large)
            continue
        if not text.strip():
            if skip_blank:
                table.blank += 1
            else:
                yield line, None
            continue
        if skip_blank and FOOTNOTE.match(text) and _one_cell(cells):
            table.footnotes.append((line, text.strip()))
            continue
        wide = len(cells) > width and "".join(filter(None, cells[width:])).strip()
        if wide and reject_wide:
            yield (
                line,
                Rejected(
                    _id_of(table, cells),
                    f"line {line}: {len(cells)} cells but the header has {width} columns: check "
                    "for an unquoted comma or a value in a column without a header",
                ),
            )
            continue
        padded = cells if len(cells) >= width else [*cells, *[None] * (width - len(cells))]
        yield line, [padded[i] for i in order]


def _too_large(table: Table, line: int, cells: list[Any]) -> str | None:
    """Why a row is over a limit (a cell too long, or too many cells), or None."""
    if len(cells) > COLUMNS.value:
        return f"line {line}: {COLUMNS.message(len(cells))}"
    at = next((n for n, c in enumerate(cells) if c and CELL_CHARS.exceeded(len(c))), None)
    if at is None:
        return None
    name = table.columns.headers[at] if at < len(table.columns.headers) else f"column {at + 1}"
    return f"line {line}: column '{name}': {CELL_CHARS.message(len(cells[at]))}"


def _one_cell(cells: list[Any]) -> bool:
    return sum(1 for c in cells if c and c.strip()) == 1


def _id_of(table: Table, cells: list[Any]) -> str | None:
    for index, name in table.columns.fields.items():
        if name == "referral_id" and index < len(cells) and not is_empty(cells[index]):
            return str(cells[index])[:ID_SHOWN]
    return None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()
