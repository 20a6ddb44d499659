"""Cost estimates on each option's track (DESIGN section 6). Pure: no I/O.

Interim version: the drug component only, from the entry's list price. The full pathway model
(rules/costs.yaml: components, scenarios, US reference, insurance context) replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from matcher.base import Frozen
from matcher.entry import Entry, Indication
from matcher.patient import Patient


class CostModel(Frozen):
    """rules/costs.yaml."""

    fx_cny_per_usd: float = Field(gt=0)


@dataclass(frozen=True)
class CostComponent:
    name: str
    low: float | None
    high: float | None
    source: str | None = None


@dataclass(frozen=True)
class CostEstimate:
    track: str
    currency: str
    low: float | None
    high: float | None
    usd_low: float | None
    usd_high: float | None
    components: list[CostComponent] = field(default_factory=list)

    @property
    def low_cny(self) -> float | None:
        return self.low

    def as_dict(self) -> dict[str, Any]:
        return {
            "track": self.track,
            "currency": self.currency,
            "low": self.low,
            "high": self.high,
            "usd_low": self.usd_low,
            "usd_high": self.usd_high,
            "components": [c.__dict__ for c in self.components],
        }


def estimate(
    entry: Entry,
    indication: Indication,
    patient: Patient | None,
    model: CostModel,
    *,
    fx: float | None = None,
) -> CostEstimate:
    rate = fx or model.fx_cny_per_usd
    price = entry.price
    low = high = None
    if price and price.amount_cny:
        low = high = price.amount_cny
    elif price and price.band_cny:
        low, high = price.band_cny
    usd = (lambda v: round(v / rate) if v is not None else None)
    return CostEstimate(
        track=entry.track,
        currency="CNY",
        low=low,
        high=high,
        usd_low=usd(low),
        usd_high=usd(high),
        components=[CostComponent("drug", low, high)],
    )
