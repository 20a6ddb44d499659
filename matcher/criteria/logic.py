"""all / any / not, template references, and the Criterion union (a kind is known by its key)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from matcher.base import Frozen
from matcher.criteria.disease import AntigenCriterion, IndicationCriterion
from matcher.criteria.history import (
    DiseaseStatusCriterion,
    PriorLinesCriterion,
    PriorTherapyCriterion,
)
from matcher.criteria.node import Context, Node
from matcher.criteria.person import (
    AgeCriterion,
    EcogCriterion,
    FlagCriterion,
    LabCriterion,
    ManualCriterion,
    SexCriterion,
)
from matcher.verdict import Outcome, Verdict


class AllOf(Node):
    """Every child must be met."""

    kind: Literal["all"] = "all"
    all: list[Criterion] = Field(min_length=1)

    def describe(self) -> str:
        return "All of: " + "; ".join(c.label() for c in self.all)

    def evaluate(self, ctx: Context) -> Verdict:
        children = tuple(c.evaluate(ctx) for c in self.all)
        return _combine(self, children, need_all=True)


class AnyOf(Node):
    """At least one child must be met."""

    kind: Literal["any"] = "any"
    any: list[Criterion] = Field(min_length=1)

    def describe(self) -> str:
        return "Any of: " + "; ".join(c.label() for c in self.any)

    def evaluate(self, ctx: Context) -> Verdict:
        children = tuple(c.evaluate(ctx) for c in self.any)
        return _combine(self, children, need_all=False)


class NotOf(Node):
    """The child must not be met (an exclusion)."""

    kind: Literal["not"] = "not"
    not_: Criterion = Field(alias="not")

    model_config = Frozen.model_config | {"populate_by_name": True}

    def describe(self) -> str:
        return f"Not: {self.not_.label()}"

    def evaluate(self, ctx: Context) -> Verdict:
        inner = self.not_.evaluate(ctx)
        flipped = {Outcome.MET: Outcome.NOT_MET, Outcome.NOT_MET: Outcome.MET}
        outcome = flipped.get(inner.outcome, inner.outcome)
        verdict = self._verdict(
            outcome, f"Exclusion: {inner.message}", value=inner.value, ask=inner.ask
        )
        return _with_children(verdict, (inner,))


class TemplateRef(Node):
    """A named criterion from rules/templates.yaml; expanded when the catalog is loaded."""

    kind: Literal["template"] = "template"
    template: str


def _combine(node: Node, children: tuple[Verdict, ...], *, need_all: bool) -> Verdict:
    outcomes = {child.outcome for child in children}
    decisive = Outcome.NOT_MET if need_all else Outcome.MET
    if decisive in outcomes:
        outcome = decisive
    elif Outcome.UNKNOWN in outcomes:
        outcome = Outcome.UNKNOWN
    elif Outcome.WARN in outcomes:
        outcome = Outcome.WARN
    else:
        outcome = Outcome.MET if need_all else Outcome.NOT_MET
    failed = [c for c in children if c.outcome is Outcome.NOT_MET]
    recoverable = (
        all(c.recoverable for c in failed) if need_all else any(c.recoverable for c in failed)
    )
    relevant = [c for c in children if c.outcome is outcome] or list(children)
    message = " ".join(c.message for c in relevant)
    asks = [c.ask for c in children if c.outcome is Outcome.UNKNOWN and c.ask]
    verdict = node._verdict(outcome, message, recoverable=recoverable, ask="; ".join(asks) or None)
    return _with_children(verdict, children)


def _with_children(verdict: Verdict, children: tuple[Verdict, ...]) -> Verdict:
    return Verdict(
        id=verdict.id,
        text=verdict.text,
        outcome=verdict.outcome,
        recoverable=verdict.recoverable,
        message=verdict.message,
        value=verdict.value,
        ask=verdict.ask,
        children=children,
    )


KINDS = (
    "all",
    "any",
    "not",
    "template",
    "indication",
    "antigen",
    "prior_lines",
    "prior_therapy",
    "disease_status",
    "age",
    "ecog",
    "flag",
    "lab",
    "sex",
    "manual",
)


def criterion_kind(value: Any) -> str | None:
    """The kind of a raw or parsed criterion: the one kind key it carries."""
    if isinstance(value, Node):
        return value.kind
    if isinstance(value, dict):
        found = [k for k in KINDS if k in value]
        return found[0] if len(found) == 1 else None
    return None


Criterion = Annotated[
    Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[NotOf, Tag("not")]
    | Annotated[TemplateRef, Tag("template")]
    | Annotated[IndicationCriterion, Tag("indication")]
    | Annotated[AntigenCriterion, Tag("antigen")]
    | Annotated[PriorLinesCriterion, Tag("prior_lines")]
    | Annotated[PriorTherapyCriterion, Tag("prior_therapy")]
    | Annotated[DiseaseStatusCriterion, Tag("disease_status")]
    | Annotated[AgeCriterion, Tag("age")]
    | Annotated[EcogCriterion, Tag("ecog")]
    | Annotated[FlagCriterion, Tag("flag")]
    | Annotated[LabCriterion, Tag("lab")]
    | Annotated[SexCriterion, Tag("sex")]
    | Annotated[ManualCriterion, Tag("manual")],
    Discriminator(
        criterion_kind,
        custom_error_type="criterion_kind",
        custom_error_message="a criterion needs exactly one of the keys " + ", ".join(KINDS),
    ),
]

AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()
