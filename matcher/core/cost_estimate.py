"""What a cost estimate is: priced lines, scenario totals and the estimate of one option.

`matcher.core.costs.estimate` builds them; `as_dict` gives the JSON shape the CLI prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from matcher.errors import CartmatchError


@dataclass(frozen=True)
class CostLine:
    """One priced line of an estimate, in its track's currency, with USD alongside."""

    name: str
    label: str
    low: float
    high: float
    currency: str
    usd_low: float
    usd_high: float
    sources: tuple[str, ...]
    date: str | None
    confidence: str
    basis: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class ScenarioTotal:
    """A named alternative total: the uncomplicated total plus `adds`."""

    name: str
    label: str
    adds: tuple[str, ...]
    low: float
    high: float
    usd_low: float
    usd_high: float

    def as_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class CostEstimate:
    """The cost of one option. `low`/`high` are the total in CNY (the ranking uses `low`)."""

    track: str
    currency: str
    low: float | None
    high: float | None
    usd_low: float | None
    usd_high: float | None
    components: list[CostLine] = field(default_factory=list)
    track_label: str = ""
    drug_share: float | None = None
    """Drug / total at the midpoints of the ranges."""
    drug_basis: str = "track_default"
    """list_price (the entry's own), price_band (assumed, low confidence), track_default, or
    unknown (a filed product with no price of its own: no total is given)."""
    confidence: str = "low"
    price_known: bool = False
    scenario: str | None = None
    """The scenario folded into this total, if one was asked for."""
    scenarios: list[ScenarioTotal] = field(default_factory=list)
    us_reference: dict[str, Any] = field(default_factory=dict)
    insurance: dict[str, Any] = field(default_factory=dict)
    fx_rate: float | None = None
    fx_date: str | None = None
    fx_sources: tuple[str, ...] = ()
    budget_cny: float | None = None
    over_budget: bool | None = None
    """True when the low estimate exceeds the patient's budget (flagged, never hidden)."""
    notes: list[str] = field(default_factory=list)
    track_note: str | None = None
    """How the track's figures are built (the same for every option on the track)."""
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Every source id cited above -> title, url, date."""

    def scenario_total(self, name: str) -> ScenarioTotal | None:
        return next((s for s in self.scenarios if s.name == name), None)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape: every field, amounts in CNY with USD alongside."""
        return _plain(self)

    def converted(self, currency: str) -> dict[str, Any]:
        """as_dict() with low/high of the total, lines and scenarios in CNY or USD."""
        data = self.as_dict()
        if currency.upper() == "CNY":
            return data
        if currency.upper() != "USD":
            raise CartmatchError(f"currency must be CNY or USD, not '{currency}'")
        data["currency"] = "USD"
        for item in [data, *data["components"], *data["scenarios"]]:
            item["low"], item["high"] = item["usd_low"], item["usd_high"]
            if "currency" in item:
                item["currency"] = "USD"
        return data


def over_budget(low: float | None, budget: float | None) -> bool | None:
    """Whether the low estimate exceeds a budget (flagged, never hidden); None when there is
    no budget or no total to compare."""
    return None if budget is None or low is None else low > budget


def _plain(obj: Any) -> Any:
    """Dataclasses, tuples and lists as JSON-ready dicts and lists."""
    if obj is None or isinstance(obj, str | int | float):  # most values: asked first
        return obj
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, list | tuple):
        return [_plain(item) for item in obj]
    return obj
