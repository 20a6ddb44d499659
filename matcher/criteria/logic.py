"""The composite criteria: `all`, `any`, `not` and the default safety check, plus template
references. Each composite has one pure `combine` step (child verdicts -> its verdict) that
`evaluate` uses and that bulk screening reuses over columns. The union of every kind, which
their fields refer to as `Criterion`, is built in `criteria.registry`."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from matcher.criteria.node import Context, Node, is_given, union
from matcher.model.base import Frozen
from matcher.model.verdict import Outcome, Verdict

if TYPE_CHECKING:
    from matcher.criteria.registry import Criterion


class AllOf(Node):
    """Every child must be met."""

    kind: Literal["all"] = "all"
    all: list[Criterion] = Field(min_length=1)

    def reads(self) -> tuple[str, ...]:
        return union(c.reads() for c in self.all)

    def describe(self) -> str:
        return "All of: " + "; ".join(c.label() for c in self.all)

    def children(self) -> tuple[Node, ...]:
        return tuple(self.all)

    def evaluate(self, ctx: Context) -> Verdict:
        return self.combine(tuple(c.evaluate(ctx) for c in self.all))

    def combine(self, children: tuple[Verdict, ...]) -> Verdict:
        return _combine(self, children, need_all=True)


class AnyOf(Node):
    """At least one child must be met."""

    kind: Literal["any"] = "any"
    any: list[Criterion] = Field(min_length=1)

    def reads(self) -> tuple[str, ...]:
        return union(c.reads() for c in self.any)

    def describe(self) -> str:
        return "Any of: " + "; ".join(c.label() for c in self.any)

    def children(self) -> tuple[Node, ...]:
        return tuple(self.any)

    def evaluate(self, ctx: Context) -> Verdict:
        return self.combine(tuple(c.evaluate(ctx) for c in self.any))

    def combine(self, children: tuple[Verdict, ...]) -> Verdict:
        return _combine(self, children, need_all=False)


class NotOf(Node):
    """The child must not be met (an exclusion)."""

    kind: Literal["not"] = "not"
    not_: Criterion = Field(alias="not")

    model_config = Frozen.model_config | {"populate_by_name": True}

    def reads(self) -> tuple[str, ...]:
        return self.not_.reads()

    def describe(self) -> str:
        return f"Not: {self.not_.label()}"

    def children(self) -> tuple[Node, ...]:
        return (self.not_,)

    def evaluate(self, ctx: Context) -> Verdict:
        return self.combine((self.not_.evaluate(ctx),))

    def combine(self, children: tuple[Verdict, ...]) -> Verdict:
        (inner,) = children
        flipped = {Outcome.MET: Outcome.NOT_MET, Outcome.NOT_MET: Outcome.MET}
        outcome = flipped.get(inner.outcome, inner.outcome)
        verdict = self._verdict(
            outcome, f"Exclusion: {inner.message}", value=inner.value, ask=inner.ask
        )
        return _with_children(verdict, (inner,))


class SafetyCriterion(Node):
    """A default check from rules/safety.yaml, wrapped around its rule. When the referral is
    silent on what the rule reads, the check is pending: counted as met, and shown as
    something the treating centre confirms before infusion (it is not a label criterion)."""

    kind: Literal["safety"] = "safety"
    safety: Criterion
    fields: list[str] = Field(default_factory=list)
    """Inputs whose absence makes the check pending (default: every input the rule reads)."""
    confirm: str | None = None
    """What the treating centre confirms when the referral is silent."""
    sexes: list[str] | None = None
    """The sexes the check applies to (pregnancy: female, other); None: everyone."""
    source: str | None = None
    """The label warning or pivotal-trial exclusion behind the check, in words."""

    def reads(self) -> tuple[str, ...]:
        return union([self.safety.reads(), ("sex",) if self.sexes else ()])

    def describe(self) -> str:
        return self.safety.label()

    def children(self) -> tuple[Node, ...]:
        return (self.safety,)

    def evaluate(self, ctx: Context) -> Verdict:
        sex = ctx.patient.profile.sex
        if self.sexes and sex is not None and sex not in self.sexes:
            return self._verdict(
                Outcome.MET, f"Does not apply (sex {sex}).", pending=True, source=self.source
            )
        inner = self.safety.evaluate(ctx)
        if inner.outcome is Outcome.UNKNOWN:
            keys = self.fields or self.safety.reads()
            if keys and not any(is_given(ctx.patient, key) for key in keys):
                return self._verdict(
                    Outcome.MET,
                    f"Not stated in the referral: confirm {self.confirm} before infusion.",
                    pending=True,
                    ask=self.confirm,
                    source=self.source,
                )
        return self._verdict(
            inner.outcome,
            inner.message,
            value=inner.value,
            recoverable=inner.recoverable,
            ask=inner.ask,
            pending=inner.pending,
            source=self.source,
        )


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
    return replace(verdict, children=children)
