"""Cost estimates on each option's track (DESIGN section 6). Pure: no I/O.

rules/costs.yaml holds the model: cost tracks (China commercial, China trial, US reference),
their components with low/high ranges, scenario-only components, the exchange rate and payer
context, every figure with its sources and date. `estimate()` prices one option: the drug from
the entry's own list price, the care pathway from its track, bridging when the disease is rapid,
named scenario totals, a US comparison line and the insurance context (shown, never subtracted).

China amounts are fixed in CNY and US amounts in USD; the exchange rate only converts for
display, so --fx changes USD figures and nothing else (the ranking uses the CNY total).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from matcher.core.cost_estimate import CostEstimate, CostLine, ScenarioTotal, over_budget
from matcher.core.entry import Entry, Indication
from matcher.errors import CartmatchError
from matcher.model.base import did_you_mean
from matcher.model.cost_model import (
    Component,
    CostModel,
    CostTrack,
    InsuranceFact,
)
from matcher.model.facts import Confidence
from matcher.model.patient import Patient, Profile

CONFIDENCE_ORDER: tuple[Confidence, ...] = ("low", "medium", "high")
SEVERAL_INFUSIONS = "several_infusions"


def estimate(
    entry: Entry,
    indication: Indication,
    patient: Patient | None,
    model: CostModel,
    *,
    fx: float | None = None,
    scenario: str | None = None,
    us: dict[str, Any] | None = None,
) -> CostEstimate:
    """The cost of one option on its track, in CNY with USD alongside.

    `fx` overrides the model's CNY-per-USD rate (USD figures only). `scenario` folds a named
    scenario (bridging, severe_crs_icans, extended_stay, complicated, several_infusions) into
    the total. Bridging is in the total when the patient's disease_tempo is rapid. `us`: the
    US reference at this rate (`us_reference`), when the caller made it once for many options.
    """
    rate = _rate(fx, model)
    us = us if us is not None else _us_reference(model, rate)
    track_name, track = model.track_for(entry.track)
    profile = patient.profile if patient else None
    drug, drug_basis = _drug(entry, track)
    base = [_line(c, rate) for c in _pathway(drug, track, indication, profile)]
    unit_unknown = entry.price is not None and entry.price.unit == "unknown"
    extra = _scenario_additions(model, track, indication, drug, rate, unit_unknown)
    base += _chosen(scenario, extra, base)
    if entry.track == "nda_filed" and drug_basis == "track_default":
        return _unpriced(entry, track_name, track, base[1:], rate, profile, model, us)
    low, high = _total(base)
    budget = profile.budget_cny if profile else None
    return CostEstimate(
        track=track_name,
        currency=track.currency,
        low=low,
        high=high,
        usd_low=_usd(low, rate),
        usd_high=_usd(high, rate),
        components=base,
        track_label=track.label,
        drug_share=_share(base[0], low, high),
        drug_basis=drug_basis,
        confidence=_weakest(track.confidence, drug.confidence),
        price_known=drug_basis == "list_price",
        scenario=scenario,
        scenarios=_alternatives(model, base, extra, rate),
        budget_cny=budget,
        over_budget=over_budget(low, budget),
        notes=_notes(base[0], drug_basis, profile, track, indication.bridging_required),
        track_note=track.note,
        **_context(entry, track, model, profile, base, rate, us),
    )


def _rate(fx: float | None, model: CostModel) -> float:
    """CNY per USD: `fx` when given (a positive number), else the model's rate."""
    if fx is not None and not (math.isfinite(fx) and fx > 0):
        raise CartmatchError(f"the exchange rate must be a positive number, not {fx}")
    return fx or model.fx_cny_per_usd


def _pathway(
    drug: Component, track: CostTrack, indication: Indication, profile: Profile | None
) -> list[Component]:
    """The drug and the track's care pathway, with bridging when the regimen includes it for
    every patient or the disease is rapid."""
    rapid = indication.bridging_required or (
        profile is not None and profile.disease_tempo == "rapid"
    )
    return [drug, *(c for c in track.components if c.when == "always" or rapid)]


def _unpriced(
    entry: Entry,
    track_name: str,
    track: CostTrack,
    care: list[CostLine],
    rate: float,
    profile: Profile | None,
    model: CostModel,
    us: dict[str, Any],
) -> CostEstimate:
    """A filed product with no price of its own: the total is unknown, never an approved
    product's price; the care pathway around it is shown in a note."""
    low, high = _total(care)
    return CostEstimate(
        track=track_name,
        currency=track.currency,
        low=None,
        high=None,
        usd_low=None,
        usd_high=None,
        components=care,
        track_label=track.label,
        drug_basis="unknown",
        confidence="low",
        price_known=False,
        notes=[
            "list price not set: the product is filed, not approved; the care pathway around "
            f"it costs CNY {low:,.0f}-{high:,.0f} without the drug"
        ],
        track_note=track.note,
        **_context(entry, track, model, profile, care, rate, us),
    )


def _context(
    entry: Entry,
    track: CostTrack,
    model: CostModel,
    profile: Profile | None,
    base: list[CostLine],
    rate: float,
    us: dict[str, Any],
) -> dict[str, Any]:
    """The US comparison, payer context, exchange rate and the sources they all cite."""
    insurance = _insurance(entry, track, model, profile)
    # A rate given for this match (--fx) is the caller's: it has no date and no source.
    own = rate == model.fx_cny_per_usd
    fx_sources = tuple(model.fx_source.sources) if own else ()
    cited = [line.sources for line in base]
    cited += [fx_sources, us["sources"], insurance["sources"]]
    return {
        "us_reference": us,
        "insurance": insurance,
        "fx_rate": rate,
        "fx_date": model.fx_source.date if own else None,
        "fx_sources": fx_sources,
        "sources": _sources(entry, model, cited),
    }


def _drug(entry: Entry, track: CostTrack) -> tuple[Component, str]:
    """The drug as a component, and where it came from: list_price, price_band, track_default."""
    price = entry.price
    if not track.drug.use_entry_price or price is None or not (price.amount_cny or price.band_cny):
        return track.drug.default, "track_default"
    known = price.amount_cny is not None
    low, high = (price.amount_cny, price.amount_cny) if known else price.band_cny  # type: ignore[misc]
    unit = price.unit.replace("_", " ")
    # model_construct: the entry was validated on load, and its price may cite no source id.
    drug = Component.model_construct(
        name="drug",
        label=f"CAR-T product, list price {unit}" + ("" if known else " (band; price unknown)"),
        low=float(low),
        high=float(high),
        currency="CNY",
        sources=list(price.sources),
        date=price.as_of or entry.last_verified.isoformat(),
        # An assumed band is never better than low confidence, whatever the entry says.
        confidence=price.confidence if known else "low",
        basis=price.note or f"The entry's own list price ({entry.id}), {unit}.",
        when="always",
        repeats_per_infusion=price.unit == "per_infusion",
    )
    return drug, "list_price" if known else "price_band"


def _line(component: Component, rate: float, extra: int = 0) -> CostLine:
    """A component as an estimate line (or `extra` more infusions of it); USD at `rate`."""
    times = extra or 1
    low, high = component.low * times, component.high * times
    usd = (low, high) if component.currency == "USD" else (_usd(low, rate), _usd(high, rate))
    return CostLine(
        name=f"{component.name}_extra_infusions" if extra else component.name,
        label=f"{component.label}, {extra} more infusion(s)" if extra else component.label,
        low=low,
        high=high,
        currency=component.currency,
        usd_low=usd[0],
        usd_high=usd[1],
        sources=tuple(component.sources),
        date=component.date,
        confidence=component.confidence,
        basis=component.basis,
    )


def _scenario_additions(
    model: CostModel,
    track: CostTrack,
    indication: Indication,
    drug: Component,
    rate: float,
    unit_unknown: bool = False,
) -> dict[str, list[CostLine]]:
    """Scenario name -> the lines it adds to the uncomplicated total, on this track."""
    out: dict[str, list[CostLine]] = {}
    for scenario in model.scenarios:
        parts = [track.component(name) for name in scenario.adds]
        if all(parts):
            out[scenario.name] = [_line(p, rate) for p in parts if p is not None]
    extra = indication.max_infusions - 1
    if extra > 0:
        # A per-course price covers every infusion (repeats_per_infusion is then false); a
        # free trial product adds nothing, but lymphodepletion is repeated before each one.
        repeated = [drug, *track.components]
        lines = [_line(c, rate, extra) for c in repeated if c.repeats_per_infusion and c.high > 0]
        if unit_unknown and drug.high > 0:
            # Per infusion or per course is not known: from nothing more to a product each.
            full = _line(drug, rate, extra)
            lines.insert(0, replace(full, low=0.0, usd_low=0.0, label=full.label
                                    + " (0 if the price covers the course)"))  # fmt: skip
        out[SEVERAL_INFUSIONS] = lines
    return out


def _chosen(
    scenario: str | None, extra: dict[str, list[CostLine]], base: list[CostLine]
) -> list[CostLine]:
    """The lines a requested scenario folds into the total (none when none was asked for)."""
    if scenario is None:
        return []
    if scenario not in extra:
        raise CartmatchError(f"unknown cost scenario '{scenario}'{did_you_mean(scenario, extra)}")
    return [line for line in extra[scenario] if line.name not in {b.name for b in base}]


def _alternatives(
    model: CostModel, base: list[CostLine], extra: dict[str, list[CostLine]], rate: float
) -> list[ScenarioTotal]:
    """Every scenario not already in the total, as base + its lines (CNY, USD at `rate`)."""
    labels = {s.name: s.label for s in model.scenarios}
    labels[SEVERAL_INFUSIONS] = "Several infusions, as the protocol or label allows"
    present = {line.name for line in base}
    out = []
    for name, adds in extra.items():
        new = [line for line in adds if line.name not in present]
        low, high = _total([*base, *new])
        usd = (_usd(low, rate), _usd(high, rate))
        adds_names = tuple(line.name for line in new)
        if new:
            out.append(ScenarioTotal(name, labels[name], adds_names, low, high, *usd))
    return out


def us_reference(model: CostModel, fx: float | None = None) -> dict[str, Any]:
    """The US reference at this exchange rate: the same for every option of a match."""
    return _us_reference(model, _rate(fx, model))


def _us_reference(model: CostModel, rate: float) -> dict[str, Any]:
    """The same pathway at US prices: uncomplicated and complicated totals in USD."""
    track = model.tracks[model.reference_track]
    base = [_line(c, rate) for c in [track.drug.default, *track.components] if c.when == "always"]
    extras = [_line(c, rate) for c in track.extras]
    low, high = _total(base)
    return {
        "track": model.reference_track,
        "label": track.label,
        "currency": "USD",
        "usd_low": low,
        "usd_high": high,
        "complicated_usd_low": low + sum(line.low for line in extras),
        "complicated_usd_high": high + sum(line.high for line in extras),
        "components": [line.as_dict() for line in [*base, *extras]],
        "note": track.note,
        "sources": sorted({s for line in [*base, *extras] for s in line.sources}),
    }


def _insurance(
    entry: Entry, track: CostTrack, model: CostModel, profile: Profile | None
) -> dict[str, Any]:
    """Payer context for the option; nothing here is subtracted from the estimate."""
    ins = model.insurance
    listed = entry.insurance.commercial_innovative_list if entry.insurance else None
    out: dict[str, Any] = {
        "subtracted": False,
        "commercial_innovative_list": listed,
        "entry_text": entry.insurance.text if entry.insurance else None,
        "patient_insurance": profile.insurance if profile else None,
        "sources": list(entry.insurance.sources) if entry.insurance else [],
    }
    if track.kind == "trial":
        out["text"] = "Product provided in the trial; insurance applies to hospital costs only."
        return out
    facts = [f for f in ins.facts() if isinstance(f, InsuranceFact)]
    out["text"] = " ".join(f.text for f in facts)
    out["huiminbao"] = [
        {"scheme": c.scheme, "cap_cny": c.cap_cny, "date": c.date, "note": c.note,
         "sources": list(c.sources)}
        for c in ins.huiminbao
    ]  # fmt: skip
    out["sources"] += [s for f in [*facts, *ins.huiminbao] for s in f.sources]
    return out


def _notes(
    drug: CostLine,
    drug_basis: str,
    profile: Profile | None,
    track: CostTrack,
    bridging_required: bool = False,
) -> list[str]:
    """What a coordinator must know to read the figures."""
    notes = []
    if drug_basis != "list_price" and track.kind == "commercial":
        notes.append(
            f"list price unknown: drug assumed at CNY {drug.low:,.0f}-{drug.high:,.0f} "
            f"({', '.join(drug.sources)}), low confidence"
        )
    bridging = next((c for c in track.components if c.when == "rapid"), None)
    tempo = profile.disease_tempo if profile else None
    if bridging is not None and bridging_required:
        span = f"CNY {bridging.low:,.0f}-{bridging.high:,.0f}"
        notes.append(f"bridging therapy is part of the regimen for every patient: {span} included")
    elif bridging is not None and tempo != "stable":
        span = f"CNY {bridging.low:,.0f}-{bridging.high:,.0f}"
        notes.append(
            f"rapid disease: bridging therapy ({span}) included"
            if tempo == "rapid"
            else f"disease tempo unknown: bridging ({span}) not included; see scenario 'bridging'"
        )
    if track.confidence == "low":
        notes.append(f"low confidence: {track.label} figures rest on thin sources")
    return notes


def _sources(entry: Entry, model: CostModel, cited: Iterable[Iterable[str]]) -> dict[str, Any]:
    """id -> title, url, date for every cited id (the model's table, then the entry's)."""
    out: dict[str, Any] = {}
    for source_id in sorted({s for ids in cited for s in ids}):
        found = model.sources.get(source_id) or entry.sources.get(source_id)
        if found is not None:
            out[source_id] = found.model_dump(exclude_none=True)
    return out


def _total(lines: list[CostLine]) -> tuple[float, float]:
    return sum(line.low for line in lines), sum(line.high for line in lines)


def _usd(cny: float | None, rate: float) -> float | None:
    return None if cny is None else float(round(cny / rate))


def _share(drug: CostLine, low: float, high: float) -> float | None:
    total = (low + high) / 2
    return round((drug.low + drug.high) / 2 / total, 3) if total else None


def _weakest(*levels: str) -> str:
    return min(levels, key=CONFIDENCE_ORDER.index)
