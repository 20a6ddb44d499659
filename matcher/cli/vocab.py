"""`cartmatch vocab check`: what the vocabulary reads diagnoses and prior therapies as."""

from __future__ import annotations

import sys
from typing import Any

import click

from matcher.cli import App, cli, pass_app


@cli.group(name="vocab")
def vocab_group() -> None:
    """The vocabularies of diseases and prior therapies (rules/vocab/).

    \b
    Example:
      cartmatch vocab check referral_terms.txt
    """


@vocab_group.command()
@click.argument("file")
@click.option(
    "--kind",
    type=click.Choice(["auto", "diagnosis", "therapy"]),
    default="auto",
    show_default=True,
    help="Read every line as a diagnosis, as a therapy, or (auto) the better of the two.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@pass_app
def check(app: App, file: str, kind: Any, fmt: str) -> None:
    """Show what each line of FILE is read as, and what is NOT RECOGNISED.

    FILE holds one diagnosis or prior therapy a line (- for standard input). A diagnosis
    shows its disease code, name, how it was matched and whether it needs confirming; a
    therapy shows its classes. Add what is missing to rules/vocab/ before screening.

    \b
    Examples:
      cartmatch vocab check tests/data/recognition/sample.txt
      printf 'DLBCL\\nR-CHOP x6\\n' | cartmatch vocab check - --format json
    """
    from matcher.cli.intake import read_lines
    from matcher.core.recognise import recognise_lines, report_csv, report_json, report_table

    stdin = sys.stdin.read() if file == "-" else None
    lines = read_lines(file, stdin)
    readings = recognise_lines(lines, app.catalog().lexicon, kind)
    if fmt == "json":
        click.echo(report_json(readings))
    elif fmt == "csv":
        click.echo(report_csv(readings), nl=False)
    else:
        click.echo(report_table(readings))
