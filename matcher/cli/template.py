"""`cartmatch template`: the referral workbook to send partner hospitals."""

from __future__ import annotations

from pathlib import Path

import click

from matcher.cli import cli


@cli.command()
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The workbook to write (.xlsx).",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="zh: Chinese headers with the English in brackets; en: the other way round.",
)
def template(output: Path, lang: str) -> None:
    """Write a referral workbook to send partners: an instructions sheet, bilingual headers
    that `cartmatch screen` reads with no --map, drop-downs for sex, status, antigen results
    and yes/no, number ranges, and one synthetic example row.

    \b
    Example:
      cartmatch template --lang zh -o referrals.xlsx
    """
    from matcher.bulk.headers import bundled_names
    from matcher.bulk.template import write_template
    from matcher.errors import CartmatchError

    if output.suffix.lower() != ".xlsx":
        raise CartmatchError(f"{output}: name the template .xlsx")
    write_template(output, bundled_names(), lang)
    click.echo(
        f"wrote {output}: fill one patient a row and screen it with cartmatch screen", err=True
    )
