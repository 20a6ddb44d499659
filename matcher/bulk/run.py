"""One screening run: read a file in chunks, screen each, write the results and the rejected
rows as they come, and record the run in the database in one transaction (DESIGN section 9).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from matcher.bulk.frame import (
    DIAGNOSIS_UNRECOGNISED,
    NO_OPTION_STATUSES,
    saved_referrals,
    split_result,
)
from matcher.bulk.headers import HeaderReader, bundled_names
from matcher.bulk.readers import Chunk, Source, open_source
from matcher.bulk.screening import EMPTY_ROW, screen_chunk
from matcher.bulk.table import Table
from matcher.bulk.wide import Shape
from matcher.bulk.writers import OutputSet, Writer
from matcher.core.catalog import Catalog
from matcher.core.places import Place
from matcher.errors import CartmatchError

ENGINES = ("pandas", "dask")
CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class Settings:
    """How to screen: reference date, exchange rate, what to show, how to run, what to keep."""

    today: date
    fx: float | None = None
    include_all: bool = False
    encoding: str | None = None
    engine: str = "pandas"
    scheduler: str | None = None
    """Dask scheduler address (default: a cluster on this machine)."""
    chunk_rows: int = CHUNK_ROWS
    save: bool = True
    sheet: str | None = None
    """XLSX: the sheet to read, by name or number from 1 (default: the first with a header)."""
    header_row: int | None = None
    """CSV and XLSX: the header's line (default: found below any title rows)."""
    given: dict[str, str] = field(default_factory=dict)
    """--map: column header -> profile field ('' carries the column through)."""
    layout: str = "long"
    """long: a row per referral and option; wide: a row per referral (the call list)."""
    place: Place | None = None
    """--city/--province: only options with a site there."""


@dataclass
class Summary:
    """What a run did; its counts add up: rows_in = screened + rejected."""

    input: str
    output: str
    errors: str
    format: str
    encoding: str | None
    sha256: str
    catalog_version: str
    today: str
    include_all: bool
    engine: str
    rows_in: int = 0
    screened: int = 0
    rejected: int = 0
    empty_rows: int = 0
    trailing_empty: int = 0
    with_options: int = 0
    without_options: int = 0
    unrecognised: int = 0
    """Referrals whose diagnosis could not be read (status diagnosis_unrecognised)."""
    option_rows: int = 0
    blank_rows: int = 0
    """CSV and XLSX: blank rows between the referrals, left out."""
    notes: list[str] = field(default_factory=list)
    """What was said once about the file: the sheet, the header, columns, footnotes."""
    statuses: dict[str, int] = field(default_factory=dict)
    run_id: int | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        """The summary printed on stderr."""
        read_as = self.encoding or self.format
        out = [
            f"screened {self.input} ({read_as}) against catalog {self.catalog_version}, "
            f"reference date {self.today}",
            *self.notes,
            f"rows in {self.rows_in:,} = screened {self.screened:,} + rejected {self.rejected:,}"
            + (f" ({self.empty_rows:,} of them empty)" if self.empty_rows else ""),
        ]
        statuses = ", ".join(f"{k} {v:,}" for k, v in self.statuses.items())
        out.append(
            f"{self.with_options:,} referral(s) with options ({self.option_rows:,} option rows"
            + (f": {statuses}" if statuses else "")
            + f"), {self.without_options:,} with none"
            + (
                f" ({self.unrecognised:,} with a diagnosis not recognised: filter status "
                f"{DIAGNOSIS_UNRECOGNISED})"
                if self.unrecognised
                else ""
            )
        )
        where = "item number" if self.format == "json" else "line"
        out.append(f"results: {self.output}; rejected rows with {where} and reason: {self.errors}")
        if self.trailing_empty:
            out.append(f"ignored {self.trailing_empty:,} empty line(s) at the end of the file")
        if self.blank_rows:
            out.append(f"left out {self.blank_rows:,} blank row(s) between the referrals")
        rate = self.rows_in / self.seconds if self.seconds else 0
        saved = (
            f"saved as screening run {self.run_id}"
            if self.run_id is not None
            else "not saved (--no-save)"
        )
        out.append(f"{saved}; {self.seconds:.1f} s, {rate:,.0f} rows/s")
        return out


Progress = Callable[[int, float], None]


def run_screen(
    input_path: Path,
    output: Path,
    errors: Path,
    catalog: Catalog,
    settings: Settings,
    *,
    db_path: Path | None = None,
    progress: Progress | None = None,
) -> Summary:
    """Screen a file of referrals into `output` and `errors`; record the run unless not saving."""
    start = time.perf_counter()
    if settings.engine not in ENGINES:
        raise CartmatchError(f"engine '{settings.engine}': use one of {', '.join(ENGINES)}")
    source = open_source(input_path, settings.encoding)
    _distinct_paths(input_path, output, errors)
    reader = HeaderReader(bundled_names(), catalog.lexicon, settings.given)
    table = source.find_table(reader, sheet=settings.sheet, header_row=settings.header_row)
    summary = _summary(source, output, errors, catalog, settings)
    shape = Shape(settings.layout, table.columns.carried_names if table else [])
    statuses: Counter[str] = Counter()
    with ExitStack() as stack:
        runs = None
        if settings.save:
            runs, catalog = _open_run(stack, db_path, summary, catalog)
        outputs = stack.enter_context(OutputSet(output, shape.columns(), errors))
        results, rejects = outputs.results, outputs.rejects
        chunks = source.chunks(settings.chunk_rows)
        # Files are written on a thread (Arrow's CSV and Parquet writers release the GIL)
        # while the next chunk is screened; one chunk at a time, in order.
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=1))
        writing: Future[None] | None = None
        screened = _screened(chunks, catalog, settings)
        for n, (chunk, (result, profiles)) in enumerate(screened, start=1):
            shown, bad = _checked(chunk, result, table)
            if writing is not None:
                writing.result()
            rows = shape.rows(shown, bad, chunk.carried)
            writing = pool.submit(_write, results, rejects, rows, bad)
            _count(summary, statuses, chunk, shown, bad)
            if runs is not None:
                runs.add_referrals(summary.run_id, saved_referrals(profiles, shown, chunk.carried))
            if progress is not None and n > 1:
                progress(summary.rows_in, time.perf_counter() - start)
        if writing is not None:
            writing.result()
        _close(summary, statuses, source, table, start)
        results.summary = summary.lines()
        if runs is not None:
            runs.finish(summary.run_id, *_saved(summary))
    return summary


def _checked(chunk: Chunk, result: Any, table: Table | None) -> tuple[Any, Any]:
    """(rows to show, rejected rows with where and why) of a screened chunk."""
    shown, bad = split_result(result, chunk.rejected)
    return shown, _named(chunk.located(bad), table)


def _summary(
    source: Source, output: Path, errors: Path, catalog: Catalog, settings: Settings
) -> Summary:
    return Summary(
        input=str(source.path),
        output=str(output),
        errors=str(errors),
        format=source.format,
        encoding=source.encoding,
        sha256=source.sha256,
        catalog_version=catalog.version.version,
        today=settings.today.isoformat(),
        include_all=settings.include_all,
        engine=settings.engine,
    )


def _distinct_paths(input_path: Path, output: Path, errors: Path) -> None:
    """No file of a run may overwrite another (the input least of all)."""
    resolved = {input_path.resolve()}
    for what, path in (("output", output), ("errors file", errors)):
        if path.resolve() in resolved:
            raise CartmatchError(
                f"{what} {path} would overwrite another file of this run; give a different path"
            )
        resolved.add(path.resolve())


def _close(
    summary: Summary, statuses: Counter[str], source: Source, table: Table | None, start: float
) -> None:
    summary.trailing_empty = source.trailing_empty
    if table is not None:
        summary.blank_rows, summary.notes = table.blank, _notes(source, table)
    summary.statuses = dict(sorted(statuses.items(), key=lambda kv: _STATUS_ORDER.get(kv[0], 9)))
    if summary.rows_in != summary.screened + summary.rejected:  # pragma: no cover
        raise RuntimeError(f"rows do not add up: {summary.as_dict()}")
    summary.seconds = time.perf_counter() - start


def _write(results: Writer, rejects: Writer, shown: Any, bad: Any) -> None:
    results.write(shown)
    rejects.write(bad)
    results.write_errors(bad)


def _notes(source: Source, table: Table) -> list[str]:
    sheet = [f"sheet '{source.sheet}'"] if source.sheet else []
    return [f"  {note}" for note in [*sheet, *table.notes(), *_multiline(source)]]


def _multiline(source: Source) -> list[str]:
    """Rows whose quoted cell runs over lines: meant (a line break in a note) or a quote left
    open that swallowed rows; the coordinator is told where to look."""
    if not source.multiline:
        return []
    first, last = source.multiline[0]
    more = f" and {len(source.multiline) - 1} more row(s)" if len(source.multiline) > 1 else ""
    return [
        f"a quoted cell runs over lines {first}-{last}{more}: if those lines are referrals, "
        "a quote is missing; check them"
    ]


def _named(bad: Any, table: Table | None) -> Any:
    """A rejected row's reason names the column the field was read from, when the column
    is not named as the field ("field 'age' ... (column 年龄)")."""
    if table is None or not len(bad):
        return bad
    columns = {f: table.columns.column_of(f) for f in set(bad["field"].dropna().tolist())}
    columns = {f: c for f, c in columns.items() if c}
    if not columns:
        return bad
    bad = bad.copy()
    suffix = bad["field"].map(lambda f: f" (column '{columns[f]}')" if f in columns else "")
    bad["reason"] = (bad["reason"] + suffix.fillna("")).astype("str")
    return bad


_STATUS_ORDER = {"eligible": 0, "possible": 1, "near_miss": 2, "ineligible": 3}


def _count(summary: Summary, statuses: Counter[str], chunk: Chunk, shown: Any, bad: Any) -> None:
    summary.rows_in += chunk.rows
    summary.rejected += len(bad)
    summary.empty_rows += int((bad["reason"] == EMPTY_ROW).sum())
    status = shown["status"]
    single = status.isin(NO_OPTION_STATUSES)
    options = status[~single]
    summary.option_rows += len(options)
    summary.without_options += int(single.sum())
    summary.unrecognised += int((status == DIAGNOSIS_UNRECOGNISED).sum())
    referrals = shown["line"].nunique()
    summary.screened += referrals
    summary.with_options += referrals - int(single.sum())
    statuses.update({k: v for k, v in options.value_counts().to_dict().items() if v})


def _open_run(
    stack: ExitStack, db_path: Path | None, summary: Summary, catalog: Catalog
) -> tuple[Any, Catalog]:
    """The run's store, in one write transaction for the whole run, with the run's row; and
    the catalog to screen against: the one read before, or, when a refresh was applied
    while this run waited for the lock, the catalog as it is now (the run is saved against
    the version it was screened with)."""
    from matcher.paths import default_db_path
    from matcher.storage.catalog_store import read_catalog
    from matcher.storage.db import meta, writing
    from matcher.storage.runs import RunStore

    db = stack.enter_context(writing(db_path or default_db_path()))
    if meta(db.conn).get("catalog_version", catalog.version.version) != catalog.version.version:
        catalog = read_catalog(db.conn)
        summary.catalog_version = catalog.version.version
    runs = RunStore(db)
    summary.run_id = runs.start(
        input_name=Path(summary.input).name,
        input_hash=summary.sha256,
        catalog_version=summary.catalog_version,
        include_all=summary.include_all,
    )
    return runs, catalog


def _saved(summary: Summary) -> tuple[dict[str, int], dict[str, Any]]:
    """The run's counts (kept in their own columns) and the rest of its summary."""
    data = summary.as_dict()
    data.pop("run_id")
    counts = {"rows_in": data.pop("rows_in"), "screened": data.pop("screened")}
    return {**counts, "rejected": data.pop("rejected")}, data


# ------------------------------------------------------------------------------- engines


def _screened(
    chunks: Iterator[Chunk], catalog: Catalog, settings: Settings
) -> Iterator[tuple[Chunk, tuple[Any, dict[int, str]]]]:
    """(chunk, (screened frame, saved profiles)) in input order, here or on Dask."""
    if settings.engine == "dask":
        from matcher.bulk.distributed import on_dask

        yield from on_dask(chunks, catalog, settings.scheduler, _options(settings))
        return
    for chunk in chunks:
        yield chunk, screen_chunk(chunk.frame, catalog, **_options(settings))


def _options(settings: Settings) -> dict[str, Any]:
    return {
        "today": settings.today,
        "include_all": settings.include_all,
        "fx": settings.fx,
        "place": settings.place,
        "profiles": settings.save,
    }
