"""ClinicalTrials.gov API v2 JSON: one study record, or a `/api/v2/studies` page of them.

A study becomes a trial entry only when it really is a CAR-T study: a chimeric antigen receptor
on T cells named in its title or in its interventions. TCR-T, CAR-NK (and other CAR cells that
are not T cells), statistical "CART" trees and observational or supportive-care studies are
skipped, each with its reason. A CAR-T study must also have a site in mainland China, a target
antigen in the vocabulary and at least one condition that maps to the disease vocabulary.

What an imported entry carries: status (overall and per site, each site's dated by the
record's last update), phases, conditions mapped to the vocabulary, ages, sex, the sites in
China (facility, city, province, country, site contacts), the target antigen(s) read from the
interventions or title, and on its NCT trial id the link to the record, the overall status in
the registry's words, the last-update and verification dates and the central contacts; the raw
record is kept in the database, not in the entry. Site status changes a record brings are
spelled out in the refresh notes (`NCT...: sites: X (Shanghai): recruiting -> completed`).
Criteria beyond age, sex and condition are not guessed: they become one `manual` criterion
(which is always `unknown`, so the option is never `eligible`) and the entry `needs_review`.

Track: `registrational_trial` when the lead sponsor is a company (class INDUSTRY) and the study
is phase 2 or later; otherwise `iit` (hospitals, universities, early-phase studies). The entry
says it was inferred, for a curator to confirm.

Curated entries are never rewritten: when the NCT id is already a trial id of an entry whose
criteria were curated (its needs_review no longer carries the import mark), only the
registry-owned facts change: its status (when it is the entry's only NCT trial), its sites
(keeping what a curator added to a site of the same name) and the NCT trial id's registry
facts (unless the entry holds a later update of the record). Product entries (approved or
filed) only ever get a note.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

from matcher.core.entry import Entry
from matcher.curation.importers import Checker, EntryData, Outcome, State, add_source, set_status
from matcher.curation.importers.cart import rejection
from matcher.curation.importers.sites import merge_sites, site_changes
from matcher.curation.importers.study import STUDY_URL, Facts, phase_label, read_facts, read_studies
from matcher.model.lexicon import Lexicon

#: The first needs_review item of every imported entry; while it is there, the registry owns
#: the whole entry. A curator who curates the criteria removes it.
IMPORT_MARK = "criteria beyond age, sex and condition not curated"
TRIAL_TRACKS = frozenset({"iit", "registrational_trial"})

# -- entries ---------------------------------------------------------------------------------


def track_of(facts: Facts) -> tuple[str, str]:
    late = any(p in ("PHASE2", "PHASE3", "PHASE4") for p in facts.phases)
    track = "registrational_trial" if facts.sponsor_class == "INDUSTRY" and late else "iit"
    why = (
        f"track {track} inferred from the registry (lead sponsor class "
        f"{facts.sponsor_class or 'not stated'}, {phase_label(facts.phases)}): confirm "
        "whether it is a company registrational trial or an investigator-initiated trial"
    )
    return track, why


def cannot_import(facts: Facts) -> str | None:
    """Why a CAR-T study cannot become a catalog entry, or None."""
    if not facts.sites:
        return "CAR-T study without a site in mainland China"
    if not facts.targets:
        return "CAR-T study whose target antigen is not in rules/vocab/antigens.yaml"
    if not facts.diseases:
        return (
            "CAR-T study whose conditions are not in the disease vocabulary ("
            + "; ".join(facts.conditions or ["none listed"])
            + ")"
        )
    return None


def _criteria(facts: Facts) -> list[dict[str, Any]]:
    criteria: list[dict[str, Any]] = [
        {
            "id": "disease",
            "text": "Condition studied (ClinicalTrials.gov): " + "; ".join(facts.conditions),
            "indication": facts.diseases,
        }
    ]
    low, high = facts.ages
    if low is not None or high is not None:
        ages = {k: v for k, v in (("min", low), ("max", high)) if v is not None}
        criteria.append(
            {"id": "age", "text": f"Ages {facts.age_text} (ClinicalTrials.gov)", "age": ages}
        )
    if facts.sex:
        criteria.append(
            {"id": "sex", "text": f"Sex: {facts.sex[0]} (ClinicalTrials.gov)", "sex": facts.sex}
        )
    criteria.append(
        {
            "id": "registry-eligibility",
            "text": "Every other inclusion and exclusion criterion on ClinicalTrials.gov "
            "(not curated)",
            "manual": f"the inclusion and exclusion criteria of {facts.nct_id} on "
            f"ClinicalTrials.gov ({STUDY_URL.format(nct=facts.nct_id)})",
        }
    )
    return criteria


def new_entry(facts: Facts, entry_id: str) -> EntryData:
    """A trial entry built from the registry alone (its criteria marked as not curated)."""
    track, track_note = track_of(facts)
    sid = facts.source_key
    summary = (
        f"{phase_label(facts.phases).capitalize()}; conditions: "
        f"{'; '.join(facts.conditions)}; ages {facts.age_text}; sex: "
        f"{facts.sex[0] if facts.sex else 'all'}."
    )
    label = summary + (f"\n\n{facts.eligibility.strip()}" if facts.eligibility else "")
    review = [
        f"{IMPORT_MARK}: read the eligibility text of {facts.nct_id} (in the label) "
        "before telling a family they qualify",
        track_note,
    ]
    if not facts.cell_source_stated:
        review.append("cell source not stated in the registry; assumed autologous")
    status = facts.fact(facts.status)
    status["note"] = f"ClinicalTrials.gov overall status {facts.raw_status}"
    return {
        "id": entry_id,
        "name": facts.title,
        "names": {k: v for k, v in facts.names.items() if v},
        "sponsor": facts.fact(facts.sponsor or "not stated in the registry"),
        "targets": facts.targets,
        "cell_source": facts.cell_source,
        "track": track,
        "status": status,
        "trial_ids": facts.trial_ids,
        "sites": facts.sites,
        "indications": [
            {
                "id": "study",
                "title": f"{'; '.join(facts.conditions)} ({facts.nct_id}, as registered)",
                "diseases": facts.diseases,
                "status": facts.fact(facts.status),
                "label": facts.fact(label),
                "criteria": _criteria(facts),
                "needs_review": facts.review,
            }
        ],
        "needs_review": review,
        "sources": {sid: {k: v for k, v in facts.source.items() if v is not None}},
        "last_verified": facts.verified,
    }


def is_generated(data: EntryData) -> bool:
    """True while the registry owns the whole entry (its criteria were never curated)."""
    return any(str(item).startswith(IMPORT_MARK) for item in data.get("needs_review") or [])


def merge_curated(data: EntryData, facts: Facts) -> list[str]:
    """Registry-owned facts (status, sites) into a curated trial entry; criteria untouched."""
    entry_id = data["id"]
    if data.get("track") not in TRIAL_TRACKS:
        return [
            f"{facts.nct_id} is a trial of {entry_id} ({data.get('track')}): the registry "
            "status and sites were not applied to the product"
        ]
    ncts = [t["id"] for t in data.get("trial_ids") or [] if t.get("registry") == "nct"]
    sid = facts.source_key
    add_source(data, sid, facts.source)
    notes = []
    if ncts == [facts.nct_id]:
        status = facts.fact(facts.status, own_date=True)
        status["note"] = f"ClinicalTrials.gov overall status {facts.raw_status}"
        set_status(data, status)
    else:
        notes.append(
            f"{facts.nct_id} is one of {len(ncts)} trials of {entry_id}: its status "
            f"({facts.raw_status}) was not applied to the entry"
        )
    notes += _merge_trial_id(data, facts)
    if facts.sites:
        held = data.get("sites") or []
        fresh = merge_sites(held, [{**s, "last_verified": facts.verified} for s in facts.sites])
        if len(ncts) <= 1:
            data["sites"] = fresh
        else:
            kept = [s for s in held if sid not in s.get("sources", [])]
            names = {s["name"].casefold() for s in fresh}
            data["sites"] = [s for s in kept if s["name"].casefold() not in names] + fresh
    return notes


def _held_update(data: EntryData, nct: str) -> str:
    """The last-update date of the record the entry's NCT trial id holds ("" when none)."""
    trial = next((t for t in data.get("trial_ids") or [] if t.get("id", "").upper() == nct), {})
    return str(trial.get("last_update") or "")


def _older_record(data: EntryData, facts: Facts) -> str | None:
    """A note when the entry holds a later update of this record than the one offered."""
    held, offered = _held_update(data, facts.nct_id), str(facts.updated or "")
    if held and offered and offered < held:
        return (
            f"{facts.nct_id}: this record (updated {offered}) is older than the one the entry "
            f"holds (updated {held}); its link, overall status and contacts were kept"
        )
    return None


def _merge_trial_id(data: EntryData, facts: Facts) -> list[str]:
    """The record's link, overall status, dates and central contacts onto the entry's NCT
    trial id (its curated note kept), unless the entry holds a later update of the record."""
    older = _older_record(data, facts)
    if older:
        return [older]
    owned = ("url", "overall_status", "last_update", "verified", "contacts")
    for trial in data.get("trial_ids") or []:
        if trial.get("id", "").upper() == facts.nct_id:
            for key in owned:
                trial.pop(key, None)
            trial.update({k: v for k, v in facts.trial_ids[0].items() if k in owned})
    return []


def _existing(state: State, nct: str) -> list[str]:
    slug = nct.lower()
    return [
        entry_id
        for entry_id, data in state.items()
        if entry_id == slug
        or any(t.get("id", "").upper() == nct for t in data.get("trial_ids") or [])
    ]


def import_studies(
    path: Path, state: State, lexicon: Lexicon, check: Checker, today: date
) -> Outcome:
    """Apply every study of a v2 JSON file to the working catalog `state`."""
    outcome = Outcome()
    for study in read_studies(path):
        reason = rejection(study.record)
        if reason:
            outcome.skipped.append({"record": study.nct_id, "reason": reason})
            continue
        facts = read_facts(study, lexicon, today)
        where = f"{path}, {study.where} ({study.nct_id})"
        touched = _apply_study(facts, state, outcome, where, check)
        if touched:
            body = json.dumps(study.record, sort_keys=True, ensure_ascii=False)
            outcome.raw.append(
                {
                    "nct_id": study.nct_id,
                    "entry_ids": touched,
                    "version_date": facts.verified,
                    "body": body,
                }
            )
    return outcome


def _apply_study(
    facts: Facts, state: State, outcome: Outcome, where: str, check: Checker
) -> list[str]:
    existing = _existing(state, facts.nct_id)
    if not existing:
        reason = cannot_import(facts)
        if reason:
            outcome.skipped.append({"record": facts.nct_id, "reason": reason})
            return []
        existing = [facts.nct_id.lower()]
        state[existing[0]] = new_entry(facts, existing[0])
    touched = []
    for entry_id in existing:
        current = state[entry_id]
        owned = is_generated(current) and current.get("track") in TRIAL_TRACKS
        if owned and cannot_import(facts) is None:
            data = new_entry(facts, entry_id)
            data["sites"] = merge_sites(current.get("sites") or [], data["sites"])
            if older := _older_record(current, facts):
                data["trial_ids"] = current["trial_ids"]
                outcome.notes.append(older)
        else:
            data = copy.deepcopy(current)
            notes = merge_curated(data, facts)
            outcome.notes.extend(notes)
            if notes and data == current:
                continue
        if data.get("sites") != current.get("sites"):
            outcome.notes += site_changes(facts.nct_id, current.get("sites") or [], data["sites"])
        entry: Entry = check(data, where)
        state[entry_id] = entry.model_dump(mode="json", by_alias=True, exclude_none=True)
        outcome.touch(entry_id)
        touched.append(entry_id)
    return touched


__all__ = ["IMPORT_MARK", "import_studies", "is_generated", "merge_curated", "new_entry"]
