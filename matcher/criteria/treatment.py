"""Criteria on the treatment history: prior lines, prior therapy classes, disease status."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from matcher.criteria.node import Context, Node, Range
from matcher.model.base import Frozen
from matcher.model.patient import DiseaseStatus
from matcher.model.values import UNRECOGNISED_THERAPY
from matcher.model.verdict import Outcome, Verdict


class PriorLinesCriterion(Node):
    """Number of prior lines of systemic therapy."""

    kind: Literal["prior_lines"] = "prior_lines"
    prior_lines: Range

    def reads(self) -> tuple[str, ...]:
        return ("prior_lines",)

    def describe(self) -> str:
        return f"Prior lines of systemic therapy {self.prior_lines.words()}"

    def evaluate(self, ctx: Context) -> Verdict:
        lines = ctx.patient.profile.prior_lines
        want = self.prior_lines
        if lines is None:
            return self._verdict(
                Outcome.UNKNOWN,
                "Number of prior lines not given.",
                ask="treatment history: each prior line of systemic therapy, dates and response",
            )
        if want.min is not None and lines < want.min:
            short = int(want.min - lines)
            return self._verdict(
                Outcome.NOT_MET,
                f"{lines} prior line(s); at least {want.min:g} required "
                f"({short} more line(s) of therapy would meet it).",
                value=lines,
                recoverable=True,
            )
        if want.max is not None and lines > want.max:
            return self._verdict(
                Outcome.NOT_MET,
                f"{lines} prior line(s); at most {want.max:g} allowed.",
                value=lines,
            )
        return self._verdict(
            Outcome.MET, f"{lines} prior line(s) meets {want.words()}.", value=lines
        )


class PriorTherapyRequirement(Frozen):
    """Therapy classes from rules/vocab/therapies.yaml."""

    required: list[str] = Field(default_factory=list)
    """Every one of these classes must have been received."""
    excluded: list[str] = Field(default_factory=list)
    """None of these classes may have been received."""

    @model_validator(mode="after")
    def _something(self) -> PriorTherapyRequirement:
        if not (self.required or self.excluded):
            raise ValueError("give required or excluded therapy classes")
        return self


class PriorTherapyCriterion(Node):
    """Prior therapy classes required or excluded (a BTK inhibitor, no prior BCMA CAR-T)."""

    kind: Literal["prior_therapy"] = "prior_therapy"
    prior_therapy: PriorTherapyRequirement

    def reads(self) -> tuple[str, ...]:
        return ("therapy",)

    def describe(self) -> str:
        parts = []
        if self.prior_therapy.required:
            parts.append("prior " + " and ".join(self.prior_therapy.required))
        if self.prior_therapy.excluded:
            parts.append("no prior " + " or ".join(self.prior_therapy.excluded))
        return "; ".join(parts)

    def evaluate(self, ctx: Context) -> Verdict:
        had = ctx.patient.prior_therapy_classes
        spec = self.prior_therapy
        names = ctx.lexicon.therapy_class_name
        if had is None:
            return self._verdict(
                Outcome.UNKNOWN,
                "Prior therapies not given.",
                ask="list of prior therapies (drugs, regimens, transplants, cell therapies)",
            )
        received = [c for c in spec.excluded if c in had]
        if received:
            return self._verdict(
                Outcome.NOT_MET,
                "Has received " + ", ".join(names(c) for c in received) + ", which excludes.",
                value=list(had),
            )
        lacking = [c for c in spec.required if c not in had]
        if UNRECOGNISED_THERAPY in had and (lacking or spec.excluded):
            wanted = [*(names(c) for c in lacking), *(f"no {names(c)}" for c in spec.excluded)]
            return self._verdict(
                Outcome.UNKNOWN,
                "Some prior therapies were not recognised, so this cannot be settled: "
                + "; ".join(wanted)
                + ".",
                value=list(had),
                ask="what each unrecognised prior therapy was (drug class, CAR-T target)",
            )
        if lacking:
            return self._verdict(
                Outcome.NOT_MET,
                "No record of "
                + ", ".join(names(c) for c in lacking)
                + " among the prior therapies listed (giving it would meet this).",
                value=list(had),
                recoverable=True,
            )
        return self._verdict(Outcome.MET, self._met_message(names), value=list(had))

    def _met_message(self, names: Any) -> str:
        spec = self.prior_therapy
        parts = []
        if spec.required:
            parts.append("has received " + ", ".join(names(c) for c in spec.required))
        if spec.excluded:
            parts.append("no " + ", ".join(names(c) for c in spec.excluded))
        text = "; ".join(parts) + "."
        return text[0].upper() + text[1:]


class DiseaseStatusCriterion(Node):
    """Disease status is one of these."""

    kind: Literal["disease_status"] = "disease_status"
    disease_status: list[DiseaseStatus] = Field(min_length=1)

    def reads(self) -> tuple[str, ...]:
        # Prior lines settle a newly-diagnosed cohort when the status is left out.
        return ("disease_status", "prior_lines")

    def describe(self) -> str:
        return "Disease status: " + " or ".join(self.disease_status)

    def evaluate(self, ctx: Context) -> Verdict:
        status = ctx.patient.profile.disease_status
        wanted = " or ".join(self.disease_status)
        lines = ctx.patient.profile.prior_lines
        if status is None and lines and self.disease_status == ["newly_diagnosed"]:
            # A profile may not be newly diagnosed with prior lines (see Profile), so the
            # treatment history settles it even when the status was left out.
            return self._verdict(
                Outcome.NOT_MET,
                f"{lines} prior line(s): the disease is not newly diagnosed.",
                value=lines,
            )
        if status is None:
            return self._verdict(
                Outcome.UNKNOWN,
                f"Disease status not given; {wanted} required.",
                ask="current disease status (relapsed, refractory, remission) and last response",
            )
        if status in self.disease_status:
            return self._verdict(Outcome.MET, f"Disease is {status}.", value=status)
        return self._verdict(
            Outcome.NOT_MET,
            f"Disease is {status}; {wanted} required.",
            value=status,
            # An untreated or remitted disease may still relapse; a relapsed one never
            # becomes newly diagnosed again.
            recoverable=status in ("newly_diagnosed", "remission")
            and bool({"relapsed", "refractory"} & set(self.disease_status)),
        )
