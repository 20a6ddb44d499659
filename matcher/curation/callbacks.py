"""Call-backs: the open cases whose options differ from what their families were last told.

Each case keeps two sets of options (`storage.cases`): `told`, what the family last heard (at
saving, or when `cases notified` recorded a call), and `seen`, what the catalog gave at the
latest re-check (`curation.recheck`). A case is to be called back when they differ: an option
appears (or comes back), disappears (closed, now ineligible, removed), changes status or
enrolment, or its cost moves by more than the threshold (a share of the cost told, 10% unless
set). Comparing with what was told, never with the first screening, is what makes the list
right: a case is listed until its family is told, then not again until something else
changes; a change undone before anyone called (a refresh rolled back) lists no one.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from matcher.core.catalog import Catalog
from matcher.core.engine import enrolment_state
from matcher.errors import CartmatchError

#: The setting for the cost threshold, and its default (a share of the cost told).
COST_THRESHOLD_ENV = "CARTMATCH_COST_THRESHOLD"
DEFAULT_COST_THRESHOLD = 0.10


def cost_threshold(text: str | None = None) -> float:
    """The cost threshold from '10%' or '0.1' (or the setting, else 10%)."""
    raw = (text if text is not None else os.environ.get(COST_THRESHOLD_ENV, "")).strip()
    if not raw:
        return DEFAULT_COST_THRESHOLD
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < 10:
        where = "--cost-threshold" if text is not None else COST_THRESHOLD_ENV
        raise CartmatchError(
            f"{where} '{raw[:20]}' is not a share of the cost: give a percentage such as 10%"
        )
    return value


def differences(
    told: dict[str, Any],
    seen: dict[str, Any],
    catalog: Catalog,
    threshold: float,
    before: set[str] = frozenset(),  # type: ignore[assignment]
    reasons: dict[str, str] | None = None,
) -> list[str]:
    """The changes from what was told to what is seen, in words, by option. `before`: options
    the case had at some point (an option back among them is said to be offered again);
    `reasons`: why an option went, by option, kept across the cases of one list."""
    reasons = {} if reasons is None else reasons
    changes = []
    for key in sorted(set(told) | set(seen)):
        old, new = told.get(key), seen.get(key)
        if old == new:
            continue
        if old is None and new is not None:
            again = "offered again" if key in before else "new option"
            changes.append(f"{again} {key} ({new[0]})")
        elif new is None and old is not None:
            if key not in reasons:
                reasons[key] = _gone(key, catalog)
            changes.append(f"{key} ({old[0]}) no longer offered: {reasons[key]}")
        elif old is not None and new is not None:
            changes += _changed(key, old, new, threshold)
    return changes


def _changed(key: str, old: list[Any], new: list[Any], threshold: float) -> list[str]:
    """An option in both: [status, enrolment, cost low, cost high] (status only when it was
    saved before cases existed: the rest was not recorded, so it is not compared)."""
    out = []
    if old[0] != new[0]:
        out.append(f"{key}: {old[0]} -> {new[0]}")
    if len(old) > 1 and len(new) > 1:
        if old[1] != new[1]:
            out.append(f"{key}: enrolment {old[1]} -> {new[1]}")
        if _cost_moved(old, new, threshold):
            out.append(f"{key}: cost {_cost(old)} -> {_cost(new)}")
    return out


def _cost_moved(old: list[Any], new: list[Any], threshold: float) -> bool:
    for a, b in ((old[2], new[2]), (old[3], new[3])):
        if (a is None) != (b is None):
            return True  # now known, or no longer known
        if a is not None and b is not None and abs(b - a) > threshold * abs(a):
            return True
    return False


def _cost(state: list[Any]) -> str:
    low, high = state[2], state[3]
    if low is None or high is None:
        return "unknown"
    return f"CNY {low:,.0f}" if low == high else f"CNY {low:,.0f}-{high:,.0f}"


def _gone(key: str, catalog: Catalog) -> str:
    entry_id, _, indication_id = key.partition("/")
    entry = catalog.entry(entry_id)
    indication = (
        next((i for i in entry.indications if i.id == indication_id), None) if entry else None
    )
    if indication is None:
        return "removed from the catalog"
    if enrolment_state(indication) == "closed":
        return f"closed ({indication.status.value})"
    return "now ineligible"


def pending(
    db_path: Path,
    catalog: Catalog,
    *,
    threshold: float,
    since: int | None = None,
    only: Sequence[int] | None = None,
) -> list[Any]:
    """The call-backs (`storage.cases.Callback`): open cases whose options differ from what
    was told; with `since`, those whose options changed in that refresh or later; with
    `only`, those cases."""
    from matcher.storage.case_records import open_changed, options_gone
    from matcher.storage.cases import Callback
    from matcher.storage.db import reading

    with reading(db_path) as conn:
        cases = open_changed(conn, since=since, only=only)
        history = options_gone(conn, [c.id for c in cases if c.seen_raw.keys() - c.told_raw])
    out = []
    reasons: dict[str, str] = {}
    for case in cases:
        told, seen = case.told_raw, case.seen_raw
        before = history.get(case.id, set())
        changes = differences(told, seen, catalog, threshold, before, reasons)
        if changes:
            out.append(
                Callback(
                    case_id=case.id,
                    key=case.key,
                    referral_id=case.referral_id,
                    status=case.status,
                    changes=changes,
                    changed_refresh=case.changed_refresh,
                    told_at=case.told_at,
                    contact=case.contact,
                )
            )
    return out


def after_change(
    db_path: Path, catalog: Catalog, today: date, *, by: str | None, progress: Any = None
) -> dict[str, Any]:
    """After an applied refresh or a rollback: re-check the open cases the change can affect
    and report who to call back because of it (the JSON of `catalog refresh`)."""
    from matcher.curation.recheck import recheck
    from matcher.storage.cases import CaseStore
    from matcher.storage.db import reading

    done = recheck(db_path, catalog, today, by=by, progress=progress)
    calls = pending(db_path, catalog, threshold=cost_threshold(), only=list(done.changed))
    with reading(db_path) as conn:
        counts = CaseStore(conn).counts()
    settled = len(done.changed) - len(calls)
    return {
        "saved": counts["all"],
        "open": counts["open"],
        "checked": done.checked,
        "entries": done.entries,
        "refresh_id": done.refresh_id,
        "changed": [_item(call) for call in calls],
        "settled": settled,
        "unreadable": len(done.unreadable),
        "seconds": round(done.seconds, 2),
    }


def _item(call: Any) -> dict[str, Any]:
    data = call.model_dump()
    data["referral"] = call.key
    return data


__all__ = [
    "COST_THRESHOLD_ENV",
    "DEFAULT_COST_THRESHOLD",
    "after_change",
    "cost_threshold",
    "differences",
    "pending",
]
