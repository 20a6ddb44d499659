"""Match one patient against the catalog: evaluate every cohort, roll up, estimate, rank.

Pure: the catalog, the reference date and the options are passed in; nothing is read or kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from matcher.core.catalog import Catalog, CatalogVersion
from matcher.core.cost_estimate import CostEstimate
from matcher.core.costs import estimate, us_reference
from matcher.core.entry import Entry, Indication
from matcher.core.freshness import option_note
from matcher.core.places import Place, at_place
from matcher.criteria import Context
from matcher.criteria.node import safety_inputs
from matcher.model.facts import CLOSED_STATUSES, OPEN_STATUSES
from matcher.model.patient import Patient
from matcher.model.ranking import RankingPolicy
from matcher.model.verdict import Outcome, Status, Verdict, missing_data, roll_up


@dataclass(frozen=True)
class Option:
    """One entry x indication for one patient, explained."""

    entry: Entry
    indication: Indication
    status: Status
    verdicts: list[Verdict]
    missing: list[str]
    cost: CostEstimate | None
    """None only before the option is priced (`judged`); every option `match` returns has it."""
    enrolment: str
    notes: list[str]
    tier: tuple[int | str, ...] = ()
    rank: int = 0
    not_considered: list[str] = field(default_factory=list)
    """Safety inputs the referral gives that none of this cohort's criteria read."""
    fit: int = 0
    """How closely the cohort's disease fits the patient's (0: exactly; see disease_fit)."""

    @property
    def excluded_by(self) -> list[Verdict]:
        """The criteria that make the option ineligible or a near miss."""
        return [v for v in self.verdicts if v.outcome == "not_met"]

    def as_dict(self) -> dict[str, Any]:
        """The DESIGN section 8 JSON shape of one option."""
        return {
            "rank": self.rank,
            "entry_id": self.entry.id,
            "indication_id": self.indication.id,
            "name": self.entry.name,
            "indication": self.indication.title,
            "track": self.entry.track,
            "status": self.status.value,
            "enrolment": self.enrolment,
            "tier": list(self.tier),
            "criteria": [v.as_dict() for v in self.verdicts if not v.pending],
            "checks": [
                {"id": v.id, "text": v.text, "confirm": v.ask}
                for v in self.verdicts
                if v.pending and v.ask
            ],
            "not_considered": self.not_considered,
            "missing": self.missing,
            "excluded_by": [v.id for v in self.excluded_by],
            "notes": self.notes,
            "cost": self.cost.as_dict(),
        }


@dataclass(frozen=True)
class MatchResult:
    patient: Patient
    catalog: CatalogVersion
    options: list[Option]
    warnings: list[str]
    tier_order: list[str]
    hidden: dict[str, int] = field(default_factory=dict)
    """How many options were left out, by reason (ineligible, closed)."""
    no_option: str | None = None
    """Why no option is shown, in one line (an unrecognised diagnosis, a disease no cohort
    treats, or a disease whose cohorts this referral does not fit)."""
    place: str | None = None
    """The place options were kept for (--city, --province); others count as hidden
    `no_site_there`."""

    def as_dict(self) -> dict[str, Any]:
        place = {"place": self.place} if self.place else {}
        return {
            **place,
            "no_option": self.no_option,
            "patient": self.patient.public(),
            "catalog": self.catalog.model_dump(exclude_none=True),
            "tier_order": self.tier_order,
            "options": [o.as_dict() for o in self.options],
            "hidden": self.hidden,
            "warnings": self.warnings,
        }


def hidden_reason(status: Status, enrolment: str, include_all: bool) -> str | None:
    """Why an option is left out of the list (`ineligible`, `closed`), or None when shown.
    The one show/hide rule: the engine, bulk screening and call-backs all ask it."""
    if include_all:
        return None
    if status is Status.INELIGIBLE:
        return "ineligible"
    if enrolment == "closed":
        return "closed"
    return None


def enrolment_state(indication: Indication) -> str:
    status = indication.status.value
    if status in OPEN_STATUSES:
        return "open"
    if status in CLOSED_STATUSES:
        return "closed"
    if status == "unknown":
        return "unknown"
    return "not_yet_open"


def evaluate_option(
    patient: Patient, entry: Entry, indication: Indication, catalog: Catalog, fx: float | None
) -> Option:
    """Every criterion of one cohort, the roll-up, the cost and the notes; not yet ranked."""
    return priced(judged(patient, entry, indication, catalog), patient, catalog, fx)


def judged(
    patient: Patient,
    entry: Entry,
    indication: Indication,
    catalog: Catalog,
    *,
    whole: bool = True,
    given: list[str] | None = None,
) -> Option:
    """Every criterion of one cohort and the roll-up: what decides whether it is shown. Not
    yet priced (`priced`): `match` prices only the options it shows, since the cost estimate
    is most of the work and a hidden option's cost is never read. Not `whole`: evaluation
    stops at the first criterion that fails for good (the option is then ineligible whatever
    the others say, and is hidden unless --all asks for every option in full). `given`: the
    referral's safety inputs, when the caller listed them once for every cohort."""
    given = safety_inputs(patient) if given is None else given
    ctx = Context(patient=patient, lexicon=catalog.lexicon)
    criteria = catalog.criteria(entry, indication)
    verdicts = []
    for criterion in criteria:
        verdicts.append(verdict := criterion.evaluate(ctx))
        if not whole and verdict.outcome is Outcome.NOT_MET and not verdict.recoverable:
            break
    read = catalog.reads(entry, indication)
    return Option(
        entry=entry,
        indication=indication,
        status=roll_up(verdicts),
        verdicts=verdicts,
        missing=missing_data(verdicts),
        cost=None,
        enrolment=enrolment_state(indication),
        notes=[],
        not_considered=[a for a in given if a not in read],
        fit=disease_fit(criteria[: len(verdicts)], verdicts, patient.indication, catalog.lexicon),
    )


def priced(
    option: Option,
    patient: Patient,
    catalog: Catalog,
    fx: float | None,
    us: dict[str, Any] | None = None,
) -> Option:
    """The option with its cost on its track and the notes that go with it (`us`: the US
    reference, made once per match)."""
    model = catalog.rules.costs
    cost = estimate(option.entry, option.indication, patient, model, fx=fx, us=us)
    notes = _notes(option.entry, option.indication, patient, cost)
    return replace(option, cost=cost, notes=notes)


#: Fit of a cohort whose disease criterion only warns or is unknown: after every exact fit.
LOOSE_FIT = 8


def disease_fit(
    criteria: list[Any], verdicts: list[Verdict], code: str | None, lexicon: Any
) -> int:
    """How far the patient's disease lies below the cohort's (0: the cohort names it; 1: its
    parent ...); LOOSE_FIT when a disease criterion only warns or is unknown. A lupus-nephritis
    cohort fits a lupus-nephritis patient better than a cohort for SLE in general."""
    fit = 0
    for criterion, verdict in zip(criteria, verdicts, strict=True):
        if criterion.kind != "indication":
            continue
        if verdict.outcome is not Outcome.MET or code is None:
            fit = max(fit, LOOSE_FIT)
            continue
        chain = lexicon.ancestors(code)
        steps = [chain.index(c) for c in criterion.indication if c in chain]
        fit = max(fit, min(steps, default=LOOSE_FIT))
    return fit


def _notes(entry: Entry, indication: Indication, patient: Patient, cost: CostEstimate) -> list[str]:
    notes = [f"needs review: {item}" for item in (*entry.needs_review, *indication.needs_review)]
    notes += cost.notes
    for what, fact in (("status", indication.status), ("approval", indication.approval_date)):
        if fact is not None and fact.confidence != "high":
            notes.append(
                f"{what} known with {fact.confidence} confidence: {fact.note or 'see sources'}"
            )
    if cost.over_budget:
        notes.append(
            f"over budget: low estimate CNY {cost.low:,.0f} exceeds the budget of "
            f"CNY {cost.budget_cny:,.0f}"
        )
    return notes


def match(
    patient: Patient,
    catalog: Catalog,
    *,
    warnings: list[str] | None = None,
    include_all: bool = False,
    fx: float | None = None,
    place: Place | None = None,
    today: date | None = None,
) -> MatchResult:
    """Ranked options for one patient. Ineligible and closed options only with include_all;
    with a place, only options with a site there (the others are counted as hidden). With
    `today`, each option notes its facts older than their limit (rules/freshness.yaml)."""
    policy = catalog.rules.ranking
    if diagnosis_unrecognised(patient):
        return MatchResult(
            patient=patient,
            catalog=catalog.version,
            options=[],
            warnings=list(warnings or []),
            tier_order=list(policy.order),
            hidden={"diagnosis_unrecognised": sum(len(e.indications) for e in catalog.entries)},
            no_option=no_option_reason(patient, catalog),
        )
    given = safety_inputs(patient)
    options = [
        judged(patient, entry, indication, catalog, whole=include_all, given=given)
        for entry in catalog.entries
        for indication in entry.indications
    ]
    hidden = {"ineligible": 0, "closed": 0}
    there = at_place(catalog.entries, catalog.places, place) if place else None
    if there is not None:
        hidden["no_site_there"] = 0
    shown = []
    us = us_reference(catalog.rules.costs, fx)
    for option in options:
        if reason := _hidden(option, include_all, there):
            hidden[reason] += 1
        else:
            option = priced(option, patient, catalog, fx, us)
            shown.append(with_tier(_dated(option, catalog, today), policy))
    shown.sort(key=lambda o: o.tier)
    ranked = [replace(o, rank=n) for n, o in enumerate(shown, start=1)]
    return MatchResult(
        patient=patient,
        catalog=catalog.version,
        options=ranked,
        warnings=list(warnings or []),
        tier_order=list(policy.order),
        hidden=hidden,
        no_option=None if ranked else _no_option(patient, catalog, place, hidden),
        place=place.label() if place else None,
    )


def _hidden(option: Option, include_all: bool, there: set[str] | None) -> str | None:
    """Why `match` leaves the option out (`hidden_reason`, or no site at the place)."""
    reason = hidden_reason(option.status, option.enrolment, include_all)
    if reason is None and there is not None and option.entry.id not in there:
        return "no_site_there"
    return reason


def _dated(option: Option, catalog: Catalog, today: date | None) -> Option:
    """The option with a note on its facts older than their limit, when there are any."""
    if today is None:
        return option
    note = option_note(option.entry, option.indication.id, catalog.rules.freshness, today)
    return replace(option, notes=[*option.notes, note]) if note else option


def _no_option(
    patient: Patient, catalog: Catalog, place: Place | None, hidden: dict[str, int]
) -> str:
    if place and hidden.get("no_site_there"):
        return place_reason(hidden["no_site_there"], place)
    return no_option_reason(patient, catalog)


def place_reason(left_out: int, place: Place) -> str:
    """Why a referral has no option at a place when it has some elsewhere."""
    return (
        f"{left_out} option(s) fit but none lists a site in {place.label()}; "
        "run without --city/--province to see them"
    )


def diagnosis_unrecognised(patient: Patient) -> bool:
    """No disease could be read from the diagnosis, not even a guess: nothing is ranked."""
    return patient.indication is None and not patient.indication_candidates


def no_option_reason(patient: Patient, catalog: Catalog) -> str:
    """Why a referral has no option, in one line."""
    return disease_reason(patient.indication, patient.indication_candidates, catalog)


def disease_reason(code: str | None, candidates: tuple[str, ...], catalog: Catalog) -> str:
    """Why no option is shown, from the disease read alone (bulk screening writes the same
    line): not recognised, no cohort for the disease, or cohorts this referral does not fit."""
    lexicon = catalog.lexicon
    if code is None and not candidates:
        return (
            "diagnosis not recognised: nothing can be ranked until it is corrected or given as "
            "an indication code"
        )
    codes = [code] if code else list(candidates)
    names = " or ".join(_disease_label(c, lexicon) for c in codes)
    cohorts = [i for e in catalog.entries for i in e.indications]
    treated = any(
        lexicon.is_within(c, d) or lexicon.is_within(d, c)
        for c in codes
        for i in cohorts
        for d in i.diseases
    )
    if not treated:
        hint = _target_hint(codes, catalog)
        return f"{names}: no CAR-T product or trial in the catalog treats this disease" + hint
    return f"{names}: the catalog has options for this disease, but none fits this referral"


def _target_hint(codes: list[str], catalog: Catalog) -> str:
    """'; CLDN18.2 is reported in this tumour (source): the catalog's CLDN18.2-directed
    programmes (satri-cel, ...) may consider it after CLDN18.2 testing'."""
    lexicon = catalog.lexicon
    hints = []
    for target in sorted({t for e in catalog.entries for t in e.targets}):
        antigen = lexicon.antigens.get(target)
        reports = [
            r
            for r in (antigen.reported_in if antigen else [])
            if any(lexicon.is_within(c, d) for c in codes for d in r.diseases)
        ]
        if reports:
            ids = ", ".join(e.id for e in catalog.entries if target in e.targets)
            hints.append(
                f"; {target} is reported in this tumour ({reports[0].title}): ask the "
                f"{target}-directed programmes ({ids}) whether they take it, after {target} "
                "testing"
            )
    return "".join(hints)


def _disease_label(code: str, lexicon: Any) -> str:
    """'Glioblastoma (OncoTree GB; ICD-10 C71)'."""
    disease = lexicon.diseases.get(code)
    if disease is None:
        return code
    refs = [f"OncoTree {', '.join(disease.oncotree)}"] if disease.oncotree else []
    refs += [f"ICD-10 {', '.join(disease.icd10)}"] if disease.icd10 else []
    return disease.name + (f" ({'; '.join(refs)})" if refs else "")


def with_tier(option: Option, policy: RankingPolicy) -> Option:
    """The option with its sort key under `policy` (the bulk path ranks with this too)."""
    unknowns = sum(1 for v in option.verdicts if v.outcome in ("unknown", "warn"))
    tier = policy.tier(
        status=option.status.value,
        track=option.entry.track,
        enrolment=option.enrolment,
        fit=option.fit,
        unknowns=unknowns,
        cost_cny=_midpoint(option.cost.low, option.cost.high),
        entry_id=option.entry.id,
        indication_id=option.indication.id,
    )
    return replace(option, tier=tier)


def _midpoint(low: float | None, high: float | None) -> float | None:
    """Options compare on the middle of their cost range: an assumed price band's low end
    would otherwise make an unpriced product look cheapest."""
    return None if low is None or high is None else (low + high) / 2
