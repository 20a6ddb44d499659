"""`cartmatch report`: one referral's options as a PDF or HTML report to send, for the family
or the tumour board, in English or Chinese; or one report per referral of a saved screening
run. The report libraries (Jinja2, WeasyPrint) are imported inside the command only."""

from __future__ import annotations

import json
import re
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click

from matcher.cli import DATE, FX_RATE, App, cli, pass_app, reference_date
from matcher.cli.match import _profile_options, _raw_profile, _source_name
from matcher.errors import CartmatchError, NotFoundError


@cli.command()
@click.argument("profile", required=False)
@_profile_options
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="FILE.pdf or FILE.html; with --run, a folder (one file per referral).",
)
@click.option(
    "--audience",
    type=click.Choice(["family", "mdt"]),
    default="family",
    show_default=True,
    help="family: plain words; mdt: the criterion table, curator notes, every exclusion.",
)
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True)
@click.option(
    "--currency",
    type=click.Choice(["CNY", "USD"], case_sensitive=False),
    default="CNY",
    show_default=True,
    help="Currency shown first (the other alongside).",
)
@click.option("--fx", type=FX_RATE, help="Exchange rate, CNY per USD (default: rules/costs.yaml).")
@click.option("--today", type=DATE, help="The report's date (default: today).")
@click.option("--run", "run_id", type=int, help="Write one report per referral of this saved run.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pdf", "html"]),
    help="With --run: the format of each file (default: pdf). Without --run, the suffix of "
    "-o says it.",
)
@pass_app
def report(
    app: App,
    profile: str | None,
    output: Path,
    audience: str,
    lang: str,
    currency: str,
    fx: float | None,
    today: Any,
    run_id: int | None,
    fmt: str,
    **fields: Any,
) -> None:
    """Write a report to send: the patient as received, the options grouped as can proceed,
    needs tests or records first, and close but; one list of records to request; costs with
    a chart beside the US reference; sites; sources; and a disclaimer.

    PROFILE is read as `match` reads it (a JSON file, or - for standard input; flags add to it).
    The file is readable by its owner only.

    \b
    Examples:
      cartmatch report --diagnosis DLBCL --status refractory --prior-lines 2 --age 54 -o r.pdf
      cartmatch report referral.json --audience mdt --lang zh -o referral-mdt.pdf
      cartmatch report --run 3 -o reports/ --format html
    """
    from matcher.report.files import report_format
    from matcher.report.pdf_worker import PdfWorker

    fmt = _checked_request(profile, output, run_id, fmt, fields)
    pdf = (fmt if run_id is not None else report_format(output)) == "pdf"
    # Started first: the PDF writer gets ready (WeasyPrint, the font) while this process
    # imports the engine, reads the catalog and matches.
    with PdfWorker() if pdf else nullcontext() as writer:
        from matcher.report.content import ReportRequest

        request = ReportRequest(audience, lang, currency.upper(), reference_date(today))
        catalog = app.catalog()
        if run_id is not None:
            written = _run_reports(app, catalog, run_id, output, fmt, request, fx, writer)
        else:
            raw = _raw_profile(profile, fields)
            _write_one(catalog, raw, _source_name(profile), output, request, fx, writer)
    if run_id is not None:
        click.echo(f"{written} report(s) written to {output}", err=True)
    else:
        click.echo(f"report written to {output}", err=True)


def _checked_request(
    profile: str | None, output: Path, run_id: int | None, fmt: str | None, fields: dict
) -> str:
    """The format for --run, after refusing what would be silently ignored: a profile with
    --run, --format without it, and a target that cannot be written."""
    given = profile is not None or any(v for v in fields.values() if v not in (None, ()))
    if run_id is not None and given:
        raise click.UsageError("--run reports on a saved run's referrals: give no PROFILE or flags")
    if run_id is None and fmt is not None:
        raise click.UsageError("--format goes with --run; otherwise the suffix of -o says it")
    if run_id is not None and output.exists() and not output.is_dir():
        raise CartmatchError(f"{output.name} is a file; with --run, -o names a folder")
    if run_id is None:
        from matcher.report.files import check_target

        check_target(output)
    return fmt or "pdf"


def _write_one(
    catalog: Any,
    raw: dict[str, Any],
    source: str,
    output: Path,
    request: Any,
    fx: Any,
    writer: Any,
) -> None:
    from matcher.core.engine import match as run_match
    from matcher.core.patient import load_patient
    from matcher.report.content import build_report
    from matcher.report.document import write_report

    patient, warnings = load_patient(raw, catalog.lexicon, request.today, source=source)
    result = run_match(
        patient, catalog, warnings=warnings, include_all=True, fx=fx, today=request.today
    )
    write_report(build_report(result, catalog, request), output, writer)


def _run_reports(
    app: App,
    catalog: Any,
    run_id: int,
    folder: Path,
    fmt: str,
    request: Any,
    fx: Any,
    writer: Any,
) -> int:
    """One report per referral of a saved screening run, named by its referral id."""
    from matcher.storage.report_reads import run_referrals

    rows = run_referrals(app.path(), run_id)
    if not rows:
        raise NotFoundError(
            f"no saved referrals in run {run_id}; `cartmatch screen FILE` saves a run "
            "(unless --no-save)"
        )
    # Made private: the files inside are named by referral id, which may identify a patient.
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    used: set[str] = set()
    for row_number, referral_id, profile_json in rows:
        name = _file_name(referral_id or f"row-{row_number}", used)
        source = f"run {run_id} row {row_number}"
        try:
            raw = json.loads(profile_json)
        except json.JSONDecodeError as error:
            raise CartmatchError(f"{source}: the saved profile is not valid JSON") from error
        _write_one(catalog, raw, source, folder / f"{name}.{fmt}", request, fx, writer)
    return len(rows)


def _file_name(referral_id: str, used: set[str]) -> str:
    """A safe file name from a referral id (no path separators), unique within the folder."""
    base = re.sub(r"[^\w.-]+", "_", referral_id).strip("._") or "referral"
    name, n = base[:80], 1
    while name in used:
        n += 1
        name = f"{base[:76]}-{n}"
    used.add(name)
    return name
