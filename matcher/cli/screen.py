"""`cartmatch screen`: a file of referrals in, ranked options per referral out (bulk)."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import click

from matcher.cli import DATE, FX_RATE, App, cli, pass_app, reference_date

PATH = click.Path(dir_okay=False, path_type=Path)


@cli.command()
@click.argument("input_path", metavar="INPUT", type=PATH)
@click.option(
    "-o",
    "--output",
    required=True,
    type=PATH,
    help="Results: .csv, .xlsx, .json, .jsonl or .parquet.",
)
@click.option(
    "--errors",
    type=PATH,
    help="Rejected rows with line (JSON array: item number) and reason "
    "(default: OUTPUT's name + .errors.csv).",
)
@click.option(
    "--no-save", is_flag=True, help="Do not record the run (nor the referrals) in the database."
)
@click.option(
    "--encoding", help="Text encoding of INPUT (default: UTF-8, with or without BOM, else GB18030)."
)
@click.option(
    "--all",
    "include_all",
    is_flag=True,
    help="Also list ineligible options (with the criteria that exclude them) and closed trials.",
)
@click.option(
    "--today",
    type=DATE,
    help="Reference date for ages from date_of_birth (default: today).",
)
@click.option(
    "--fx",
    type=FX_RATE,
    help="Exchange rate, CNY per USD (default: rules/costs.yaml).",
)
@click.option(
    "--engine",
    type=click.Choice(["pandas", "dask"]),
    default="pandas",
    show_default=True,
    help="dask: screen chunk by chunk on a Dask cluster (pip install 'cartmatch[dask]').",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Dask scheduler to use with --engine dask (default: a cluster on this machine).",
)
@click.option(
    "--chunk-rows",
    type=click.IntRange(min=1),
    default=50_000,
    show_default=True,
    help="Rows screened at a time (bounds memory).",
)
@click.option(
    "--layout",
    type=click.Choice(["long", "wide"]),
    default="long",
    show_default=True,
    help="long: a row per referral and option; wide: a row per referral with its best "
    "options, what to ask for and their costs (a call list).",
)
@click.option(
    "--sheet",
    metavar="NAME|N",
    help="XLSX: the sheet to read (default: the first with a header naming profile fields).",
)
@click.option(
    "--header-row",
    type=click.IntRange(min=1),
    metavar="N",
    help="CSV/XLSX: the header's row number (default: found below any title rows).",
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="'COLUMN=field'",
    help="Read a column as a profile field (antigens.CD19, labs.lvef); 'COLUMN=' carries it "
    "through. Headers in rules/headers.yaml need none.",
)
@click.option(
    "--city",
    help="Keep options with a site in this city (Shanghai, 北京); a referral whose options "
    "are all elsewhere gets a no_option row saying how many.",
)
@click.option("--province", help="Keep options with a site in this province (Guangdong, 湖北).")
@pass_app
def screen(
    app: App,
    input_path: Path,
    output: Path,
    errors: Path | None,
    no_save: bool,
    today: Any,
    mapping: tuple[str, ...],
    city: str | None,
    province: str | None,
    **how: Any,
) -> None:
    """Screen a file of referrals: one row per referral and option, ranked.

    INPUT is CSV, XLSX, JSON (an array) or JSON Lines with the profile fields as columns
    (antigens.CD19, labs.lvef; prior_therapies separated by ;). CSV and XLSX headers may be
    written as partners write them (诊断, 年龄, CD19表达: rules/headers.yaml), below title
    rows; other columns are carried through. CSV from a Chinese Excel
    (GBK/GB18030, or UTF-8 with BOM) is read as such. Every row is accounted for: a referral
    gets its option rows (or one no_option row); a bad row goes to the errors file with its
    line number and reason and never stops the run. A CSV whose quotes cannot be told apart
    (a quote left open) stops the run with the line to fix, and nothing is written. Text
    cells in CSV/XLSX output that a spreadsheet could run as a formula (= + - @, also after
    spaces or invisible characters, and their full-width forms) get a leading '.

    The results and the errors file are written as a set (both or neither), readable by
    their owner only; the output folder must exist.

    The run (input hash, catalog version, counts, each referral's options) is recorded in
    the database unless --no-save. The summary goes to stderr.

    \b
    Examples:
      cartmatch screen referrals.csv -o results.csv
      cartmatch screen 转诊.csv -o results.xlsx --errors rejected.csv --no-save
      cartmatch screen referrals.csv -o shanghai.csv --city Shanghai
      cartmatch screen cohort.jsonl -o results.parquet --engine dask --scheduler tcp://10.0.0.5:8786
    """
    from matcher.bulk.headers import parse_map
    from matcher.bulk.run import Settings, run_screen

    catalog = app.catalog()
    # `how`: --fx, --all, --encoding, --engine, --scheduler, --chunk-rows, --layout, --sheet
    # and --header-row, named as in Settings.
    settings = Settings(
        today=reference_date(today),
        save=not no_save,
        given=parse_map(mapping),
        place=catalog.place(city, province),
        **how,
    )
    signal.signal(signal.SIGTERM, _stopped)  # a stopped run removes its partial files
    summary = run_screen(
        input_path,
        output,
        errors or errors_path(output),
        catalog,
        settings,
        db_path=app.path(),
        progress=_progress,
    )
    for line in [*_place_line(catalog, settings.place), *summary.lines()]:
        click.echo(line, err=True)
    if not summary.screened:
        raise click.ClickException(
            f"no referral was screened ({summary.rows_in:,} row(s) read, all rejected): "
            f"see {summary.errors}"
            if summary.rows_in
            else "no referral rows found under the header: check --sheet and --header-row"
        )


def errors_path(output: Path) -> Path:
    """The errors file beside OUTPUT: results.csv -> results.errors.csv; any other format
    keeps its own name in it (results.xlsx -> results.xlsx.errors.csv), so two runs into
    different formats never write the same errors file."""
    if output.suffix.lower() == ".csv":
        return output.with_name(f"{output.stem}.errors.csv")
    return output.with_name(f"{output.name}.errors.csv")


def _stopped(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def _place_line(catalog: Any, place: Any) -> list[str]:
    if place is None:
        return []
    from matcher.core.places import at_place

    there = at_place(catalog.entries, catalog.places, place)
    return [
        f"options kept only where the entry lists a site in {place.label()}: "
        f"{len(there)} of {len(catalog.entries)} entries"
    ]


def _progress(rows: int, seconds: float) -> None:
    click.echo(f"... {rows:,} rows in {seconds:.0f} s", err=True)


# `cartmatch template` (the workbook partners fill in for `screen`) is registered with it.
from matcher.cli import template as _template  # noqa: E402, F401
