"""Outcomes of criteria and statuses of options (DESIGN section 4; the names are a contract)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """What evaluating one criterion against one patient gives."""

    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"  # data missing: names the test or record to ask for
    WARN = "warn"  # a soft criterion not met: a human must look


class Status(StrEnum):
    """What one option (entry x indication) rolls up to."""

    ELIGIBLE = "eligible"  # every criterion met
    POSSIBLE = "possible"  # nothing not_met; at least one unknown or warn
    NEAR_MISS = "near_miss"  # every not_met is recoverable
    INELIGIBLE = "ineligible"  # at least one not_met that is not recoverable


@dataclass(frozen=True, slots=True)
class Verdict:
    """One criterion's result, explained in plain words."""

    id: str
    text: str
    outcome: Outcome
    recoverable: bool
    message: str
    value: Any = None
    """The patient value the criterion looked at (None when missing)."""
    ask: str | None = None
    """For `unknown`: the test or record to ask the referring doctor for."""
    children: tuple[Verdict, ...] = field(default=())
    source: str | None = None
    """For a default safety check: the label warning or trial exclusion behind it."""
    pending: bool = False
    """A safety check the referral is silent on: counted as met, shown as something for the
    treating centre to confirm before infusion (`ask` says what), never as a met criterion."""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "outcome": self.outcome.value,
            "recoverable": self.recoverable,
            "message": self.message,
        }
        if self.ask:
            out["ask"] = self.ask
        if self.value is not None:
            out["value"] = self.value
        if self.source:
            out["source"] = self.source
        if self.children:
            out["children"] = [child.as_dict() for child in self.children]
        return out


def roll_up(verdicts: Iterable[Verdict]) -> Status:
    """The option's status from its top-level criteria (missing data never gives eligible)."""
    verdicts = list(verdicts)
    failed = [v for v in verdicts if v.outcome is Outcome.NOT_MET]
    if failed:
        if all(v.recoverable for v in failed):
            return Status.NEAR_MISS
        return Status.INELIGIBLE
    if any(v.outcome in (Outcome.UNKNOWN, Outcome.WARN) for v in verdicts):
        return Status.POSSIBLE
    return Status.ELIGIBLE


def missing_data(verdicts: Iterable[Verdict]) -> list[str]:
    """What to ask for, once each, in criterion order (walks composite criteria too)."""
    asks: list[str] = []

    def walk(items: Iterable[Verdict]) -> None:
        for verdict in items:
            if verdict.outcome is not Outcome.UNKNOWN:
                continue
            if verdict.children:
                walk(verdict.children)
            elif verdict.ask and verdict.ask not in asks:
                asks.append(verdict.ask)

    walk(verdicts)
    return asks
