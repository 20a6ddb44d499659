"""Matching one patient: roll-up, ranking, hiding, and the issue's clinical examples."""

from __future__ import annotations

from matcher.core.engine import match
from matcher.model.verdict import Outcome, Status, Verdict, roll_up
from tests.conftest import patient_of, run_match, status_of


def v(outcome: str, recoverable: bool = False) -> Verdict:
    return Verdict("x", "x", Outcome(outcome), recoverable, "")


def test_roll_up_statuses():
    assert roll_up([v("met"), v("met")]) is Status.ELIGIBLE
    assert roll_up([v("met"), v("unknown", True)]) is Status.POSSIBLE
    assert roll_up([v("met"), v("warn", True)]) is Status.POSSIBLE
    assert roll_up([v("not_met", True), v("unknown", True)]) is Status.NEAR_MISS
    assert roll_up([v("not_met", True), v("not_met", False)]) is Status.INELIGIBLE


def test_untested_biomarker_is_possible_never_eligible_and_names_the_test(catalog):
    result = run_match(
        catalog,
        diagnosis="gastric adenocarcinoma",
        prior_lines=2,
        age=60,
        antigens={"HER2": "negative"},
    )
    option = next(o for o in result.options if o.entry.id == "satri-cel")
    assert option.status is Status.POSSIBLE
    assert any("CLDN18.2 IHC" in ask for ask in option.missing)


def test_one_line_where_two_are_required_is_a_near_miss(catalog):
    result = run_match(
        catalog,
        diagnosis="胃癌",
        prior_lines=1,
        age=60,
        antigens={"CLDN18.2": "70%:3+", "HER2": "negative"},
    )
    assert status_of(result, "satri-cel/gastric-3l") == "near_miss"


def test_her2_positive_gastric_cancer_is_ineligible_for_satri_cel(catalog):
    result = run_match(
        catalog,
        diagnosis="gastric cancer",
        prior_lines=2,
        age=60,
        antigens={"CLDN18.2": "70%:3+", "HER2": "positive"},
    )
    option = next(o for o in result.options if o.entry.id == "satri-cel")
    assert option.status is Status.INELIGIBLE
    assert [c.id for c in option.excluded_by] == ["her2-negative"]


def test_refractory_dlbcl_after_two_lines_ranks_axi_cel_eligible_first(catalog):
    patient = patient_of(
        catalog, diagnosis="DLBCL", disease_status="refractory", prior_lines=2, age=54
    )
    result = match(patient, catalog)
    first = result.options[0]
    assert (first.entry.id, first.indication.id, first.status) == (
        "axi-cel",
        "lbcl-3l",
        Status.ELIGIBLE,
    )
    assert all(o.status is not Status.INELIGIBLE for o in result.options)
    assert result.hidden["ineligible"] >= 1


def test_ranking_follows_the_tier_vector(catalog):
    result = run_match(catalog, diagnosis="DLBCL", prior_lines=2, age=54)
    tiers = [o.tier for o in result.options]
    assert tiers == sorted(tiers)
    assert [o.rank for o in result.options] == list(range(1, len(tiers) + 1))
    statuses = catalog.rules.ranking.status
    ranks = [statuses.index(o.status.value) for o in result.options]
    assert ranks == sorted(ranks)


def test_missing_everything_never_gives_eligible(catalog):
    result = run_match(catalog, diagnosis="DLBCL")
    assert result.options
    assert all(o.status is not Status.ELIGIBLE for o in result.options)


def test_unrecognised_diagnosis_gives_no_eligible_option_and_a_warning(catalog):
    result = run_match(catalog, diagnosis="qwertyuiop", prior_lines=3, age=50)
    assert any("not recognised" in w for w in result.warnings)
    assert all(o.status is not Status.ELIGIBLE for o in result.options)


def test_manual_criterion_keeps_second_line_axi_cel_possible(catalog):
    result = run_match(
        catalog, diagnosis="DLBCL", disease_status="refractory", prior_lines=1, age=50
    )
    assert status_of(result, "axi-cel/lbcl-2l") == "possible"
    assert status_of(result, "axi-cel/lbcl-3l") == "near_miss"


def test_the_same_patient_gives_the_same_result(catalog):
    fields = dict(diagnosis="DLBCL", prior_lines=2, age=54)
    first = run_match(catalog, **fields).as_dict()
    second = run_match(catalog, **fields).as_dict()
    assert first == second


def test_prior_lines_rule_out_a_newly_diagnosed_cohort_even_without_a_status(catalog):
    result = run_match(catalog, diagnosis="multiple myeloma", prior_lines=4, age=60)
    assert status_of(result, "gc012f/ndmm-high-risk") == "ineligible"
