"""A referral read against the vocabulary and the reference date (DESIGN section 2).

`load_patient` parses and validates a raw profile (`matcher.model.patient.parse_profile`), then
`normalise` resolves it: the age from the date of birth, antigen names, the disease from the
indication code or the diagnosis text, the status, setting and stage the diagnosis states, and
the classes of the prior therapies. What was read rather than given becomes a warning.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from typing import Any

from matcher.errors import ProfileError
from matcher.model.base import did_you_mean
from matcher.model.disease_words import DIAGNOSIS_SETTING_WORDS, DIAGNOSIS_STATUS_WORDS, read_stage
from matcher.model.lexicon import Lexicon
from matcher.model.patient import Patient, Profile, parse_profile
from matcher.model.values import (
    AMBIGUOUS_STATUS,
    KNOWN_LABS,
    LAB_RANGES,
    MAX_AGE,
    UNRECOGNISED_THERAPY,
    AntigenValue,
    date_span,
    find_date,
)


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def normalise(profile: Profile, lexicon: Lexicon, today: date) -> tuple[Patient, list[str]]:
    """Resolve names and codes against the vocabulary; returns the patient and warnings."""
    warnings: list[str] = []
    age = _resolve_age(profile, today)
    antigens, dates = _antigens(profile, lexicon)
    _check_labs(profile)
    indication, candidates = _resolve_indication(profile, lexicon, warnings)
    profile = _status_from_diagnosis(profile, warnings)
    profile = _setting_from_diagnosis(profile, warnings)
    profile = _stage_from_diagnosis(profile, warnings)
    classes, unknown, exposures = _therapy_classes(profile, lexicon)
    if unknown:
        warnings.append(
            "prior therapies not recognised (check spelling or add to rules/vocab/therapies.yaml): "
            + ", ".join(unknown)
        )
    normalised = profile.model_copy(update={"antigens": antigens, "antigen_dates": dates})
    patient = Patient(
        profile=normalised,
        age=age,
        indication=indication,
        indication_name=lexicon.disease_name(indication) if indication else None,
        indication_candidates=candidates,
        prior_therapy_classes=classes,
        exposures=exposures,
    )
    return patient, warnings


def _antigens(profile: Profile, lexicon: Lexicon) -> tuple[dict[str, AntigenValue], dict[str, str]]:
    """Antigen results and their test dates under canonical names; one result per antigen,
    and a date only beside a result."""
    antigens: dict[str, AntigenValue] = {}
    for name, value in profile.antigens.items():
        canonical = lexicon.antigen(name)
        if canonical is None:
            raise ProfileError(
                f"unknown antigen '{name}'{did_you_mean(name, lexicon.antigen_names())}; "
                "use a name from rules/vocab/antigens.yaml",
                field=f"antigens.{name}",
            )
        if canonical in antigens:
            raise ProfileError(
                f"antigen {canonical} is given twice (as '{name}' and another spelling); "
                "keep one result",
                field=f"antigens.{name}",
            )
        antigens[canonical] = value
    dates = {}
    for name, tested in profile.antigen_dates.items():
        canonical = lexicon.antigen(name)
        if canonical not in antigens:
            raise ProfileError(
                f"field 'antigen_dates.{name}': a date is given but no {name} result; "
                "give the result under antigens",
                field=f"antigen_dates.{name}",
            )
        dates[canonical] = tested
    return antigens, dates


def _resolve_age(profile: Profile, today: date) -> int | None:
    if profile.date_of_birth is None:
        return profile.age
    if profile.date_of_birth > today:
        raise ProfileError(
            f"field 'date_of_birth': {profile.date_of_birth} is after the reference date {today}",
            field="date_of_birth",
        )
    computed = age_on(profile.date_of_birth, today)
    if computed > MAX_AGE:
        raise ProfileError(
            f"field 'date_of_birth': {profile.date_of_birth} gives age {computed}; check the year",
            field="date_of_birth",
        )
    if profile.age is not None and abs(profile.age - computed) > 1:
        raise ProfileError(
            f"field 'age': {profile.age} disagrees with date_of_birth "
            f"{profile.date_of_birth} (age {computed}); give one of them",
            field="age",
        )
    return computed


def _check_labs(profile: Profile) -> None:
    """Known lab names and possible values (the text of each value was read on validation)."""
    for name, value in profile.labs.items():
        if name not in KNOWN_LABS:
            raise ProfileError(
                f"unknown lab '{name}'{did_you_mean(name, KNOWN_LABS)}; "
                f"known labs are {', '.join(KNOWN_LABS)}",
                field=f"labs.{name}",
            )
        low, high = LAB_RANGES[name]
        if isinstance(value, float) and not (math.isfinite(value) and low <= value <= high):
            raise ProfileError(
                f"field 'labs.{name}': {value:g} is not a possible {KNOWN_LABS[name]} "
                f"(expected {low:g} to {high:g})",
                field=f"labs.{name}",
            )


def _indication_code(given: str, lexicon: Lexicon) -> str:
    """The canonical disease code given as the indication, or ProfileError."""
    code = lexicon.disease_code(given)
    if code is None:
        raise ProfileError(
            f"field 'indication': unknown disease code '{given}'"
            f"{did_you_mean(given, lexicon.diseases)}; "
            "use a code from rules/vocab/diseases.yaml or give diagnosis as free text",
            field="indication",
        )
    return code


def _resolve_indication(
    profile: Profile, lexicon: Lexicon, warnings: list[str]
) -> tuple[str | None, tuple[str, ...]]:
    """The disease code, or None with the diseases the text may be (none: not recognised)."""
    if profile.indication:
        return _indication_code(profile.indication, lexicon), ()
    text = profile.diagnosis or ""
    found = lexicon.resolve_diagnosis(text)
    if found is None:
        # Only names of the same kind and close enough: never a lymphoma for a cancer.
        names = lexicon.closest_diseases(text)
        closest = f" (did you mean {' or '.join(names)}?)" if names else ""
        warnings.append(
            f"diagnosis '{text}' was not recognised{closest}: no option can be ranked; give "
            "an indication code or a standard disease name"
        )
        return None, ()
    names = ", ".join(lexicon.disease_name(c) for c in found.also)
    if found.method == "ambiguous":
        warnings.append(
            f"diagnosis '{text}' names more than one disease ({names}): only options for them "
            "are shown, each to confirm; give the disease to treat as the indication"
        )
        return None, found.also
    if found.method == "broad":
        warnings.append(
            f"diagnosis '{text}' names {names}: read as {lexicon.disease_name(found.code)}, "
            "so subtype criteria stay unknown; give the disease to treat as the indication"
        )
    elif not found.certain:
        warnings.append(
            f"diagnosis '{text}' was not recognised (did you mean "
            f"{lexicon.disease_name(found.code)}?): only its options are shown, to confirm; "
            "correct the spelling or give an indication code"
        )
        return None, (found.code,) if found.code else ()
    elif found.method == "fuzzy":
        warnings.append(
            f"diagnosis '{text}' read as {lexicon.disease_name(found.code)} "
            f"(closest name '{found.matched}'); check it"
        )
    return found.code, ()


def _status_from_diagnosis(profile: Profile, warnings: list[str]) -> Profile:
    """Read a missing disease_status from the diagnosis text, saying so."""
    if profile.disease_status is not None or not profile.diagnosis:
        return profile
    text = profile.diagnosis.casefold()
    for words, status in DIAGNOSIS_STATUS_WORDS:
        if words in text:
            if status == "newly_diagnosed" and profile.prior_lines:
                return profile
            warnings.append(
                f"disease_status read as {status} from the diagnosis '{profile.diagnosis}'; "
                "give disease_status to be explicit"
            )
            return profile.model_copy(update={"disease_status": status})
    return profile


def _setting_from_diagnosis(profile: Profile, warnings: list[str]) -> Profile:
    """Read a missing setting (advanced or adjuvant) from the diagnosis text, saying so."""
    if profile.setting is not None or not profile.diagnosis:
        return profile
    text = profile.diagnosis.casefold()
    found = next((s for words, s in DIAGNOSIS_SETTING_WORDS if words in text), None)
    if found is None:
        return profile
    warnings.append(
        f"setting read as {found} from the diagnosis '{profile.diagnosis}'; give setting "
        "to be explicit"
    )
    return profile.model_copy(update={"setting": found})


def _stage_from_diagnosis(profile: Profile, warnings: list[str]) -> Profile:
    """Read a missing stage ('MGFA IIIb', 'BCLC C', '右肺腺癌IV期') from the diagnosis text."""
    if profile.stage is not None or not profile.diagnosis:
        return profile
    found = read_stage(profile.diagnosis)
    if found is None:
        return profile
    warnings.append(
        f"stage read as {found} from the diagnosis '{profile.diagnosis}'; give stage to be explicit"
    )
    return profile.model_copy(update={"stage": found})


Exposures = tuple[tuple[str, str | None], ...]


def _therapy_classes(
    profile: Profile, lexicon: Lexicon
) -> tuple[tuple[str, ...] | None, list[str], Exposures]:
    """The classes of the prior therapies, those not recognised, and the targeted classes
    with the latest date given for each ('axi-cel (2025-03)')."""
    if profile.prior_therapies is None:
        return (() if profile.prior_lines == 0 else None), [], ()
    classes: list[str] = []
    unknown: list[str] = []
    dated: dict[str, list[str | None]] = {}
    for therapy in profile.prior_therapies:
        found_date = find_date(therapy)
        name = found_date[1] if found_date and found_date[1] else therapy
        found = lexicon.therapy_classes_of(name) or lexicon.therapy_classes_of(therapy)
        if not found:
            unknown.append(therapy)
        classes.extend(c for c in found if c not in classes)
        for code in found:
            if lexicon.therapy_classes[code].directed_at:
                dated.setdefault(code, []).append(found_date[0] if found_date else None)
    if unknown:
        # A pseudo-class: therapy criteria must not take the list as complete.
        classes.append(UNRECOGNISED_THERAPY)
    exposures = tuple(
        (code, None if None in dates else max(dates, key=lambda d: date_span(str(d))[1]))
        for code, dates in dated.items()
    )
    return tuple(classes), unknown, exposures


def load_patient(
    raw: Any, lexicon: Lexicon, today: date, *, source: str = "profile"
) -> tuple[Patient, list[str]]:
    """Parse, validate and normalise one referral; returns the patient and its warnings."""
    profile = parse_profile(raw, source=source)
    try:
        patient, warnings = normalise(profile, lexicon, today)
    except ProfileError as error:  # every message names where the profile came from
        raise ProfileError(f"{source}: {error}", field=error.field) from None
    given = raw.get("disease_status") if isinstance(raw, Mapping) else None
    if isinstance(given, str) and given.strip().casefold() in AMBIGUOUS_STATUS:
        warnings.append(
            f"disease_status '{given}' read as relapsed; give 'refractory' if the disease "
            "never responded to its last therapy"
        )
    return patient, warnings
