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

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from matcher.bulk.cohort import EMPTY_ROW, SEP
from matcher.bulk.frame import empty_output, profiles_json
from matcher.bulk.place import keep_place
from matcher.bulk.plan import plan_for
from matcher.bulk.reference import screen_rows
from matcher.core.catalog import Catalog
from matcher.core.places import Place

__all__ = ["EMPTY_ROW", "SEP", "screen_chunk", "screen_dask", "screen_frame", "screen_rows"]


# ------------------------------------------------------------------------- the bulk path


def screen_frame(
    df: pd.DataFrame,
    catalog: Catalog,
    today: date,
    *,
    include_all: bool = False,
    fx: float | None = None,
    place: Place | None = None,
) -> pd.DataFrame:
    """Screen a frame of referrals column-wise: the frame `screen_rows` gives, faster.

    `df`: one referral per row, columns named as the profile fields (`antigens.CD19`), cells
    as read (empty cells are unknown); the index holds line numbers. Pure: the same frame
    in gives the same frame out (caches of distinct values are kept per catalog).
    """
    return screen_chunk(
        df, catalog, today, include_all=include_all, fx=fx, place=place, profiles=False
    )[0]


def screen_chunk(
    df: pd.DataFrame,
    catalog: Catalog,
    today: date,
    *,
    include_all: bool = False,
    fx: float | None = None,
    place: Place | None = None,
    profiles: bool = True,
) -> tuple[pd.DataFrame, dict[int, str]]:
    """`screen_frame`, and each screened row's raw profile (its non-empty cells) as canonical
    JSON by line, as a saved run keeps it."""
    plan = plan_for(catalog, today, fx)
    c, cells = plan.normalise(df)
    result = plan.screen(c, include_all=include_all)
    if place is not None:
        result = keep_place(result, catalog, place)
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
