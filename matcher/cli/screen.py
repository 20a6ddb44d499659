"""`cartmatch screen`: a file of referrals in, ranked options per referral out (bulk)."""

from __future__ import annotations

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
@pass_app
def screen(
    app: App,
    input_path: Path,
    output: Path,
    errors: Path | None,
    no_save: bool,
    today: Any,
    **how: Any,
) -> None:
    """Screen a file of referrals: one row per referral and option, ranked.

    INPUT is CSV, XLSX, JSON (an array) or JSON Lines with the profile fields as columns
    (antigens.CD19, labs.lvef; prior_therapies separated by ;). CSV from a Chinese Excel
    (GBK/GB18030, or UTF-8 with BOM) is read as such. Every row is accounted for: a referral
    gets its option rows (or one no_option row); a bad row goes to the errors file with its
    line number and reason and never stops the run. Text cells in CSV/XLSX output that begin
    with = + - @ are prefixed with ' so a spreadsheet never runs them.

    The run (input hash, catalog version, counts, each referral's options) is recorded in
    the database unless --no-save. The summary goes to stderr.

    \b
    Examples:
      cartmatch screen referrals.csv -o results.csv
      cartmatch screen 转诊.csv -o results.xlsx --errors rejected.csv --no-save
      cartmatch screen cohort.jsonl -o results.parquet --engine dask --scheduler tcp://10.0.0.5:8786
    """
    from matcher.bulk.run import Settings, run_screen

    # `how`: --fx, --all, --encoding, --engine, --scheduler and --chunk-rows, named as in Settings.
    settings = Settings(today=reference_date(today), save=not no_save, **how)
    errors = errors or output.with_name(f"{output.stem}.errors.csv")
    summary = run_screen(
        input_path, output, errors, app.catalog(), settings, db_path=app.path(), progress=_progress
    )
    for line in summary.lines():
        click.echo(line, err=True)


def _progress(rows: int, seconds: float) -> None:
    click.echo(f"... {rows:,} rows in {seconds:.0f} s", err=True)
