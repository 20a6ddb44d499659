"""`cartmatch catalog ...`: validate (and, in time, refresh, diff, history, rollback, export)."""

from __future__ import annotations

from pathlib import Path

import click

from matcher.cli import cli


@cli.group(name="catalog")
def catalog_group() -> None:
    """Check and maintain the catalog.

    \b
    Example:
      cartmatch catalog validate
    """


@catalog_group.command()
@click.option("--catalog", "catalog_path", type=click.Path(file_okay=False, path_type=Path),
              help="Catalog folder to check (default: the bundled catalog/).")  # fmt: skip
@click.option("--rules", "rules_path", type=click.Path(file_okay=False, path_type=Path),
              help="Rules folder to check (default: the bundled rules/).")  # fmt: skip
def validate(catalog_path: Path | None, rules_path: Path | None) -> None:
    """Load every entry and rules file; the first problem is named with file, line and field.

    \b
    Example:
      cartmatch catalog validate --catalog ./my-catalog
    """
    from matcher.loader import load_catalog
    from matcher.paths import catalog_dir, rules_dir

    entries, _ = load_catalog(catalog_path or catalog_dir(), rules_path or rules_dir())
    cohorts = sum(len(e.indications) for e in entries)
    criteria = sum(len(i.criteria) for e in entries for i in e.indications)
    click.echo(f"catalog OK: {len(entries)} entries, {cohorts} indications, {criteria} criteria")
