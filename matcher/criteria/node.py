"""The base of every criterion: the evaluation context, shared fields, ranges."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import model_validator

from matcher.model.base import Frozen
from matcher.model.lexicon import Lexicon
from matcher.model.patient import Patient
from matcher.model.values import FLAGS
from matcher.model.verdict import Outcome, Verdict


@dataclass(frozen=True)
class Context:
    """What a criterion is evaluated against."""

    patient: Patient
    lexicon: Lexicon


class Node(Frozen):
    """Fields every criterion may carry."""

    id: str | None = None
    """Stable id within the indication; generated from the kind when left out."""
    text: str | None = None
    """The criterion as its source states it (quote or close paraphrase of label/protocol)."""
    soft: bool = False
    """When true, a failed criterion gives `warn` (a human must look) rather than `not_met`."""
    recoverable: bool | None = None
    """Override whether a failure can still be overcome (default depends on the kind)."""
    ask: str | None = None
    """What to ask for when the data is missing (default depends on the kind)."""

    kind: str = ""

    def label(self) -> str:
        return self.text or self.describe()

    def describe(self) -> str:
        return self.kind

    def evaluate(self, ctx: Context) -> Verdict:
        raise NotImplementedError

    def children(self) -> tuple[Node, ...]:
        """The criteria inside this one (composites); a leaf has none."""
        return ()

    def reads(self) -> tuple[str, ...]:
        """The patient inputs this criterion reads (`ecog`, `flag.pregnant`, `antigen.CD19`,
        `therapy` ...): bulk screening evaluates a leaf once per distinct combination of them,
        and an option lists the given inputs none of its criteria read."""
        return ()

    def _verdict(
        self,
        outcome: Outcome,
        message: str,
        *,
        value: Any = None,
        recoverable: bool = False,
        ask: str | None = None,
        pending: bool = False,
        source: str | None = None,
    ) -> Verdict:
        """The verdict with this node's soft, recoverable and ask settings applied."""
        if outcome is Outcome.NOT_MET:
            if self.recoverable is not None:
                recoverable = self.recoverable
            if self.soft:
                outcome = Outcome.WARN
                message = f"{message} (soft criterion: needs a human look)"
        elif outcome is Outcome.UNKNOWN:
            recoverable = True
            ask = self.ask or ask
        elif outcome is Outcome.MET:
            recoverable = False
        return Verdict(
            id=self.id or self.kind,
            text=self.label(),
            outcome=outcome,
            recoverable=recoverable,
            message=message,
            value=value,
            ask=ask,
            pending=pending,
            source=source,
        )


def union(groups: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    """Inputs read by several criteria, each once, in order."""
    return tuple(dict.fromkeys(attr for group in groups for attr in group))


def is_given(patient: Patient, attr: str) -> bool:
    """Whether the referral gives a patient input (the names of `Node.reads`)."""
    head, _, name = attr.partition(".")
    profile = patient.profile
    if head == "antigen":
        return name in profile.antigens
    if head == "lab":
        return name in profile.labs
    if head == "flag":
        return getattr(profile, name) is not None
    if head == "therapy":
        return patient.prior_therapy_classes is not None
    if head in ("indication", "age"):
        return getattr(patient, head) is not None
    if head == "candidates":
        return bool(patient.indication_candidates)
    return getattr(profile, head) is not None


def safety_inputs(patient: Patient) -> list[str]:
    """The safety-relevant inputs this referral gives: flags, ECOG, labs and antigens."""
    profile = patient.profile
    attrs = [f"flag.{f}" for f in FLAGS if getattr(profile, f) is not None]
    if profile.ecog is not None:
        attrs.append("ecog")
    attrs += [f"lab.{name}" for name in profile.labs]
    attrs += [f"antigen.{name}" for name in profile.antigens]
    return attrs


class Range(Frozen):
    """An inclusive range; either end may be open."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        return self

    def words(self, unit: str = "") -> str:
        if self.min is not None and self.max is not None:
            return f"{self.min:g}–{self.max:g}{unit}"
        if self.min is not None:
            return f"≥ {self.min:g}{unit}"
        return f"≤ {self.max:g}{unit}"


def outside(value: float, low: float | None, high: float | None) -> bool:
    """Whether a value falls outside an inclusive range whose ends may be open."""
    return (low is not None and value < low) or (high is not None and value > high)
