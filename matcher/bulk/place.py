"""`screen --city/--province`: options kept only where the entry lists a site in the place,
exactly as `engine.match(place=...)` keeps them for one referral.

Applied to the output frame: option rows of entries with no site there are left out, the
rest ranked again from 1 in the same order, and a referral left with none gets the single
path's `no_option` row ("N option(s) fit but none lists a site in X").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from matcher.bulk.frame import NO_OPTION, NO_OPTION_STATUSES, OUTPUT_COLUMNS, REJECTED, output_frame
from matcher.core.catalog import Catalog
from matcher.core.engine import place_reason
from matcher.core.places import Place, at_place


def keep_place(out: pd.DataFrame, catalog: Catalog, place: Place) -> pd.DataFrame:
    """The output frame with only the options at `place` (see the module docstring)."""
    there = at_place(catalog.entries, catalog.places, place)
    option = ~out["status"].isin([*NO_OPTION_STATUSES, REJECTED]).to_numpy(dtype=bool)
    elsewhere = option & ~out["entry_id"].isin(list(there)).to_numpy(dtype=bool)
    if not elsewhere.any():
        return out
    lines = out["line"].to_numpy()
    left_out = pd.Series(lines[elsewhere]).value_counts().to_dict()
    emptied = set(left_out) - set(lines[option & ~elsewhere].tolist())
    columns = {name: out[name].astype("object").tolist() for name in OUTPUT_COLUMNS}
    kept: dict[str, list] = {name: [] for name in OUTPUT_COLUMNS}
    current, rank = None, 0
    for n, line in enumerate(lines.tolist()):
        if line != current:
            current, rank = line, 0
        if elsewhere[n]:
            if line in emptied and (n + 1 == len(out) or lines[n + 1] != line):
                _add_no_option(kept, columns, n, place_reason(left_out[line], place))
            continue
        for name in OUTPUT_COLUMNS:
            kept[name].append(columns[name][n])
        if option[n]:
            rank += 1
            kept["rank"][-1] = rank
    return output_frame({k: _nulls(v) for k, v in kept.items()})


def _add_no_option(kept: dict[str, list], columns: dict[str, list], n: int, reason: str) -> None:
    for name in OUTPUT_COLUMNS:
        kept[name].append(None)
    kept["line"][-1] = columns["line"][n]
    kept["referral_id"][-1] = columns["referral_id"][n]
    kept["warnings"][-1] = columns["warnings"][n]
    kept["status"][-1] = NO_OPTION
    kept["reason"][-1] = reason


def _nulls(values: list) -> list:
    """pandas' missing values (NaN, NA) as None, as output_frame takes them."""
    return [None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v
            for v in values]  # fmt: skip


__all__ = ["keep_place"]
