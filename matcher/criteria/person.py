"""Criteria on the person: age, performance status, yes/no facts, labs, sex; manual checks."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from matcher.criteria.node import Context, Node, Range, outside
from matcher.model.base import Frozen
from matcher.model.patient import KNOWN_LABS, Sex
from matcher.model.values import FLAGS, child_pugh_range, child_pugh_score
from matcher.model.verdict import Outcome, Verdict

Flag = Literal[*FLAGS]  # type: ignore[valid-type]

#: Whether a patient could still come to meet a failed flag criterion.
FLAG_RECOVERABLE = {
    "cns_involvement": False,
    "prior_allo_sct": False,
    "active_infection": True,  # an infection can be treated
    "pregnant": False,
    "breastfeeding": True,  # breastfeeding can be stopped
    "active_gvhd": True,  # GVHD can be brought under control
}
FLAG_ASK = {
    "cns_involvement": "CNS staging (brain MRI or lumbar puncture) or a statement on CNS disease",
    "prior_allo_sct": "transplant history (any prior allogeneic stem-cell transplant)",
    "active_infection": "infection screen (active uncontrolled infection, HBV/HCV/HIV status)",
    "pregnant": "pregnancy status",
    "breastfeeding": "whether the patient is breastfeeding",
    "active_gvhd": "graft-versus-host disease status and current immunosuppression",
}
FLAG_WORDS = {
    "cns_involvement": "CNS involvement",
    "prior_allo_sct": "prior allogeneic transplant",
    "active_infection": "active infection",
    "pregnant": "pregnancy",
    "breastfeeding": "breastfeeding",
    "active_gvhd": "active graft-versus-host disease",
}


class AgeCriterion(Node):
    """Age in years at the reference date."""

    kind: Literal["age"] = "age"
    age: Range

    def reads(self) -> tuple[str, ...]:
        return ("age",)

    def describe(self) -> str:
        return f"Age {self.age.words(' years')}"

    def evaluate(self, ctx: Context) -> Verdict:
        age = ctx.patient.age
        if age is None:
            return self._verdict(Outcome.UNKNOWN, "Age not given.", ask="date of birth or age")
        if self.age.min is not None and age < self.age.min:
            # Within a year of the lower limit the patient may age in before treatment.
            soon = self.age.min - age <= 1
            return self._verdict(
                Outcome.NOT_MET,
                f"Age {age}; at least {self.age.min:g} required.",
                value=age,
                recoverable=soon,
            )
        if self.age.max is not None and age > self.age.max:
            return self._verdict(
                Outcome.NOT_MET, f"Age {age}; at most {self.age.max:g} allowed.", value=age
            )
        return self._verdict(Outcome.MET, f"Age {age} is within {self.age.words()}.", value=age)


class EcogCriterion(Node):
    """ECOG performance status."""

    kind: Literal["ecog"] = "ecog"
    ecog: Range

    def reads(self) -> tuple[str, ...]:
        return ("ecog",)

    def describe(self) -> str:
        return f"ECOG performance status {self.ecog.words()}"

    def evaluate(self, ctx: Context) -> Verdict:
        ecog = ctx.patient.profile.ecog
        if ecog is None:
            return self._verdict(
                Outcome.UNKNOWN,
                "ECOG not given.",
                ask="ECOG performance status from a recent visit",
            )
        if outside(ecog, self.ecog.min, self.ecog.max):
            return self._verdict(
                Outcome.NOT_MET,
                f"ECOG {ecog}; {self.ecog.words()} required (may improve with supportive care).",
                value=ecog,
                recoverable=True,
            )
        return self._verdict(Outcome.MET, f"ECOG {ecog} is within {self.ecog.words()}.", value=ecog)


class FlagRequirement(Frozen):
    name: Flag
    must_be: bool
    """The value the patient must have (false: the condition must be absent)."""


class FlagCriterion(Node):
    """A yes/no fact: CNS involvement, prior allogeneic transplant, active infection, pregnancy."""

    kind: Literal["flag"] = "flag"
    flag: FlagRequirement

    def reads(self) -> tuple[str, ...]:
        return (f"flag.{self.flag.name}",)

    def describe(self) -> str:
        word = FLAG_WORDS[self.flag.name]
        return word[0].upper() + word[1:] if self.flag.must_be else f"No {word}"

    def evaluate(self, ctx: Context) -> Verdict:
        name = self.flag.name
        value = getattr(ctx.patient.profile, name)
        word = FLAG_WORDS[name]
        if value is None:
            return self._verdict(
                Outcome.UNKNOWN, f"{word[0].upper() + word[1:]} not stated.", ask=FLAG_ASK[name]
            )
        said = word if value else f"no {word}"
        if value == self.flag.must_be:
            return self._verdict(Outcome.MET, f"Patient has {said}.", value=value)
        return self._verdict(
            Outcome.NOT_MET,
            f"Patient has {said}.",
            value=value,
            recoverable=FLAG_RECOVERABLE[name],
        )


class LabRequirement(Frozen):
    name: str
    """A lab from the profile's `labs` map (egfr, lvef, child_pugh, sledai, ...)."""
    min: float | str | None = None
    max: float | str | None = None
    """Numbers; for child_pugh a class and score such as B7."""

    @model_validator(mode="after")
    def _known(self) -> LabRequirement:
        if self.name not in KNOWN_LABS:
            raise ValueError(f"unknown lab '{self.name}'; known: {', '.join(KNOWN_LABS)}")
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        for bound in (self.min, self.max):
            if bound is not None and lab_number(self.name, bound) is None:
                raise ValueError(f"bound {bound!r} is not a valid {self.name} value")
        return self


def lab_span(name: str, raw: Any) -> tuple[float, float] | None:
    """The values a lab result may stand for: one number, or a Child-Pugh class's scores."""
    if name == "child_pugh":
        return child_pugh_range(raw)
    value = lab_number(name, raw)
    return None if value is None else (value, value)


def lab_number(name: str, raw: Any) -> float | None:
    """A lab value as a number; Child-Pugh 'B7' gives its score 7. None if it cannot be read."""
    if name == "child_pugh":
        return child_pugh_score(raw)
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


class LabCriterion(Node):
    """A lab value within bounds (labs can improve, so failures are recoverable by default)."""

    kind: Literal["lab"] = "lab"
    lab: LabRequirement

    def reads(self) -> tuple[str, ...]:
        return (f"lab.{self.lab.name}",)

    def describe(self) -> str:
        spec = self.lab
        if spec.min is not None and spec.max is not None:
            return f"{spec.name} {spec.min}–{spec.max}"
        return f"{spec.name} ≥ {spec.min}" if spec.min is not None else f"{spec.name} ≤ {spec.max}"

    def evaluate(self, ctx: Context) -> Verdict:
        spec = self.lab
        raw = ctx.patient.profile.labs.get(spec.name)
        ask = KNOWN_LABS[spec.name]
        if raw is None:
            return self._verdict(Outcome.UNKNOWN, f"{spec.name} not given.", ask=ask)
        span = lab_span(spec.name, raw)
        if span is None:
            return self._verdict(
                Outcome.UNKNOWN, f"{spec.name} '{raw}' cannot be read.", value=raw, ask=ask
            )
        low = lab_number(spec.name, spec.min) if spec.min is not None else None
        high = lab_number(spec.name, spec.max) if spec.max is not None else None
        if outside(span[0], low, high) and outside(span[1], low, high):
            return self._verdict(
                Outcome.NOT_MET,
                f"{spec.name} {raw}; {self.describe()} required.",
                value=raw,
                recoverable=True,
            )
        if outside(span[0], low, high) or outside(span[1], low, high):
            # A Child-Pugh class alone ("B") spans scores on both sides of the bound.
            return self._verdict(
                Outcome.UNKNOWN,
                f"{spec.name} {raw} spans {self.describe()}: the score decides.",
                value=raw,
                ask=f"{ask}: the score, not only the class",
            )
        return self._verdict(Outcome.MET, f"{spec.name} {raw} meets {self.describe()}.", value=raw)


class SexCriterion(Node):
    """Sex is one of these."""

    kind: Literal["sex"] = "sex"
    sex: list[Sex] = Field(min_length=1)

    def reads(self) -> tuple[str, ...]:
        return ("sex",)

    def describe(self) -> str:
        return "Sex: " + " or ".join(self.sex)

    def evaluate(self, ctx: Context) -> Verdict:
        sex = ctx.patient.profile.sex
        if sex is None:
            return self._verdict(Outcome.UNKNOWN, "Sex not given.", ask="sex")
        if sex in self.sex:
            return self._verdict(Outcome.MET, f"Sex {sex}.", value=sex)
        return self._verdict(Outcome.NOT_MET, f"Sex {sex}; {' or '.join(self.sex)} required.")


class ManualCriterion(Node):
    """A criterion no profile field can settle (e.g. relapse within 12 months): always asks."""

    kind: Literal["manual"] = "manual"
    manual: str = Field(min_length=3)
    """What the coordinator must check in the records."""

    def describe(self) -> str:
        return self.manual

    def evaluate(self, ctx: Context) -> Verdict:
        return self._verdict(
            Outcome.UNKNOWN, f"Not in the profile: check {self.manual}.", ask=self.manual
        )
