"""The default safety layer: nothing a referral says is silently ignored (issue 9)."""

from __future__ import annotations

import pytest

from matcher.criteria import union
from matcher.criteria.node import safety_inputs
from matcher.errors import ProfileError
from matcher.model.values import FLAGS, KNOWN_LABS
from tests.conftest import patient_of, run_match, status_of

#: A referral that gives every safety input: each flag, ECOG, every lab, several antigens.
EVERYTHING = {
    "diagnosis": "DLBCL",
    "age": 40,
    "sex": "female",
    "disease_status": "refractory",
    "prior_lines": 2,
    "ecog": 1,
    **{flag: False for flag in FLAGS},
    "labs": {
        "egfr": 80,
        "creatinine_clearance": 80,
        "lvef": 60,
        "child_pugh": "A5",
        "sledai": 4,
        "bilirubin_uln": 1,
        "alt_uln": 1,
        "anc": 2,
        "platelets": 150,
        "hemoglobin": 120,
        "spo2": 98,
        "afp": 5,
    },
    "antigens": {"CD19": "positive", "CD20": "positive", "BCMA": "negative", "HER2": "negative"},
}


def test_every_given_safety_input_is_explained_or_named_as_not_considered(catalog):
    """Every entry x cohort x safety input: a criterion that reads it gives a verdict shown
    in the explanation (never a pending check), or the option names it as not considered."""
    assert set(EVERYTHING["labs"]) == set(KNOWN_LABS)
    result = run_match(catalog, **EVERYTHING)
    given = safety_inputs(result.patient)
    assert len(given) == len(FLAGS) + 1 + len(KNOWN_LABS) + 4
    assert len(result.options) == sum(len(e.indications) for e in catalog.entries)
    for option in result.options:
        criteria = catalog.criteria(option.entry, option.indication)
        for attr in given:
            readers = [
                verdict
                for criterion, verdict in zip(criteria, option.verdicts, strict=True)
                if attr in criterion.reads()
            ]
            where = f"{option.entry.id}/{option.indication.id} {attr}"
            if attr in option.not_considered:
                assert not readers, where
            else:
                assert readers and any(not v.pending for v in readers), where
        read = set(union(c.reads() for c in criteria))
        assert set(option.not_considered) == set(given) - read


def test_flags_and_ecog_are_read_by_every_cohort(catalog):
    result = run_match(catalog, **EVERYTHING)
    for option in result.options:
        assert not [a for a in option.not_considered if a.startswith("flag.") or a == "ecog"]


@pytest.mark.parametrize(
    ("labs", "read"),
    [
        pytest.param({"LVEF": 45}, {"lvef": 45.0}, id="name-in-capitals"),
        pytest.param({"egfr": "55 mL/min"}, {"egfr": 55.0}, id="with-unit"),
        pytest.param({"Child-Pugh": "b"}, {"child_pugh": "B"}, id="child-pugh-class"),
        pytest.param({"lvef": "45%"}, {"lvef": 45.0}, id="percent"),
    ],
)
def test_lab_values_are_read_as_written(catalog, labs, read):
    assert patient_of(catalog, diagnosis="SLE", labs=labs).profile.labs == read


@pytest.mark.parametrize(
    "labs",
    [{"egfr": "55 mg/dL"}, {"lvef": "about half"}, {"child_pugh": "D"}, {"LVEF": 45, "lvef": 50}],
)
def test_a_lab_value_that_cannot_be_read_is_rejected_naming_it(catalog, labs):
    with pytest.raises(ProfileError) as error:
        patient_of(catalog, diagnosis="SLE", labs=labs)
    assert "lab" in str(error.value)


def test_lvef_in_capitals_is_used_by_the_protocol_that_asks_for_it(catalog):
    result = run_match(
        catalog, diagnosis="SLE", age=30, disease_status="refractory", labs={"LVEF": 45}
    )
    option = next(o for o in result.options if o.entry.id == "allo-cd19-sle-nct06691152")
    lvef = next(v for v in option.verdicts if v.id == "lvef")
    assert lvef.outcome == "not_met"


@pytest.mark.parametrize(
    ("child_pugh", "outcome"),
    [("A", "met"), ("B", "unknown"), ("B7", "met"), ("B8", "not_met"), ("C", "not_met")],
)
def test_a_child_pugh_class_alone_is_compared_by_its_scores(catalog, child_pugh, outcome):
    result = run_match(catalog, diagnosis="HCC", age=50, labs={"child_pugh": child_pugh})
    option = next(o for o in result.options if o.entry.id == "c-car031")
    assert next(v for v in option.verdicts if v.id == "child-pugh").outcome == outcome


def test_a_pending_check_names_what_to_confirm_and_never_excludes(catalog):
    result = run_match(
        catalog, diagnosis="DLBCL", age=54, disease_status="refractory", prior_lines=2
    )
    assert status_of(result, "axi-cel/lbcl-3l") == "eligible"
    checks = result.options[0].as_dict()["checks"]
    assert {c["id"] for c in checks} >= {"safety-infection", "safety-pregnancy"}
    assert all(c["confirm"] for c in checks)
