"""`cartmatch cases ...`: follow saved referrals up, call families back, remove patient data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from matcher.cli import DATE, App, cli, pass_app


def _os_user() -> str:
    from matcher.storage.cases import current_user  # not at import: every command pays it

    return current_user()


def _by_option(func: Any) -> Any:
    return click.option(
        "--by",
        default=_os_user,
        show_default="your user name",
        help="Who is making the change (recorded with it).",
    )(func)


def _format_option(func: Any) -> Any:
    return click.option(
        "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
    )(func)


def _filters(func: Any) -> Any:
    options = (
        click.option(
            "--status",
            multiple=True,
            help="Only cases with this status (repeatable): new, records_requested, "
            "under_review, options_sent, contacted, enrolled, declined, not_eligible, closed.",
        ),
        click.option("--entry", help="Only cases with an option now on this entry (axi-cel)."),
        click.option(
            "--changed-since",
            type=DATE,
            help="Only cases whose options changed on or after this date.",
        ),
        click.option("--city", help="Only cases with an option now at a site in this city."),
    )
    for option in reversed(options):
        func = option(func)
    return func


def _echo_json(data: Any) -> None:
    from matcher.render.match import to_json

    click.echo(to_json(data))


@cli.group(name="cases")
def cases_group() -> None:
    """Saved referrals followed up: status, notes, call-backs, patient data removed.

    Every referral `cartmatch screen` saves (or `match --save`) is a case. After a catalog
    refresh, `cases callbacks` lists the families whose options differ from what they were
    last told; `cases notified` records that they were told.

    \b
    Example:
      cartmatch cases list --status new
      cartmatch cases callbacks -o calls.xlsx
    """


@cases_group.command(name="list")
@_filters
@_format_option
@pass_app
def list_cases(app: App, fmt: str, changed_since: datetime | None, **filters: Any) -> None:
    """The cases, oldest first, with the filters given.

    \b
    Example:
      cartmatch cases list --status under_review --entry axi-cel
    """
    from matcher.curation.cases import find_cases
    from matcher.render.cases import cases_text

    since = changed_since.date() if changed_since else None
    cases = find_cases(app.path(), app.catalog(), changed_since=since, **filters)
    if fmt == "json":
        _echo_json([c.model_dump(mode="json") for c in cases])
    else:
        click.echo(cases_text(cases))


@cases_group.command()
@click.argument("case_ref", metavar="ID")
@_format_option
@pass_app
def show(app: App, case_ref: str, fmt: str) -> None:
    """One case: status, contact columns, options now and as last told, its history.

    ID is the referral id or the case number.

    \b
    Example:
      cartmatch cases show R0001234
    """
    from matcher.curation.cases import case_store
    from matcher.render.cases import case_text

    app.catalog()  # builds the database on first use
    with case_store(app.path(), None) as store:
        case = store.get(case_ref)
        events, matches = store.events(case.id), store.matches(case.id)
    if fmt == "json":
        data = case.model_dump(mode="json")
        data["events"] = [e.model_dump(mode="json") for e in events]
        data["matches"] = [{**m, "options": sorted(m["options"])} for m in matches]
        _echo_json(data)
    else:
        click.echo(case_text(case, events, matches))


@cases_group.command()
@click.argument("case_ref", metavar="ID")
@click.argument("to", metavar="STATUS")
@click.option("--back", is_flag=True, help="Allow moving the case back (or re-opening it).")
@click.option("--note", help="A note recorded with the change.")
@_by_option
@pass_app
def status(app: App, case_ref: str, to: str, back: bool, note: str | None, by: str) -> None:
    """Move case ID to STATUS: new, records_requested, under_review, options_sent, contacted,
    then enrolled, declined, not_eligible or closed (no longer followed up).

    \b
    Example:
      cartmatch cases status R0001234 records_requested --note "asked for the PET-CT"
    """
    from matcher.curation.cases import case_store

    app.catalog()
    with case_store(app.path(), by) as store:
        case = store.set_status(case_ref, to.strip().casefold(), by, back=back)
        if note:
            store.add_note(case.key, note, by)
    click.echo(f"case {case.id} ({case.key}) is now {case.status}")


@cases_group.command()
@click.argument("case_ref", metavar="ID")
@click.argument("text")
@_by_option
@pass_app
def note(app: App, case_ref: str, text: str, by: str) -> None:
    """Add a dated note to case ID.

    \b
    Example:
      cartmatch cases note R0001234 "family prefers Shanghai"
    """
    from matcher.curation.cases import case_store

    app.catalog()
    with case_store(app.path(), by) as store:
        event = store.add_note(case_ref, text, by)
    click.echo(f"note added to case {event.case_id} at {event.at}")


@cases_group.command()
@_filters
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="A .csv or .xlsx file (readable by you only).",
)
@pass_app
def export(app: App, output: Path, changed_since: datetime | None, **filters: Any) -> None:
    """Write the cases (with the filters given) to a CSV or XLSX file, one row per case with
    its options now and its contact columns.

    \b
    Example:
      cartmatch cases export --status options_sent -o cases.xlsx
    """
    from matcher.curation.cases import export_rows, find_cases, write_table

    since = changed_since.date() if changed_since else None
    cases = find_cases(app.path(), app.catalog(), changed_since=since, **filters)
    rows, columns = export_rows(cases)
    write_table(rows, columns, output)
    click.echo(f"wrote {len(rows):,} case(s) to {output}")


from matcher.cli import case_calls as _calls  # noqa: E402, F401  (registers the call-back commands)
