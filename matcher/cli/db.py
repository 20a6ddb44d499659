"""`cartmatch db check|backup`: the database's integrity, and a consistent copy of it."""

from __future__ import annotations

from pathlib import Path

import click

from matcher.cli import App, cli, pass_app


@cli.group(name="db")
def db_group() -> None:
    """The database (saved runs, the catalog and its history): check it, back it up.

    \b
    Examples:
      cartmatch db check
      cartmatch db backup cartmatch-2026-11-29.db
    """


@db_group.command()
@pass_app
def check(app: App) -> None:
    """SQLite's integrity check; exit 1 when the database is damaged.

    \b
    Example:
      cartmatch db check
    """
    from matcher.errors import StoreError
    from matcher.storage.db import check as integrity

    path = app.path()
    problems = integrity(path)
    if problems:
        shown = "; ".join(problems[:5]) + (
            f"; … {len(problems) - 5} more" if len(problems) > 5 else ""
        )
        raise StoreError(
            f"the database {path} is damaged ({shown}): keep a copy, restore your latest "
            "`cartmatch db backup`, or use another --db; cartmatch will not write to it"
        )
    click.echo(f"{path}: ok (integrity check passed)")


@db_group.command()
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def backup(app: App, target: Path) -> None:
    """Copy the database to TARGET while it may be in use (SQLite's online backup); the copy
    is readable by you only. An existing TARGET is never overwritten.

    \b
    Example:
      cartmatch db backup cartmatch-2026-11-29.db
    """
    from matcher.storage.db import backup as copy_database

    source = app.path()
    copy_database(source, target)
    click.echo(f"backed up {source} to {target}")
