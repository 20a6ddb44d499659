"""The shape of screening results, and referrals as rows: shared by the bulk path and the
per-row reference (`matcher.bulk.screening`), the readers and the run.

The output frame has one row per (referral, shown option), a `no_option` row for a referral
with none and a `rejected` row for an invalid one; its columns and dtypes are
`OUTPUT_COLUMNS`. A row is read into a profile record and through `load_patient` by
`load_row`, which turns every rejection into its reason.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from matcher.bulk.cohort import EMPTY_ROW, Cells
from matcher.core.catalog import Catalog
from matcher.core.patient import load_patient
from matcher.errors import ProfileError
from matcher.model.patient import Patient

NO_OPTION, REJECTED = "no_option", "rejected"
#: The status of a referral whose diagnosis could not be read: nothing is ranked for it.
DIAGNOSIS_UNRECOGNISED = "diagnosis_unrecognised"
#: Statuses of a referral's single row when it has no option.
NO_OPTION_STATUSES = (NO_OPTION, DIAGNOSIS_UNRECOGNISED)

#: The output frame: column -> dtype. Text that does not apply (or an empty list) is missing;
#: text is categorical (its values repeat: options, statuses, asks), with sorted categories.
OUTPUT_COLUMNS: dict[str, str] = {
    "line": "int64",
    "referral_id": "category",
    "rank": "Int64",
    "entry_id": "category",
    "indication_id": "category",
    "name": "category",
    "track": "category",
    "enrolment": "category",
    "status": "category",
    "tier": "category",
    "missing": "category",
    "excluded_by": "category",
    "cost_track": "category",
    "cost_low_cny": "float64",
    "cost_high_cny": "float64",
    "cost_low_usd": "float64",
    "cost_high_usd": "float64",
    "over_budget": "boolean",
    "reason": "category",
    "warnings": "category",
    "error_field": "category",
    "error": "category",
}
#: The output file: the frame without the error columns (rejected rows go to the errors file).
RESULT_COLUMNS = {k: v for k, v in OUTPUT_COLUMNS.items() if k not in ("error_field", "error")}
#: The errors file: one row per rejected input row.
ERROR_COLUMNS = {"line": "int64", "referral_id": "str", "field": "str", "reason": "str"}


def output_frame(columns: dict[str, Any]) -> pd.DataFrame:
    """The output frame from column sequences, cast to OUTPUT_COLUMNS (shared by both paths)."""
    n = len(columns["line"])
    data = {}
    for name, dtype in OUTPUT_COLUMNS.items():
        values = columns.get(name)
        if values is None:
            values = np.full(n, None, dtype=object)
        if isinstance(values, pd.api.extensions.ExtensionArray):
            data[name] = values
        elif dtype == "category":
            table, index = values if isinstance(values, tuple) else (values, np.arange(n))
            data[name] = categorical(table, index)
        elif dtype in ("str", "boolean", "Int64"):
            data[name] = pd.array(np.asarray(values, dtype=object), dtype=dtype)
        else:
            data[name] = np.asarray(values, dtype=dtype)
    return pd.DataFrame(data, index=pd.RangeIndex(n))


def categorical(values: Sequence[Any], index: np.ndarray) -> pd.Categorical:
    """values[index] as a categorical with sorted, used categories (None is missing)."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    taken = np.asarray(codes)[np.asarray(index, dtype=np.int64)] if len(index) else codes[:0]
    used = np.flatnonzero(np.bincount(taken[taken >= 0], minlength=len(uniques)))
    order = sorted(used.tolist(), key=lambda k: uniques[k])
    remap = np.full(len(uniques) + 1, -1, np.int32)
    remap[order] = np.arange(len(order))
    categories = pd.Index([uniques[k] for k in order], dtype="str")
    return pd.Categorical.from_codes(remap[taken], categories=categories)


def empty_output() -> pd.DataFrame:
    """A zero-row output frame with the right dtypes (Dask's `meta`)."""
    return output_frame({name: [] for name in OUTPUT_COLUMNS})


def split_result(
    result: pd.DataFrame, read_errors: Sequence[tuple[int, str | None, str]] = ()
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows for the output file, rows for the errors file), each in line order; rows
    rejected while reading (before a frame could hold them) join the errors."""
    rejected = (result["status"] == REJECTED).to_numpy(dtype=bool)
    bad = result[rejected]
    errors = pd.DataFrame(
        {
            "line": np.r_[bad["line"].to_numpy(np.int64), [r[0] for r in read_errors]].astype(
                np.int64
            ),
            "referral_id": pd.array(
                [*bad["referral_id"], *(r[1] for r in read_errors)], dtype="str"
            ),
            "field": pd.array([*bad["error_field"], *(None for _ in read_errors)], dtype="str"),
            "reason": pd.array([*bad["error"], *(r[2] for r in read_errors)], dtype="str"),
        }
    )
    errors = errors.sort_values("line", kind="stable", ignore_index=True)
    return result[~rejected].reset_index(drop=True), errors


def saved_referrals(
    profiles: dict[int, str], shown: pd.DataFrame, carried: pd.DataFrame | None = None
) -> list[tuple[Any, ...]]:
    """Per screened referral: (line, referral id, raw profile JSON, options JSON, options in
    full JSON, carried columns JSON), where the options are "entry_id/indication_id:status"
    in rank order (see `screen_chunk`), in full {key: [status, enrolment, cost_low_cny,
    cost_high_cny]} (what a call-back compares), and the carried columns are the row's
    non-empty cells of the columns `screen` carries through (contact details)."""
    lines = shown["line"].to_numpy(np.int64)
    if not len(lines):
        return []
    parts = (shown[c].astype(object).to_numpy() for c in ("entry_id", "indication_id", "status"))
    labels = [
        f"{e}/{i}:{s}" if isinstance(e, str) else None for e, i, s in zip(*parts, strict=True)
    ]
    quoted = {label: "" if label is None else _text_json(label) for label in set(labels)}
    pieces = [quoted[label] for label in labels]
    full = _option_states(shown, labels)
    starts = np.flatnonzero(np.r_[True, lines[1:] != lines[:-1]])
    ends = np.r_[starts[1:], len(lines)]
    spans = list(zip(starts.tolist(), ends.tolist(), strict=True))
    options = ["[" + ",".join(p for p in pieces[a:b] if p) + "]" for a, b in spans]
    states = ["{" + ",".join(sorted(p for p in full[a:b] if p)) + "}" for a, b in spans]
    ids = shown["referral_id"].astype(object).to_numpy()[starts]
    ids = np.where(pd.isna(ids), None, ids)
    firsts = lines[starts].tolist()
    contacts = _carried_json(carried, firsts)
    return list(
        zip(
            firsts,
            ids.tolist(),
            [profiles[line] for line in firsts],
            options,
            states,
            contacts,
            strict=True,
        )
    )


def _option_states(shown: pd.DataFrame, labels: list[str | None]) -> list[str]:
    """Each option row as '"entry/indication":{...}' (made once per distinct row)."""
    enrolment = shown["enrolment"].astype(object).to_numpy()
    low = shown["cost_low_cny"].to_numpy(float)
    high = shown["cost_high_cny"].to_numpy(float)
    made: dict[tuple[Any, ...], str] = {}
    out = []
    for label, e, lo, hi in zip(labels, enrolment, low.tolist(), high.tolist(), strict=True):
        key = (label, e, lo, hi)
        if key not in made:
            made[key] = "" if label is None else _state_json(label, e, lo, hi)
        out.append(made[key])
    return out


def _state_json(label: str, enrolment: Any, low: float, high: float) -> str:
    option, _, status = label.rpartition(":")
    state = [
        status,
        enrolment if isinstance(enrolment, str) else None,
        None if math.isnan(low) else low,
        None if math.isnan(high) else high,
    ]
    return _text_json(option) + ":" + _canonical(state)


def _carried_json(carried: pd.DataFrame | None, lines: list[int]) -> list[str]:
    if carried is None or not len(carried.columns):
        return ["{}"] * len(lines)
    taken = carried.reindex(lines)
    names = [str(c) for c in taken.columns]
    return [
        _canonical({n: str(v) for n, v in zip(names, row, strict=True) if not is_empty(v)})
        for row in taken.itertuples(index=False, name=None)
    ]


def profiles_json(cells: dict[str, Cells], rows: np.ndarray) -> list[str]:
    """The given rows' non-empty cells as canonical JSON (sorted keys), column by column."""
    parts = []
    for name in sorted(cells):
        codes, uniques, _ = cells[name]
        key = _text_json(name) + ":"
        pieces = [key + (_text_json(v) if isinstance(v, str) else _canonical(v)) for v in uniques]
        parts.append(np.array([*pieces, None], dtype=object)[codes[rows]])
    return ["{" + ",".join(filter(None, row)) + "}" for row in zip(*parts, strict=True)]


_text_json = json.encoder.encode_basestring  # type: ignore[attr-defined]  # C, no ASCII escapes


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def referral_frame(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], lines: Sequence[int]
) -> pd.DataFrame:
    """A referral frame from rows of cells as read (any Python values; None is empty)."""
    data = np.empty((len(rows), len(columns)), dtype=object)
    if rows:
        data[:] = rows
    return pd.DataFrame(
        data, columns=list(columns), index=pd.Index(lines, dtype=np.int64), dtype=object
    )


# -------------------------------------------------------------------------- rows and records


def is_empty(value: Any) -> bool:
    """A cell that gives nothing: None, NaN, NA, or text that is blank."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, float) and math.isnan(value)


def record_of(columns: Sequence[str], values: Iterable[Any]) -> dict[str, Any]:
    """The raw profile of one row: its non-empty cells, in column order."""
    return {c: v for c, v in zip(columns, values, strict=True) if not is_empty(v)}


def records(df: pd.DataFrame) -> Iterable[tuple[int, dict[str, Any]]]:
    """(line, raw profile) for every row of a referral frame."""
    columns = [str(c) for c in df.columns]
    lines = np.asarray(df.index, dtype=np.int64)
    for line, values in zip(lines, df.itertuples(index=False, name=None), strict=True):
        yield int(line), record_of(columns, values)


@dataclass(frozen=True)
class Loaded:
    """One row through the single path: a patient and its warnings, or why it was rejected."""

    patient: Patient | None
    warnings: list[str]
    field: str | None = None
    error: str | None = None


def load_row(record: dict[str, Any], catalog: Catalog, today: date, line: int) -> Loaded:
    """Validate one raw row exactly as `cartmatch match` would; never raises."""
    if not record:
        return Loaded(None, [], None, EMPTY_ROW)
    try:
        patient, warnings = load_patient(record, catalog.lexicon, today, source=f"line {line}")
    except ProfileError as error:
        return Loaded(None, [], error.field, str(error))
    except Exception as error:  # a bad row never stops the run
        return Loaded(None, [], None, f"line {line}: cannot be read ({error})")
    return Loaded(patient, warnings)


def raw_referral_id(record: dict[str, Any]) -> str | None:
    value = record.get("referral_id")
    return None if value is None else str(value)


def tier_cell(tier: Iterable[Any]) -> str:
    """The tier vector in one output cell, comma-separated (the table prints it with dots)."""
    return ",".join(str(part) for part in tier)


def as_float(value: float | None) -> float:
    return math.nan if value is None else float(value)
