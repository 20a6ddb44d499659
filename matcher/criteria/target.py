"""Criteria over a product's target antigens, built for every cohort from the entry's `targets`.

A product acts only on cells that carry its target. After a CAR-T, bispecific or antibody-drug
conjugate against that target the antigen may be lost (CD19-negative relapse after CD19 CAR-T
or blinatumomab; BCMA loss after BCMA-directed therapy), so an older result no longer counts.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from matcher.criteria.node import Context, Node
from matcher.model.base import Frozen
from matcher.model.values import UNRECOGNISED_THERAPY, Ihc, surely_after
from matcher.model.verdict import Outcome, Verdict

POSITIVE, NEGATIVE, STALE, UNTESTED = "positive", "negative", "stale", "untested"


class TargetRequirement(Frozen):
    antigens: list[str] = Field(min_length=1)
    """The product's targets; a dual-target product needs one of them present."""


class TargetCriterion(Node):
    """At least one target antigen present: not documented negative, and not left untested
    since a therapy directed at it."""

    kind: Literal["target"] = "target"
    target: TargetRequirement

    def reads(self) -> tuple[str, ...]:
        return (*(f"antigen.{name}" for name in self.target.antigens), "therapy")

    def describe(self) -> str:
        return " or ".join(self.target.antigens) + " present on the disease (the product's target)"

    def evaluate(self, ctx: Context) -> Verdict:
        states = {name: _state(ctx, name) for name in self.target.antigens}
        said = " ".join(words for _, words in states.values())
        kinds = {kind for kind, _ in states.values()}
        if POSITIVE in kinds:
            return self._verdict(Outcome.MET, said, value=_shown(ctx, self.target.antigens))
        if kinds == {NEGATIVE}:
            return self._verdict(
                Outcome.NOT_MET,
                f"{said} This product acts only on cells carrying "
                + " or ".join(self.target.antigens)
                + ".",
                value=_shown(ctx, self.target.antigens),
            )
        if STALE in kinds:
            stale = [name for name, (kind, _) in states.items() if kind == STALE]
            return self._verdict(
                Outcome.UNKNOWN,
                said,
                value=_shown(ctx, self.target.antigens),
                ask=f"a re-biopsy with {' and '.join(stale)} testing after the last therapy "
                "directed at it (the target may have been lost)",
            )
        given = any(name in ctx.patient.profile.antigens for name in self.target.antigens)
        if not given and not ctx.patient.exposures:
            return self._verdict(Outcome.MET, said, pending=True)
        return self._verdict(Outcome.MET, said, value=_shown(ctx, self.target.antigens))


def _state(ctx: Context, name: str) -> tuple[str, str]:
    """What the referral says of one target: positive, negative, stale or untested."""
    profile = ctx.patient.profile
    result = profile.antigens.get(name)
    tested = profile.antigen_dates.get(name)
    exposed = _exposures(ctx, name)
    if result is not None and _negative(result):
        return NEGATIVE, f"{name} negative ({_words(result)})."
    if exposed:
        names = ", ".join(ctx.lexicon.therapy_class_name(code) for code, _ in exposed)
        dates = [when for _, when in exposed]
        last = None if None in dates else max(d for d in dates if d)
        if result is None:
            return STALE, f"{name} not tested since prior {names}."
        if tested and last and surely_after(tested, last):
            return POSITIVE, f"{name} {_words(result)} on {tested}, after prior {names} ({last})."
        when = f"dated {tested}" if tested else "undated"
        since = f"({last})" if last else "(undated)"
        return STALE, (
            f"{name} {_words(result)} ({when}) is not shown to postdate prior {names} {since}."
        )
    if result is None:
        unrecognised = UNRECOGNISED_THERAPY in (ctx.patient.prior_therapy_classes or ())
        if unrecognised:
            return UNTESTED, f"{name} not reported (some prior therapies were not recognised)."
        return UNTESTED, f"{name} not reported; no prior therapy directed at it is listed."
    return POSITIVE, f"{name} {_words(result)}."


def _exposures(ctx: Context, name: str) -> list[tuple[str, str | None]]:
    directed = set(ctx.lexicon.classes_directed_at(name))
    return [(code, when) for code, when in ctx.patient.exposures if code in directed]


def _negative(result: object) -> bool:
    if result == "negative":
        return True
    return isinstance(result, Ihc) and (result.percent == 0 or result.intensity == 0)


def _words(result: object) -> str:
    return f"IHC {result}" if isinstance(result, Ihc) else str(result)


def _shown(ctx: Context, names: list[str]) -> dict[str, str]:
    antigens = ctx.patient.profile.antigens
    return {name: _words(antigens[name]) for name in names if name in antigens}


class PriorTargetRequirement(Frozen):
    antigens: list[str] = Field(min_length=1)
    """The product's targets."""
    within: str = "car_t"
    """The therapy class whose members against these targets count (car_t)."""


class PriorTargetCriterion(Node):
    """No prior therapy of a class (CAR-T) directed at one of the product's targets."""

    kind: Literal["prior_target"] = "prior_target"
    prior_target: PriorTargetRequirement

    def reads(self) -> tuple[str, ...]:
        return ("therapy",)

    def describe(self) -> str:
        spec = self.prior_target
        return f"No prior {spec.within.replace('_', '-')} against " + " or ".join(spec.antigens)

    def evaluate(self, ctx: Context) -> Verdict:
        spec = self.prior_target
        had = ctx.patient.prior_therapy_classes
        if had is None:
            return self._verdict(
                Outcome.UNKNOWN,
                "Prior therapies not given.",
                ask="list of prior therapies (drugs, regimens, transplants, cell therapies)",
            )
        lexicon = ctx.lexicon
        against = {code for name in spec.antigens for code in lexicon.classes_directed_at(name)}
        received = [
            code for code in had if code in against and spec.within in lexicon.broader(code)
        ]
        if received:
            names = ", ".join(lexicon.therapy_class_name(code) for code in received)
            return self._verdict(
                Outcome.NOT_MET, f"Has received {names} against the same target.", value=list(had)
            )
        if UNRECOGNISED_THERAPY in had:
            return self._verdict(
                Outcome.UNKNOWN,
                "Some prior therapies were not recognised: any CAR-T against "
                + " or ".join(spec.antigens)
                + " among them?",
                value=list(had),
                ask="what each unrecognised prior therapy was (drug class, CAR-T target)",
            )
        return self._verdict(
            Outcome.MET,
            f"No prior {spec.within.replace('_', '-')} against {' or '.join(spec.antigens)}.",
            value=list(had),
        )
