"""A ClinicalTrials.gov API v2 file read into study records, and one CAR-T study's facts
normalised to catalog terms (status, phases, conditions as disease codes, ages, sex, sites in
mainland China with their own status, target antigens, cell source, trial ids)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, get_args

from matcher.curation.importers import dig, texts
from matcher.curation.importers.cart import car_t_interventions, cell_source, names_of, targets
from matcher.errors import CatalogError
from matcher.model.facts import EntryStatus
from matcher.model.lexicon import Lexicon

STUDY_URL = "https://clinicaltrials.gov/study/{nct}"
_NCT = re.compile(r"^NCT\d{8}$")
_STATUSES = set(get_args(EntryStatus))
_EXTRA_STATUS = {
    "no_longer_available": "closed",
    "temporarily_not_available": "suspended",
    "available": "recruiting",
}
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
    trial_ids: list[dict[str, str]]
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
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise CatalogError(
            f"{path} line {error.lineno}, column {error.colno}: invalid JSON ({error.msg}); "
            "download the record again or fix the file",
            path=str(path),
            location=f"line {error.lineno}",
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


def entry_status(raw: Any) -> str:
    key = str(raw or "unknown").strip().lower().replace(" ", "_").replace(",", "")
    return key if key in _STATUSES else _EXTRA_STATUS.get(key, "unknown")


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
        meshes = dig(record, "derivedSection", "conditionBrowseModule", "meshes") or []
        for mesh in meshes:
            found = lexicon.resolve_diagnosis(str(mesh.get("term", "")))
            if found and found.code not in codes:
                codes.append(found.code)
                review.append(f"disease {found.code} read from the MeSH term '{mesh['term']}'")
    if unmapped:
        review.append("conditions not in the disease vocabulary: " + "; ".join(unmapped))
    return codes, conditions, review


def _sites(record: dict[str, Any], sid: str) -> list[dict[str, Any]]:
    """Sites in mainland China with their own recruitment status, in registry order."""
    sites: list[dict[str, Any]] = []
    seen = set()
    locations = dig(record, "protocolSection", "contactsLocationsModule", "locations") or []
    for loc in locations:
        if str(loc.get("country", "")).strip().casefold() != "china" or not loc.get("facility"):
            continue
        key = (loc["facility"].strip(), loc.get("city"))
        if key in seen:
            continue
        seen.add(key)
        site = {"name": key[0], "city": loc.get("city"), "sources": [sid]}
        if loc.get("status"):
            site["status"] = entry_status(loc["status"])
        sites.append({k: v for k, v in site.items() if v is not None})
    return sites


def _trial_ids(record: dict[str, Any], nct: str) -> list[dict[str, str]]:
    ids = [{"id": nct, "registry": "nct"}]
    for other in dig(record, "protocolSection", "identificationModule", "secondaryIdInfos") or []:
        value = str(other.get("id", "")).strip()
        if value.upper().startswith("CHICTR"):
            ids.append({"id": value, "registry": "chictr"})
        elif value.upper().startswith("CTR"):
            ids.append({"id": value, "registry": "ctr"})
    return ids


def read_facts(study: Study, lexicon: Lexicon, today: date) -> Facts:
    """The registry facts of one CAR-T study."""
    record, nct = study.record, study.nct_id
    proto = record.get("protocolSection") or {}
    ident = proto.get("identificationModule") or {}
    status_module = proto.get("statusModule") or {}
    eligibility = proto.get("eligibilityModule") or {}
    sponsor = dig(proto, "sponsorCollaboratorsModule", "leadSponsor") or {}
    diseases, conditions, review = _diseases(record, lexicon)
    low, high = _years(eligibility.get("minimumAge")), _years(eligibility.get("maximumAge"))
    sex = {"FEMALE": ["female"], "MALE": ["male"]}.get(str(eligibility.get("sex", "")).upper())
    source, stated = cell_source(record)
    cars = car_t_interventions(record)
    verified = dig(record, "derivedSection", "miscInfoModule", "versionHolder")
    updated = dig(status_module, "lastUpdatePostDateStruct", "date")
    return Facts(
        nct_id=nct,
        title=str(ident.get("briefTitle") or ident.get("officialTitle") or nct).strip(),
        sponsor=sponsor.get("name"),
        sponsor_class=sponsor.get("class"),
        status=entry_status(status_module.get("overallStatus")),
        raw_status=str(status_module.get("overallStatus") or "not stated"),
        phases=texts(dig(proto, "designModule", "phases")),
        conditions=conditions,
        diseases=diseases,
        review=review,
        ages=(low, high),
        age_text=f"{eligibility.get('minimumAge') or 'no minimum'} to "
        f"{eligibility.get('maximumAge') or 'no maximum'}",
        sex=sex,
        sites=_sites(record, f"ctgov-{nct}"),
        targets=targets(record, lexicon),
        cell_source=source,
        cell_source_stated=stated,
        eligibility=eligibility.get("eligibilityCriteria"),
        verified=_iso_date(verified) or _iso_date(updated) or today.isoformat(),
        updated=updated,
        trial_ids=_trial_ids(record, nct),
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
