"""A spreadsheet of updates (CSV or XLSX): one row per entry, only the columns to change.

Columns (header names are case-insensitive; blank cells change nothing):

| column | meaning |
|---|---|
| `id` | the entry id (required) |
| `source` | where the new values come from: a title or an address (required) |
| `source_url` | the source's address, when `source` is a title |
| `as_of` | the date the values were true, YYYY-MM-DD (required; not after the reference date) |
| `indication` | optional: one indication (cohort) id of the entry; the row's `status` is its only |
| `list_price_cny` | list price in CNY, a positive number (1,200,000 and ¥1200000 are read) |
| `price_unit` | `per_infusion` or `per_course` |
| `status` | the entry status (recruiting, closed, approved, ...) |
| `sites` | every site: `Name / City / status; Name / City / status` (city, status optional) |
| `sponsor` | the sponsor's name |
| `manufacturing` | manufacturing or vein-to-vein time, as text |

`as_of` becomes the changed facts' `last_verified`; a date after the refresh's reference date
(`--today`, default today) is refused.

Each entry is on one row: a sheet with two rows for the same `id` is rejected, unless they
name different indications. A `status` on a row with no `indication` is the entry's, and its
indications follow it as `matcher.curation.importers.set_status` says (a closed status closes them
all); when the entry has more than one indication, the refresh notes what each one becomes. A
row with an `indication` sets that indication's status and nothing else (the entry's own
status is kept; other columns go on the entry's row), and is applied after the entry rows.

Row numbers are the spreadsheet's own (the header is row 1). Chinese CSVs saved by Excel
(UTF-8 with BOM, GB18030/GBK) are read. Every problem names the file, row and column.
"""

from __future__ import annotations

import copy
import math
import re
from datetime import date
from pathlib import Path
from typing import Any, get_args

from matcher.core.entry import Entry
from matcher.curation.importers import (
    Checker,
    EntryData,
    Outcome,
    State,
    add_source,
    set_status,
    source_id,
)
from matcher.errors import CatalogError
from matcher.model.base import did_you_mean
from matcher.model.facts import EntryStatus

META_COLUMNS = ("id", "source", "source_url", "as_of", "indication")
CHANGE_COLUMNS = ("list_price_cny", "price_unit", "status", "sites", "sponsor", "manufacturing")
_STATUSES = get_args(EntryStatus)
_UNITS = ("per_infusion", "per_course")
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T]00:00(?::00)?)?$")


class RowError(ValueError):
    """A bad cell: carries the column it is in."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


def read_sheet(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(row number, {column: text}) for every non-blank row; headers lower-cased. Read by
    the same reader as referral files (`bulk.readers`): encodings, BOMs, XLSX cells."""
    from matcher.bulk.readers import open_source
    from matcher.errors import InputFileError

    try:
        source = open_source(path)
        if source.format not in ("csv", "xlsx"):
            raise CatalogError(f"{path}: a sheet of updates is a .csv or .xlsx file")
        rows: list[tuple[int, dict[str, str]]] = []
        for chunk in source.chunks(10_000):
            columns = _columns(path, list(chunk.frame.columns))
            for line, _, reason in chunk.rejected:
                raise CatalogError(
                    f"{path} row {line}: {reason.removeprefix(f'line {line}: ')}",
                    path=str(path),
                    location=f"row {line}",
                )
            frame = chunk.frame
            for line, values in zip(frame.index, frame.itertuples(index=False), strict=True):
                row = {c: _cell(v) for c, v in zip(columns, values, strict=True)}
                if any(row.values()):
                    rows.append((int(line), row))
    except InputFileError as error:
        raise CatalogError(str(error), path=str(path)) from None
    return rows


def _columns(path: Path, header: list[str]) -> list[str]:
    columns = [str(c).strip().casefold() for c in header]
    allowed = (*META_COLUMNS, *CHANGE_COLUMNS)
    for column in columns:
        if column not in allowed:
            raise CatalogError(
                f"{path} row 1, column '{column}': not a column this refresh can change"
                f"{did_you_mean(column, allowed)}; allowed: {', '.join(allowed)}",
                path=str(path),
                location=f"row 1.{column}",
            )
    if "id" not in columns:
        raise CatalogError(
            f"{path} row 1: no `id` column; add one naming the entry of each row",
            path=str(path),
            location="row 1",
        )
    return columns


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip()


# -- parsing cells ---------------------------------------------------------------------------


#: The highest list price a refresh sheet may set, in CNY: ten times the dearest CAR-T list
#: price anywhere (about USD 500,000, CNY 3.6 million). A figure above it is a typo or a unit
#: slip (fen for yuan), and would rank and cost every option that reaches the entry wrongly.
MAX_PRICE_CNY = 36_000_000


def parse_price(text: str) -> float:
    cleaned = re.sub(r"[,\s¥￥]|CNY|RMB|元", "", text, flags=re.I)
    if len(cleaned) > 20:
        raise RowError("list_price_cny", f"'{text[:30]}…' is too long to be a price")
    try:
        value = float(cleaned)
    except ValueError:
        raise RowError("list_price_cny", f"'{text}' is not a number") from None
    if not math.isfinite(value) or not value > 0:
        raise RowError("list_price_cny", f"{text} is not a positive price")
    if value > MAX_PRICE_CNY:
        raise RowError(
            "list_price_cny",
            f"{text} is above CNY {MAX_PRICE_CNY:,}, ten times any CAR-T list price: check "
            "the figure and its unit (yuan, not fen)",
        )
    return value


def parse_status(text: str, column: str = "status") -> str:
    key = re.sub(r"[\s\-]+", "_", text.strip().casefold())
    if key not in _STATUSES:
        raise RowError(
            column,
            f"'{text}' is not a status{did_you_mean(key, _STATUSES)}; "
            f"use one of {', '.join(_STATUSES)}",
        )
    return key


def parse_sites(text: str) -> list[dict[str, Any]]:
    """`Name / City / status; ...` -> site records (city and status optional)."""
    sites = []
    for part in re.split(r"[;；\n]", text):
        if not part.strip():
            continue
        name, city, status, *extra = [*(p.strip() for p in part.split("/")), "", ""][:4]
        if (extra and extra[0]) or not name:
            raise RowError("sites", f"'{part.strip()}' is not `Name / City / status`")
        site: dict[str, Any] = {"name": name}
        if city:
            site["city"] = city
        if status:
            site["status"] = parse_status(status, "sites")
        sites.append(site)
    return sites


def parse_date(text: str, column: str = "as_of") -> str:
    match = _DATE.match(text)
    try:
        return (
            date.fromisoformat(match[1]).isoformat()
            if match
            else date.fromisoformat(text).isoformat()
        )
    except ValueError:
        raise RowError(column, f"'{text}' is not a date (YYYY-MM-DD)") from None


# -- applying rows ---------------------------------------------------------------------------


def apply_row(data: EntryData, row: dict[str, str], today: date | None = None) -> EntryData:
    """The entry with the row's changes applied (a new dict); RowError on a bad cell.

    `today` is the reference date (default: today): an `as_of` after it is refused.
    """
    changes = {c: row[c] for c in CHANGE_COLUMNS if row.get(c)}
    if not changes:
        raise RowError("id", "the row changes nothing (every column to change is blank)")
    title = row.get("source", "")
    if not title:
        raise RowError("source", "missing: say where the new values come from")
    as_of = _as_of(row, today or date.today())
    indication = _indication(data, row, changes)
    url = row.get("source_url") or (title if re.match(r"https?://", title) else None)
    sid = source_id("upd", title, url, as_of)
    stamp = {"sources": [sid], "last_verified": as_of}
    out = copy.deepcopy(data)
    add_source(out, sid, {"title": title, "url": url, "date": as_of})
    if indication is not None:
        cohort = out["indications"][indication]
        cohort["status"] = {"value": parse_status(changes["status"]), **stamp}
        return out
    if "list_price_cny" in changes or "price_unit" in changes:
        price = {k: v for k, v in (out.get("price") or {}).items() if k not in ("note", "band_cny")}
        if "list_price_cny" in changes:
            price.update(amount_cny=parse_price(changes["list_price_cny"]), as_of=as_of)
        if "price_unit" in changes:
            unit = changes["price_unit"].strip().casefold().replace(" ", "_")
            if unit not in _UNITS:
                raise RowError(
                    "price_unit", f"'{changes['price_unit']}' is not per_infusion or per_course"
                )
            price["unit"] = unit
        out["price"] = {**price, **stamp, "confidence": "high"}
    if "status" in changes:
        set_status(out, {"value": parse_status(changes["status"]), **stamp})
    if "sites" in changes:
        out["sites"] = [{**site, **stamp} for site in parse_sites(changes["sites"])]
    for column in ("sponsor", "manufacturing"):
        if column in changes:
            out[column] = {"value": changes[column], **stamp}
    return out


def _as_of(row: dict[str, str], today: date) -> str:
    if not row.get("as_of"):
        raise RowError("as_of", "missing: give the date the values were true (YYYY-MM-DD)")
    as_of = parse_date(row["as_of"])
    if date.fromisoformat(as_of) > today:
        raise RowError(
            "as_of", f"{as_of} is later than the reference date {today} (--today, default today)"
        )
    return as_of


def _indication(data: EntryData, row: dict[str, str], changes: dict[str, str]) -> int | None:
    """The index of the indication the row's `indication` cell names (None when blank)."""
    wanted = _key(row.get("indication", ""))
    if not wanted:
        return None
    ids = [str(i.get("id", "")) for i in data.get("indications") or []]
    if wanted not in ids:
        raise RowError(
            "indication",
            f"'{wanted}' is not an indication of '{data.get('id')}'{did_you_mean(wanted, ids)}; "
            f"its indications: {', '.join(ids) or 'none'}",
        )
    if "status" not in changes:
        raise RowError("status", f"missing: a row naming indication '{wanted}' sets its status")
    others = [c for c in changes if c != "status"]
    if others:
        raise RowError(
            "indication",
            f"a row naming indication '{wanted}' sets its status only, but this one also "
            f"changes {', '.join(others)}; put those on the entry's row (indication blank)",
        )
    return ids.index(wanted)


def import_sheet(path: Path, state: State, check: Checker, today: date | None = None) -> Outcome:
    """Apply every row of a sheet to the working catalog `state`.

    The whole sheet is checked for unknown and repeated ids before any row is applied; rows
    naming an indication are applied after the entry rows, so they win over an entry's status.
    """
    outcome = Outcome()
    rows = read_sheet(path)
    seen: dict[tuple[str, str], int] = {}
    for number, row in rows:
        entry_id = _entry_id(path, number, row, state)
        key = (entry_id, _key(row.get("indication", "")))
        if key in seen:
            what = f"'{entry_id}' indication '{key[1]}'" if key[1] else f"'{entry_id}'"
            unit = "indication" if key[1] else "entry"
            raise CatalogError(
                f"{path} rows {seen[key]} and {number} both update {what}: put each {unit} "
                "on one row",
                path=str(path),
                location=f"row {number}.id",
            )
        seen[key] = number
    before = {i: copy.deepcopy(state[i]) for i, _ in seen}
    ordered = sorted(rows, key=lambda item: bool(_key(item[1].get("indication", ""))))
    for number, row in ordered:
        where = f"{path} row {number}"
        entry_id = _key(row["id"])
        try:
            data = apply_row(state[entry_id], row, today)
        except RowError as error:
            raise CatalogError(
                f"{where}, column {error.column}: {error}; fix the sheet and run the refresh again",
                path=str(path),
                location=f"row {number}.{error.column}",
            ) from None
        entry: Entry = check(data, f"{where} (columns {', '.join(_changed(row))})")
        state[entry_id] = entry.model_dump(mode="json", by_alias=True, exclude_none=True)
        outcome.touch(entry_id)
    for number, row in rows:
        if row.get("status") and not _key(row.get("indication", "")):
            entry_id = _key(row["id"])
            note = _status_note(entry_id, before[entry_id], state[entry_id], seen)
            if note:
                outcome.notes.append(f"{path} row {number}: {note}")
    return outcome


def _entry_id(path: Path, number: int, row: dict[str, str], state: State) -> str:
    entry_id = _key(row.get("id", ""))
    if not entry_id:
        raise CatalogError(
            f"{path} row {number}, column id: missing; name the entry to change",
            path=str(path),
            location=f"row {number}.id",
        )
    if entry_id not in state:
        raise CatalogError(
            f"{path} row {number}, column id: no entry '{entry_id}'"
            f"{did_you_mean(entry_id, state)}; `cartmatch lookup WORD` finds entries",
            path=str(path),
            location=f"row {number}.id",
        )
    return entry_id


def _status_note(
    entry_id: str, old: EntryData, new: EntryData, seen: dict[tuple[str, str], int]
) -> str | None:
    """What an entry-wide status did to each indication, when the entry has more than one."""
    cohorts = new.get("indications") or []
    if len(cohorts) < 2:
        return None
    was = {i["id"]: (i.get("status") or {}).get("value") for i in old.get("indications") or []}
    parts = []
    for cohort in cohorts:
        now = (cohort.get("status") or {}).get("value")
        then = was.get(cohort["id"])
        row = seen.get((entry_id, cohort["id"]))
        if row:
            parts.append(f"{cohort['id']} {then} -> {now} (row {row})")
        elif then == now:
            parts.append(f"{cohort['id']} keeps {now}")
        else:
            parts.append(f"{cohort['id']} {then} -> {now}")
    value = (new.get("status") or {}).get("value")
    return (
        f"status '{value}' for '{entry_id}' is applied to its {len(cohorts)} indications too: "
        f"{', '.join(parts)}; to change one indication only, name it in an `indication` column"
    )


def _key(text: str) -> str:
    return text.strip().casefold()


def _changed(row: dict[str, str]) -> list[str]:
    return [c for c in CHANGE_COLUMNS if row.get(c)]


__all__ = ["CHANGE_COLUMNS", "apply_row", "import_sheet", "read_sheet"]
