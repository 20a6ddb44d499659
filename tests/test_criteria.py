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


#: The golden truth table, as data a clinician can read and extend: one criterion, one patient,
#: the outcome and recoverable flag expected, and why.
TRUTH_TABLE = ROOT / "tests" / "cases" / "criteria" / "criteria_truth.yaml"
TRUTH_KEYS = {"id", "criterion", "patient", "outcome", "recoverable", "why"}


def _truth_rows() -> list[dict[str, Any]]:
    return yaml.safe_load(TRUTH_TABLE.read_text(encoding="utf-8"))["rows"]


CASES = [
    # (criterion, patient fields, outcome, recoverable)
    pytest.param(row["criterion"], row["patient"], row["outcome"], row["recoverable"], id=row["id"])
    for row in _truth_rows()
]


def test_the_truth_table_is_well_formed():
    """A row with a misspelt key, a missing reason or an outcome that is not one of the four
    fails here, rather than quietly testing something else."""
    rows = _truth_rows()
    ids = [row.get("id") for row in rows]
    assert len(rows) >= 40 and len(ids) == len(set(ids)), "row ids must be unique"
    outcomes = {o.value for o in Outcome}
    for row in rows:
        assert set(row) == TRUTH_KEYS, f"{row.get('id')}: keys {sorted(set(row) ^ TRUTH_KEYS)}"
        assert row["outcome"] in outcomes, f"{row['id']}: outcome {row['outcome']!r}"
        assert isinstance(row["recoverable"], bool), f"{row['id']}: recoverable true or false"
        assert isinstance(row["criterion"], dict) and isinstance(row["patient"], dict), row["id"]
        assert str(row["why"]).strip(), f"{row['id']} says not why"


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
