"""`cartmatch catalog ...`: validate, refresh, diff, history, rollback, export, stale."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from matcher.cli import DATE, App, cli, duration_days, pass_app, reference_date


def _echo_json(data: Any) -> None:
    from matcher.render.match import to_json

    click.echo(to_json(data))


def _format_option(func: Any) -> Any:
    return click.option(
        "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
    )(func)


def _callbacks(app: App, today: date) -> dict[str, Any]:
    """Re-check the open cases the change can affect (progress on stderr); who to call back."""
    from matcher.curation.callbacks import after_change
    from matcher.storage.cases import current_user

    return after_change(app.path(), app.catalog(), today, by=current_user(), progress=_progress)


def _progress(done: int, total: int) -> None:
    click.echo(f"re-checking cases: {done:,} of {total:,}", err=True)


@cli.group(name="catalog")
def catalog_group() -> None:
    """Check and maintain the catalog: validate, refresh from sources, history, rollback.

    \b
    Example:
      cartmatch catalog validate
      cartmatch catalog refresh updates.csv ctgov_page.json --apply
    """


@catalog_group.command()
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(file_okay=False, path_type=Path),
    help="Catalog folder to check (default: the bundled catalog/).",
)
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(file_okay=False, path_type=Path),
    help="Rules folder to check (default: the bundled rules/).",
)
def validate(catalog_path: Path | None, rules_path: Path | None) -> None:
    """Load every entry and rules file; the first problem is named with file, line and field.

    \b
    Example:
      cartmatch catalog validate --catalog ./my-catalog
    """
    from matcher.curation.loader import load_catalog
    from matcher.paths import catalog_dir, rules_dir

    entries, _ = load_catalog(catalog_path or catalog_dir(), rules_path or rules_dir())
    cohorts = sum(len(e.indications) for e in entries)
    criteria = sum(len(i.criteria) for e in entries for i in e.indications)
    click.echo(f"catalog OK: {len(entries)} entries, {cohorts} indications, {criteria} criteria")


@catalog_group.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--apply",
    "do_apply",
    is_flag=True,
    help="Write the changes (one transaction, logged). Without it: a dry run.",
)
@click.option(
    "--prune",
    is_flag=True,
    help="Remove entries missing from the catalog folder given (default: keep them).",
)
@click.option(
    "--overwrite-newer",
    is_flag=True,
    help="Apply a source's value even where it is older than the one held (by the facts' "
    "dates). Without it such facts are kept and listed in the diff.",
)
@click.option(
    "--today",
    type=DATE,
    help="Reference date for imports and re-matching saved referrals (default: today).",
)
@_format_option
@pass_app
def refresh(
    app: App,
    sources: tuple[Path, ...],
    do_apply: bool,
    prune: bool,
    overwrite_newer: bool,
    today: datetime | None,
    fmt: str,
) -> None:
    """Refresh the catalog from SOURCES; a dry run printing the diff unless --apply.

    SOURCES is any mix of: a catalog folder (entries/*.yaml, replacing entries whole); a CSV
    or XLSX sheet of updates (columns: id, source, as_of and the ones to change:
    list_price_cny, price_unit, status, sites, sponsor, manufacturing); ClinicalTrials.gov
    API v2 JSON (one study or a /api/v2/studies page; only CAR-T studies with a site in
    China become entries, and curated criteria are never overwritten). Nothing is written
    when any source is invalid. After --apply, the open cases the change can affect are
    re-checked and those whose options now differ from what their families were last told
    are listed (`cartmatch cases callbacks` writes the list to a file).

    A refresh never silently undoes a newer update: where a source would set a fact back to a
    value dated before the one held (its last_verified or as_of, else its sources' date), the diff
    says so and the newer value is kept unless --overwrite-newer.

    In a sheet, each entry is on one row, and as_of (YYYY-MM-DD) may not be after --today.
    A status sets the entry's status and those of its indications that tracked it (a closed
    status closes them all); the diff notes what each indication becomes. An optional
    `indication` column names one indication (cohort) id of the entry: that row then sets
    that indication's status only, and other rows may name its other indications.

    \b
    Examples:
      cartmatch catalog refresh prices-2026-11.csv
      cartmatch catalog refresh cohorts.csv   # id,indication,status,source,as_of
      cartmatch catalog refresh ctgov_studies.json --apply
      cartmatch catalog refresh catalog/ --prune --apply
    """
    from matcher.curation.refresh import apply_plan, plan_refresh

    reference = reference_date(today)
    plan = plan_refresh(
        list(sources), app.catalog(), prune=prune, today=reference, overwrite_newer=overwrite_newer
    )
    data: dict[str, Any] = {**plan.diff(), "applied": False}
    if do_apply:
        data["refresh_id"] = apply_plan(plan, app.path())
        data["applied"] = True
        data["catalog_version"] = app.catalog().version.version
        data["referrals"] = _callbacks(app, reference)
    if fmt == "json":
        _echo_json(data)
    else:
        _echo_refresh(data)


def _echo_refresh(data: dict[str, Any]) -> None:
    """A refresh as text: the diff, then what was applied (and who to call back) or that
    nothing was written."""
    from matcher.render.cases import recheck_text
    from matcher.render.catalog import diff_text

    click.echo(diff_text(data))
    if data["applied"]:
        click.echo(
            f"Applied as refresh {data['refresh_id']} (catalog version "
            f"{data['catalog_version']}); `cartmatch catalog rollback "
            f"{data['refresh_id']}` undoes it."
        )
        click.echo(recheck_text(data["referrals"]))
    else:
        click.echo("Dry run: nothing was written. Run again with --apply to write it.")


@catalog_group.command()
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--refresh",
    "refresh_id",
    type=int,
    help="Show the diff recorded for this past refresh instead.",
)
@click.option("--today", type=DATE, help="Reference date for imports (default: today).")
@_format_option
@pass_app
def diff(
    app: App, sources: tuple[Path, ...], refresh_id: int | None, today: datetime | None, fmt: str
) -> None:
    """What SOURCES would change (never writes), or what a past refresh changed.

    \b
    Examples:
      cartmatch catalog diff updates.xlsx
      cartmatch catalog diff --refresh 3
    """
    from matcher.render.catalog import diff_text

    if bool(sources) == (refresh_id is not None):
        raise click.UsageError("give SOURCES or --refresh ID (one of them)")
    if refresh_id is not None:
        from matcher.storage.refresh_log import RefreshLog

        app.catalog()  # builds the database on first use
        with RefreshLog.at(app.path()) as log:
            data = log.refresh(refresh_id)["diff"]
    else:
        from matcher.curation.refresh import plan_refresh

        data = plan_refresh(list(sources), app.catalog(), today=reference_date(today)).diff()
    if fmt == "json":
        _echo_json(data)
    elif "rollback_of" in data:
        click.echo(
            f"Rollback of refresh {data['rollback_of']}: restored "
            f"{', '.join(data['restored']) or 'none'}; removed "
            f"{', '.join(data['removed']) or 'none'}."
        )
    else:
        click.echo(diff_text(data))


@catalog_group.command()
@click.argument("entry_id", required=False)
@click.option("--limit", type=int, help="Show only the newest N refreshes.")
@_format_option
@pass_app
def history(app: App, entry_id: str | None, limit: int | None, fmt: str) -> None:
    """The refresh log, newest first: every refresh, or those that touched ENTRY_ID.

    \b
    Examples:
      cartmatch catalog history
      cartmatch catalog history axi-cel --format json
    """
    from matcher.render.catalog import history_text
    from matcher.storage.refresh_log import RefreshLog

    catalog = app.catalog()  # builds the database on first use
    with RefreshLog.at(app.path()) as log:
        items = log.refreshes(entry_id.strip().casefold() if entry_id else None)
    if entry_id and not items:
        from matcher.errors import NotFoundError
        from matcher.model.base import did_you_mean

        known = [e.id for e in catalog.entries]
        raise NotFoundError(
            f"no refresh touched an entry '{entry_id}'{did_you_mean(entry_id, known)}; "
            "`cartmatch catalog history` lists every refresh"
        )
    items = items[:limit] if limit else items
    if fmt == "json":
        _echo_json(items)
    else:
        click.echo(history_text(items))


@catalog_group.command()
@click.argument("refresh_id", type=int)
@click.option("--today", type=DATE, help="Reference date for re-matching saved referrals.")
@_format_option
@pass_app
def rollback(app: App, refresh_id: int, today: datetime | None, fmt: str) -> None:
    """Undo refresh REFRESH_ID: every entry it touched goes back to its version before it.

    Recorded as a new refresh of kind "rollback" (which can itself be rolled back).

    \b
    Example:
      cartmatch catalog rollback 4
    """
    from matcher.render.cases import recheck_text
    from matcher.storage.refresh_log import rollback as run_rollback

    app.catalog()  # builds the database on first use
    done = run_rollback(app.path(), refresh_id)
    data = {**done, "referrals": _callbacks(app, reference_date(today))}
    if fmt == "json":
        _echo_json(data)
        return
    undo = done["diff"]
    click.echo(
        f"Rolled back refresh {refresh_id} as refresh {done['id']}: restored "
        f"{', '.join(undo['restored']) or 'none'}; removed "
        f"{', '.join(undo['removed']) or 'none'}."
    )
    click.echo(recheck_text(data["referrals"]))


@catalog_group.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@pass_app
def export(app: App, folder: Path) -> None:
    """Write the current catalog as YAML, FOLDER/entries/<id>.yaml, for review in git.

    Deterministic: the same catalog gives the same bytes. Other *.yaml files in
    FOLDER/entries are removed, so the folder mirrors the catalog.

    \b
    Example:
      cartmatch catalog export ./catalog-review
    """
    from matcher.curation.export import export_catalog

    report = export_catalog(app.catalog(), folder)
    click.echo(
        f"Exported {len(report['written']) + len(report['unchanged'])} entries to "
        f"{folder / 'entries'}: {len(report['written'])} written, "
        f"{len(report['unchanged'])} already identical, "
        f"{len(report['removed'])} stale files removed."
    )


@catalog_group.command()
@click.option(
    "--older-than",
    "days",
    callback=duration_days,
    help="One age limit for every kind of fact: 180d, 26w, 6m or 1y (at most 100 years). "
    "Default: the limit of each kind in rules/freshness.yaml (prices and statuses 182 days, "
    "sites and insurance 365).",
)
@click.option("--today", type=DATE, help="Reference date (default: today).")
@_format_option
@pass_app
def stale(app: App, days: int | None, today: datetime | None, fmt: str) -> None:
    """Facts older than their limit, by entry, oldest first.

    Each fact is judged by its own date: its last_verified, else its as_of (a price) or
    status_as_of (a site), else the newest date of its sources, else the entry's
    last_verified.

    \b
    Examples:
      cartmatch catalog stale
      cartmatch catalog stale --older-than 180d --today 2027-06-01
    """
    from matcher.curation.export import stale_entries
    from matcher.render.catalog import stale_text

    reference = reference_date(today)
    catalog = app.catalog()
    items = stale_entries(catalog, reference, days)
    if fmt == "json":
        _echo_json(items)
        return
    limits = (
        f"{days} days for every kind"
        if days is not None
        else ", ".join(f"{k} {n} days" for k, n in catalog.rules.freshness.limits_days.items())
    )
    click.echo(stale_text(items, limits, reference.isoformat()))
