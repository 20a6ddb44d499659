"""The report's data: a match result turned into what the templates show, in one language and
for one audience. Pure: the catalog, the result and the date are passed in.

Options are grouped as the family reads them: can proceed (eligible), needs tests or records
first (possible), close but (near miss). Ineligible options are a count with the commonest
reasons (the MDT also gets the list); what to ask for is one merged list that says which
options each item would decide.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from matcher.core.catalog import Catalog
from matcher.core.engine import MatchResult, Option
from matcher.model.verdict import Outcome, Status
from matcher.render.match import given_value, option_notes
from matcher.report.costs import (
    chart_rows,
    option_cost,
    scenario_table,
    what_adds,
    without_source_ids,
)
from matcher.report.refs import (
    SourceList,
    entry_sites,
    number_ranges,
    shown_sources,
)
from matcher.report.shared import (
    common_criteria,
    common_notes,
    included_lines,
    merged_asks,
    merged_checks,
    same_lines,
)
from matcher.report.words import Words

AUDIENCES = ("family", "mdt")

#: The groups shown, in order: status, title, what it means for the family.
GROUPS = (
    (Status.ELIGIBLE, "Can proceed", "Every requirement we could check is met."),
    (
        Status.POSSIBLE,
        "Needs tests or records first",
        "Nothing rules these out, but some results or records are missing.",
    ),
    (
        Status.NEAR_MISS,
        "Close, but",
        "One or more requirements are not met today, but could be met later.",
    ),
)
#: What a group means, for the MDT where it differs: the criterion tables say what is missing.
MDT_INTROS = {
    Status.POSSIBLE: (
        "Nothing rules these out; the requirements marked unknown in the tables decide them."
    ),
}

TRACKS = {
    "nmpa_commercial": "Approved product (NMPA)",
    "nda_filed": "Filed for approval",
    "registrational_trial": "Registrational trial",
    "iit": "Investigator-initiated trial",
}
ENROLMENT = {
    "open": "recruiting or available",
    "not_yet_open": "not yet open",
    "unknown": "enrolment status unknown",
    "closed": "closed",
}
ENROLMENT_PLAIN = {
    "not_yet_open": "The trial is not yet open.",
    "unknown": "No recent source confirms that it is enrolling.",
}
OUTCOMES = {"met": "met", "not_met": "not met", "unknown": "unknown", "warn": "check"}
SEXES = {"female": "female", "male": "male", "other": "other"}
STATUSES = {
    "newly_diagnosed": "newly diagnosed",
    "relapsed": "relapsed",
    "refractory": "refractory",
    "remission": "in remission",
}

#: Why a cohort excludes the patient, by the kind of its first criterion not met.
REASONS = {
    "indication": "for another disease",
    "age": "age",
    "prior_lines": "number of prior treatment lines",
    "prior_therapy": "a prior treatment",
    "disease_status": "disease status",
    "antigen": "a biomarker result",
    "target": "a biomarker result",
    "setting": "stage or setting of the disease",
    "stage": "stage or setting of the disease",
    "flag": "a safety exclusion",
    "safety": "a safety exclusion",
    "ecog": "performance status",
    "lab": "a lab value",
    "sex": "sex",
}


@dataclass(frozen=True)
class ReportRequest:
    """What kind of report: audience, language, currency and the report's date."""

    audience: str = "family"
    lang: str = "en"
    currency: str = "CNY"
    today: date | None = None


def build_report(result: MatchResult, catalog: Catalog, request: ReportRequest) -> dict[str, Any]:
    """Everything the template shows. `result` must come from `match(..., include_all=True)`
    so that ineligible and closed options can be counted."""
    words = Words.of(request.lang)
    today = request.today or date.today()
    shown = [o for o in result.options if _shown(o)]
    sources = SourceList()
    options = [
        _option(n, o, catalog, words, request, sources) for n, o in enumerate(shown, start=1)
    ]
    common = common_notes(options)
    criteria = common_criteria(options)
    intros = MDT_INTROS if request.audience == "mdt" else {}
    return {
        "lang": request.lang,
        "audience": request.audience,
        "currency": request.currency,
        "mdt": request.audience == "mdt",
        "today": words.date(today),
        "patient": patient_rows(result, catalog, words),
        "warnings": result.warnings,
        "catalog": catalog_line(result, catalog, shown, words, today),
        "no_option": result.no_option if not shown else None,
        "groups": [
            {
                "title": words(title),
                "intro": words(intros.get(status, intro)),
                "options": grouped,
                "shared": criteria if status is Status.POSSIBLE else [],
            }
            for status, title, intro in GROUPS
            if (grouped := [o for o in options if o["status"] == status.value])
        ],
        "asks": merged_asks(options, words),
        "checks": merged_checks(options),
        "left_out": left_out(result, catalog, words),
        "chart": chart_rows(options, words, request.currency),
        "adds": what_adds(options, words, request.currency),
        "scenarios": scenario_table(options, words, request.currency),
        "insurance": same_lines(options, lambda o: o["cost"]["insurance"]),
        "included": included_lines(options),
        "common_notes": common,
        "sites": entry_sites(shown, catalog, words),
        "sources": sources.listed(words),
    }


def _shown(option: Option) -> bool:
    return option.status is not Status.INELIGIBLE and option.enrolment != "closed"


#: Tracks whose entry is a trial: its Chinese names are those of the product it gives.
TRIALS = ("registrational_trial", "iit")


def display_name(entry: Any, words: Words) -> str:
    """The product's name for the reader: its Chinese name first in a Chinese report. A
    trial keeps its own name, with its product's Chinese name in brackets: titled by the
    product alone, an investigator's trial of axi-cel read as axi-cel itself."""
    chinese = entry.names.chinese
    if words.lang == "zh" and chinese and entry.track in TRIALS:
        return f"{entry.name}（{chinese[0]}）"
    if words.lang == "zh" and chinese:
        brand = f"（{chinese[1]}）" if len(chinese) > 1 and chinese[1] not in chinese[0] else ""
        return f"{chinese[0]}{brand}"
    return entry.name


def short_name(entry: Any, words: Words) -> str:
    """A name short enough for a chart label: the Chinese name, or the English name without
    its brackets, before its first comma or " in " (Axicabtagene ciloleucel, 阿基仑赛注射液; a
    trial of it, 阿基仑赛注射液试验; PRG-1801 for "PRG-1801 (BCMA CAR-T) in refractory lupus
    nephritis ...")."""
    if words.lang == "zh" and entry.names.chinese:
        trial = words("trial") if entry.track in TRIALS else ""
        return f"{entry.names.chinese[0]}{trial}"
    return _BRACKETS.sub("", entry.name).split(", ")[0].split(" in ")[0]


#: A bracketed part of a name: "Universal (allogeneic) CD19 CAR-T in SLE" is cut to
#: "Universal CD19 CAR-T in SLE", where cutting at the bracket left "Universal".
_BRACKETS = re.compile(r"\s*\([^()]*\)")


def disease_name(code: str | None, catalog: Catalog, words: Words) -> str | None:
    """A disease's name from the vocabulary, its Chinese name in a Chinese report."""
    disease = catalog.lexicon.diseases.get(code) if code else None
    if disease is None:
        return None
    return (disease.name_zh or disease.name) if words.lang == "zh" else disease.name


def _option(
    number: int,
    option: Option,
    catalog: Catalog,
    words: Words,
    request: ReportRequest,
    sources: SourceList,
) -> dict[str, Any]:
    data = option.as_dict()
    cites = sources.cite(
        shown_sources(option.entry, option.indication), data["cost"].get("sources", {})
    )
    diseases = [disease_name(d, catalog, words) for d in option.indication.diseases]
    return {
        "number": number,
        "id": f"{option.entry.id} / {option.indication.id}",
        "status": option.status.value,
        "name": display_name(option.entry, words),
        "english_name": option.entry.name,
        "short_name": short_name(option.entry, words),
        "indication": option.indication.title,
        "diseases": ", ".join(d for d in diseases if d),
        "track": words(TRACKS[option.entry.track]),
        "enrolment": words(ENROLMENT[option.enrolment]),
        "plain": plain_words(option, words, request.audience == "mdt"),
        "criteria": criterion_rows(option, catalog, words),
        "missing": option.missing,
        "checks": [c["confirm"] for c in data["checks"]],
        "not_met": [v.text for v in option.excluded_by],
        "notes": curator_notes(data, request.currency),
        "cost": option_cost(data["cost"], words, request.currency),
        "cost_raw": data["cost"],
        "cites": cites,
        "cites_text": number_ranges(cites),
    }


def curator_notes(data: dict[str, Any], currency: str) -> list[str]:
    """The engine's notes on an option, less those about its cost: the cost section says
    those, beside the figures they qualify."""
    about_cost = set(data["cost"].get("notes", []))
    own = [note for note in data["notes"] if note not in about_cost]
    return [without_source_ids(note) for note in option_notes({**data, "notes": own}, currency)]


def plain_words(option: Option, words: Words, mdt: bool = False) -> list[str]:
    """What the option means for the family, in a few sentences. The MDT reads what is missing
    in the criterion tables, so its report does not list it again here."""
    if option.status is Status.ELIGIBLE:
        lines = [words("Meets every requirement we could check from the records received.")]
    elif option.status is Status.POSSIBLE and mdt:  # the group's introduction says it once
        lines = []
    elif option.status is Status.POSSIBLE:
        asks = option.missing or [
            v.text for v in option.verdicts if v.outcome in (Outcome.UNKNOWN, Outcome.WARN)
        ]
        lines = [words("May fit. It depends on: {items}.", items="; ".join(asks))]
    else:
        lines = [
            words(
                "Not yet: {items}. This could change, for example after further treatment.",
                items="; ".join(v.text for v in option.excluded_by),
            )
        ]
    if option.enrolment in ENROLMENT_PLAIN:
        lines.append(words(ENROLMENT_PLAIN[option.enrolment]))
    return lines


def criterion_rows(option: Option, catalog: Catalog, words: Words) -> list[dict[str, Any]]:
    """The MDT's table: the label or protocol text, the patient value (a disease by its
    name, not its code), the outcome, why."""
    return [
        {
            "text": v.text,
            "value": "" if v.value is None else _value_text(v.value, catalog, words),
            "outcome": v.outcome.value,
            "outcome_word": words(OUTCOMES[v.outcome.value]),
            "message": v.message,
        }
        for v in option.verdicts
        if not v.pending
    ]


def _value_text(value: Any, catalog: Catalog, words: Words) -> str:
    if isinstance(value, str) and (name := disease_name(value, catalog, words)):
        return name
    if isinstance(value, str) and value in STATUSES:  # a disease status, in the report's words
        return words(STATUSES[value])
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def patient_rows(result: MatchResult, catalog: Catalog, words: Words) -> list[tuple[str, str]]:
    """The patient as received: the diagnosis as written and as recognised, age, status,
    lines, prior therapies and key results."""
    patient = result.patient.public()
    recognised = disease_name(patient.get("indication"), catalog, words)
    if recognised is None:
        candidates = [
            disease_name(c, catalog, words) or c for c in patient.get("indication_candidates", [])
        ]
        recognised = (
            words("not recognised; could be: {items}", items=", ".join(candidates))
            if candidates
            else words("not recognised")
        )
    rows = [
        ("Referral", patient.get("referral_id")),
        ("Diagnosis as written", patient.get("diagnosis")),
        ("Recognised as", recognised),
        ("Age", words("{n} years", n=patient["age"]) if "age" in patient else None),
        ("Sex", words(SEXES[patient["sex"]]) if patient.get("sex") in SEXES else None),
        ("Disease status", _status_word(patient.get("disease_status"), words)),
        ("Stage", patient.get("stage")),
        ("Prior lines of therapy", patient.get("prior_lines")),
        ("Prior therapies", ", ".join(patient.get("prior_therapies") or []) or None),
        ("ECOG", patient.get("ecog")),
        ("Key results", _results(patient)),
    ]
    return [(words(label), str(value)) for label, value in rows if value not in (None, "")]


def _status_word(status: str | None, words: Words) -> str | None:
    return words(STATUSES[status]) if status in STATUSES else status


def _results(patient: dict[str, Any]) -> str | None:
    """'CLDN18.2 60% at 2+, HER2 negative, LVEF 55'."""
    given = [
        f"{name} {given_value(patient, f'antigen.{name}')}" for name in patient.get("antigens", {})
    ]
    given += [f"{name} {given_value(patient, f'lab.{name}')}" for name in patient.get("labs", {})]
    return ", ".join(given) or None


def catalog_line(
    result: MatchResult, catalog: Catalog, shown: list[Option], words: Words, today: date
) -> str:
    """Which catalog answered and how old its facts are."""
    entries = [o.entry for o in shown] or catalog.entries
    newest = max(e.last_verified for e in entries)
    oldest = min(e.last_verified for e in entries)
    return words(
        "Catalog version {version} ({entries} entries); the options' facts were last verified "
        "between {oldest} and {newest} ({days} days before this report at the latest).",
        version=result.catalog.version,
        entries=result.catalog.entries,
        oldest=words.date(oldest),
        newest=words.date(newest),
        days=(today - newest).days,
    )


def left_out(result: MatchResult, catalog: Catalog, words: Words) -> dict[str, Any]:
    """The options not shown: how many, the commonest reasons, and (for the MDT) each one that
    is not for another disease."""
    out = [o for o in result.options if not _shown(o)]
    reasons: Counter[str] = Counter()
    listed = []
    for option in out:
        reason = exclusion_reason(option, catalog)
        reasons[reason] += 1
        if reason != REASONS["indication"]:
            first = option.excluded_by[0].message if option.excluded_by else reason
            listed.append(
                {"name": display_name(option.entry, words), "id": option.entry.id,
                 "cohort": option.indication.title, "why": first}
            )  # fmt: skip
    return {
        "count": len(out),
        "reasons": [{"reason": words(r), "count": n} for r, n in reasons.most_common(4)],
        "listed": listed,
    }


def exclusion_reason(option: Option, catalog: Catalog) -> str:
    """The reason, in a few words, from the kind of the first criterion not met."""
    if option.status is not Status.INELIGIBLE:
        return "closed to enrolment"
    criteria = catalog.criteria(option.entry, option.indication)
    for criterion, verdict in zip(criteria, option.verdicts, strict=True):
        if verdict.outcome is Outcome.NOT_MET and not verdict.recoverable:
            return REASONS.get(criterion.kind, "another requirement")
    return "another requirement"
