"""The patient profile (DESIGN section 2): validation and lenient spellings.

A missing field means *unknown*, never *no*. Contradictions and impossible values are rejected
with a message naming the field; unknown keys are rejected with a "did you mean". Reading the
profile against the vocabulary (`normalise`, `load_patient`) is `matcher.core.patient`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from matcher.errors import ProfileError
from matcher.limits import DIAGNOSIS_CHARS
from matcher.model.base import Frozen, did_you_mean, first_error
from matcher.model.disease_words import SETTING_ALIASES, read_stage
from matcher.model.values import (
    FLAGS,
    KNOWN_LABS,
    MAX_AGE,
    SEX_ALIASES,
    STATUS_ALIASES,
    AntigenValue,
    Ihc,
    find_date,
    lab_key,
    lab_value,
    number_or_text,
    parse_antigen_result,
    parse_antigen_value,
    parse_bool,
)
from matcher.model.written import day_of, plain, status_word, whole_number

__all__ = [
    "KNOWN_LABS",
    "AntigenValue",
    "DiseaseStatus",
    "Ihc",
    "Patient",
    "Profile",
    "Sex",
    "parse_antigen_value",
    "parse_bool",
    "parse_profile",
    "unflatten",
]

#: A cycle count after a therapy: 'R-CHOP×6周期', 'R-ICE x2', 'DA-EPOCH 4 cycles', '6个疗程'.
_CYCLES = re.compile(
    r"(?:(?:\s+[xX]|\s*[×*])\s*\d+\s*(?:个)?(?:周期|疗程|cycles?)?|\s*\d+\s*(?:个)?(?:周期|疗程|cycles?))\s*$"
)

Sex = Literal["female", "male", "other"]
DiseaseStatus = Literal["newly_diagnosed", "relapsed", "refractory", "remission"]
Tempo = Literal["stable", "rapid"]
Setting = Literal["adjuvant", "advanced"]


class Profile(Frozen):
    """A referral as given: every field optional except diagnosis or indication."""

    referral_id: str | None = None
    """The coordinator's own id for the referral."""
    age: int | None = Field(default=None, ge=0, le=MAX_AGE)
    """Age in whole years."""
    date_of_birth: date | None = None
    """ISO date; age is computed from it against the reference date."""
    sex: Sex | None = None
    diagnosis: str | None = None
    """Free text, English or Chinese; typos tolerated."""
    indication: str | None = None
    """A canonical disease code from rules/vocab/diseases.yaml; overrides diagnosis."""
    antigens: dict[str, AntigenValue] = Field(default_factory=dict)
    """Antigen name -> positive, negative or an IHC result."""
    antigen_dates: dict[str, str] = Field(default_factory=dict)
    """Antigen name -> when it was tested (2026-09-15, 2026-09). Also given with the result:
    'negative (2026-09-15)' or {"status": "negative", "date": "2026-09-15"}. A result counts
    after a prior therapy against that antigen only when it is dated after the therapy."""
    prior_lines: int | None = Field(default=None, ge=0, le=30)
    """Prior lines of systemic therapy."""
    prior_therapies: list[str] | None = None
    """Free-text names of prior therapies; normalised to classes."""
    disease_status: DiseaseStatus | None = None
    stage: str | None = None
    """A stage or class with its system: MGFA IIIb, BCLC C, CNLC IIa, stage IV (TNM or Ann
    Arbor). Read from the diagnosis text when missing."""
    setting: Setting | None = None
    """A solid tumour's setting: adjuvant (resected, treated after surgery) or advanced
    (unresectable or metastatic); aliases: resected, 术后, metastatic, stage IV, 晚期."""
    ecog: int | None = Field(default=None, ge=0, le=4)
    cns_involvement: bool | None = None
    prior_allo_sct: bool | None = None
    active_infection: bool | None = None
    pregnant: bool | None = None
    breastfeeding: bool | None = None
    active_gvhd: bool | None = None
    """Active graft-versus-host disease (after an allogeneic transplant)."""
    labs: dict[str, float | str] = Field(default_factory=dict)
    disease_tempo: Tempo | None = None
    country: str | None = None
    budget_cny: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    insurance: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _dated_antigens(cls, data: Any) -> Any:
        """Split dated antigen results into the result and `antigen_dates`."""
        if not isinstance(data, Mapping) or not isinstance(data.get("antigens"), Mapping):
            return data
        antigens, dates = {}, dict(data.get("antigen_dates") or {})
        for name, raw in data["antigens"].items():
            antigens[str(name)], tested = parse_antigen_result(raw)
            if tested:
                dates[str(name)] = tested
        return {**data, "antigens": antigens, "antigen_dates": dates}

    @field_validator("diagnosis")
    @classmethod
    def _diagnosis_size(cls, value: str | None) -> str | None:
        # Matching cost grows with the text: bounded before the vocabulary sees it.
        if value is not None and DIAGNOSIS_CHARS.exceeded(len(value)):
            raise ValueError(DIAGNOSIS_CHARS.message(len(value)))
        return value

    @field_validator("antigen_dates")
    @classmethod
    def _dates(cls, value: dict[str, str]) -> dict[str, str]:
        out = {}
        for name, raw in value.items():
            found = find_date(str(raw))
            if not found or found[1]:
                raise ValueError(f"'{raw}' for {name} is not a date (write 2026-09-15 or 2026-09)")
            out[name] = found[0]
        return out

    @field_validator("disease_status", mode="before")
    @classmethod
    def _status(cls, value: Any) -> Any:
        value = status_word(value)  # 进展, 完全缓解; PR and SD are no status and raise
        if isinstance(value, str):
            key = value.strip().casefold().replace("-", " ").replace("_", " ")
            return STATUS_ALIASES.get(key, STATUS_ALIASES.get(value.strip().casefold(), value))
        return value

    @field_validator("stage", mode="before")
    @classmethod
    def _stage(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip():
            found = read_stage(value) or read_stage(f"stage {value}")
            if found is None:
                raise ValueError(
                    f"'{value}' is not a stage: write it with its system (MGFA IIIb, BCLC C, "
                    "CNLC IIa, stage IV)"
                )
            return found
        return value

    @field_validator("setting", mode="before")
    @classmethod
    def _setting(cls, value: Any) -> Any:
        if isinstance(value, str):
            key = value.strip().casefold().replace("_", " ")
            return SETTING_ALIASES.get(key, key)
        return value

    @field_validator("sex", mode="before")
    @classmethod
    def _sex(cls, value: Any) -> Any:
        if isinstance(value, str):
            key = plain(value).casefold()
            return SEX_ALIASES.get(key, key)
        return value

    @field_validator(*FLAGS, mode="before")
    @classmethod
    def _bools(cls, value: Any) -> Any:
        return parse_bool(value)

    @field_validator("prior_therapies", mode="before")
    @classmethod
    def _therapies(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in re.split(r"[;；、\n]", value) if part.strip()]
        if isinstance(value, list):
            # cycle counts say how much, not what: 'R-CHOP×6周期' is R-CHOP
            return [_without_cycles(t) for t in value]
        return value

    @field_validator("age", "prior_lines", "ecog", mode="before")
    @classmethod
    def _counts(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be a whole number, not true or false")
        return whole_number(info.field_name or "", value)  # '５５岁', '2线', 'ECOG 1'

    @field_validator("date_of_birth", mode="before")
    @classmethod
    def _born(cls, value: Any) -> Any:
        return day_of(value)  # 2016/8/15, 2016年8月15日, 15/08/2016, Excel day numbers

    @field_validator("labs", mode="before")
    @classmethod
    def _labs(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            out = {}
            for key, raw in value.items():
                name = lab_key(str(key))
                out[name] = lab_value(name, raw) if name in KNOWN_LABS else number_or_text(raw)
            return out
        return value

    @field_validator("disease_tempo", mode="before")
    @classmethod
    def _tempo(cls, value: Any) -> Any:
        return value.strip().casefold() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        if not (self.diagnosis or self.indication):
            raise ValueError("a profile needs a diagnosis or an indication")
        if self.disease_status == "newly_diagnosed" and (self.prior_lines or 0) > 0:
            raise ValueError(
                f"disease_status is newly_diagnosed but prior_lines is {self.prior_lines}: "
                "correct one of them"
            )
        if self.pregnant and self.sex == "male":
            raise ValueError("pregnant is true but sex is male: correct one of them")
        if self.breastfeeding and self.sex == "male":
            raise ValueError("breastfeeding is true but sex is male: correct one of them")
        return self


def _without_cycles(therapy: Any) -> Any:
    if not isinstance(therapy, str) or not _CYCLES.search(therapy):
        return therapy
    return _CYCLES.sub("", therapy).strip() or therapy


def unflatten(raw: Mapping[str, Any]) -> dict[str, Any]:
    """`antigens.CD19` and `labs.egfr` keys (from CSV rows) into nested maps."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        head, dot, tail = str(key).partition(".")
        if dot and head in ("antigens", "labs", "antigen_dates"):
            out.setdefault(head, {})[tail] = value
        else:
            out[key] = value
    return out


class Patient(Frozen):
    """A validated profile, normalised against the vocabulary and the reference date."""

    profile: Profile
    age: int | None
    indication: str | None
    indication_name: str | None
    indication_candidates: tuple[str, ...] = ()
    """When the diagnosis is not read as one disease: the diseases it may be (several named,
    or a misspelling's closest reading). Empty with no indication: not recognised at all."""
    prior_therapy_classes: tuple[str, ...] | None
    exposures: tuple[tuple[str, str | None], ...] = ()
    """Targeted classes received (CD19 CAR-T, BCMA bispecific ...) with the latest date given
    for each (None when any mention of it is undated)."""

    def public(self) -> dict[str, Any]:
        """The normalised profile as printed in JSON output."""
        data = self.profile.model_dump(mode="json", exclude_none=True)
        data["age"] = self.age
        data["indication"] = self.indication
        data["indication_name"] = self.indication_name
        if self.indication_candidates:
            data["indication_candidates"] = list(self.indication_candidates)
        data["prior_therapy_classes"] = (
            list(self.prior_therapy_classes) if self.prior_therapy_classes is not None else None
        )
        return {k: v for k, v in data.items() if v is not None and v != {}}


def parse_profile(raw: Any, *, source: str = "profile") -> Profile:
    """Validate a raw mapping into a Profile, or raise ProfileError naming the field."""
    if not isinstance(raw, Mapping):
        raise ProfileError(f"{source}: expected a JSON object with profile fields, got {raw!r:.40}")
    raw = unflatten(raw)
    fields = list(Profile.model_fields)
    for key in raw:
        if key not in Profile.model_fields:
            raise ProfileError(
                f"{source}: unknown field '{key}'{did_you_mean(key, fields)}; "
                f"known fields are {', '.join(fields)}",
                field=key,
            )
    _check_text(raw, source)
    _check_antigen_values(raw.get("antigens"), source)
    _check_lab_values(raw.get("labs"), source)
    try:
        return Profile.model_validate(raw)
    except ValidationError as error:
        problem = first_error(error)
        field = problem.field(depth=2)
        message = f"field '{field}': {problem.reason}{problem.got}" if field else problem.reason
        raise ProfileError(f"{source}: {message}", field=problem.where or None) from None


def _check_text(raw: Mapping[str, Any], source: str) -> None:
    """Reject text that cannot be written out again (lone surrogates from broken encodings)."""
    for key, value in raw.items():
        values = value.values() if isinstance(value, Mapping) else [value]
        for item in [key, *values]:
            if isinstance(item, str):
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raise ProfileError(
                        f"{source}: field '{key}' holds a character that is not valid text "
                        "(a broken encoding); re-save the file as UTF-8",
                        field=str(key),
                    ) from None


def _check_antigen_values(antigens: Any, source: str) -> None:
    """Name the antigen in the message: 'antigens.CLDN18.2: percent must be ...'."""
    if not isinstance(antigens, Mapping):
        return
    for name, value in antigens.items():
        try:
            parse_antigen_result(value)
        except ValidationError as error:
            problem = first_error(error)
            raise ProfileError(
                f"{source}: field 'antigens.{name}': {problem.where} {problem.msg.lower()} "
                f"(got {problem.input!r})",
                field=f"antigens.{name}",
            ) from None
        except ValueError as error:
            raise ProfileError(
                f"{source}: field 'antigens.{name}': {error}", field=f"antigens.{name}"
            ) from None


def _check_lab_values(labs: Any, source: str) -> None:
    """Every lab value is read as what it says, or rejected naming the lab: never accepted
    and then treated as missing."""
    if not isinstance(labs, Mapping):
        return
    seen: dict[str, str] = {}
    for key, raw in labs.items():
        name = lab_key(str(key))
        if name in seen:
            raise ProfileError(
                f"{source}: lab {name} is given twice (as '{seen[name]}' and '{key}'); keep one",
                field=f"labs.{key}",
            )
        seen[name] = str(key)
        if name in KNOWN_LABS and raw is not None:
            try:
                lab_value(name, raw)
            except ValueError as error:
                raise ProfileError(
                    f"{source}: field 'labs.{key}': {error}", field=f"labs.{key}"
                ) from None
