"""A catalog compiled for column-wise screening (`bulk.columns`), with its caches of distinct
values kept across the chunks of a run, and the output frame it assembles."""

from __future__ import annotations

import json
import math
import weakref
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from matcher.bulk.checker import Checker
from matcher.bulk.cohort import Cells, Cohort, joined
from matcher.bulk.columns import OptionColumns, Shown
from matcher.bulk.frame import (
    DIAGNOSIS_UNRECOGNISED,
    NO_OPTION,
    REJECTED,
    as_float,
    is_empty,
    load_row,
    output_frame,
    raw_referral_id,
    record_of,
    tier_cell,
)
from matcher.core.catalog import Catalog
from matcher.core.costs import estimate
from matcher.core.engine import disease_fit, disease_reason
from matcher.model.patient import Patient
from matcher.model.verdict import Verdict, roll_up

_PLANS: weakref.WeakKeyDictionary[Catalog, dict[tuple[date, float | None], Plan]] = (
    weakref.WeakKeyDictionary()
)


def plan_for(catalog: Catalog, today: date, fx: float | None) -> Plan:
    """The compiled catalog and its caches, kept across the chunks of a run."""
    plans = _PLANS.setdefault(catalog, {})
    if (today, fx) not in plans:
        plans.clear()
        plans[(today, fx)] = Plan(catalog, today, fx)
    return plans[(today, fx)]


class Plan:
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
        table, option_of, pos, gid, rank = _ranked(shown)
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
        status = _status_codes(option, gid, row, bad, np.flatnonzero(unread), len(table))
        reason = np.full(len(row), None, dtype=object)
        single = (option < 0) & ~np.isin(row, bad)
        reason[single] = self._reasons(c, row[single])
        per_row = _per_row(c)
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


def _ranked(
    shown: list[Shown],
) -> tuple[list[dict[str, Any]], list[int], np.ndarray, np.ndarray, np.ndarray]:
    """Every option row by referral position, ranked by tier: the distinct row texts, the
    option of each, and per option row its position, text id and rank."""
    table: list[dict[str, Any]] = []
    option_of: list[int] = []
    pos_parts, gid_parts = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for o, part in enumerate(shown):
        pos_parts.append(part.rows)
        gid_parts.append(part.signature + len(table))
        table += part.texts
        option_of += [o] * len(part.texts)
    tier_rank = np.empty(len(table) + 1, np.int64)
    tier_rank[sorted(range(len(table)), key=lambda g: table[g]["tier_key"])] = np.arange(len(table))
    pos, gid = np.concatenate(pos_parts), np.concatenate(gid_parts)
    sort = np.lexsort((tier_rank[gid], pos))
    pos, gid = pos[sort], gid[sort]
    first = np.r_[True, pos[1:] != pos[:-1]] if len(pos) else np.zeros(0, bool)
    starts = np.flatnonzero(first)
    rank = np.arange(len(pos)) - np.repeat(starts, np.diff(np.r_[starts, len(pos)])) + 1
    return table, option_of, pos, gid, rank


def _status_codes(
    option: np.ndarray,
    gid: np.ndarray,
    row: np.ndarray,
    bad: np.ndarray,
    unread: np.ndarray,
    texts: int,
) -> np.ndarray:
    """Per output row its status as an index into the option texts' statuses, followed by
    no option, rejected and diagnosis unrecognised."""
    status = np.where(option >= 0, gid, texts)
    status[np.isin(row, bad)] = texts + 1
    status[np.isin(row, unread)] = texts + 2
    return status


def _per_row(c: Cohort) -> dict[str, np.ndarray]:
    """By position in the chunk: accepted rows' id and warnings, rejected rows' error."""
    per_row = {
        "referral_id": c.referral_id.copy(),
        "warnings": c.warnings.copy(),
        "error_field": np.full(c.n, None, dtype=object),
        "error": np.full(c.n, None, dtype=object),
    }
    for pos, (err_field, message) in c.errors.items():
        per_row["referral_id"][pos] = c.rejected_ids[pos]
        per_row["warnings"][pos] = None
        per_row["error_field"][pos], per_row["error"][pos] = err_field, message
    return per_row


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


__all__ = ["Plan", "plan_for", "stub_tempo"]
