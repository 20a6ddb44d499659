"""Referrals checked column-wise (`matcher.bulk.cohort`): every row accepted or rejected as the
single path would, its inputs normalised as the single path normalises them, each distinct
value put through the single path once.

Tested through `Checker.check`, `Cohort.inputs` and `Cohort.reject`; the rows the checker
leaves to the single path are put through it as `screening` does (`tests.bulk_rows.check`).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import matcher.bulk.checker as cohort_module
from matcher.bulk.cohort import EMPTY_ROW
from tests.bulk_rows import REFERRALS, Checked, check, input_of

#: Every input a criterion may read (`Node.reads`), for the referrals in `REFERRALS`.
INPUTS = [
    "indication",
    "candidates",
    "age",
    "sex",
    "prior_lines",
    "disease_status",
    "ecog",
    "setting",
    "stage",
    "disease_tempo",
    "therapy",
    "antigen.CD19",
    "antigen.BCMA",
    "antigen.CLDN18.2",
    "antigen.HER2",
    "antigen.GPC3",
    "antigen.CD7",
    "antigen.CD22",  # given by none of them
    "lab.child_pugh",
    "lab.lvef",
    "lab.egfr",
    "lab.sledai",
    "flag.cns_involvement",
    "flag.prior_allo_sct",
    "flag.active_infection",
    "flag.pregnant",
    "flag.breastfeeding",
    "flag.active_gvhd",
]
#: The same kind of referral as JSON gives it: numbers, booleans, lists and IHC maps.
NATIVE: list[dict[str, Any]] = [
    {
        "referral_id": "N1",
        "diagnosis": "DLBCL",
        "age": 54,
        "prior_lines": 2,
        "prior_therapies": ["R-CHOP", "ASCT"],
        "cns_involvement": False,
        "ecog": 1,
    },
    {
        "referral_id": "N2",
        "diagnosis": "胃癌",
        "age": 61.0,
        "antigens.CLDN18.2": {"percent": 60, "intensity": 2},
        "pregnant": 1,
        "ecog": "1",
    },
    {"referral_id": "N3", "diagnosis": "DLBCL", "ecog": 1.0, "pregnant": True, "sex": "female"},
    {"referral_id": "N4", "diagnosis": "MM", "prior_lines": 0, "labs.lvef": 55},
]


def _rows(checked: Checked) -> range:
    return range(checked.cohort.n)


@pytest.fixture(scope="module")
def referrals(catalog) -> Checked:
    return check(catalog, REFERRALS)


def test_valid_referrals_are_accepted_without_going_through_the_single_path(referrals):
    c = referrals.cohort
    assert c.ok.all() and c.errors == {} and referrals.slow == []


@pytest.mark.parametrize("attr", INPUTS)
def test_each_input_is_what_the_single_path_reads_from_the_referral(referrals, attr):
    codes, values, _ = referrals.cohort.inputs(attr)
    assert len(codes) == referrals.cohort.n
    for row in _rows(referrals):
        want = input_of(referrals.patient(row), attr)
        got = values[codes[row]]
        assert (got or () if attr == "candidates" else got) == want, REFERRALS[row]


def test_cells_as_json_gives_them_read_as_the_single_path_reads_them(catalog):
    """1, 1.0 and "1", or True and 1, are equal as Python values but not as profile fields:
    each is checked for what it is."""
    checked = check(catalog, NATIVE)
    assert checked.cohort.ok.all() and checked.slow == []
    for attr in INPUTS:
        codes, values, _ = checked.cohort.inputs(attr)
        for row in _rows(checked):
            got = values[codes[row]]
            want = input_of(checked.patient(row), attr)
            assert (got or () if attr == "candidates" else got) == want, (attr, NATIVE[row])


@pytest.mark.parametrize(
    ("cells", "field"),
    [
        pytest.param({"ecog": True}, "ecog", id="ecog-true"),
        pytest.param({"ecog": 1.5}, "ecog", id="ecog-fraction"),
        pytest.param({"age": True}, "age", id="age-true"),
    ],
)
def test_a_value_equal_to_a_valid_one_is_still_checked_for_its_type(catalog, cells, field):
    rows = [{"diagnosis": "DLBCL", field: 1}, {"diagnosis": "DLBCL", **cells}]
    checked = check(catalog, rows)
    assert checked.cohort.ok.tolist() == [True, False]
    assert checked.cohort.errors[1][0] == field


def test_ids_warnings_and_budgets_are_the_single_paths(referrals):
    c = referrals.cohort
    for row in _rows(referrals):
        loaded = referrals.loaded[row]
        profile = referrals.patient(row).profile
        assert c.referral_id[row] == profile.referral_id
        assert c.warnings[row] == (" | ".join(loaded.warnings) or None), REFERRALS[row]
        budget = profile.budget_cny
        assert math.isnan(c.budget[row]) if budget is None else c.budget[row] == budget
    warned = [row for row in _rows(referrals) if c.warnings[row]]
    assert len(warned) >= 3  # a status read from Chinese, a misspelling, a setting read ...


def test_an_empty_row_is_rejected_as_empty_without_the_single_path(catalog):
    rows = [
        {"referral_id": "A", "diagnosis": "DLBCL"},
        {"referral_id": None, "diagnosis": "  ", "age": ""},
        {"referral_id": "C", "diagnosis": "MM"},
    ]
    checked = check(catalog, rows)
    c = checked.cohort
    assert checked.slow == []
    assert c.ok.tolist() == [True, False, True]
    assert c.errors == {1: (None, EMPTY_ROW)}
    assert c.rejected_ids == {1: None}


@pytest.mark.parametrize(
    ("cells", "field", "words"),
    [
        pytest.param({"age": "140"}, "age", "less than or equal to 120", id="age-out-of-range"),
        pytest.param({"age": "abc"}, "age", "valid integer", id="age-not-a-number"),
        pytest.param({"ecog": "5"}, "ecog", "less than or equal to 4", id="ecog"),
        pytest.param(
            {"antigens.CD19": "maybe"}, "antigens.CD19", "not an antigen result", id="antigen"
        ),
        pytest.param({"labs.lvef": "abc"}, "labs.lvef", "not a number in %", id="lab"),
        pytest.param({"colour": "blue"}, "colour", "unknown field 'colour'", id="unknown-field"),
        pytest.param(
            {"date_of_birth": "2030-01-01"}, "date_of_birth", "after the reference date", id="dob"
        ),
        pytest.param(
            {"disease_status": "newly diagnosed", "prior_lines": "2"},
            None,
            "newly_diagnosed but prior_lines is 2",
            id="status-against-lines",
        ),
        pytest.param(
            {"pregnant": "yes", "sex": "male"}, None, "pregnant is true but sex is male", id="sex"
        ),
        pytest.param(
            {"diagnosis": None, "age": "50"}, None, "needs a diagnosis or an indication", id="no-dx"
        ),
    ],
)
def test_a_bad_row_is_left_to_the_single_path_and_rejected_with_its_field_and_message(
    catalog, cells, field, words
):
    good = {"referral_id": "OK", "diagnosis": "DLBCL", "age": "54"}
    rows = [good, {**good, "referral_id": "BAD", **cells}, good]
    checked = check(catalog, rows)
    c = checked.cohort
    assert checked.slow == [1]  # only the bad row pays for the single path
    assert c.ok.tolist() == [True, False, True]
    loaded = checked.loaded[1]
    assert c.errors == {1: (loaded.field, loaded.error)}
    assert loaded.field == field and words in (loaded.error or "")
    assert c.rejected_ids == {1: "BAD"}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("labs.lvef", "labs.LVEF", id="lab"),
        pytest.param("antigens.CLDN18.2", "antigens.Claudin 18.2", id="antigen"),
    ],
)
def test_the_same_input_given_twice_is_rejected_as_the_single_path_rejects_it(
    catalog, first, second
):
    value = "50" if first.startswith("labs") else "60% 2+"
    rows = [
        {"referral_id": "both", "diagnosis": "DLBCL", first: value, second: value},
        {"referral_id": "first", "diagnosis": "DLBCL", first: value},
        {"referral_id": "second", "diagnosis": "DLBCL", second: value},
        {"referral_id": "neither", "diagnosis": "DLBCL"},
    ]
    checked = check(catalog, rows)
    c = checked.cohort
    assert checked.slow == [0]
    assert c.ok.tolist() == [False, True, True, True]
    assert "twice" in c.errors[0][1] and c.rejected_ids == {0: "both"}
    attr = "lab.lvef" if first.startswith("labs") else "antigen.CLDN18.2"
    codes, values, _ = c.inputs(attr)
    for row in (1, 2, 3):
        assert values[codes[row]] == input_of(checked.patient(row), attr)
    assert values[codes[1]] == values[codes[2]] is not None and values[codes[3]] is None


def test_reject_records_the_field_the_message_and_the_referral_id(catalog):
    checked = check(catalog, [{"referral_id": "A", "diagnosis": "DLBCL"}] * 2)
    c = checked.cohort
    c.reject(1, "A-2", "age", "line 3: field 'age': too old")
    assert c.ok.tolist() == [True, False]
    assert c.errors == {1: ("age", "line 3: field 'age': too old")}
    assert c.rejected_ids == {1: "A-2"}


def test_each_distinct_value_goes_through_the_single_path_once(
    catalog, monkeypatch: pytest.MonkeyPatch
):
    calls: list[dict[str, Any]] = []
    original = cohort_module.load_patient

    def counting(raw: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(dict(raw))
        return original(raw, *args, **kwargs)

    monkeypatch.setattr(cohort_module, "load_patient", counting)
    rows = [REFERRALS[k % 4] for k in range(400)]
    first = check(catalog, rows)
    distinct = sum(len({str(r.get(name)) for r in REFERRALS[:4]}) for name in rows[0])
    assert first.cohort.ok.all()
    # Probes per distinct value (or combination of the fields checked together), plus one
    # to place the therapies' warnings where a probe warns: never per row.
    assert 0 < len(calls) <= 2 * distinct < 50
    calls.clear()
    check(catalog, rows, first.checker)  # the next chunk of the same run
    assert calls == []


def test_chunks_checked_in_turn_read_as_one_chunk_does(catalog, referrals):
    half = len(REFERRALS) // 2
    one = check(catalog, REFERRALS[:half])
    two = check(catalog, REFERRALS[half:], one.checker)
    for attr in INPUTS:
        whole_codes, whole_values, _ = referrals.cohort.inputs(attr)
        parts = []
        for part in (one, two):
            codes, values, _ = part.cohort.inputs(attr)
            parts += [values[k] for k in codes]
        assert parts == [whole_values[k] for k in whole_codes], attr
    warnings = [*one.cohort.warnings, *two.cohort.warnings]
    assert warnings == list(referrals.cohort.warnings)
