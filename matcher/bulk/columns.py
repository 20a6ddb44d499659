"""Criteria over columns: every criterion of a cohort evaluated for all referrals at once.

A leaf criterion reads one input of the patient (the indication, the age, one antigen, one
lab ...). It is evaluated by the engine's own `evaluate()` once per distinct value of that
input, and the outcome codes (small ints), recoverable flags and asks are mapped back over
the column, so a leaf cannot drift from `matcher.criteria`. Composites (`all`, `any`, `not`)
are combined by their own `combine` step, once per distinct state of their children; the roll-up
(`verdict.roll_up`), the excluded-by list and the tier (the engine's own) are computed once
per distinct state of an option's top-level criteria.

numpy only: pandas stays in `matcher.bulk.screening`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from matcher import criteria as crit
from matcher.core.engine import Option, enrolment_state, hidden_reason, with_tier
from matcher.model.lexicon import Lexicon
from matcher.model.patient import Patient
from matcher.model.verdict import Outcome, Status, Verdict, roll_up

MET, NOT_MET, UNKNOWN, WARN = 0, 1, 2, 3
OUTCOMES = (Outcome.MET, Outcome.NOT_MET, Outcome.UNKNOWN, Outcome.WARN)
CODES = {outcome: code for code, outcome in enumerate(OUTCOMES)}


class Inputs(Protocol):
    """A cohort as the criteria read it."""

    n: int

    def inputs(self, attr: str) -> tuple[np.ndarray, list[Any], list[Any]]:
        """Per row a code into the distinct values of `attr`, the values, and a stable key
        for each (for caching across chunks)."""
        ...


@dataclass
class Column:
    """A criterion over all rows: outcome codes, recoverable, and the asks it may give.

    asks: per leaf in walk order, its ask texts and per row the index of the one it gives
    (-1: none, or not reached through unknown outcomes, as `verdict.missing_data` walks).
    """

    out: np.ndarray
    rec: np.ndarray
    asks: list[tuple[tuple[str, ...], np.ndarray]]


def inputs_of(node: Any) -> tuple[str, ...]:
    """The patient inputs a criterion reads (each criterion kind says so: `Node.reads`)."""
    return tuple(node.reads())


def stub(blank: Patient, attrs: tuple[str, ...], values: tuple[Any, ...]) -> Patient:
    """A patient who is blank but for the inputs a leaf reads."""
    for attr, value in zip(attrs, values, strict=True):
        blank = _with(blank, attr, value)
    return blank


def _with(blank: Patient, attr: str, value: Any) -> Patient:
    head, _, name = attr.partition(".")
    profile = blank.profile
    if head in ("indication", "age"):
        return blank.model_copy(update={head: value})
    if head == "candidates":
        return blank.model_copy(update={"indication_candidates": value or ()})
    if head == "therapy":  # (classes, exposures) as interned by the cohort
        classes, exposures = (None, ()) if value is None else value
        return blank.model_copy(update={"prior_therapy_classes": classes, "exposures": exposures})
    if head == "antigen":  # (result, date tested)
        if value is None:
            return blank
        result, tested = value
        update: dict[str, Any] = {"antigens": {**profile.antigens, name: result}}
        if tested:
            update["antigen_dates"] = {**profile.antigen_dates, name: tested}
    elif head == "lab":
        update = {"labs": {} if value is None else {**profile.labs, name: value}}
    else:
        update = {name if head == "flag" else head: value}
    return blank.model_copy(update={"profile": blank.profile.model_copy(update=update)})


Compiled = Callable[[Inputs], Column]


def compile_node(node: Any, lexicon: Lexicon, blank: Patient) -> Compiled:
    """A criterion as a function of a cohort. A composite with a pure `combine` step (all,
    any, not) is combined from its children's columns by that same step; any other criterion
    is a leaf, evaluated once per distinct combination of the inputs it reads."""
    if hasattr(node, "combine"):
        children = [compile_node(child, lexicon, blank) for child in node.children()]
        table: dict[tuple[int, ...], tuple[int, bool]] = {}
        return lambda c: composite(node, [f(c) for f in children], table)
    return _leaf(node, lexicon, blank)


def _leaf(node: Any, lexicon: Lexicon, blank: Patient) -> Compiled:
    attrs = inputs_of(node)
    table: dict[Any, tuple[int, bool, int]] = {}
    texts: list[str] = []

    def verdict_of(values: tuple[Any, ...]) -> tuple[int, bool, int]:
        verdict = node.evaluate(crit.Context(stub(blank, attrs, values), lexicon))
        ask = -1
        if verdict.ask:
            if verdict.ask not in texts:
                texts.append(verdict.ask)
            ask = texts.index(verdict.ask)
        return CODES[verdict.outcome], verdict.recoverable, ask

    def rule(c: Inputs) -> Column:
        if not c.n:
            return Column(np.zeros(0, np.int8), np.zeros(0, bool), [((), np.zeros(0, np.int8))])
        codes, values, keys = _combined([c.inputs(attr) for attr in attrs], c.n)
        rows = []
        for key, value in zip(keys, values, strict=True):
            if key not in table:
                table[key] = verdict_of(value)
            rows.append(table[key])
        out, rec, ask = (np.array(col) for col in zip(*rows, strict=True))
        out = out[codes].astype(np.int8)
        ask = np.where(out == UNKNOWN, ask[codes], -1).astype(np.int8)
        return Column(out, rec[codes].astype(bool), [(tuple(texts), ask)])

    return rule


def _combined(
    inputs: list[tuple[np.ndarray, list[Any], list[Any]]], n: int
) -> tuple[np.ndarray, list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Codes over the combinations of several inputs that occur, with their values and keys."""
    code = np.zeros(n, np.int64)
    for codes, values, _ in inputs:
        code = code * len(values) + codes
    used = np.flatnonzero(np.bincount(code)) if n else np.zeros(0, np.int64)
    dense = np.zeros(int(used.max()) + 1 if len(used) else 1, np.int64)
    dense[used] = np.arange(len(used))
    values, keys = [], []
    for combo in used.tolist():
        at = []
        for _, vals, _ in reversed(inputs):
            combo, k = divmod(combo, len(vals))
            at.append(k)
        at.reverse()
        values.append(tuple(inp[1][k] for inp, k in zip(inputs, at, strict=True)))
        keys.append(tuple(inp[2][k] for inp, k in zip(inputs, at, strict=True)))
    return dense[code], values, keys


def composite(
    node: Any, children: list[Column], table: dict[tuple[int, ...], tuple[int, bool]]
) -> Column:
    """A composite over columns: its own `combine` applied once per distinct combination of
    its children's states (outcome, recoverable), mapped back over the rows. The children's
    asks count only where the composite itself is unknown (as `verdict.missing_data` walks
    into unknown composites only)."""
    states = np.stack([ch.out.astype(np.int64) * 2 + ch.rec for ch in children], axis=1)
    if states.shape[1] <= 20:
        key = states @ (8 ** np.arange(states.shape[1] - 1, -1, -1, dtype=np.int64))
        distinct, inverse = np.unique(key, return_inverse=True)
        combos = [_decode(int(k), states.shape[1]) for k in distinct]
    else:  # too many children to pack in 64 bits
        rows, inverse = np.unique(states, axis=0, return_inverse=True)
        combos = [tuple(int(v) for v in row) for row in rows]
    out_of = np.empty(len(combos), np.int8)
    rec_of = np.empty(len(combos), bool)
    for i, combo in enumerate(combos):
        if combo not in table:
            verdict = node.combine(tuple(_fake(s) for s in combo))
            table[combo] = (CODES[verdict.outcome], verdict.recoverable)
        out_of[i], rec_of[i] = table[combo]
    inverse = inverse.reshape(-1)
    out, rec = out_of[inverse], rec_of[inverse]
    unknown = out == UNKNOWN
    asks = [
        (texts, np.where(unknown, idx, -1).astype(np.int8))
        for child in children
        for texts, idx in child.asks
    ]
    return Column(out, rec, asks)


def _fake(state: int, verdict_id: str = "") -> Verdict:
    """A verdict carrying only an outcome and recoverable flag (a state is outcome*2+rec)."""
    return Verdict(
        id=verdict_id,
        text="",
        outcome=OUTCOMES[state >> 1],
        recoverable=bool(state & 1),
        message="",
    )


def missing(asks: list[tuple[tuple[str, ...], np.ndarray]], row: int) -> list[str]:
    """verdict.missing_data for one row: each ask once, in criterion order."""
    found: list[str] = []
    for texts, idx in asks:
        if idx[row] >= 0 and texts[idx[row]] not in found:
            found.append(texts[idx[row]])
    return found


Factorize = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def _np_factorize(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes and distinct values in order of first appearance, as pandas.factorize gives."""
    uniques, first, codes = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[codes.reshape(-1)], uniques[order]


def pack(
    arrays: list[np.ndarray], factorize: Factorize = _np_factorize
) -> tuple[np.ndarray, np.ndarray]:
    """One code per distinct combination of small non-negative int arrays, and a row of each
    (`factorize`: codes and distinct values of an int array, e.g. pandas.factorize)."""
    n = len(arrays[0]) if arrays else 0
    key = np.zeros(n, np.int64)
    span = 1
    for arr in arrays:
        radix = int(arr.max()) + 1 if len(arr) else 1
        if span * radix >= 2**62:
            key, _ = factorize(key)
            span = int(key.max()) + 1 if n else 1
        key = key * radix + arr
        span *= radix
    codes, _ = factorize(key)
    codes = np.asarray(codes, dtype=np.int64)
    # Codes are numbered in order of first appearance: a row is a first where its code
    # exceeds every code before it.
    first = np.flatnonzero(codes > np.maximum.accumulate(np.r_[-1, codes[:-1]]))
    return codes, first


@dataclass
class Shown:
    """The option rows of one option: row positions and the text of each one's signature."""

    rows: np.ndarray
    signature: np.ndarray
    texts: list[dict[str, Any]]


@dataclass
class OptionColumns:
    """One option (entry x indication) compiled for column-wise screening."""

    entry: Any
    indication: Any
    criteria: list[Compiled]
    ids: tuple[str, ...]
    enrolment: str
    statuses: dict[int, Status] = field(default_factory=dict)
    rows_text: dict[Any, dict[str, Any]] = field(default_factory=dict)

    nodes: list[Any] = field(default_factory=list)
    """The criteria themselves (the cohort's own and the default safety checks)."""

    @classmethod
    def of(
        cls, entry: Any, indication: Any, nodes: list[Any], lexicon: Lexicon, blank: Patient
    ) -> OptionColumns:
        return cls(
            entry=entry,
            indication=indication,
            criteria=[compile_node(c, lexicon, blank) for c in nodes],
            ids=tuple(c.id or c.kind for c in nodes),
            enrolment=enrolment_state(indication),
            nodes=nodes,
        )

    def fakes(self, states: tuple[int, ...]) -> list[Verdict]:
        """Top-level verdicts carrying only what roll-up, excluded-by and tier read."""
        return [_fake(s, self.ids[i]) for i, s in enumerate(states)]

    def screen(
        self,
        c: Inputs,
        accepted: np.ndarray,
        tempo: tuple[np.ndarray, list[Any]],
        include_all: bool,
        text_of: Callable[[OptionColumns, list[Verdict], list[str], Any, Any], dict[str, Any]],
        factorize: Factorize = _np_factorize,
    ) -> Shown:
        """The rows this option is shown on, and the text of each distinct signature."""
        columns = [f(c) for f in self.criteria]
        k = len(columns)
        inverse, keys = _states(columns, c.n, factorize)
        status = np.empty(len(keys), np.int8)
        for i, value in enumerate(keys):
            if value not in self.statuses:
                self.statuses[value] = roll_up(self.fakes(_decode(value, k)))
            status[i] = list(Status).index(self.statuses[value])
        states = list(Status)
        keep = np.array(
            [hidden_reason(states[v], self.enrolment, include_all) is None for v in status], bool
        )
        shown = accepted & keep[inverse.reshape(-1)]
        rows = np.flatnonzero(shown)
        asks = [a for col in columns for a in col.asks]
        tempo_codes, tempos = tempo
        # The disease fit (a tier key) reads the patient's disease as well.
        disease_codes, diseases, _ = c.inputs("indication")
        parts = [inverse.reshape(-1)[rows], tempo_codes[rows] + 1, disease_codes[rows]]
        parts += [idx[rows].astype(np.int64) + 1 for _, idx in asks]
        signature, first = pack(parts, factorize)
        texts = []
        for rep in first:
            row = rows[rep]
            top = keys[inverse.reshape(-1)[row]]
            need = missing(asks, row)
            t = tempos[tempo_codes[row]] if tempo_codes[row] >= 0 else None
            disease = diseases[disease_codes[row]]
            cache_key = (top, t, tuple(need), disease)
            if cache_key not in self.rows_text:
                fakes = self.fakes(_decode(top, k))
                self.rows_text[cache_key] = text_of(self, fakes, need, t, disease)
            texts.append(self.rows_text[cache_key])
        return Shown(rows, signature, texts)

    def tier(
        self,
        status: Status,
        verdicts: list[Verdict],
        need: list[str],
        cost: Any,
        policy: Any,
        fit: int,
    ) -> tuple[tuple[Any, ...], list[str]]:
        """The engine's own tier and excluded-by list for these top-level verdicts."""
        option = Option(
            entry=self.entry,
            indication=self.indication,
            status=status,
            verdicts=verdicts,
            missing=need,
            cost=cost,
            enrolment=self.enrolment,
            notes=[],
            fit=fit,
        )
        return with_tier(option, policy).tier, [v.id for v in option.excluded_by]


def _states(columns: list[Column], n: int, factorize: Factorize) -> tuple[np.ndarray, list[Any]]:
    """Per row a code into the distinct states of the top-level criteria, and each state
    (packed in an int, 3 bits a criterion, or a tuple when there are too many)."""
    states = [col.out.astype(np.int64) * 2 + col.rec for col in columns]
    if len(columns) <= 20:
        key = np.zeros(n, np.int64)
        for s in states:
            key = key * 8 + s
        inverse, distinct = factorize(key)
        return inverse, [int(v) for v in distinct]
    tuples = list(zip(*(s.tolist() for s in states), strict=True))
    keys = sorted(set(tuples))
    where = {t: i for i, t in enumerate(keys)}
    return np.array([where[t] for t in tuples], dtype=np.int64), keys


def _decode(value: Any, k: int) -> tuple[int, ...]:
    if isinstance(value, tuple):
        return value
    return tuple((value >> (3 * (k - 1 - i))) & 7 for i in range(k))
