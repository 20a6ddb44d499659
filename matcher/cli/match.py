"""`cartmatch match`, `lookup` and `show`: single look-ups (no pandas, no sqlite-utils)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import click

from matcher.cli import DATE, FX_RATE, App, cli, pass_app, reference_date
from matcher.errors import NotFoundError

FORMATS = click.Choice(["table", "json", "markdown"])


#: Yes/no profile fields as --X/--no-X flags: (flags, field, help).
_YES_NO = (
    ("--cns/--no-cns", "cns_involvement", "CNS involvement."),
    ("--prior-allo/--no-prior-allo", "prior_allo_sct", "Prior allogeneic stem-cell transplant."),
    ("--infection/--no-infection", "active_infection", "Active infection."),
    ("--pregnant/--not-pregnant", "pregnant", "Pregnancy."),
    ("--breastfeeding/--not-breastfeeding", "breastfeeding", "Breastfeeding."),
    (
        "--gvhd/--no-gvhd",
        "active_gvhd",
        "Active graft-versus-host disease (after an allogeneic transplant).",
    ),
)

#: One option per profile field, in the order --help lists them.
PROFILE_OPTIONS = (
    click.option("--referral-id", help="Your own id for the referral."),
    click.option("--diagnosis", help='Free text, English or Chinese ("DLBCL", "胃癌").'),
    click.option("--indication", help="Canonical disease code (rules/vocab/diseases.yaml)."),
    click.option(
        "--antigen",
        "antigens",
        multiple=True,
        metavar="NAME=VALUE",
        help="positive, negative or PERCENT%:INTENSITY+ (CLDN18.2=60%:2+), with the test date "
        "if known (CD19='negative 2026-09-15'). Repeatable.",
    ),
    click.option("--prior-lines", type=int, help="Prior lines of systemic therapy."),
    click.option(
        "--prior-therapy",
        "prior_therapies",
        multiple=True,
        help="A prior therapy, dated if known (ibrutinib, 'axi-cel 2025-03'). Repeatable.",
    ),
    click.option(
        "--status",
        "disease_status",
        help="newly_diagnosed, relapsed, refractory or remission (aliases: r/r, progressive).",
    ),
    click.option("--setting", help="adjuvant (resected) or advanced (metastatic) solid tumour."),
    click.option("--stage", help="Stage with its system: MGFA IIIb, BCLC C, CNLC IIa, IV."),
    click.option("--age", type=int, help="Age in years."),
    click.option("--dob", "date_of_birth", help="Date of birth (YYYY-MM-DD)."),
    click.option("--sex", help="female, male or other."),
    click.option("--ecog", type=int, help="ECOG performance status 0-4."),
    *(click.option(flags, field, default=None, help=text) for flags, field, text in _YES_NO),
    click.option(
        "--lab",
        "labs",
        multiple=True,
        metavar="NAME=VALUE",
        help="A lab value (egfr=60, lvef=55, child_pugh=A6, sledai=10). Repeatable.",
    ),
    click.option("--tempo", "disease_tempo", help="stable or rapid (rapid adds bridging cost)."),
    click.option("--budget-cny", type=float, help="Budget in CNY; options above it are flagged."),
)


def _profile_options(func: Any) -> Any:
    for option in reversed(PROFILE_OPTIONS):
        func = option(func)
    return func


@cli.command()
@click.argument("profile", required=False)
@_profile_options
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option(
    "--all",
    "include_all",
    is_flag=True,
    help="Also show ineligible options (with the criterion that excludes them) and closed trials.",
)
@click.option(
    "--fx",
    type=FX_RATE,
    help="Exchange rate, CNY per USD (default: rules/costs.yaml).",
)
@click.option(
    "--currency",
    type=click.Choice(["CNY", "USD"], case_sensitive=False),
    default="CNY",
    show_default=True,
    help="Currency of the cost column.",
)
@click.option(
    "--city",
    help="Keep options with a site in this city (Shanghai, 北京); says how many were left out.",
)
@click.option("--province", help="Keep options with a site in this province (Guangdong, 湖北).")
@click.option("--today", type=DATE, help="Reference date for ages (default: today).")
@click.option(
    "--save", is_flag=True, help="Save the referral as a case (needs --referral-id): `cases`."
)
@click.option(
    "--details",
    is_flag=True,
    help="Table: every criterion, cost scenario and note (default: one line per option).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (readable by you only) instead of standard output.",
)
@pass_app
def match(
    app: App,
    profile: str | None,
    fmt: str,
    include_all: bool,
    fx: float | None,
    currency: str,
    city: str | None,
    province: str | None,
    today: Any,
    save: bool,
    details: bool,
    output: Path | None,
    **fields: Any,
) -> None:
    """Rank the CAR-T options for one referral, each criterion explained.

    PROFILE is a JSON file of profile fields, or - for standard input; flags add to it or
    override it. Missing data is unknown, never no: an untested biomarker gives "possible"
    and names the test to order.

    \b
    Examples:
      cartmatch match referral.json
      cartmatch match --diagnosis 胃癌 --antigen CLDN18.2=60%:2+ --antigen HER2=neg --prior-lines 2
      echo '{"diagnosis": "DLBCL", "prior_lines": 2}' | cartmatch match - --format json
      cartmatch match --diagnosis "multiple myeloma" --prior-lines 3 --city Shanghai
      cartmatch match --diagnosis DLBCL --prior-lines 2 --details -o dlbcl.txt
    """
    from matcher.core.engine import match as run_match
    from matcher.core.patient import load_patient
    from matcher.render.compact import match_compact
    from matcher.render.match import match_markdown, match_table, plain, to_json

    raw = _raw_profile(profile, fields)
    if save and not str(raw.get("referral_id") or "").strip():
        raise click.UsageError("--save needs --referral-id (or a referral_id in the profile)")
    catalog = app.catalog()
    reference = reference_date(today)
    patient, warnings = load_patient(raw, catalog.lexicon, reference, source=_source_name(profile))
    place = catalog.place(city, province)
    result = run_match(
        patient,
        catalog,
        warnings=warnings,
        include_all=include_all,
        fx=fx,
        place=place,
        today=reference,
    )
    if fmt == "json":
        text = to_json(result.as_dict()) + "\n"
    elif fmt == "markdown":
        text = match_markdown(result, currency)
    elif details:
        text = plain(match_table(result, currency)) + "\n"
    else:
        text = plain(match_compact(result, currency, _width(output))) + "\n"
    _emit(text, output)
    if save:
        _save(
            app,
            raw,
            result if place is None else run_match(patient, catalog, include_all=include_all),
            include_all,
        )


def _width(output: Path | None) -> int:
    """The terminal's width when printing to one; 100 columns for a file or a pipe."""
    if output is None and sys.stdout.isatty():
        return shutil.get_terminal_size((100, 24)).columns
    return 100


def _emit(text: str, output: Path | None) -> None:
    """Standard output, or a file created readable by its owner only (it is about a patient)."""
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as error:
        raise click.ClickException(
            f"cannot write {output}: {error.strerror}; check the folder exists and is writable"
        ) from error
    os.chmod(output, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _save(app: App, raw: dict[str, Any], result: Any, include_all: bool) -> None:
    """--save: the referral as a case (with its options anywhere, not only at --city)."""
    from matcher.curation.cases import save_lookup
    from matcher.storage.cases import current_user

    case = save_lookup(app.path(), raw, result, include_all=include_all, by=current_user())
    click.echo(f"saved as case {case}; `cartmatch cases show {case}` follows it up", err=True)


def _raw_profile(profile: str | None, fields: dict[str, Any]) -> dict[str, Any]:
    """The profile file (or standard input, read up to its limit) with the flags over it."""
    from matcher.cli.intake import assignments, merge, read_profile
    from matcher.limits import PROFILE_BYTES

    if profile is None and not any(v for v in fields.values() if v not in (None, ())):
        raise click.UsageError("give a PROFILE file (or -) or at least --diagnosis")
    stdin = sys.stdin.read(PROFILE_BYTES.value + 1) if profile == "-" else None
    raw = read_profile(profile, stdin) if profile else {}
    fields["antigens"] = assignments(fields["antigens"], "--antigen")
    fields["labs"] = assignments(fields["labs"], "--lab")
    fields["prior_therapies"] = list(fields["prior_therapies"]) or None
    return merge(raw, fields)


def _source_name(profile: str | None) -> str:
    return {"-": "standard input", None: "profile"}.get(profile, profile or "profile")


@cli.command()
@click.argument("query", nargs=-1, required=True)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@pass_app
def lookup(app: App, query: tuple[str, ...], fmt: str) -> None:
    """Find catalog entries by name, brand, target, disease, sponsor, trial id, hospital or
    city (English or Chinese, short forms too: Ruijin, 瑞金, PUMCH, 协和, 北京).

    \b
    Examples:
      cartmatch lookup "Claudin 18.2"
      cartmatch lookup 奕凯达
      cartmatch lookup NCT04581473
      cartmatch lookup 瑞金
    """
    from matcher.core.lookup import lookup as run_lookup
    from matcher.core.lookup import places_named
    from matcher.render.match import lookup_data, lookup_table, plain, to_json

    text = " ".join(query)
    catalog = app.catalog()
    hits = run_lookup(text, catalog)
    if fmt == "json":
        click.echo(to_json(lookup_data(hits)))
    else:
        click.echo(plain(lookup_table(text, hits, places_named(text, catalog))))


@cli.command()
@click.argument("entry_id")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--today", type=DATE, help="Reference date for old facts (default: today).")
@pass_app
def show(app: App, entry_id: str, fmt: str, today: Any) -> None:
    """Everything about one entry: label, criteria, evidence, trial ids, sites (with their
    Chinese names, contacts and status), price, sources, and the facts older than their limit.

    \b
    Example:
      cartmatch show satri-cel
    """
    from matcher.core.freshness import old_facts
    from matcher.core.places import site_record
    from matcher.model.base import did_you_mean
    from matcher.render.match import entry_text, plain, to_json

    catalog = app.catalog()
    entry = catalog.entry(entry_id)
    if entry is None:
        raise NotFoundError(
            f"no entry '{entry_id}'{did_you_mean(entry_id, catalog.by_id)}; "
            "`cartmatch lookup WORD` finds entries by name"
        )
    old = old_facts(entry, catalog.rules.freshness, reference_date(today))
    if fmt == "json":
        data = entry.model_dump(mode="json", by_alias=True, exclude_none=True)
        data["old_facts"] = [f.as_dict() for f in old]
        click.echo(to_json(data))
    else:
        sites = [site_record(s, catalog.places) for s in entry.sites]
        click.echo(plain(entry_text(entry, sites, [f.text() for f in old])))
