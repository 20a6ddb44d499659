"""The bulk screening core (DESIGN section 9): a pure function from a DataFrame to a DataFrame.

`screen_frame(df, catalog, today)` takes one referral per row (columns named as the profile
fields of DESIGN section 2, nested keys flattened as `antigens.CD19`; the index holds each
row's line number) and returns one row per (referral, shown option), a `no_option` row for
a referral with none, and a `rejected` row with the reason for a row that is not a valid
profile: every input row is accounted for, in input order, options ranked per referral.

It returns exactly what `screen_rows` returns, the reference that puts each row through
`load_patient` and `engine.match` alone, but works column-wise:

- validation and normalisation run once per distinct cell value (diagnoses, antigen results
  and therapy lists repeat a lot) through `load_patient` itself (`matcher.bulk.cohort`),
  so accept/reject and the normalised values are the single path's; a row with any doubt
  goes through the single path alone, which also gives the exact rejection message;
- criteria, roll-up and ranking run over columns (`matcher.bulk.columns`);
- the text of an option row (missing data, excluded-by, tier, cost) depends only on a small
  signature and is made once per signature.
"""

from __future__ import annotations

import json
import math
import weakref
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from matcher.bulk.cohort import EMPTY_ROW, SEP, Cells, Checker, Cohort, joined
from matcher.bulk.columns import OptionColumns, Shown
from matcher.core.catalog import Catalog
from matcher.core.costs import estimate
from matcher.core.engine import disease_fit, disease_reason, match
from matcher.model.patient import Patient
from matcher.model.verdict import Verdict, roll_up

__all__ = ["EMPTY_ROW", "SEP", "screen_chunk", "screen_dask", "screen_frame", "screen_rows"]

from matcher.bulk.frame import (
    DIAGNOSIS_UNRECOGNISED,
    NO_OPTION,
    OUTPUT_COLUMNS,
    REJECTED,
    as_float,
    empty_output,
    is_empty,
    load_row,
    output_frame,
    profiles_json,
    raw_referral_id,
    record_of,
    records,
    tier_cell,
)

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
            unread = "diagnosis_unrecognised" in result.hidden
            add(
                line=line,
                referral_id=profile.referral_id,
                status=DIAGNOSIS_UNRECOGNISED if unread else NO_OPTION,
                reason=result.no_option,
                warnings=warnings,
            )
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
                tier=tier_cell(option.tier),
                missing=joined(option.missing),
                excluded_by=joined((v.id for v in option.excluded_by), ", "),
                cost_track=cost.as_dict().get("track"),
                cost_low_cny=as_float(cost.low),
                cost_high_cny=as_float(cost.high),
                cost_low_usd=as_float(cost.usd_low),
                cost_high_usd=as_float(cost.usd_high),
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
    return result, dict(
        zip(c.lines[accepted].tolist(), profiles_json(cells, accepted), strict=True)
    )


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
        self.reasons: dict[tuple[Any, Any], str] = {}
        self.options = [
            OptionColumns.of(
                entry,
                indication,
                catalog.criteria(entry, indication),
                self.lexicon,
                self.blank,
            )
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
        unread = self._unrecognised(c)
        shown = [
            option.screen(
                c, c.ok & ~unread, (tempo_codes, tempo[1]), include_all, self._text, pd.factorize
            )
            for option in self.options
        ]
        return self._assemble(c, shown, unread)

    def _unrecognised(self, c: Cohort) -> np.ndarray:
        """Rows whose diagnosis could not be read at all (engine.diagnosis_unrecognised)."""
        code, candidates = c.attrs["indication"], c.attrs["candidates"]
        return (
            np.array(
                [k is None and not m for k, m in zip(code, candidates, strict=True)], dtype=bool
            ).reshape(-1)
            & c.ok
        )

    def _reasons(self, c: Cohort, rows: np.ndarray) -> np.ndarray:
        """The no-option line of these rows (engine.disease_reason, once per disease)."""
        out = np.full(len(rows), None, dtype=object)
        for n, row in enumerate(rows.tolist()):
            key = (c.attrs["indication"][row], c.attrs["candidates"][row] or ())
            if key not in self.reasons:
                self.reasons[key] = disease_reason(*key, self.catalog)
            out[n] = self.reasons[key]
        return out

    def _text(
        self,
        option: OptionColumns,
        verdicts: list[Verdict],
        need: list[str],
        tempo: Any,
        disease: str | None,
    ) -> dict[str, Any]:
        """The text of an option row with these top-level verdicts, asks, tempo and disease."""
        status = roll_up(verdicts)
        cost = self._cost(option, tempo)
        fit = disease_fit(option.nodes, verdicts, disease, self.lexicon)
        tier, excluded = option.tier(
            status, verdicts, need, cost["estimate"], self.catalog.rules.ranking, fit
        )
        return {
            "tier_key": tier,
            "status": status.value,
            "tier": tier_cell(tier),
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
                "cost_low_cny": as_float(est.low),
                "cost_high_cny": as_float(est.high),
                "cost_low_usd": as_float(est.usd_low),
                "cost_high_usd": as_float(est.usd_high),
            }
        return self.costs[key]

    def _assemble(self, c: Cohort, shown: list[Shown], unread: np.ndarray) -> pd.DataFrame:
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

        statuses = [*lookup("status")[:-1], NO_OPTION, REJECTED, DIAGNOSIS_UNRECOGNISED]
        status = np.where(option >= 0, gid, len(table))
        status[np.isin(row, bad)] = len(table) + 1
        status[np.isin(row, np.flatnonzero(unread))] = len(table) + 2
        reason = np.full(len(row), None, dtype=object)
        single = (option < 0) & ~np.isin(row, bad)
        reason[single] = self._reasons(c, row[single])
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
                "reason": reason,
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
