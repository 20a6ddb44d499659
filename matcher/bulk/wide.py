"""The shape of the results file: `long` (a row per referral and option, as screened) or
`wide` (a row per referral: the call list), each with the carried-through columns last.

The wide row of a referral holds its best options (name, status, what to ask for, the cost
range on its track), or why it has none; a rejected referral keeps its row too, with the
reason, so the call list has every referral of the file once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from matcher.bulk.frame import NO_OPTION_STATUSES, REJECTED, RESULT_COLUMNS

LAYOUTS = ("long", "wide")
#: Options shown per referral in the wide layout (the best first).
WIDE_OPTIONS = 3
_OPTION_PARTS = ("", "_status", "_track", "_ask", "_cost")


def wide_columns() -> dict[str, str]:
    columns = {
        "line": "int64",
        "referral_id": "str",
        "result": "str",
        "options": "int64",
    }
    for k in range(1, WIDE_OPTIONS + 1):
        columns.update({f"option_{k}{part}": "str" for part in _OPTION_PARTS})
    return {**columns, "reason": "str", "warnings": "str"}


class Shape:
    """The columns of a results file and its rows from a screened chunk."""

    def __init__(self, layout: str, carried: list[str]) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"layout '{layout}': use long or wide")
        self.layout = layout
        base = RESULT_COLUMNS if layout == "long" else wide_columns()
        self.base = base
        # a carried column named like a result column keeps its text under another name
        self.carried = {name: name if name not in base else f"{name} (input)" for name in carried}

    def columns(self) -> dict[str, str]:
        return {**self.base, **dict.fromkeys(self.carried.values(), "str")}

    def rows(self, shown: pd.DataFrame, bad: pd.DataFrame, carried: Any) -> pd.DataFrame:
        """The chunk's rows for the results file."""
        frame = shown if self.layout == "long" else wide_frame(shown, bad)
        if not self.carried or carried is None:
            return frame
        lines = frame["line"].to_numpy(np.int64)
        taken = carried.reindex(lines)
        out = frame.copy()
        for name, column in self.carried.items():
            out[column] = pd.array(taken[name].to_numpy(dtype=object), dtype="str")
        return out


def wide_frame(shown: pd.DataFrame, bad: pd.DataFrame) -> pd.DataFrame:
    """One row per referral (screened or rejected), in line order."""
    lines = np.union1d(shown["line"].to_numpy(np.int64), bad["line"].to_numpy(np.int64))
    out: dict[str, Any] = {"line": lines}
    first = shown.drop_duplicates("line").set_index("line")
    bad_by_line = bad.drop_duplicates("line").set_index("line")
    status = first["status"].astype(object).reindex(lines)
    rejected = np.isin(lines, bad_by_line.index.to_numpy())
    ids = first["referral_id"].astype(object).reindex(lines)
    ids = ids.where(~rejected, bad_by_line["referral_id"].astype(object).reindex(lines))
    out["referral_id"] = ids.to_numpy()
    out["result"] = np.where(rejected, REJECTED, status.to_numpy())
    options = shown[~shown["status"].isin(NO_OPTION_STATUSES)]
    counts = options.groupby("line").size().reindex(lines, fill_value=0)
    out["options"] = counts.to_numpy(np.int64)
    for k in range(1, WIDE_OPTIONS + 1):
        out.update(_option(options[options["rank"] == k].set_index("line"), lines, k))
    reason = first["reason"].astype(object).reindex(lines)
    out["reason"] = reason.where(~rejected, bad_by_line["reason"].reindex(lines)).to_numpy()
    out["warnings"] = first["warnings"].astype(object).reindex(lines).to_numpy()
    columns = wide_columns()
    return pd.DataFrame(
        {
            name: (
                pd.array(np.asarray(out[name], dtype=object), dtype="str")
                if dtype == "str"
                else np.asarray(out[name], dtype=dtype)
            )
            for name, dtype in columns.items()
        }
    )


def _option(ranked: pd.DataFrame, lines: np.ndarray, k: int) -> dict[str, Any]:
    """The k-th option's cells of each referral (empty where it has fewer options)."""
    at = ranked.reindex(lines)

    def text(name: str) -> np.ndarray:
        return at[name].astype(object).to_numpy()

    low, high = at["cost_low_cny"].to_numpy(float), at["cost_high_cny"].to_numpy(float)
    track = text("cost_track")
    cost = [
        f"CNY {lo:,.0f}-{hi:,.0f} ({t})" if lo == lo and hi == hi else None
        for lo, hi, t in zip(low, high, track, strict=True)
    ]
    return {
        f"option_{k}": text("name"),
        f"option_{k}_status": text("status"),
        f"option_{k}_track": text("track"),
        f"option_{k}_ask": text("missing"),
        f"option_{k}_cost": np.asarray(cost, dtype=object),
    }
