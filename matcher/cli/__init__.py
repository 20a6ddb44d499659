"""The `cartmatch` command line: the only place that imports click.

Commands parse options, call one core function and render the result. Errors from the core
(`CartmatchError`) become one sentence on stderr and exit status 1, here, in one place.
"""

from __future__ import annotations

import atexit
import gc
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from matcher.errors import CartmatchError


class CartmatchGroup(click.Group):
    """A click group that turns cartmatch errors into one clear line on stderr."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CartmatchError as error:
            # one line whatever the input held: a line break or an escape code in a field
            # name, a file name or a value quoted back is shown escaped, never run
            from matcher.render.match import plain

            one_line = plain(str(error)).translate(_LINE_BREAKS)
            raise click.ClickException(one_line) from error


#: Line breaks an error message quotes back from input, shown as escapes.
_LINE_BREAKS = str.maketrans({"\n": "\\n", "\u2028": "\\u2028", "\u2029": "\\u2029"})


#: ISO dates on the command line (--today).
DATE = click.DateTime(["%Y-%m-%d"])
#: CNY per USD; click's range alone lets NaN through, which the cost model refuses.
#: CNY per USD: about 7; a rate outside this range is a slip (USD per CNY, or a typo).
FX_RATE = click.FloatRange(min=0.5, max=50)


def duration_days(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    """An --older-than option (365d, 52w, 12m, 1y) as days; a malformed or absurd one is a
    usage error (exit 2)."""
    from matcher.curation.export import parse_duration
    from matcher.errors import CatalogError

    if value is None:
        return None
    try:
        return parse_duration(value)
    except CatalogError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


def reference_date(value: datetime | None) -> date:
    """The --today option as a date; today when it was not given."""
    return value.date() if value else date.today()


class App:
    """What every command shares: where the database is."""

    def __init__(self, db: Path | None) -> None:
        self.db_path = db

    def path(self) -> Path:
        """The database file: --db, else CARTMATCH_DB, else the per-user data directory."""
        from matcher.paths import default_db_path

        return self.db_path or default_db_path()

    def catalog(self) -> Any:
        from matcher.curation.bundle import open_catalog

        return open_catalog(self.path())


pass_app = click.make_pass_decorator(App)


@click.group(cls=CartmatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="CARTMATCH_DB",
    help="SQLite database (default: $CARTMATCH_DB, else the per-user data directory). "
    "Built from the bundled catalog on first use.",
)
@click.version_option(package_name="cartmatch")
@click.pass_context
def cli(ctx: click.Context, db: Path | None) -> None:
    """Match referrals against CAR-T options reachable in mainland China.

    \b
    Example:
      cartmatch match --diagnosis DLBCL --status refractory --prior-lines 2 --age 54
    """
    ctx.obj = App(db)


#: The garbage collector's thresholds for a command. At the default (a collection every 700
#: new objects) it runs thousands of times while the engine is imported and the catalog's
#: models are built, a fifth of `match`'s time (`scripts/bench startup`); the commands make
#: little cyclic garbage, so collecting every 50,000 costs little memory.
GC_THRESHOLDS = (50_000, 20, 20)


def main() -> None:
    gc.set_threshold(*GC_THRESHOLDS)
    # Once the command is done, its objects go with the process: left tracked, the
    # interpreter's last garbage collection walks them all (the catalog's models, say), a tenth
    # of a second on every command. Registered first, this exit handler runs last, after those
    # that still need the collector (the report's font cleanup); connections and files are
    # closed by the commands themselves.
    atexit.register(gc.freeze)
    cli(prog_name="cartmatch")


from matcher.cli import cases as _cases  # noqa: E402, F401  (cases, call-backs)
from matcher.cli import catalog as _catalog  # noqa: E402  (registers commands)
from matcher.cli import db as _db  # noqa: E402, F401
from matcher.cli import match as _match  # noqa: E402
from matcher.cli import report as _report  # noqa: E402, F401
from matcher.cli import screen as _screen  # noqa: E402, F401
from matcher.cli import serve as _serve  # noqa: E402, F401  (serve, users)
from matcher.cli import sites as _sites  # noqa: E402, F401
from matcher.cli import vocab as _vocab  # noqa: E402, F401

__all__ = ["App", "CartmatchGroup", "_catalog", "_match", "cli", "main", "pass_app"]
