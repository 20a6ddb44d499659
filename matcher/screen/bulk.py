"""The bulk screening core (DESIGN section 9): a pure function from a DataFrame to a DataFrame.

`screen_frame(df, catalog, today)` takes one referral per row (columns named as the profile
fields of DESIGN section 2, nested keys flattened as `antigens.CD19`; the index holds each
row's line number) and returns one row per (referral, shown option), a `no_option` row for
a referral with none, and a `rejected` row with the reason for a row that is not a valid
profile: every input row is accounted for, in input order, options ranked per referral.

It returns exactly what `screen_rows` returns, the reference that puts each row through
`load_patient` and `engine.match` alone, but works column-wise:

- validation and normalisation run once per distinct cell value (diagnoses, antigen results
  and therapy lists repeat a lot) through `load_patient` itself (`matcher.screen.cohort`),
  so accept/reject and the normalised values are the single path's; a row with any doubt
  goes through the single path alone, which also gives the exact rejection message;
- criteria, roll-up and ranking run over columns (`matcher.screen.columns`);
- the text of an option row (missing data, excluded-by, tier, cost) depends only on a small
  signature and is made once per signature.
"""

from __future__ import annotations

import json
import math
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from matcher.catalog import Catalog
from matcher.costs import estimate
from matcher.engine import match
from matcher.errors import ProfileError
from matcher.patient import Patient, load_patient
from matcher.screen.cohort import EMPTY_ROW, SEP, Cells, Checker, Cohort, joined
from matcher.screen.columns import OptionColumns, Shown
from matcher.verdict import Verdict, roll_up

__all__ = ["EMPTY_ROW", "SEP", "screen_chunk", "screen_dask", "screen_frame", "screen_rows"]

NO_OPTION, REJECTED = "no_option", "rejected"

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


def saved_referrals(profiles: dict[int, str], shown: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Per screened referral: (line, referral id, raw profile JSON, options JSON), where the
    options are "entry_id/indication_id:status" in rank order (see `screen_chunk`)."""
    lines = shown["line"].to_numpy(np.int64)
    if not len(lines):
        return []
    parts = (shown[c].astype(object).to_numpy() for c in ("entry_id", "indication_id", "status"))
    labels = [
        f"{e}/{i}:{s}" if isinstance(e, str) else None for e, i, s in zip(*parts, strict=True)
    ]
    quoted = {label: "" if label is None else _text_json(label) for label in set(labels)}
    pieces = [quoted[label] for label in labels]
    starts = np.flatnonzero(np.r_[True, lines[1:] != lines[:-1]])
    ends = np.r_[starts[1:], len(lines)]
    options = [
        "[" + ",".join(p for p in pieces[a:b] if p) + "]"
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
    ]
    ids = shown["referral_id"].astype(object).to_numpy()[starts]
    ids = np.where(pd.isna(ids), None, ids)
    firsts = lines[starts].tolist()
    return list(
        zip(firsts, ids.tolist(), [profiles[line] for line in firsts], options, strict=True)
    )


def _profiles(cells: dict[str, Cells], rows: np.ndarray) -> list[str]:
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


def tier_text(tier: Iterable[Any]) -> str:
    return ",".join(str(part) for part in tier)


def _num(value: float | None) -> float:
    return math.nan if value is None else float(value)


# ------------------------------------------------------------------- the per-row reference


def screen_rows(
    df: pd.DataFrame,
    catalog: Catalog,
    today: date,
    *,
    include_all: bool = False,
    fx: float | None = None,
) -> pd.DataFrame:
    """The reference: every row through load_patient and engine.match on its own."""
    cols: dict[str, list[Any]] = {name: [] for name in OUTPUT_COLUMNS}

    def add(**values: Any) -> None:
        for name in OUTPUT_COLUMNS:
            cols[name].append(values.get(name))

    for line, record in records(df):
        loaded = load_row(record, catalog, today, line)
        if loaded.patient is None:
            add(
                line=line,
                referral_id=raw_referral_id(record),
                status=REJECTED,
                error_field=loaded.field,
                error=loaded.error,
            )
            continue
        profile = loaded.patient.profile
        result = match(
            loaded.patient, catalog, warnings=loaded.warnings, include_all=include_all, fx=fx
        )
        warnings = joined(result.warnings)
        if not result.options:
            add(line=line, referral_id=profile.referral_id, status=NO_OPTION, warnings=warnings)
        for option in result.options:
            cost = option.cost
            over = (
                None
                if profile.budget_cny is None or cost.low is None
                else (cost.low > profile.budget_cny)
            )
            add(
                line=line,
                referral_id=profile.referral_id,
                rank=option.rank,
                entry_id=option.entry.id,
                indication_id=option.indication.id,
                name=option.entry.name,
                track=option.entry.track,
                enrolment=option.enrolment,
                status=option.status.value,
                tier=tier_text(option.tier),
                missing=joined(option.missing),
                excluded_by=joined((v.id for v in option.excluded_by), ", "),
                cost_track=cost.as_dict().get("track"),
                cost_low_cny=_num(cost.low),
                cost_high_cny=_num(cost.high),
                cost_low_usd=_num(cost.usd_low),
                cost_high_usd=_num(cost.usd_high),
                over_budget=over,
                warnings=warnings,
            )
    return output_frame(cols)


# ------------------------------------------------------------------------- the bulk path


def screen_frame(
    df: pd.DataFrame,
    catalog: Catalog,
    today: date,
    *,
    include_all: bool = False,
    fx: float | None = None,
) -> pd.DataFrame:
    """Screen a frame of referrals column-wise: the frame `screen_rows` gives, faster.

    `df`: one referral per row, columns named as the profile fields (`antigens.CD19`), cells
    as read (empty cells are unknown); the index holds line numbers. Pure: the same frame
    in gives the same frame out (caches of distinct values are kept per catalog).
    """
    return screen_chunk(df, catalog, today, include_all=include_all, fx=fx, profiles=False)[0]


def screen_chunk(
    df: pd.DataFrame,
    catalog: Catalog,
    today: date,
    *,
    include_all: bool = False,
    fx: float | None = None,
    profiles: bool = True,
) -> tuple[pd.DataFrame, dict[int, str]]:
    """`screen_frame`, and each screened row's raw profile (its non-empty cells) as canonical
    JSON by line, as a saved run keeps it."""
    plan = _plan(catalog, today, fx)
    c, cells = plan.normalise(df)
    result = plan.screen(c, include_all=include_all)
    if not profiles:
        return result, {}
    accepted = np.flatnonzero(c.ok)
    return result, dict(zip(c.lines[accepted].tolist(), _profiles(cells, accepted), strict=True))


def screen_dask(
    ddf: Any,
    catalog: Catalog,
    today: date,
    *,
    include_all: bool = False,
    fx: float | None = None,
) -> Any:
    """`screen_frame` partition by partition on a Dask DataFrame (index = line numbers)."""
    return ddf.map_partitions(
        screen_frame, catalog, today, include_all=include_all, fx=fx, meta=empty_output()
    )


_PLANS: weakref.WeakKeyDictionary[Catalog, dict[tuple[date, float | None], _Plan]] = (
    weakref.WeakKeyDictionary()
)


def _plan(catalog: Catalog, today: date, fx: float | None) -> _Plan:
    """The compiled catalog and its caches, kept across the chunks of a run."""
    plans = _PLANS.setdefault(catalog, {})
    if (today, fx) not in plans:
        plans.clear()
        plans[(today, fx)] = _Plan(catalog, today, fx)
    return plans[(today, fx)]


# ------------------------------------------------------------------------- the plan


class _Plan:
    """A catalog compiled for column-wise screening, with its caches of distinct values."""

    def __init__(self, catalog: Catalog, today: date, fx: float | None) -> None:
        self.catalog = catalog
        self.lexicon = catalog.lexicon
        self.today = today
        self.fx = fx
        self.checker = Checker(self.lexicon, today, pd.factorize)
        self.blank = self.checker.blank
        self.costs: dict[tuple[int, Any], dict[str, Any]] = {}
        self.options = [
            OptionColumns.of(entry, indication, self.lexicon, self.blank)
            for entry in catalog.entries
            for indication in entry.indications
        ]
        self.index = {id(o): n for n, o in enumerate(self.options)}

    def normalise(self, df: pd.DataFrame) -> tuple[Cohort, dict[str, Cells]]:
        """The referrals, checked column by column (rows with any doubt one at a time), and
        the columns as read."""
        if df.columns.has_duplicates:
            raise ValueError("the referral frame has duplicate column names")
        names = [str(name) for name in df.columns]
        cells = {name: _factorize(df.iloc[:, k]) for k, name in enumerate(names)}
        c, slow = self.checker.check(cells, np.asarray(df.index, dtype=np.int64))
        rows = df.iloc[slow].itertuples(index=False, name=None)
        for pos, values in zip(slow.tolist(), rows, strict=True):
            record = record_of(names, values)
            loaded = load_row(record, self.catalog, self.today, int(c.lines[pos]))
            if loaded.patient is None:
                c.reject(pos, raw_referral_id(record), loaded.field, loaded.error or "")
            else:
                self.checker.set_patient(c, pos, loaded.patient, loaded.warnings)
        return c, cells

    # -- options, rank and the output frame -----------------------------------------------

    def screen(self, c: Cohort, *, include_all: bool) -> pd.DataFrame:
        tempo = c.inputs("disease_tempo")
        tempo_codes = np.where(tempo[0] == len(tempo[1]) - 1, -1, tempo[0])
        shown = [
            option.screen(c, c.ok, (tempo_codes, tempo[1]), include_all, self._text, pd.factorize)
            for option in self.options
        ]
        return self._assemble(c, shown)

    def _text(
        self, option: OptionColumns, verdicts: list[Verdict], need: list[str], tempo: Any
    ) -> dict[str, Any]:
        """The text of an option row with these top-level verdicts, asks and tempo."""
        status = roll_up(verdicts)
        cost = self._cost(option, tempo)
        tier, excluded = option.tier(
            status, verdicts, need, cost["estimate"], self.catalog.rules.ranking
        )
        return {
            "tier_key": tier,
            "status": status.value,
            "tier": tier_text(tier),
            "missing": joined(need),
            "excluded_by": joined(excluded, ", "),
            **cost,
        }

    def _cost(self, option: OptionColumns, tempo: Any) -> dict[str, Any]:
        """The estimate of an option for a disease tempo (the only patient input its totals
        read; budget_cny only sets over_budget, computed per row)."""
        key = (self.index[id(option)], tempo)
        if key not in self.costs:
            patient = stub_tempo(self.blank, tempo)
            est = estimate(
                option.entry, option.indication, patient, self.catalog.rules.costs, fx=self.fx
            )
            self.costs[key] = {
                "estimate": est,
                "cost_track": est.as_dict().get("track"),
                "cost_low_cny": _num(est.low),
                "cost_high_cny": _num(est.high),
                "cost_low_usd": _num(est.usd_low),
                "cost_high_usd": _num(est.usd_high),
            }
        return self.costs[key]

    def _assemble(self, c: Cohort, shown: list[Shown]) -> pd.DataFrame:
        """Option rows ranked within each referral, no-option and rejected rows, in row order."""
        table: list[dict[str, Any]] = []
        option_of: list[int] = []
        pos_parts, gid_parts = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for o, part in enumerate(shown):
            pos_parts.append(part.rows)
            gid_parts.append(part.signature + len(table))
            table += part.texts
            option_of += [o] * len(part.texts)
        tier_rank = np.empty(len(table) + 1, np.int64)
        tier_rank[sorted(range(len(table)), key=lambda g: table[g]["tier_key"])] = np.arange(
            len(table)
        )
        pos, gid = np.concatenate(pos_parts), np.concatenate(gid_parts)
        sort = np.lexsort((tier_rank[gid], pos))
        pos, gid = pos[sort], gid[sort]
        first = np.r_[True, pos[1:] != pos[:-1]] if len(pos) else np.zeros(0, bool)
        starts = np.flatnonzero(first)
        rank = np.arange(len(pos)) - np.repeat(starts, np.diff(np.r_[starts, len(pos)])) + 1
        none = np.flatnonzero(c.ok & ~np.isin(np.arange(c.n), pos))
        bad = np.array(sorted(c.errors), dtype=np.int64)
        singles = len(none) + len(bad)
        order = np.argsort(np.r_[pos, none, bad], kind="stable")
        row = np.r_[pos, none, bad][order]
        gid = np.r_[gid, np.full(singles, -1)][order]  # -1: the extra last entry, no option
        rank = np.r_[rank, np.zeros(singles, np.int64)][order]
        option = np.array([*option_of, -1])[gid]

        def lookup(name: str) -> list[Any]:
            return [t[name] for t in table] + [None]

        def number(name: str) -> np.ndarray:
            return np.array([t[name] for t in table] + [math.nan], dtype=float)[gid]

        def attr(get: Callable[[OptionColumns], Any]) -> tuple[list[Any], np.ndarray]:
            return [get(o) for o in self.options] + [None], option

        statuses = [*lookup("status")[:-1], NO_OPTION, REJECTED]
        status = np.where(option >= 0, gid, len(table))
        status[np.isin(row, bad)] = len(table) + 1
        per_row = {  # by position in the chunk: accepted rows' values, then rejected ones'
            "referral_id": c.referral_id.copy(),
            "warnings": c.warnings.copy(),
            "error_field": np.full(c.n, None, dtype=object),
            "error": np.full(c.n, None, dtype=object),
        }
        for pos, (err_field, message) in c.errors.items():
            per_row["referral_id"][pos] = c.rejected_ids[pos]
            per_row["warnings"][pos] = None
            per_row["error_field"][pos], per_row["error"][pos] = err_field, message
        low = number("cost_low_cny")
        budget = np.where(option >= 0, c.budget[row], math.nan)
        unknown = np.isnan(budget) | np.isnan(low)
        return output_frame(
            {
                "line": c.lines[row],
                "rank": pd.arrays.IntegerArray(rank.astype(np.int64), rank <= 0),
                "entry_id": attr(lambda o: o.entry.id),
                "indication_id": attr(lambda o: o.indication.id),
                "name": attr(lambda o: o.entry.name),
                "track": attr(lambda o: o.entry.track),
                "enrolment": attr(lambda o: o.enrolment),
                "status": (statuses, status),
                **{
                    name: (lookup(name), gid)
                    for name in ("tier", "missing", "excluded_by", "cost_track")
                },
                "cost_low_cny": low,
                "cost_high_cny": number("cost_high_cny"),
                "cost_low_usd": number("cost_low_usd"),
                "cost_high_usd": number("cost_high_usd"),
                "over_budget": pd.arrays.BooleanArray(
                    np.where(unknown, False, low > budget), unknown
                ),
                **{name: (values, row) for name, values in per_row.items()},
            }
        )


# ------------------------------------------------------------------------------- helpers


def stub_tempo(blank: Patient, tempo: Any) -> Patient:
    return blank.model_copy(
        update={"profile": blank.profile.model_copy(update={"disease_tempo": tempo})}
    )


def _factorize(series: pd.Series) -> tuple[np.ndarray, list[Any], list[Any]]:
    """Codes per row (-1: empty cell), the distinct values and a type-exact key for each."""
    values = series.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        codes, found = pd.factorize(values, use_na_sentinel=True)
        uniques: list[Any] = list(found)
        keys = uniques
    else:  # 1, 1.0 and True hash alike but validate differently: key on the type too
        tagged = np.array([_cell_key(v) for v in values], dtype=object)
        codes, found = pd.factorize(tagged, use_na_sentinel=True)
        keys = list(found)
        given = np.flatnonzero(codes >= 0)
        _, first = np.unique(codes[given], return_index=True)
        uniques = [values[given[r]] for r in first]
    if keys is uniques:  # all text
        empty = np.array([not u.strip() for u in uniques] + [True])
    else:
        empty = np.array([is_empty(u) for u in uniques] + [True])
    return np.where(empty[codes], -1, codes), uniques, keys


def _cell_key(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return None
    return f"{type(value).__name__}:{json.dumps(value, sort_keys=True, default=str)}"
