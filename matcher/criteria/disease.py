"""Criteria on the disease itself: its type (with the hierarchy) and its antigens."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from matcher.criteria.node import Context, Node
from matcher.model.base import Frozen
from matcher.model.disease_words import STAGE_SYSTEMS
from matcher.model.patient import Ihc, Setting
from matcher.model.verdict import Outcome, Verdict

#: Below this percent of stained cells, "positive" without a stated cut-off needs a human look.
WEAK_STAINING_PERCENT = 10


class IndicationCriterion(Node):
    """The patient's disease is one of these codes or a subtype of one."""

    kind: Literal["indication"] = "indication"
    indication: list[str] = Field(min_length=1)

    def reads(self) -> tuple[str, ...]:
        return ("indication", "candidates")

    """Disease codes from rules/vocab/diseases.yaml; subtypes are covered (LBCL covers DLBCL)."""

    def describe(self) -> str:
        return "Disease: " + ", ".join(self.indication)

    def evaluate(self, ctx: Context) -> Verdict:
        code = ctx.patient.indication
        names = ", ".join(ctx.lexicon.disease_name(c) for c in self.indication)
        if code is None:
            return self._unresolved(ctx, names)
        have = ctx.lexicon.disease_name(code)
        if any(ctx.lexicon.is_within(code, want) for want in self.indication):
            said = f"{have}." if code in self.indication else f"{have} is within {names}."
            return self._verdict(Outcome.MET, said, value=code)
        if any(ctx.lexicon.is_within(want, code) for want in self.indication):
            return self._verdict(
                Outcome.UNKNOWN,
                f"{have} is broader than {names}: the subtype decides.",
                value=code,
                ask=f"the pathology subtype (is it {names}?)",
            )
        return self._verdict(Outcome.NOT_MET, f"{have} is not {names}.", value=code)

    def _unresolved(self, ctx: Context, names: str) -> Verdict:
        """No one disease read: the diseases the text may be decide whether this cohort is
        worth confirming (unknown) or out of the question (not met)."""
        candidates = ctx.patient.indication_candidates
        ask = "a pathology report stating the diagnosis"
        if not candidates:
            return self._verdict(
                Outcome.UNKNOWN, "Diagnosis not recognised, so the disease cannot be checked.",
                ask=ask,
            )  # fmt: skip
        lexicon = ctx.lexicon
        said = ", ".join(lexicon.disease_name(c) for c in candidates)
        near = [
            c
            for c in candidates
            if any(lexicon.is_within(c, w) or lexicon.is_within(w, c) for w in self.indication)
        ]
        if near:
            return self._verdict(
                Outcome.UNKNOWN,
                f"The diagnosis may be {said}: confirm it is {names}.",
                value=list(candidates),
                ask=ask,
            )
        return self._verdict(
            Outcome.NOT_MET, f"The diagnosis may be {said}; none is {names}.",
            value=list(candidates),
        )  # fmt: skip


class SettingCriterion(Node):
    """A solid tumour's setting: adjuvant (resected) or advanced (unresectable, metastatic)."""

    kind: Literal["setting"] = "setting"
    setting: list[Setting] = Field(min_length=1)

    def reads(self) -> tuple[str, ...]:
        return ("setting",)

    def describe(self) -> str:
        return "Setting: " + " or ".join(self.setting)

    def evaluate(self, ctx: Context) -> Verdict:
        setting = ctx.patient.profile.setting
        wanted = " or ".join(self.setting)
        if setting is None:
            return self._verdict(
                Outcome.UNKNOWN,
                f"Setting not given; {wanted} disease required.",
                ask="whether the tumour was resected (adjuvant setting) or is advanced or "
                "metastatic, with the stage",
            )
        if setting in self.setting:
            return self._verdict(Outcome.MET, f"Disease is {setting}.", value=setting)
        return self._verdict(
            Outcome.NOT_MET,
            f"Disease is {setting}; {wanted} required.",
            value=setting,
            # Resected disease may recur as advanced disease; metastatic disease is not
            # made resectable for an adjuvant trial.
            recoverable=setting == "adjuvant",
        )


class StageRequirement(Frozen):
    system: Literal["MGFA", "BCLC", "CNLC", "stage"]
    allowed: list[str] = Field(min_length=1)
    """Values of that system the cohort takes (MGFA: IIa, IIb, IIIa ...)."""

    @model_validator(mode="after")
    def _known(self) -> StageRequirement:
        values = STAGE_SYSTEMS[self.system][1].split()
        wrong = [v for v in self.allowed if v not in values]
        if wrong:
            raise ValueError(f"{self.system} has no {', '.join(wrong)}; it has {', '.join(values)}")
        return self


class StageCriterion(Node):
    """The stage or class, in one staging system (MGFA class for MG trials, CNLC for HCC)."""

    kind: Literal["stage"] = "stage"
    stage: StageRequirement

    def reads(self) -> tuple[str, ...]:
        return ("stage",)

    def describe(self) -> str:
        return f"{self.stage.system} {', '.join(self.stage.allowed)}"

    def evaluate(self, ctx: Context) -> Verdict:
        spec = self.stage
        given = ctx.patient.profile.stage
        ask = f"the {spec.system} stage or class from a recent assessment"
        if given is None:
            return self._verdict(Outcome.UNKNOWN, f"{spec.system} stage not given.", ask=ask)
        system, _, value = given.partition(" ")
        if system != spec.system:
            return self._verdict(
                Outcome.UNKNOWN, f"{given} given; {self.describe()} required.", value=given,
                ask=ask,
            )  # fmt: skip
        if value in spec.allowed:
            return self._verdict(Outcome.MET, f"{given} is within {self.describe()}.", value=given)
        return self._verdict(Outcome.NOT_MET, f"{given}; {self.describe()} required.", value=given)


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

    def reads(self) -> tuple[str, ...]:
        return (f"antigen.{self.antigen.name}",)

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
        """IHC against a threshold. The patient's percent counts cells at *their* intensity or
        above, so a result at another intensity decides only when it settles the question."""
        req = self.antigen
        min_pct = req.min_percent or 0
        min_int = req.min_intensity if req.min_intensity is not None else 1
        shown = str(value)
        if value.percent == 0 or value.intensity == 0:
            return self._verdict(Outcome.NOT_MET, f"{req.name} IHC {value}: no staining.",
                                 value=shown)  # fmt: skip
        if value.percent is None or value.intensity is None:
            ask = f"{test} with both percent of cells and intensity"
            return self._verdict(Outcome.UNKNOWN, f"{req.name} IHC {value} is incomplete.",
                                 value=shown, ask=ask)  # fmt: skip
        if not (req.min_percent or req.min_intensity) and value.percent < WEAK_STAINING_PERCENT:
            return self._verdict(
                Outcome.UNKNOWN,
                f"{req.name} IHC {value} is weak or focal and the cut-off is not stated.",
                value=shown,
                ask=f"confirmation that {req.name} {value} counts as positive under the protocol",
            )
        if value.intensity >= min_int and value.percent >= min_pct:
            return self._verdict(
                Outcome.MET, f"{req.name} {value} meets {self.describe()}.", value=shown
            )
        if value.intensity <= min_int and value.percent < min_pct:
            # Cells at the required intensity are at most those at the patient's (lower) one.
            return self._verdict(
                Outcome.NOT_MET, f"{req.name} {value} is below {self.describe()}.", value=shown
            )
        return self._verdict(
            Outcome.UNKNOWN,
            f"{req.name} {value} does not say how many cells stain at {min_int}+ or above.",
            value=shown,
            ask=f"{test}: percent of tumour cells at {min_int}+ or above",
        )

    def _negative(self, value: Any, test: str) -> Verdict:
        """Negativity by IHC as ASCO/CAP read HER2 in gastric cancer: 0 or 1+ negative, 3+
        (in 10% of cells or more) positive, 2+ equivocal and settled by ISH."""
        name = self.antigen.name
        if value == "negative":
            return self._verdict(Outcome.MET, f"{name} negative.", value=value)
        if value == "positive":
            return self._verdict(Outcome.NOT_MET, f"{name} positive.", value=value)
        shown = str(value)
        if value.percent == 0 or (value.intensity is not None and value.intensity <= 1):
            return self._verdict(Outcome.MET, f"{name} IHC {value}: negative.", value=shown)
        if value.intensity == 3 and (value.percent is None or value.percent >= 10):
            return self._verdict(Outcome.NOT_MET, f"{name} IHC {value}: positive.", value=shown)
        if value.intensity is None:
            return self._verdict(
                Outcome.UNKNOWN,
                f"{name} IHC {value} gives no intensity.",
                value=shown,
                ask=f"{test} with the intensity score (0, 1+, 2+, 3+)",
            )
        return self._verdict(
            Outcome.UNKNOWN,
            f"{name} IHC {value} is equivocal.",
            value=shown,
            ask=f"{name} in-situ hybridisation (ISH) to settle equivocal IHC",
        )
