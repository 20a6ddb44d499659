"""After a refresh: which saved referrals now have a different set of options (call them back).

Each saved referral (a screening run's `screening_referrals` row: the profile and the options
it was shown, as "entry_id/indication_id:status") is matched again against the new catalog,
with the run's own `include_all`. A referral is reported when its set of options differs from
what was recorded: a new option, an option gone (a closed trial, a removed entry, now
ineligible), or an option whose status changed. Only the latest run of each referral counts.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from matcher.core.catalog import Catalog
from matcher.errors import CartmatchError

#: Keys of the printed (normalised) profile that are not profile input.
_DERIVED_KEYS = ("indication_name", "prior_therapy_classes")


def _split(option: str) -> tuple[str, str]:
    key, _, status = option.rpartition(":")
    return key, status


def _options_now(profile: dict[str, Any], catalog: Catalog, today: date, include_all: bool):
    from matcher.core.engine import hidden_reason, match
    from matcher.core.patient import load_patient

    raw = {k: v for k, v in profile.items() if k not in _DERIVED_KEYS}
    patient, _ = load_patient(raw, catalog.lexicon, today, source="saved referral")
    result = match(patient, catalog, include_all=True)
    shown = {}
    why_hidden = {}
    for option in result.options:
        key = f"{option.entry.id}/{option.indication.id}"
        reason = hidden_reason(option.status, option.enrolment, include_all)
        if reason is None:
            shown[key] = option.status.value
        elif reason == "closed":
            why_hidden[key] = f"closed ({option.indication.status.value})"
        else:
            why_hidden[key] = "now ineligible"
    return shown, why_hidden


def changed_referrals(db_path: Path, catalog: Catalog, today: date) -> dict[str, Any]:
    """{"saved": n, "changed": [{"referral", "run_id", "row_number", "changes": [...]}]}."""
    from matcher.storage.runs import SavedReferrals

    with SavedReferrals.at(db_path) as store:
        saved = store.latest()
    changed = []
    for run_id, row_number, referral_id, profile, options, include_all in saved:
        label = referral_id or f"run {run_id} row {row_number}"
        before = dict(_split(o) for o in json.loads(options or "[]"))
        try:
            now, why_hidden = _options_now(json.loads(profile), catalog, today, bool(include_all))
        except (CartmatchError, ValueError) as error:
            changed.append(
                {
                    "referral": label,
                    "run_id": run_id,
                    "row_number": row_number,
                    "changes": [f"could not be matched again: {error}"],
                }
            )
            continue
        changes = []
        for key in sorted(set(before) | set(now)):
            old, new = before.get(key), now.get(key)
            if old == new:
                continue
            if old is None:
                changes.append(f"new option {key} ({new})")
            elif new is None:
                reason = why_hidden.get(key) or "removed from the catalog"
                changes.append(f"{key} ({old}) no longer offered: {reason}")
            else:
                changes.append(f"{key}: {old} -> {new}")
        if changes:
            changed.append(
                {"referral": label, "run_id": run_id, "row_number": row_number, "changes": changes}
            )
    return {"saved": len(saved), "changed": changed}


__all__ = ["changed_referrals"]
