"""Referrals as columns (`Cohort`): the normalised inputs criteria read, per row, with the
rows rejected and why. `bulk.checker` fills it through the single path itself:

Each column (or group of columns whose rules read each other) is put through `load_patient`
once per distinct value, or combination of values, alone in an otherwise valid referral: its
accept/reject and normalised value are then the single path's by construction, and repeated
values (diagnoses, antigen results, therapy lists) cost nothing. A row where any check fails
is left for the caller to put through the single path alone, for the exact message.

numpy only: the caller passes in a factorize function (pandas.factorize).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matcher.bulk.checker import Checker

EMPTY_ROW = "empty row"
#: Separator of list-valued text cells (missing data, warnings).
SEP = " | "
#: Flags checked with sex (pregnancy and breastfeeding contradict a male sex).
SEX_FLAGS = ("pregnant", "breastfeeding")
_INTERNED = ("therapy", "antigen", "lab")
_NUMBERS = ("age", "prior_lines", "ecog")
#: A column as read: codes per row (-1: empty), its distinct values, a type-exact key of each.
Cells = tuple[np.ndarray, list[Any], list[Any]]


def joined(items: Iterable[str], sep: str = SEP) -> str | None:
    return sep.join(items) or None


@dataclass
class Cohort:
    """Normalised referrals, column-wise; `ok` marks the accepted rows.

    `attrs`: inputs as arrays (text as objects, numbers as floats with NaN for unknown);
    `ids`: therapy classes, antigen results and lab values as ids into the checker's lists.
    """

    n: int
    lines: np.ndarray
    checker: Checker
    ok: np.ndarray
    referral_id: np.ndarray
    warnings: np.ndarray
    budget: np.ndarray
    attrs: dict[str, np.ndarray] = field(default_factory=dict)
    ids: dict[str, np.ndarray] = field(default_factory=dict)
    errors: dict[int, tuple[str | None, str]] = field(default_factory=dict)
    """Position -> (field, message) of each rejected row."""
    rejected_ids: dict[int, str | None] = field(default_factory=dict)
    _inputs: dict[str, Cells] = field(default_factory=dict)

    def id_column(self, attr: str) -> np.ndarray:
        if attr not in self.ids:
            self.ids[attr] = np.zeros(self.n, np.int32)
        return self.ids[attr]

    def inputs(self, attr: str) -> Cells:
        """(per row a code, the distinct values, their keys) for an input. For a plain
        column the last value is None (not given); interned inputs (therapies, antigens,
        labs) are coded into the checker's own tables instead."""
        if attr not in self._inputs:
            self._inputs[attr] = self._distinct(attr)
        return self._inputs[attr]

    def _distinct(self, attr: str) -> Cells:
        head = attr.partition(".")[0]
        if head in _INTERNED:
            values = self.checker.interned[head]
            return self.id_column(attr), list(values), list(range(len(values)))
        if attr not in self.attrs:  # a field no column of this file gives
            return np.zeros(self.n, np.int64), [None], [None]
        codes, uniques = self.checker.factorize(self.attrs[attr])
        convert: Callable[[Any], Any] = (
            bool if head == "flag" else int if head in _NUMBERS else (lambda v: v)
        )
        values = [convert(u) for u in uniques] + [None]
        return np.where(codes < 0, len(values) - 1, codes), values, values

    def reject(self, pos: int, referral_id: str | None, field: str | None, message: str) -> None:
        self.ok[pos] = False
        self.errors[pos] = (field, message)
        self.rejected_ids[pos] = referral_id


def objects(n: int) -> np.ndarray:
    return np.full(n, None, dtype=object)
