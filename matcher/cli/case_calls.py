"""`cartmatch cases callbacks|notified|delete|purge`: call families back, remove patient data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from matcher.cli import DATE, App, duration_days, pass_app, reference_date
from matcher.cli.cases import _by_option, _echo_json, cases_group


def _progress(done: int, total: int) -> None:
    click.echo(f"re-checking cases: {done:,} of {total:,}", err=True)


@cases_group.command()
@click.option(
    "--since",
    "since",
    type=int,
    metavar="REFRESH",
    help="Only cases whose options changed in this refresh or later.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the list to a .csv or .xlsx file (readable by you only).",
)
@click.option(
    "--cost-threshold",
    help="A cost change smaller than this share of the cost told "
    "is not a call-back: 10% unless CARTMATCH_COST_THRESHOLD says so.",
)
@click.option("--today", type=DATE, help="Reference date for re-checking (default: today).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@pass_app
def callbacks(
    app: App,
    since: int | None,
    output: Path | None,
    cost_threshold: str | None,
    today: datetime | None,
    fmt: str,
) -> None:
    """The open cases whose options differ from what their families were last told: an
    option new or back, gone, with another status or enrolment, or a cost moved by more than
    the threshold. Cases not yet checked against the catalog now are re-checked first.

    \b
    Example:
      cartmatch cases callbacks --since 4 -o calls.xlsx
    """
    from matcher.curation.callbacks import cost_threshold as threshold_of
    from matcher.curation.callbacks import pending
    from matcher.curation.cases import callback_rows, write_table
    from matcher.curation.recheck import recheck
    from matcher.storage.cases import current_user

    threshold = threshold_of(cost_threshold)
    catalog = app.catalog()
    recheck(app.path(), catalog, reference_date(today), by=current_user(), progress=_progress)
    calls = pending(app.path(), catalog, threshold=threshold, since=since)
    if output is not None:
        rows, columns = callback_rows(calls)
        write_table(rows, columns, output)
        click.echo(f"wrote {len(calls):,} call-back(s) to {output}")
    elif fmt == "json":
        _echo_json([call.model_dump() for call in calls])
    else:
        for call in calls:
            click.echo(f"{call.key} (case {call.case_id}, {call.status})")
            for change in call.changes:
                click.echo(f"    {change}")
        click.echo(f"{len(calls):,} famil{'y' if len(calls) == 1 else 'ies'} to call back")


@cases_group.command()
@click.argument("case_refs", metavar="ID...", nargs=-1, required=True)
@_by_option
@pass_app
def notified(app: App, case_refs: tuple[str, ...], by: str) -> None:
    """Record that the families of these cases were told their options as they are now: they
    are not called back again until something else changes.

    \b
    Example:
      cartmatch cases notified R0001234 R0001240
    """
    from matcher.curation.cases import case_store

    app.catalog()
    with case_store(app.path(), by) as store:
        cases = store.notified(case_refs, by)
    click.echo(f"recorded {len(cases)} famil{'y' if len(cases) == 1 else 'ies'} as told")


@cases_group.command()
@click.argument("case_refs", metavar="ID...", nargs=-1, required=True)
@pass_app
def delete(app: App, case_refs: tuple[str, ...]) -> None:
    """Remove these patients' data from the database: the cases, their notes and history,
    and every saved referral row of theirs (all runs); the file is then rebuilt so no byte
    of it remains. Cannot be undone.

    \b
    Example:
      cartmatch cases delete R0001234
    """
    from matcher.curation.cases import delete_cases

    app.catalog()
    count = delete_cases(app.path(), list(case_refs))
    click.echo(f"deleted {count} case(s) and their saved referrals; the database was compacted")


@cases_group.command()
@click.option(
    "--older-than",
    "days",
    callback=duration_days,
    help="Cases no one has changed for this long: 365d, 52w, 12m or 1y "
    "(default: CARTMATCH_RETENTION_DAYS, else 365 days).",
)
@click.option("--dry-run", is_flag=True, help="Only say how many cases would be removed.")
@click.option("--today", type=DATE, help="Reference date (default: today).")
@pass_app
def purge(app: App, days: int | None, dry_run: bool, today: datetime | None) -> None:
    """Remove the patient data of every case no one has changed for longer than the
    retention period, as `cases delete` does.

    \b
    Example:
      cartmatch cases purge --older-than 365d
    """
    from matcher.curation.cases import purge_cases, retention_days

    app.catalog()
    days = days if days is not None else retention_days()
    count = purge_cases(app.path(), days, reference_date(today), dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {count} case(s) unchanged for more than {days} days")
