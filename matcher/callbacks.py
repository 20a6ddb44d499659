"""After a refresh: which saved referrals now have a different set of options (call them back).

Each saved referral (a screening run's `screening_referrals` row: the profile and the options
it was shown, as "entry_id/indication_id:status") is matched again against the new catalog,
with the run's own `include_all`. A referral is reported when its set of options differs from
what was recorded: a new option, an option gone (a closed trial, a removed entry, now
ineligible), or an option whose status changed. Only the latest run of each referral counts.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from typing import Any

from matcher.catalog import Catalog
from matcher.errors import CartmatchError

#: Keys of the printed (normalised) profile that are not profile input.
_DERIVED_KEYS = ("indication_name", "prior_therapy_classes")


def _saved(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    try:
        rows = conn.execute(
            "SELECT r.run_id, r.row_number, r.referral_id, r.profile, r.options, s.include_all "
            "FROM screening_referrals r JOIN screening_runs s ON s.id = r.run_id "
            "ORDER BY r.run_id, r.row_number"
        ).fetchall()
    except sqlite3.OperationalError:
        return []
    latest: dict[str, tuple[Any, ...]] = {}
    for row in rows:
        key = row[2] or f"run {row[0]} row {row[1]}"
        latest[key] = row  # later runs replace earlier ones
    return list(latest.values())


def _split(option: str) -> tuple[str, str]:
    key, _, status = option.rpartition(":")
    return key, status


def _options_now(profile: dict[str, Any], catalog: Catalog, today: date, include_all: bool):
    from matcher.engine import match
    from matcher.patient import load_patient

    raw = {k: v for k, v in profile.items() if k not in _DERIVED_KEYS}
    patient, _ = load_patient(raw, catalog.lexicon, today, source="saved referral")
    result = match(patient, catalog, include_all=True)
    shown = {}
    why_hidden = {}
    for option in result.options:
        key = f"{option.entry.id}/{option.indication.id}"
        if include_all or (option.status.value != "ineligible" and option.enrolment != "closed"):
            shown[key] = option.status.value
        elif option.enrolment == "closed":
            why_hidden[key] = f"closed ({option.indication.status.value})"
        else:
            why_hidden[key] = "now ineligible"
    return shown, why_hidden


def changed_referrals(conn: sqlite3.Connection, catalog: Catalog, today: date) -> dict[str, Any]:
    """{"saved": n, "changed": [{"referral", "run_id", "row_number", "changes": [...]}]}."""
    saved = _saved(conn)
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
