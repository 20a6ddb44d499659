"""The profile contract (DESIGN section 2): validation, lenient values, normalisation."""

from __future__ import annotations

import re
from datetime import date

import pytest

from matcher.core.patient import load_patient
from matcher.errors import ProfileError
from matcher.model.patient import Ihc, parse_antigen_value, parse_profile
from tests.conftest import TODAY


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("positive", "positive", id="positive"),
        pytest.param("pos", "positive", id="pos"),
        pytest.param("阳性", "positive", id="chinese-positive"),
        pytest.param("阴性", "negative", id="chinese-negative"),
        pytest.param("NEG", "negative", id="neg-upper"),
        pytest.param("60%:2+", Ihc(percent=60, intensity=2), id="pct-colon-intensity"),
        pytest.param("60% 2+", Ihc(percent=60, intensity=2), id="pct-space-intensity"),
        pytest.param("2+ 75%", Ihc(percent=75, intensity=2), id="intensity-first"),
        pytest.param({"percent": 40, "intensity": 3}, Ihc(percent=40, intensity=3), id="mapping"),
    ],
)
def test_antigen_values_are_read_leniently(raw, expected):
    assert parse_antigen_value(raw) == expected


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        pytest.param(
            {"diagnosis": "DLBCL", "age": -4},
            "age",
            "greater than or equal to 0",
            id="negative-age",
        ),
        pytest.param(
            {"diagnosis": "GC", "antigens": {"CLDN18.2": {"percent": 140}}},
            "antigens.CLDN18.2",
            "less than or equal to 100",
            id="percent-over-100",
        ),
        pytest.param(
            {"diagnosis": "MM", "ecog": 7}, "ecog", "less than or equal to 4", id="ecog-7"
        ),
        pytest.param({"diagnosis": "MM", "sex": "robot"}, "sex", "female", id="bad-sex"),
        pytest.param(
            {"diagnosis": "MM", "disease_status": "newly_diagnosed", "prior_lines": 3},
            None,
            "newly_diagnosed but prior_lines is 3",
            id="contradiction",
        ),
        pytest.param(
            {"referral_id": "R-1"}, None, "needs a diagnosis or an indication", id="only-a-name"
        ),
    ],
)
def test_impossible_values_are_rejected_naming_the_field(raw, field, words):
    with pytest.raises(ProfileError) as caught:
        parse_profile(raw)
    assert words in str(caught.value)
    if field:
        assert f"'{field}'" in str(caught.value)


def test_unknown_field_suggests_the_closest_one():
    with pytest.raises(
        ProfileError, match=r"unknown field 'prior_line' \(did you mean prior_lines\?\)"
    ):
        parse_profile({"diagnosis": "DLBCL", "prior_line": 2})


def test_unknown_antigen_suggests_the_canonical_name(catalog):
    with pytest.raises(ProfileError, match=r"unknown antigen 'CLDN182X'.*did you mean CLDN18.2"):
        load_patient(
            {"diagnosis": "GC", "antigens": {"CLDN182X": "positive"}}, catalog.lexicon, TODAY
        )


def test_antigen_names_are_normalised(catalog):
    patient, _ = load_patient(
        {"diagnosis": "gastric cancer", "antigens": {"Claudin 18.2": "60%:2+", "her-2": "neg"}},
        catalog.lexicon,
        TODAY,
    )
    assert patient.profile.antigens == {
        "CLDN18.2": Ihc(percent=60, intensity=2),
        "HER2": "negative",
    }


def test_flattened_csv_keys_are_nested():
    profile = parse_profile({"diagnosis": "MM", "antigens.BCMA": "pos", "labs.egfr": "55"})
    assert profile.antigens == {"BCMA": "positive"}
    assert profile.labs == {"egfr": 55.0}


def test_age_is_computed_from_date_of_birth_against_the_reference_date(catalog):
    raw = {"diagnosis": "DLBCL", "date_of_birth": "2008-11-24"}
    day_before, _ = load_patient(raw, catalog.lexicon, date(2026, 11, 23))
    birthday, _ = load_patient(raw, catalog.lexicon, date(2026, 11, 24))
    assert (day_before.age, birthday.age) == (17, 18)


def test_date_of_birth_in_the_future_is_rejected(catalog):
    with pytest.raises(ProfileError, match="date_of_birth"):
        load_patient({"diagnosis": "DLBCL", "date_of_birth": "2030-01-01"}, catalog.lexicon, TODAY)


def test_status_aliases_are_accepted_and_ambiguity_is_warned(catalog):
    patient, warnings = load_patient(
        {"diagnosis": "DLBCL", "disease_status": "r/r"}, catalog.lexicon, TODAY
    )
    assert patient.profile.disease_status == "relapsed"
    assert any("read as relapsed" in w for w in warnings)
    primary, _ = load_patient(
        {"diagnosis": "DLBCL", "disease_status": "primary refractory"}, catalog.lexicon, TODAY
    )
    assert primary.profile.disease_status == "refractory"


def test_prior_therapies_become_classes_and_unknown_ones_are_warned(catalog):
    patient, warnings = load_patient(
        {"diagnosis": "MCL", "prior_therapies": ["ibrutinib", "R-CHOP", "ASCT", "wonderdrug"]},
        catalog.lexicon,
        TODAY,
    )
    classes = patient.prior_therapy_classes
    assert {"btk_inhibitor", "anti_cd20", "autologous_transplant"} <= set(classes)
    assert any("wonderdrug" in w for w in warnings)


def test_unrecognised_diagnosis_is_an_explicit_warning(catalog):
    patient, warnings = load_patient({"diagnosis": "xyzzy syndrome"}, catalog.lexicon, TODAY)
    assert patient.indication is None
    assert any("not recognised" in w for w in warnings)


def test_missing_fields_stay_unknown_not_false(catalog):
    patient, _ = load_patient({"diagnosis": "DLBCL"}, catalog.lexicon, TODAY)
    assert patient.profile.cns_involvement is None
    assert patient.prior_therapy_classes is None
    assert patient.profile.prior_lines is None


def test_missing_status_is_read_from_the_diagnosis_with_a_warning(catalog):
    patient, warnings = load_patient({"diagnosis": "难治性多发性骨髓瘤"}, catalog.lexicon, TODAY)
    assert patient.profile.disease_status == "refractory"
    assert any("read as refractory from the diagnosis" in w for w in warnings)
    given, quiet = load_patient(
        {"diagnosis": "relapsed DLBCL", "disease_status": "refractory"}, catalog.lexicon, TODAY
    )
    assert given.profile.disease_status == "refractory"
    assert not any("from the diagnosis" in w for w in quiet)


@pytest.mark.parametrize("value", ["Z9", "A9", "B12", "child"])
def test_an_unreadable_child_pugh_is_rejected(catalog, value):
    with pytest.raises(ProfileError, match=r"labs\.child_pugh"):
        load_patient({"diagnosis": "HCC", "labs": {"child_pugh": value}}, catalog.lexicon, TODAY)


@pytest.mark.parametrize(
    ("text", "indication", "words"),
    [
        pytest.param("history of breast cancer, now DLBCL", None, "names more than one disease",
                     id="ambiguous"),
        pytest.param("DLBCL transformed from FL", "lbcl", "read as Large B-cell lymphoma",
                     id="broad"),
        pytest.param("multple myeloma", "mm", "read as Multiple myeloma", id="clear-typo"),
        pytest.param("lymphomma of the stomach wall", None, "not recognised", id="unclear"),
    ],
)  # fmt: skip
def test_uncertain_diagnoses_are_not_matched_on_silently(catalog, text, indication, words):
    patient, warnings = load_patient({"diagnosis": text}, catalog.lexicon, TODAY)
    assert patient.indication == indication
    assert any(words in w for w in warnings), warnings


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        pytest.param({"labs": {"sledai": float("nan")}}, "labs.sledai", id="nan-lab"),
        pytest.param({"labs": {"lvef": 5000}}, "labs.lvef", id="impossible-lvef"),
        pytest.param({"labs": {"child_pugh": 99}}, "labs.child_pugh", id="numeric-child-pugh"),
        pytest.param({"budget_cny": float("inf")}, "budget_cny", id="infinite-budget"),
        pytest.param({"date_of_birth": "0001-01-01"}, "date_of_birth", id="dob-year-1"),
        pytest.param({"age": True}, "age", id="boolean-age"),
        pytest.param({"antigens": {"cd19": "pos", "CD-19": "neg"}}, "given twice", id="duplicate"),
        pytest.param({"referral_id": "\ud800"}, "not valid text", id="lone-surrogate"),
    ],
)
def test_impossible_values_found_in_review_are_rejected(catalog, raw, words):
    with pytest.raises(ProfileError, match=re.escape(words)):
        load_patient({"diagnosis": "DLBCL", **raw}, catalog.lexicon, TODAY)
