"""The criteria language: typed leaves and `all` / `any` / `not`, evaluated three-valued.

Criteria are data in catalog entries (YAML). Each node is recognised by the one key that
names its kind (`indication:`, `antigen:`, `all:` ...), validated when the file is loaded,
and evaluated to a `Verdict` that explains itself. No I/O, no global state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from matcher.base import Frozen
from matcher.patient import KNOWN_LABS, DiseaseStatus, Ihc, Patient, Sex
from matcher.verdict import Outcome, Verdict
from matcher.vocab import Lexicon

Flag = Literal["cns_involvement", "prior_allo_sct", "active_infection", "pregnant"]

#: Whether a patient could still come to meet a failed flag criterion.
FLAG_RECOVERABLE = {
    "cns_involvement": False,
    "prior_allo_sct": False,
    "active_infection": True,  # an infection can be treated
    "pregnant": False,
}
FLAG_ASK = {
    "cns_involvement": "CNS staging (brain MRI or lumbar puncture) or a statement on CNS disease",
    "prior_allo_sct": "transplant history (any prior allogeneic stem-cell transplant)",
    "active_infection": "infection screen (active uncontrolled infection, HBV/HCV/HIV status)",
    "pregnant": "pregnancy status",
}
FLAG_WORDS = {
    "cns_involvement": "CNS involvement",
    "prior_allo_sct": "prior allogeneic transplant",
    "active_infection": "active infection",
    "pregnant": "pregnancy",
}
#: Below this percent of stained cells, "positive" without a stated cut-off needs a human look.
WEAK_STAINING_PERCENT = 10
_CHILD_PUGH = re.compile(r"^\s*([ABCabc])\s*(\d{1,2})?\s*$")


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

    def _verdict(
        self,
        outcome: Outcome,
        message: str,
        *,
        value: Any = None,
        recoverable: bool = False,
        ask: str | None = None,
    ) -> Verdict:
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
        )


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


class IndicationCriterion(Node):
    """The patient's disease is one of these codes or a subtype of one."""

    kind: Literal["indication"] = "indication"
    indication: list[str] = Field(min_length=1)
    """Disease codes from rules/vocab/diseases.yaml; subtypes are covered (LBCL covers DLBCL)."""

    def describe(self) -> str:
        return "Disease: " + ", ".join(self.indication)

    def evaluate(self, ctx: Context) -> Verdict:
        code = ctx.patient.indication
        names = ", ".join(ctx.lexicon.disease_name(c) for c in self.indication)
        if code is None:
            return self._verdict(
                Outcome.UNKNOWN,
                "Diagnosis not recognised, so the disease cannot be checked.",
                ask="a pathology report stating the diagnosis",
            )
        have = ctx.lexicon.disease_name(code)
        if any(ctx.lexicon.is_within(code, want) for want in self.indication):
            return self._verdict(Outcome.MET, f"{have} is within {names}.", value=code)
        if any(ctx.lexicon.is_within(want, code) for want in self.indication):
            return self._verdict(
                Outcome.UNKNOWN,
                f"{have} is broader than {names}: the subtype decides.",
                value=code,
                ask=f"the pathology subtype (is it {names}?)",
            )
        return self._verdict(Outcome.NOT_MET, f"{have} is not {names}.", value=code)


class AntigenRequirement(Frozen):
    """What an antigen criterion asks for."""

    name: str
    """Canonical antigen name from rules/vocab/antigens.yaml."""
    status: Literal["positive", "negative"] = "positive"
    min_percent: float | None = Field(default=None, ge=0, le=100)
    """Minimum percent of tumour cells staining at `min_intensity` or above (IHC)."""
    min_intensity: int | None = Field(default=None, ge=0, le=3)

    @model_validator(mode="after")
    def _thresholds(self) -> AntigenRequirement:
        if self.status == "negative" and (self.min_percent or self.min_intensity):
            raise ValueError("a negative requirement takes no percent or intensity threshold")
        return self


class AntigenCriterion(Node):
    """Antigen status, or IHC percent of cells at an intensity (HER2 negativity per ASCO/CAP)."""

    kind: Literal["antigen"] = "antigen"
    antigen: AntigenRequirement

    def describe(self) -> str:
        req = self.antigen
        if req.status == "negative":
            return f"{req.name} negative"
        if req.min_percent is not None or req.min_intensity is not None:
            pct, inten = req.min_percent or 0, req.min_intensity or 1
            return f"{req.name} ≥ {pct:g}% of tumour cells at ≥ {inten}+"
        return f"{req.name} positive"

    def evaluate(self, ctx: Context) -> Verdict:
        req = self.antigen
        value = ctx.patient.profile.antigens.get(req.name)
        test = ctx.lexicon.antigen_test(req.name)
        if value is None:
            return self._verdict(Outcome.UNKNOWN, f"{req.name} not tested: order {test}.", ask=test)
        if req.status == "negative":
            return self._negative(value, test)
        return self._positive(value, test)

    def _positive(self, value: Any, test: str) -> Verdict:
        req = self.antigen
        if value == "negative":
            return self._verdict(Outcome.NOT_MET, f"{req.name} negative.", value=value)
        thresholds = req.min_percent is not None or req.min_intensity is not None
        if value == "positive":
            if not thresholds:
                return self._verdict(Outcome.MET, f"{req.name} positive.", value=value)
            return self._verdict(
                Outcome.UNKNOWN,
                f"{req.name} reported positive without percent and intensity; "
                f"{self.describe()} is required.",
                value=value,
                ask=f"{test} with percent of cells and intensity",
            )
        return self._ihc(value, test)

    def _ihc(self, value: Ihc, test: str) -> Verdict:
        req = self.antigen
        min_pct = req.min_percent or 0
        min_int = req.min_intensity if req.min_intensity is not None else 1
        if value.percent is None or value.intensity is None:
            return self._verdict(
                Outcome.UNKNOWN,
                f"{req.name} IHC {value} is incomplete.",
                value=str(value),
                ask=f"{test} with both percent of cells and intensity",
            )
        if not (req.min_percent or req.min_intensity) and value.percent < WEAK_STAINING_PERCENT:
            return self._verdict(
                Outcome.UNKNOWN,
                f"{req.name} IHC {value} is weak or focal and the cut-off is not stated.",
                value=str(value),
                ask=f"confirmation that {req.name} {value} counts as positive under the protocol",
            )
        if value.intensity >= min_int and value.percent >= min_pct and value.percent > 0:
            return self._verdict(
                Outcome.MET, f"{req.name} {value} meets {self.describe()}.", value=str(value)
            )
        return self._verdict(
            Outcome.NOT_MET,
            f"{req.name} {value} is below {self.describe()}.",
            value=str(value),
        )

    def _negative(self, value: Any, test: str) -> Verdict:
        name = self.antigen.name
        if value == "negative":
            return self._verdict(Outcome.MET, f"{name} negative.", value=value)
        if value == "positive":
            return self._verdict(Outcome.NOT_MET, f"{name} positive.", value=value)
        # IHC 0 or 1+ is negative; 3+ positive; 2+ equivocal and needs ISH (ASCO/CAP HER2).
        if value.intensity is not None and (value.intensity <= 1 or value.percent == 0):
            return self._verdict(Outcome.MET, f"{name} IHC {value}: negative.", value=str(value))
        if value.intensity == 3 and (value.percent or 0) > 10:
            return self._verdict(
                Outcome.NOT_MET, f"{name} IHC {value}: positive.", value=str(value)
            )
        return self._verdict(
            Outcome.UNKNOWN,
            f"{name} IHC {value} is equivocal.",
            value=str(value),
            ask=f"{name} in-situ hybridisation (ISH) to settle equivocal IHC",
        )


class PriorLinesCriterion(Node):
    """Number of prior lines of systemic therapy."""

    kind: Literal["prior_lines"] = "prior_lines"
    prior_lines: Range

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
        return ("; ".join(parts) + ".").capitalize()


class DiseaseStatusCriterion(Node):
    """Disease status is one of these."""

    kind: Literal["disease_status"] = "disease_status"
    disease_status: list[DiseaseStatus] = Field(min_length=1)

    def describe(self) -> str:
        return "Disease status: " + " or ".join(self.disease_status)

    def evaluate(self, ctx: Context) -> Verdict:
        status = ctx.patient.profile.disease_status
        wanted = " or ".join(self.disease_status)
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


class AgeCriterion(Node):
    """Age in years at the reference date."""

    kind: Literal["age"] = "age"
    age: Range

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
        low, high = self.ecog.min, self.ecog.max
        if (low is not None and ecog < low) or (high is not None and ecog > high):
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

    def describe(self) -> str:
        word = FLAG_WORDS[self.flag.name]
        return word.capitalize() if self.flag.must_be else f"No {word}"

    def evaluate(self, ctx: Context) -> Verdict:
        name = self.flag.name
        value = getattr(ctx.patient.profile, name)
        word = FLAG_WORDS[name]
        if value is None:
            return self._verdict(
                Outcome.UNKNOWN, f"{word.capitalize()} not stated.", ask=FLAG_ASK[name]
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


def lab_number(name: str, raw: Any) -> float | None:
    """A lab value as a number; Child-Pugh 'B7' gives its score 7. None if it cannot be read."""
    if name == "child_pugh":
        if isinstance(raw, int | float):
            return float(raw)
        match = _CHILD_PUGH.match(str(raw))
        return float(match[2]) if match and match[2] else None
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


class LabCriterion(Node):
    """A lab value within bounds (labs can improve, so failures are recoverable by default)."""

    kind: Literal["lab"] = "lab"
    lab: LabRequirement

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
        value = lab_number(spec.name, raw)
        if value is None:
            return self._verdict(
                Outcome.UNKNOWN, f"{spec.name} '{raw}' cannot be read.", value=raw, ask=ask
            )
        low = lab_number(spec.name, spec.min) if spec.min is not None else None
        high = lab_number(spec.name, spec.max) if spec.max is not None else None
        if (low is not None and value < low) or (high is not None and value > high):
            return self._verdict(
                Outcome.NOT_MET,
                f"{spec.name} {raw}; {self.describe()} required.",
                value=raw,
                recoverable=True,
            )
        return self._verdict(Outcome.MET, f"{spec.name} {raw} meets {self.describe()}.", value=raw)


class SexCriterion(Node):
    """Sex is one of these."""

    kind: Literal["sex"] = "sex"
    sex: list[Sex] = Field(min_length=1)

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
