"""The criteria language: every leaf's outcomes, three-valued all/any/not, load-time errors."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter

from matcher.criteria import Context, Criterion
from matcher.curation.loader import load_catalog
from matcher.errors import CatalogError
from matcher.model.verdict import Outcome
from tests.conftest import ROOT, patient_of

CRITERION = TypeAdapter(Criterion)


def verdict(catalog, spec: dict[str, Any], **patient: Any):
    criterion = CRITERION.validate_python(spec)
    patient.setdefault("diagnosis", "DLBCL")
    return criterion.evaluate(Context(patient_of(catalog, **patient), catalog.lexicon))


CASES = [
    # (criterion, patient fields, outcome, recoverable)
    pytest.param({"indication": ["lbcl"]}, {}, "met", False, id="indication-subtype-met"),
    pytest.param(
        {"indication": ["lbcl"]}, {"diagnosis": "FL"}, "not_met", False, id="indication-other"
    ),
    pytest.param(
        {"indication": ["lbcl"]},
        {"diagnosis": "lymphoma"},
        "unknown",
        True,
        id="indication-broader-asks-subtype",
    ),
    pytest.param(
        {"indication": ["lbcl"]},
        {"diagnosis": "qwerty"},
        "unknown",
        True,
        id="indication-unrecognised",
    ),
    pytest.param({"antigen": {"name": "CD19"}}, {}, "unknown", True, id="antigen-untested"),
    pytest.param(
        {"antigen": {"name": "CD19"}},
        {"antigens": {"CD19": "pos"}},
        "met",
        False,
        id="antigen-positive",
    ),
    pytest.param(
        {"antigen": {"name": "CD19"}},
        {"antigens": {"CD19": "neg"}},
        "not_met",
        False,
        id="antigen-negative-not-recoverable",
    ),
    pytest.param(
        {"antigen": {"name": "CLDN18.2", "min_percent": 40, "min_intensity": 2}},
        {"antigens": {"CLDN18.2": "60%:2+"}},
        "met",
        False,
        id="ihc-above",
    ),
    pytest.param(
        {"antigen": {"name": "CLDN18.2", "min_percent": 40, "min_intensity": 2}},
        {"antigens": {"CLDN18.2": "30%:2+"}},
        "not_met",
        False,
        id="ihc-below-percent",
    ),
    pytest.param(
        {"antigen": {"name": "CLDN18.2", "min_percent": 40, "min_intensity": 2}},
        {"antigens": {"CLDN18.2": "80%:1+"}},
        "unknown",
        True,
        id="ihc-lower-intensity-cannot-tell",
    ),
    pytest.param(
        {"antigen": {"name": "CLDN18.2", "min_percent": 40, "min_intensity": 2}},
        {"antigens": {"CLDN18.2": "30%:3+"}},
        "unknown",
        True,
        id="ihc-higher-intensity-fewer-cells-cannot-tell",
    ),
    pytest.param(
        {"antigen": {"name": "CLDN18.2", "min_percent": 40, "min_intensity": 2}},
        {"antigens": {"CLDN18.2": "30%:1+"}},
        "not_met",
        False,
        id="ihc-lower-intensity-too-few-cells",
    ),
    pytest.param(
        {"antigen": {"name": "HER2", "status": "negative"}},
        {"antigens": {"HER2": "3+"}},
        "not_met",
        False,
        id="her2-3-plus-without-percent",
    ),
    pytest.param(
        {"antigen": {"name": "HER2", "status": "negative"}},
        {"antigens": {"HER2": "10%:3+"}},
        "not_met",
        False,
        id="her2-3-plus-in-10-percent",
    ),
    pytest.param(
        {"antigen": {"name": "HER2", "status": "negative"}},
        {"antigens": {"HER2": "0%"}},
        "met",
        False,
        id="her2-no-staining",
    ),
    pytest.param(
        {"antigen": {"name": "CLDN18.2", "min_percent": 40, "min_intensity": 2}},
        {"antigens": {"CLDN18.2": "positive"}},
        "unknown",
        True,
        id="ihc-positive-without-numbers",
    ),
    pytest.param(
        {"antigen": {"name": "HER2", "status": "negative"}},
        {"antigens": {"HER2": "1+ 50%"}},
        "met",
        False,
        id="her2-ihc-1-negative",
    ),
    pytest.param(
        {"antigen": {"name": "HER2", "status": "negative"}},
        {"antigens": {"HER2": "2+ 50%"}},
        "unknown",
        True,
        id="her2-equivocal",
    ),
    pytest.param(
        {"antigen": {"name": "HER2", "status": "negative"}},
        {"antigens": {"HER2": "3+ 50%"}},
        "not_met",
        False,
        id="her2-ihc-3-positive",
    ),
    pytest.param(
        {"prior_lines": {"min": 2}},
        {"prior_lines": 1},
        "not_met",
        True,
        id="lines-too-few-recoverable",
    ),
    pytest.param(
        {"prior_lines": {"max": 1}}, {"prior_lines": 3}, "not_met", False, id="lines-too-many"
    ),
    pytest.param({"prior_lines": {"min": 2}}, {}, "unknown", True, id="lines-missing"),
    pytest.param(
        {"prior_therapy": {"required": ["btk_inhibitor"]}},
        {"prior_therapies": ["zanubrutinib"]},
        "met",
        False,
        id="therapy-required-had",
    ),
    pytest.param(
        {"prior_therapy": {"required": ["btk_inhibitor"]}},
        {"prior_therapies": ["R-CHOP"]},
        "not_met",
        True,
        id="therapy-required-lacking",
    ),
    pytest.param(
        {"prior_therapy": {"excluded": ["car_t"]}},
        {"prior_therapies": ["axi-cel"]},
        "not_met",
        False,
        id="therapy-excluded-had",
    ),
    pytest.param(
        {"prior_therapy": {"excluded": ["car_t"]}},
        {"prior_lines": 0},
        "met",
        False,
        id="therapy-excluded-no-prior-lines",
    ),
    pytest.param(
        {"prior_therapy": {"excluded": ["car_t"]}}, {}, "unknown", True, id="therapy-unknown"
    ),
    pytest.param(
        {"disease_status": ["relapsed", "refractory"]},
        {"disease_status": "remission"},
        "not_met",
        True,
        id="status-remission-recoverable",
    ),
    pytest.param({"age": {"min": 18}}, {"age": 12}, "not_met", False, id="age-child-for-adults"),
    pytest.param({"age": {"min": 18}}, {"age": 17}, "not_met", True, id="age-turns-18-soon"),
    pytest.param({"age": {"max": 75}}, {"age": 80}, "not_met", False, id="age-above-max"),
    pytest.param({"ecog": {"max": 1}}, {"ecog": 2}, "not_met", True, id="ecog-may-improve"),
    pytest.param(
        {"flag": {"name": "cns_involvement", "must_be": False}},
        {"cns_involvement": True},
        "not_met",
        False,
        id="cns-involved",
    ),
    pytest.param(
        {"flag": {"name": "active_infection", "must_be": False}},
        {"active_infection": True},
        "not_met",
        True,
        id="infection-treatable",
    ),
    pytest.param(
        {"flag": {"name": "pregnant", "must_be": False}}, {}, "unknown", True, id="flag-missing"
    ),
    pytest.param(
        {"lab": {"name": "child_pugh", "max": "B7"}},
        {"labs": {"child_pugh": "A6"}},
        "met",
        False,
        id="child-pugh-a6",
    ),
    pytest.param(
        {"lab": {"name": "child_pugh", "max": "B7"}},
        {"labs": {"child_pugh": "B8"}},
        "not_met",
        True,
        id="child-pugh-b8",
    ),
    pytest.param(
        {"lab": {"name": "child_pugh", "max": "B7"}},
        {"labs": {"child_pugh": "B"}},
        "unknown",
        True,
        id="child-pugh-class-only",
    ),
    pytest.param(
        {"lab": {"name": "lvef", "min": 50}}, {"labs": {"lvef": 45}}, "not_met", True, id="lvef-low"
    ),
    pytest.param({"sex": ["female"]}, {"sex": "M"}, "not_met", False, id="sex"),
    pytest.param({"manual": "relapse within 12 months"}, {}, "unknown", True, id="manual-asks"),
    pytest.param(
        {"prior_lines": {"min": 2}, "soft": True},
        {"prior_lines": 1},
        "warn",
        True,
        id="soft-gives-warn",
    ),
    pytest.param(
        {"age": {"min": 18}, "recoverable": True},
        {"age": 10},
        "not_met",
        True,
        id="recoverable-override",
    ),
]


@pytest.mark.parametrize(("spec", "patient", "outcome", "recoverable"), CASES)
def test_leaf_outcomes(catalog, spec, patient, outcome, recoverable):
    result = verdict(catalog, spec, **patient)
    assert (result.outcome.value, result.recoverable) == (outcome, recoverable), result.message


def test_unknown_names_the_test_to_order(catalog):
    result = verdict(catalog, {"antigen": {"name": "CLDN18.2", "min_percent": 40}})
    assert "CLDN18.2 IHC" in result.message and "CLDN18.2 IHC" in result.ask


def test_messages_carry_the_patient_value(catalog):
    result = verdict(catalog, {"prior_lines": {"min": 3}}, prior_lines=1)
    assert "1 prior line" in result.message and "2 more" in result.message


A = {"prior_lines": {"min": 2}}  # met with 2, unknown when missing
B = {"age": {"min": 18}}  # not_met (irrecoverable) for a child


@pytest.mark.parametrize(
    ("spec", "patient", "outcome"),
    [
        pytest.param({"all": [A, B]}, {"prior_lines": 2, "age": 40}, "met", id="all-met"),
        pytest.param({"all": [A, B]}, {"age": 40}, "unknown", id="all-unknown"),
        pytest.param({"all": [A, B]}, {"age": 10}, "not_met", id="all-fail-beats-unknown"),
        pytest.param({"any": [A, B]}, {"age": 40}, "met", id="any-met-beats-unknown"),
        pytest.param({"any": [A, B]}, {"age": 10}, "unknown", id="any-unknown-beats-fail"),
        pytest.param({"any": [A, B]}, {"age": 10, "prior_lines": 0}, "not_met", id="any-all-fail"),
        pytest.param({"not": B}, {"age": 10}, "met", id="not-flips-fail"),
        pytest.param({"not": B}, {"age": 40}, "not_met", id="not-flips-met"),
        pytest.param({"not": A}, {}, "unknown", id="not-keeps-unknown"),
    ],
)
def test_three_valued_composition(catalog, spec, patient, outcome):
    assert verdict(catalog, spec, **patient).outcome == Outcome(outcome)


def _broken_copy(tmp_path: Path, edit) -> Path:
    shutil.copytree(ROOT / "catalog", tmp_path / "catalog")
    path = tmp_path / "catalog" / "entries" / "satri-cel.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return tmp_path / "catalog"


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        pytest.param(
            lambda d: d["indications"][0]["criteria"][1]["antigen"].update(min_percent=140),
            "indications.0.criteria.1.antigen.antigen.min_percent",
            id="percent-140",
        ),
        pytest.param(
            lambda d: d["indications"][0]["criteria"].append({"antigen": {"name": "CLDN182"}}),
            "unknown antigen 'CLDN182'",
            id="unknown-antigen",
        ),
        pytest.param(
            lambda d: d["indications"][0]["criteria"].append({"prior_lines": {"min": 3, "max": 1}}),
            "min 3 is above max 1",
            id="inverted-range",
        ),
        pytest.param(
            lambda d: d["indications"][0]["criteria"].append({"age": {"min": 1}, "lab": {}}),
            "exactly one of the keys",
            id="two-kinds",
        ),
        pytest.param(
            lambda d: d["indications"][0]["criteria"].append({"template": "adults"}),
            "unknown template 'adults' (did you mean adult?)",
            id="unknown-template",
        ),
        pytest.param(
            lambda d: d["indications"][0]["status"].update(sources=["S999"]),
            "cites source 'S999'",
            id="missing-source",
        ),
    ],
)
def test_bad_criteria_fail_at_load_time_with_file_and_location(tmp_path, edit, words):
    broken = _broken_copy(tmp_path, edit)
    with pytest.raises(CatalogError) as caught:
        load_catalog(broken, ROOT / "rules")
    message = str(caught.value)
    assert "satri-cel.yaml" in message and words in message


def test_yaml_syntax_error_names_line(tmp_path):
    shutil.copytree(ROOT / "catalog", tmp_path / "catalog")
    path = tmp_path / "catalog" / "entries" / "axi-cel.yaml"
    path.write_text("id: axi-cel\nname: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"axi-cel.yaml line \d+, column \d+: invalid YAML"):
        load_catalog(tmp_path / "catalog", ROOT / "rules")


def test_messages_keep_the_case_of_class_names(catalog):
    result = verdict(
        catalog, {"prior_therapy": {"required": ["btk_inhibitor"]}}, prior_therapies=["ibrutinib"]
    )
    assert result.message == "Has received BTK inhibitor."
    flag = verdict(catalog, {"flag": {"name": "cns_involvement", "must_be": False}})
    assert flag.message == "CNS involvement not stated."


@pytest.mark.parametrize(
    "spec",
    [{"prior_therapy": {"excluded": ["car_t"]}}, {"prior_therapy": {"required": ["imid"]}}],
    ids=["exclusion", "requirement"],
)
def test_an_unrecognised_prior_therapy_leaves_therapy_criteria_unknown(catalog, spec):
    result = verdict(catalog, spec, prior_therapies=["VRd", "LCAR-X99 trial product"])
    if "required" in spec["prior_therapy"]:
        assert result.outcome is Outcome.MET  # VRd has an IMiD: the unknown one cannot undo it
    else:
        assert result.outcome is Outcome.UNKNOWN and "not recognised" in result.message
