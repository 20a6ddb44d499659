"""Transparent lexicographic ranking (DESIGN section 5); the order is data in rules/ranking.yaml."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from matcher.model.base import Frozen

TierKey = Literal["status", "approval", "fit", "track", "enrolment", "unknowns", "cost", "id"]


class RankingPolicy(Frozen):
    """The order of the tier vector and the rank of each value within a tier."""

    order: list[TierKey] = Field(min_length=1)
    """Tier keys, most important first. `id` should come last to make the order total."""
    status: list[str]
    """Statuses, best first."""
    track: list[str]
    """Regulatory tracks, best first."""
    enrolment: list[str]
    """Enrolment states (open, not_yet_open, closed), best first."""
    cost_unit_cny: int = Field(default=10_000, gt=0)
    """Costs are compared in steps of this many CNY, so near-equal estimates tie."""

    @model_validator(mode="after")
    def _complete(self) -> RankingPolicy:
        missing = {"status", "id"} - set(self.order)
        if missing:
            raise ValueError(f"order must include {', '.join(sorted(missing))}")
        if len(set(self.order)) != len(self.order):
            raise ValueError("order lists a key twice")
        return self

    def tier(
        self,
        *,
        status: str,
        track: str,
        enrolment: str,
        unknowns: int,
        fit: int = 0,
        cost_cny: float | None,
        entry_id: str,
        indication_id: str,
    ) -> tuple[int | str, ...]:
        """The sort key of one option; printed with it so a coordinator can see why."""
        values: dict[str, int | str] = {
            "status": _position(self.status, status),
            "approval": 0 if track == self.track[0] else 1,
            "fit": fit,
            "track": _position(self.track, track),
            "enrolment": _position(self.enrolment, enrolment),
            "unknowns": unknowns,
            # An unknown cost sorts after every known one.
            "cost": int(cost_cny // self.cost_unit_cny) if cost_cny is not None else 10**9,
            "id": f"{entry_id}/{indication_id}",
        }
        return tuple(values[key] for key in self.order)


def _position(order: list[str], value: str) -> int:
    return order.index(value) if value in order else len(order)
