"""A ClinicalTrials.gov API v2 file read into study records, and one CAR-T study's facts
normalised to catalog terms (status, phases, conditions as disease codes, ages, sex, sites in
mainland China with their own status and contacts, target antigens, cell source, trial ids with
the record's link, overall status, update and verification dates and central contacts).

A file nested deeper than the JSON nesting limit (`matcher.limits.JSON_DEPTH`) is refused
before it is parsed, and fields of the wrong shape are read as absent: a hostile or damaged
file gives one sentence, never a traceback."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from matcher.curation.importers import dig, mapping, records, text_of, texts
from matcher.curation.importers.cart import car_t_interventions, cell_source, names_of, targets
from matcher.curation.importers.sites import contacts, entry_status, registry_sites
from matcher.errors import CatalogError
from matcher.limits import JSON_DEPTH, json_nesting
from matcher.model.lexicon import Lexicon

STUDY_URL = "https://clinicaltrials.gov/study/{nct}"
_NCT = re.compile(r"^NCT\d{8}$")
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(year|month|week|day|hour|minute)s?\s*$", re.I)
_YEARS = {
    "year": 1.0,
    "month": 12.0,
    "week": 52.0,
    "day": 365.0,
    "hour": 8760.0,
    "minute": 525600.0,
}


@dataclass(frozen=True)
class Study:
    """One study record as found in a file."""

    nct_id: str
    where: str
    """Where in the file: "record" or "studies.3"."""
    record: dict[str, Any]


@dataclass
class Facts:
    """What the registry says about one CAR-T study, normalised to catalog terms."""

    nct_id: str
    title: str
    sponsor: str | None
    sponsor_class: str | None
    status: str
    raw_status: str
    phases: list[str]
    conditions: list[str]
    diseases: list[str]
    review: list[str]
    ages: tuple[float | None, float | None]
    age_text: str
    sex: list[str] | None
    sites: list[dict[str, Any]]
    targets: list[str]
    cell_source: str
    cell_source_stated: bool
    eligibility: str | None
    verified: str
    updated: str | None
    trial_ids: list[dict[str, Any]]
    names: dict[str, list[str]] = field(default_factory=dict)

    @property
    def source_key(self) -> str:
        return f"ctgov-{self.nct_id}"

    @property
    def source(self) -> dict[str, Any]:
        return {
            "title": f"ClinicalTrials.gov {self.nct_id}: {self.title}",
            "url": STUDY_URL.format(nct=self.nct_id),
            "date": self.updated,
        }

    def fact(self, value: str, *, own_date: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {"value": value, "sources": [self.source_key]}
        if own_date:
            data["last_verified"] = self.verified
        return data


# -- reading ---------------------------------------------------------------------------------


def read_studies(path: Path) -> list[Study]:
    """Every study record in a v2 JSON file; broken JSON names the file, line and column."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CatalogError(f"{path}: cannot be read ({error})", path=str(path)) from None
    depth = json_nesting(text)
    if JSON_DEPTH.exceeded(depth):
        raise CatalogError(
            f"{path}: nested {depth:,} levels deep, over the limit of {JSON_DEPTH.value:,} for "
            f"a ClinicalTrials.gov file; download the record again, or raise {JSON_DEPTH.env}",
            path=str(path),
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise CatalogError(
            f"{path} line {error.lineno}, column {error.colno}: invalid JSON ({error.msg}); "
            "download the record again or fix the file",
            path=str(path),
            location=f"line {error.lineno}",
        ) from None
    except ValueError as error:  # an integer of more digits than Python converts
        raise CatalogError(
            f"{path}: a number in the file is too long to read ({str(error).split(':')[0]}); "
            "download the record again or fix the file",
            path=str(path),
        ) from None
    if isinstance(data, dict) and isinstance(data.get("studies"), list):
        records = [(f"studies.{i}", r) for i, r in enumerate(data["studies"])]
    elif isinstance(data, dict) and "protocolSection" in data:
        records = [("record", data)]
    else:
        raise CatalogError(
            f"{path}: not a ClinicalTrials.gov API v2 study record (no `protocolSection`) nor a "
            "/api/v2/studies page (no `studies` list)",
            path=str(path),
        )
    return [_study(path, where, record) for where, record in records]


def _study(path: Path, where: str, record: Any) -> Study:
    nct = dig(record, "protocolSection", "identificationModule", "nctId")
    if not isinstance(nct, str) or not _NCT.match(nct.strip()):
        raise CatalogError(
            f"{path}, {where}.protocolSection.identificationModule.nctId: "
            f"{'missing' if nct is None else repr(nct) + ' is not an NCT number'}; "
            "every study needs its NCT id",
            path=str(path),
            location=f"{where}.protocolSection.identificationModule.nctId",
        )
    return Study(nct.strip(), where, record)


# -- normalising -----------------------------------------------------------------------------


def _years(text: Any) -> float | None:
    match = _AGE.match(str(text or ""))
    if not match:
        return None
    years = round(float(match[1]) / _YEARS[match[2].lower()], 2)
    return years if years > 0 else None


def phase_label(phases: list[str]) -> str:
    words = [
        p.replace("EARLY_PHASE", "early phase ").replace("PHASE", "phase ").lower()
        for p in phases
        if p != "NA"
    ]
    return "/".join(words) if words else "phase not applicable"


def _diseases(record: dict[str, Any], lexicon: Lexicon) -> tuple[list[str], list[str], list[str]]:
    """Mapped disease codes, the conditions' texts, and review notes on the mapping."""
    conditions = texts(dig(record, "protocolSection", "conditionsModule", "conditions"))
    codes: list[str] = []
    review: list[str] = []
    unmapped = []
    for condition in conditions:
        found = lexicon.resolve_diagnosis(condition)
        if found is None:
            unmapped.append(condition)
            continue
        if found.code not in codes:
            codes.append(found.code)
        if found.method == "fuzzy":
            review.append(f"condition '{condition}' was mapped to {found.code} by a fuzzy match")
    if not codes:  # fall back on the registry's own MeSH terms
        meshes = records(dig(record, "derivedSection", "conditionBrowseModule", "meshes"))
        for term in (t for mesh in meshes if (t := text_of(mesh.get("term")))):
            found = lexicon.resolve_diagnosis(term)
            if found and found.code not in codes:
                codes.append(found.code)
                review.append(f"disease {found.code} read from the MeSH term '{term}'")
    if unmapped:
        review.append("conditions not in the disease vocabulary: " + "; ".join(unmapped))
    return codes, conditions, review


def _trial_ids(record: dict[str, Any], nct: str, registry: dict[str, Any]) -> list[dict[str, Any]]:
    """The NCT id with what the registry says of the record, then ChiCTR and CTR numbers."""
    ids: list[dict[str, Any]] = [{"id": nct, "registry": "nct", **registry}]
    secondary = dig(record, "protocolSection", "identificationModule", "secondaryIdInfos")
    for other in records(secondary):
        value = text_of(other.get("id")) or ""
        if value.upper().startswith("CHICTR"):
            ids.append({"id": value, "registry": "chictr"})
        elif value.upper().startswith("CTR"):
            ids.append({"id": value, "registry": "ctr"})
    return ids


def _registry_facts(proto: dict[str, Any], nct: str) -> dict[str, Any]:
    """Link, overall status in the registry's words, last update, verification, central
    contacts: the NCT trial id's own fields."""
    status = mapping(proto.get("statusModule"))
    central = mapping(proto.get("contactsLocationsModule")).get("centralContacts")
    facts = {
        "url": STUDY_URL.format(nct=nct),
        "overall_status": text_of(status.get("overallStatus")),
        "last_update": text_of(mapping(status.get("lastUpdatePostDateStruct")).get("date")),
        "verified": text_of(status.get("statusVerifiedDate")),
        "contacts": contacts(central, f"ctgov-{nct}"),
    }
    return {k: v for k, v in facts.items() if v}


def read_facts(study: Study, lexicon: Lexicon, today: date) -> Facts:
    """The registry facts of one CAR-T study."""
    record, nct = study.record, study.nct_id
    proto = mapping(record.get("protocolSection"))
    ident = mapping(proto.get("identificationModule"))
    status_module = mapping(proto.get("statusModule"))
    eligibility = mapping(proto.get("eligibilityModule"))
    sponsor = mapping(mapping(proto.get("sponsorCollaboratorsModule")).get("leadSponsor"))
    diseases, conditions, review = _diseases(record, lexicon)
    low, high = _years(eligibility.get("minimumAge")), _years(eligibility.get("maximumAge"))
    sex = {"FEMALE": ["female"], "MALE": ["male"]}.get(str(eligibility.get("sex", "")).upper())
    source, stated = cell_source(record)
    cars = car_t_interventions(record)
    verified = dig(record, "derivedSection", "miscInfoModule", "versionHolder")
    registry = _registry_facts(proto, nct)
    updated = registry.get("last_update")
    return Facts(
        nct_id=nct,
        title=text_of(ident.get("briefTitle")) or text_of(ident.get("officialTitle")) or nct,
        sponsor=text_of(sponsor.get("name")),
        sponsor_class=text_of(sponsor.get("class")),
        status=entry_status(text_of(status_module.get("overallStatus"))),
        raw_status=registry.get("overall_status") or "not stated",
        phases=texts(dig(proto, "designModule", "phases")),
        conditions=conditions,
        diseases=diseases,
        review=review,
        ages=(low, high),
        age_text=f"{text_of(eligibility.get('minimumAge')) or 'no minimum'} to "
        f"{text_of(eligibility.get('maximumAge')) or 'no maximum'}",
        sex=sex,
        sites=registry_sites(record, f"ctgov-{nct}", _iso_date(updated)),
        targets=targets(record, lexicon),
        cell_source=source,
        cell_source_stated=stated,
        eligibility=text_of(eligibility.get("eligibilityCriteria")),
        verified=_iso_date(verified) or _iso_date(updated) or today.isoformat(),
        updated=updated,
        trial_ids=_trial_ids(record, nct, registry),
        names={
            "codes": texts(dig(ident, "orgStudyIdInfo", "id")),
            "aliases": list(
                dict.fromkeys(
                    [*texts(ident.get("acronym")), *(n for i in cars for n in names_of(i))]
                )
            ),
        },
    )


def _iso_date(value: Any) -> str | None:
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        return None


__all__ = [
    "STUDY_URL",
    "Facts",
    "Study",
    "entry_status",
    "phase_label",
    "read_facts",
    "read_studies",
]
