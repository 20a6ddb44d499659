"""The per-row reference of bulk screening: every row through `load_patient` and
`engine.match` on its own. `screening.screen_frame` must give exactly what this gives."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from matcher.bulk.cohort import joined
from matcher.bulk.frame import (
    DIAGNOSIS_UNRECOGNISED,
    NO_OPTION,
    OUTPUT_COLUMNS,
    REJECTED,
    as_float,
    load_row,
    output_frame,
    raw_referral_id,
    records,
    tier_cell,
)
from matcher.core.catalog import Catalog
from matcher.core.engine import Option, match
from matcher.core.places import Place


def screen_rows(
    df: pd.DataFrame,
    catalog: Catalog,
    today: date,
    *,
    include_all: bool = False,
    fx: float | None = None,
    place: Place | None = None,
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
            loaded.patient,
            catalog,
            warnings=loaded.warnings,
            include_all=include_all,
            fx=fx,
            place=place,
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
            add(
                line=line,
                referral_id=profile.referral_id,
                warnings=warnings,
                **_option_cells(option),
            )
    return output_frame(cols)


def _option_cells(option: Option) -> dict[str, Any]:
    """The cells of one option row, as the engine gives the option."""
    cost = option.cost
    return dict(
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
        over_budget=cost.over_budget,
    )


__all__ = ["screen_rows"]
