"""Plain-text, Markdown and JSON renderings of match results, look-ups and entries.

Every rendering reads the same `as_dict()` data, so the table, the Markdown and the JSON
never disagree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from matcher.core.engine import MatchResult
from matcher.core.entry import Entry
from matcher.core.lookup import Hit
from matcher.render.money import amount_range, money_in_text
from matcher.render.sites import entry_site_lines

SYMBOLS = {"met": "✓", "not_met": "✗", "unknown": "?", "warn": "!"}


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


#: Control characters (C0 but tab and newline, DEL, C1) and the bidirectional overrides that
#: can hide text: shown as escapes, never sent to a terminal as they are.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def plain(text: str) -> str:
    """Text safe to print on a terminal: control characters (an escape code in a referral id
    or a registry title) become visible escapes such as \\x1b."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


_MARKDOWN = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "\\|", "[": "\\[", "]": "\\]",
     "`": "\\`", "*": "\\*", "_": "\\_", "\n": " ", "\r": " "}
)  # fmt: skip


def md(value: Any) -> str:
    """Registry or referral text as inert Markdown: no HTML, no links, no table breaks."""
    return plain(str(value)).translate(_MARKDOWN)


def cost_range(cost: dict[str, Any], currency: str = "CNY") -> str:
    """'CNY 1.49–1.63 M (about USD 207–226k)', or 'USD 207–226k (CNY 1.49–1.63 M)' in USD."""
    if cost.get("low") is None:
        return "unknown"
    cny = amount_range(cost["low"], cost["high"], "CNY")
    usd = amount_range(cost["usd_low"], cost["usd_high"], "USD")
    if currency.upper() == "USD":
        return f"{usd} ({cny})"
    return f"{cny} (about {usd})"


def option_notes(option: dict[str, Any], currency: str = "CNY") -> list[str]:
    """An option's notes with their amounts in the chosen currency, rounded."""
    fx = option["cost"].get("fx_rate")
    return [money_in_text(note, currency, fx) for note in option["notes"]]


def tier_text(tier: Iterable[Any]) -> str:
    return ".".join(str(t) for t in tier)


# -- match -------------------------------------------------------------------------------


def match_heading(data: dict[str, Any]) -> str:
    patient = data["patient"]
    who = patient.get("referral_id") or "referral"
    disease = (
        patient.get("indication_name") or f"unrecognised diagnosis '{patient.get('diagnosis')}'"
    )
    catalog = data["catalog"]
    return (
        f"{who}: {disease} · {len(data['options'])} option(s) · "
        f"catalog {catalog['version']} ({catalog['entries']} entries)"
    )


def hidden_line(data: dict[str, Any]) -> str | None:
    hidden = {k: n for k, n in (data.get("hidden") or {}).items() if k != "diagnosis_unrecognised"}
    there = hidden.pop("no_site_there", 0)
    parts = [f"{n} {why}" for why, n in hidden.items() if n]
    if there:
        parts.append(f"{there} with no site listed in {data.get('place')}")
    if not parts:
        return None
    hints = ["--all shows the ineligible and closed ones and why"] if any(hidden.values()) else []
    hints += ["without --city/--province, those elsewhere"] if there else []
    why = f" ({'; '.join(hints)})" if hints else ""
    return "Not shown: " + ", ".join(parts) + why + "."


def match_table(result: MatchResult, currency: str = "CNY") -> str:
    data = result.as_dict()
    lines = [match_heading(data)]
    lines += [f"warning: {w}" for w in data["warnings"]]
    lines.append(f"tier order: {' > '.join(data['tier_order'])}")
    if not data["options"]:
        lines.append(f"No option: {data['no_option']}.")
    if data["patient"].get("indication") is None and data["options"]:
        return "\n".join([*lines, *_unrecognised_lines(data)])
    for option in data["options"]:
        lines.append("")
        lines.append(
            f"{option['rank']:>2}. {option['entry_id']} / {option['indication_id']}  "
            f"[{option['status'].upper()}]  {option['track']}, {option['enrolment']}"
        )
        lines.append(f"    {option['name']}: {option['indication']}")
        lines += cost_lines(option["cost"], currency)
        lines.append(f"    tier {tier_text(option['tier'])}")
        for criterion in option["criteria"]:
            mark = SYMBOLS[criterion["outcome"]]
            lines.append(f"    {mark} {criterion['id']}: {criterion['message']}")
        for ask in option["missing"]:
            lines.append(f"    → ask for: {ask}")
        lines += [f"    {line}" for line in _safety_lines(option, data["patient"])]
        lines += [f"    note: {note}" for note in option_notes(option, currency)]
    if hidden := hidden_line(data):
        lines += ["", hidden]
    return "\n".join(lines)


def _safety_lines(option: dict[str, Any], patient: dict[str, Any]) -> list[str]:
    """What the treating centre confirms before infusion, and what the referral gives that
    this label or protocol does not consider (so nothing given goes unmentioned)."""
    lines = []
    if option["checks"]:
        lines.append(
            "confirm before infusion: " + "; ".join(c["confirm"] for c in option["checks"])
        )
    if option["not_considered"]:
        given = [f"{attr} {given_value(patient, attr)}" for attr in option["not_considered"]]
        lines.append("not considered by this label or protocol: " + ", ".join(given))
    return lines


def given_value(patient: dict[str, Any], attr: str) -> str:
    """A patient input (`lab.lvef`, `flag.pregnant`, `ecog`) as the referral gave it."""
    head, _, name = attr.partition(".")
    if head in ("lab", "antigen"):
        value = patient.get(f"{head}s", {}).get(name)
    else:
        value = patient.get(name or head)
    if isinstance(value, dict):
        return f"{value.get('percent', '?')}% at {value.get('intensity', '?')}+"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _unrecognised_lines(data: dict[str, Any]) -> list[str]:
    """With no recognised disease every option hinges on the diagnosis: list them briefly."""
    lines = ["", "Every option below depends on the diagnosis; confirm it first. Options:"]
    for option in data["options"]:
        lines.append(
            f"{option['rank']:>3}. {option['entry_id']} / {option['indication_id']}  "
            f"[{option['status'].upper()}]  {option['indication']}"
        )
    return lines


def match_markdown(result: MatchResult, currency: str = "CNY") -> str:
    data = result.as_dict()
    lines = [f"# {md(match_heading(data))}", ""]
    lines += [f"> **Warning:** {md(w)}" for w in data["warnings"]]
    lines += ["", f"Ranked by: {' > '.join(data['tier_order'])}", ""]
    lines += [
        "| # | option | track | status | estimated cost | tier |",
        "|---|---|---|---|---|---|",
    ]
    for o in data["options"]:
        lines.append(
            f"| {o['rank']} | {md(o['entry_id'])} / {md(o['indication_id'])} | {o['track']} | "
            f"{o['status']} | {cost_range(o['cost'], currency)} | `{tier_text(o['tier'])}` |"
        )
    for o in data["options"]:
        lines += ["", f"## {o['rank']}. {md(o['name'])}: {md(o['indication'])}", ""]
        lines += ["| criterion | outcome | explanation |", "|---|---|---|"]
        for c in o["criteria"]:
            lines.append(f"| {md(c['text'])} | {c['outcome']} | {md(c['message'])} |")
        if o["missing"]:
            lines += ["", "**Ask the referring doctor for:**", ""]
            lines += [f"- {md(ask)}" for ask in o["missing"]]
        if safety := _safety_lines(o, data["patient"]):
            lines += ["", *[f"- {md(line)}" for line in safety]]
        lines += ["", "**Cost breakdown:**", "", *cost_markdown(o["cost"], currency)]
        if notes := option_notes(o, currency):
            lines += ["", "**Notes:**", ""] + [f"- {md(n)}" for n in notes]
    if hidden := hidden_line(data):
        lines += ["", f"_{md(hidden)}_"]
    return "\n".join(lines) + "\n"


def cost_lines(cost: dict[str, Any], currency: str = "CNY") -> list[str]:
    """The cost of one option in a few plain lines: total, scenarios, US, payer context."""
    weak = f", {cost['confidence']} confidence" if cost.get("confidence") != "high" else ""
    label = cost.get("track_label") or cost["track"]
    lines = [f"    cost ({label}): {cost_range(cost, currency)}{weak}"]
    for scenario in cost.get("scenarios", []):
        lines.append(f"      if {scenario['label'].lower()}: {cost_range(scenario, currency)}")
    us = cost.get("us_reference") or {}
    if us.get("usd_low") is not None:
        lines.append(f"      {us_comparison(us)}")
    listed = (cost.get("insurance") or {}).get("commercial_innovative_list")
    if listed is not None:
        on = "on" if listed else "not on"
        lines.append(f"      insurance: {on} the commercial innovative drug list (not subtracted)")
    if cost.get("fx_rate"):
        when = cost.get("fx_date") or "the rate given"
        lines.append(f"      at {cost['fx_rate']:g} CNY/USD ({when})")
    return lines


def us_comparison(us: dict[str, Any]) -> str:
    """The same pathway at US prices, for the families who ask how it compares."""
    usd = amount_range(us["usd_low"], us["usd_high"], "USD")
    worst = us["complicated_usd_high"]
    return (
        f"US comparison (same pathway at US prices): {usd} "
        f"(complicated up to {amount_range(worst, worst, 'USD')})"
    )


def cost_markdown(cost: dict[str, Any], currency: str = "CNY") -> list[str]:
    """The breakdown as a Markdown table, in CNY or USD, with sources per line."""
    use_usd = currency.upper() == "USD"
    unit = "USD" if use_usd else "CNY"
    lines = [f"| component | low ({unit}) | high ({unit}) | sources |", "|---|---|---|---|"]
    rows = [*cost.get("components", []), {**cost, "label": "**total**", "sources": []}]
    for row in rows:
        low, high = (
            (row.get("usd_low"), row.get("usd_high")) if use_usd else (row["low"], row["high"])
        )
        name = row.get("label") or md(row.get("name"))
        cites = "".join(f"\\[{md(s)}\\]" for s in row.get("sources", []))
        lines.append(f"| {name} | {_amount(low)} | {_amount(high)} | {cites} |")
    us = cost.get("us_reference") or {}
    if us.get("usd_low") is not None:
        lines += ["", us_comparison(us) + "."]
    return lines


def _amount(value: float | None) -> str:
    return "unknown" if value is None else f"{value:,.0f}"


# -- lookup and show ------------------------------------------------------------------------


def lookup_table(query: str, hits: list[Hit], hospitals: list[str] | None = None) -> str:
    """Hits, then the gazetteer hospitals the query names (listed by an entry or not)."""
    named = [f"hospital: {line}" for line in hospitals or []]
    if not hits:
        return "\n".join([f"No catalog entry matches '{query}'.", *named])
    width = max(len(h.entry.id) for h in hits)
    rows = [f"{h.entry.id:<{width}}  {h.entry.track:<20}  {h.entry.name}  ({h.why})" for h in hits]
    return "\n".join([*rows, *named])


def lookup_data(hits: list[Hit]) -> list[dict[str, Any]]:
    return [
        {
            "entry_id": h.entry.id,
            "name": h.entry.name,
            "track": h.entry.track,
            "targets": h.entry.targets,
            "score": round(h.score, 1),
            "why": h.why,
        }
        for h in hits
    ]


def entry_text(
    entry: Entry, sites: list[dict[str, Any]] | None = None, old: list[str] | None = None
) -> str:
    """Everything a coordinator needs about one entry, with its sources: `sites` as
    `core.places.site_record` gives them, `old` the facts older than their limit."""
    sites = sites if sites is not None else [s.model_dump(mode="json") for s in entry.sites]
    lines = [f"{entry.name}  [{entry.id}]", ""]
    names = entry.names
    all_names = filter(None, [names.inn, *names.brands, *names.chinese, *names.codes])
    lines.append(f"names: {', '.join(all_names)}")
    lines.append(f"sponsor: {entry.sponsor.value} {_cite(entry.sponsor)}")
    lines.append(f"targets: {', '.join(entry.targets)} · cell source: {entry.cell_source}")
    lines.append(f"track: {entry.track} · status: {entry.status.value} {_cite(entry.status)}")
    lines.append(f"list price: {_price(entry)}")
    if entry.insurance:
        lines.append(f"insurance: {entry.insurance.text or ''} {_cite(entry.insurance)}".rstrip())
    if entry.manufacturing:
        lines.append(f"manufacturing: {entry.manufacturing.value} {_cite(entry.manufacturing)}")
    for indication in entry.indications:
        lines += ["", f"indication {indication.id}: {indication.title}"]
        lines.append(f"  status: {indication.status.value} {_cite(indication.status)}")
        if indication.approval_date:
            lines.append(
                f"  approved: {indication.approval_date.value} {_cite(indication.approval_date)}"
            )
        if indication.label:
            lines.append(f"  label: {indication.label.value} {_cite(indication.label)}")
        lines += [f"  criterion {c.id}: {c.label()}" for c in indication.criteria]
        lines += [f"  evidence: {e.text} {_cite(e)}" for e in indication.evidence]
        lines += [f"  needs review: {item}" for item in indication.needs_review]
    lines += _section("evidence", [f"{e.text} {_cite(e)}" for e in entry.evidence])
    lines += _section(
        "trial ids",
        [_trial_text(t) for t in entry.trial_ids],
    )
    if sites:
        lines += ["", "sites:", *entry_site_lines(sites)]
    else:
        lines += ["", "sites: none named in the sources read"]
    lines += _section("needs review", entry.needs_review)
    lines += _section(
        "sources",
        [
            f"[{key}] {s.title}. {s.url or '(no address)'} {s.date or ''}".rstrip()
            for key, s in entry.sources.items()
        ],
    )
    lines += _section("OLD FACTS (older than their limit; check before relying on them)", old or [])
    lines += ["", f"last verified: {entry.last_verified}"]
    return "\n".join(lines)


def _trial_text(trial: Any) -> str:
    """A registry id with what its record said when imported (status, dates, link, central
    contacts), the extra facts on lines of their own under it."""
    head = f"{trial.id} ({trial.registry}){': ' + trial.note if trial.note else ''}"
    record = [
        f"registry status {trial.overall_status}" if trial.overall_status else "",
        f"record updated {trial.last_update}" if trial.last_update else "",
        f"verified {trial.verified}" if trial.verified else "",
        trial.url or "",
    ]
    more = [" · ".join(r for r in record if r)] if any(record) else []
    more += [f"contact: {c.value}{f' ({c.label})' if c.label else ''}" for c in trial.contacts]
    return "\n    ".join([head, *more])


def _section(title: str, items: list[str]) -> list[str]:
    return ["", f"{title}:", *[f"  - {item}" for item in items]] if items else []


def _cite(fact: Any) -> str:
    refs = "".join(f"[{s}]" for s in fact.sources)
    weak = f" ({fact.confidence} confidence)" if fact.confidence != "high" else ""
    return f"{refs}{weak}"


def _price(entry: Entry) -> str:
    price = entry.price
    if price is None:
        return "not applicable or unknown (trial product; see cost estimate)"
    if price.amount_cny is None:
        band = (
            f"; assumed band CNY {price.band_cny[0]:,.0f}–{price.band_cny[1]:,.0f}"
            if price.band_cny
            else ""
        )
        return f"UNKNOWN{band} {_cite(price)}" + (f" — {price.note.strip()}" if price.note else "")
    when = f" as of {price.as_of}" if price.as_of else ""
    return f"CNY {price.amount_cny:,.0f} {price.unit.replace('_', ' ')}{when} {_cite(price)}"
