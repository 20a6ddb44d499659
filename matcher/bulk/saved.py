"""Saved referrals screened again in bulk (for call-backs, `curation.recheck`): their
profiles as a frame, through `screen_frame`, each referral's options in full; and lists of
cases written as screening writes its files."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from matcher.bulk.frame import REJECTED
from matcher.bulk.screening import screen_frame
from matcher.bulk.writers import Writer
from matcher.core.catalog import Catalog


def screen_saved(
    profiles: list[str], catalog: Catalog, today: date, include_all: bool
) -> tuple[dict[int, dict[str, Any]], dict[int, str]]:
    """Saved profiles (JSON) screened in bulk: per position its options in full
    ({"entry/indication": [status, enrolment, cost_low_cny, cost_high_cny]}), and per
    position the reason a profile can no longer be read."""
    parsed = json.loads("[" + ",".join(profiles) + "]")
    for n in [n for n, text in enumerate(profiles) if ":{" in text]:
        parsed[n] = _flat(parsed[n])  # a saved look-up's antigens or labs object
    frame = _frame(parsed)
    result = screen_frame(frame, catalog, today, include_all=include_all)
    status = result["status"].astype(object).to_numpy()
    lines = result["line"].to_numpy().tolist()
    errors = {
        line: str(reason)
        for line, s, reason in zip(lines, status, result["error"].astype(object), strict=True)
        if s == REJECTED
    }
    columns = [
        result[c].astype(object).to_numpy().tolist()
        for c in ("entry_id", "indication_id", "enrolment")
    ]
    low = result["cost_low_cny"].to_numpy(float).tolist()
    high = result["cost_high_cny"].to_numpy(float).tolist()
    options: dict[int, dict[str, Any]] = {}
    made: dict[tuple[Any, ...], list[Any]] = {}
    rows = zip(lines, *columns, status.tolist(), low, high, strict=True)
    for line, entry, indication, enrolment, state, lo, hi in rows:
        if not isinstance(entry, str):
            continue  # the row of a referral with no option, or rejected
        key = (state, enrolment, lo, hi)
        if key not in made:
            made[key] = _state(state, enrolment, lo, hi)
        options.setdefault(line, {})[f"{entry}/{indication}"] = made[key]
    return options, errors


def _frame(profiles: list[dict[str, Any]]) -> Any:
    """Profiles as a referral frame (a column per field, cells as saved; index: position)."""
    # pandas reads the records in C; a list cell (a look-up's prior_therapies) stays one
    # value, a field a profile lacks is missing (empty)
    return pd.DataFrame(profiles, index=pd.RangeIndex(len(profiles)), dtype=object)


def _flat(profile: dict[str, Any]) -> dict[str, Any]:
    """A profile as a row of columns: a saved look-up's antigens and labs (objects) as
    `antigens.CD19` columns, as a screened file has them."""
    flat: dict[str, Any] = {}
    for key, value in profile.items():
        if key in ("antigens", "labs") and isinstance(value, dict):
            flat.update({f"{key}.{name}": v for name, v in value.items()})
        else:
            flat[key] = value
    return flat


def _state(status: str, enrolment: Any, low: float, high: float) -> list[Any]:
    """[status, enrolment, cost_low_cny, cost_high_cny], as `storage.cases` keeps it."""
    return [
        status,
        enrolment if isinstance(enrolment, str) else None,
        None if math.isnan(low) else low,
        None if math.isnan(high) else high,
    ]


def write_rows(rows: list[dict[str, Any]], columns: list[str], output: Path) -> None:
    """Rows of text to a file as screening writes its results (`bulk.writers.Writer`: 0600,
    put in place when complete, formula-looking text neutralised)."""
    frame = pd.DataFrame(
        {c: pd.array([row.get(c) for row in rows], dtype="str") for c in columns},
        columns=columns,
    )
    writer = Writer(output, dict.fromkeys(columns, "str"), "output")
    try:
        writer.write(frame)
        writer.close()
    except BaseException:
        writer.abort()
        raise


__all__ = ["screen_saved", "write_rows"]
