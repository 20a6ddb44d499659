"""`cartmatch sites`: the hospitals that give a product or run a trial, with their programmes."""

from __future__ import annotations

import click

from matcher.cli import App, cli, pass_app
from matcher.errors import NotFoundError


@cli.command()
@click.option("--city", help="Only sites in this city (Shanghai, 北京, Peking).")
@click.option("--province", help="Only sites in this province (Guangdong, 湖北).")
@click.option("--entry", "entry_id", help="Only the sites of this entry (axi-cel).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@pass_app
def sites(app: App, city: str | None, province: str | None, entry_id: str | None, fmt: str) -> None:
    """List treating and trial sites, each hospital once, with the programmes that list it.

    Each site shows its Chinese name and short forms where a source gives them, its
    international patient service (yes, no or unknown), public contacts with their sources,
    and per programme its role, recruiting status and the date of that status.

    \b
    Examples:
      cartmatch sites --city Shanghai
      cartmatch sites --entry eque-cel --format json
    """
    from matcher.core.places import sites_listing
    from matcher.model.base import did_you_mean
    from matcher.render.match import to_json
    from matcher.render.sites import sites_text

    catalog = app.catalog()
    entries = catalog.entries
    if entry_id:
        entry = catalog.entry(entry_id)
        if entry is None:
            raise NotFoundError(
                f"no entry '{entry_id}'{did_you_mean(entry_id, catalog.by_id)}; "
                "`cartmatch lookup WORD` finds entries by name"
            )
        entries = [entry]
    place = catalog.place(city, province)
    items = sites_listing(entries, catalog.places, place)
    if fmt == "json":
        click.echo(to_json(items))
        return
    where = " ".join(
        part
        for part in (f"in {place.label()}" if place else "", f"for {entry_id}" if entry_id else "")
        if part
    )
    click.echo(sites_text(items, where or "in the catalog"))
