"""Criteria over columns (`matcher.bulk.columns`): a criterion compiled for many referrals gives
each one what `evaluate()` gives it alone, evaluating each distinct input once.

Tested through the public surface only (`compile_node`, `OptionColumns.of/screen`, `pack`,
`missing`), against the single path (`node.evaluate`, `engine.match`) on real criteria: the
internals of the column-wise combination are free to change.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from matcher.bulk.columns import OUTCOMES, OptionColumns, compile_node, missing, pack
from matcher.core.engine import match
from matcher.criteria import AgeCriterion, Context, Criterion, EcogCriterion, IndicationCriterion
from matcher.model.verdict import Outcome, Verdict, missing_data, roll_up
from tests.bulk_rows import REFERRALS, Checked, check

CRITERION = TypeAdapter(Criterion)

LINES_2 = {"prior_lines": {"min": 2}}
ADULT = {"age": {"min": 18}}
CD19 = {"antigen": {"name": "CD19"}}

#: Criteria as a catalog states them, every leaf kind and every way of combining them.
SPECS = {
    "indication": {"indication": ["lbcl"]},
    "indication-several": {"indication": ["mm", "b_all", "hcc"]},
    "antigen-status": CD19,
    "antigen-ihc": {"antigen": {"name": "CLDN18.2", "min_percent": 40, "min_intensity": 2}},
    "antigen-negative": {"antigen": {"name": "HER2", "status": "negative"}},
    "prior-lines-min": LINES_2,
    "prior-lines-max": {"prior_lines": {"max": 1}},
    "therapy-required": {"prior_therapy": {"required": ["btk_inhibitor"]}},
    "therapy-excluded": {"prior_therapy": {"excluded": ["car_t"]}},
    "disease-status": {"disease_status": ["relapsed", "refractory"]},
    "age-range": {"age": {"min": 18, "max": 75}},
    "ecog": {"ecog": {"max": 1}},
    "flag": {"flag": {"name": "cns_involvement", "must_be": False}},
    "flag-pregnant": {"flag": {"name": "pregnant", "must_be": False}},
    "lab-child-pugh": {"lab": {"name": "child_pugh", "max": "B7"}},
    "lab-lvef": {"lab": {"name": "lvef", "min": 50}},
    "sex": {"sex": ["female"]},
    "setting": {"setting": ["adjuvant"]},
    "stage": {"stage": {"system": "MGFA", "allowed": ["IIa", "IIb", "IIIa", "IIIb", "IVa"]}},
    "manual": {"manual": "relapse within 12 months"},
    "soft": {**LINES_2, "soft": True},
    "recoverable-override": {**ADULT, "recoverable": True},
    "ask-override": {**CD19, "ask": "a CD19 result from the referring centre"},
    "all": {"all": [LINES_2, ADULT]},
    "any": {"any": [LINES_2, ADULT, CD19]},
    "not": {"not": {"disease_status": ["newly_diagnosed"]}},
    "not-unknown": {"not": CD19},
    "all-soft": {"all": [LINES_2, CD19], "soft": True},
    "any-recoverable": {"any": [ADULT, {"ecog": {"max": 0}}], "recoverable": False},
    "all-asks-once": {"all": [CD19, {"not": {"antigen": {"name": "CD19", "status": "negative"}}}]},
    "nested": {
        "all": [
            {"not": {"disease_status": ["newly_diagnosed"]}},
            {"any": [LINES_2, {"prior_therapy": {"required": ["autologous_transplant"]}}]},
            {"not": {"any": [{"flag": {"name": "active_infection", "must_be": True}}, CD19]}},
        ]
    },
}


def node_of(spec: dict[str, Any]) -> Any:
    return CRITERION.validate_python(spec)


def column_rows(column: Any, n: int) -> list[tuple[Outcome, bool, list[str]]]:
    """Per row what a compiled criterion gives: its outcome, recoverable flag and asks."""
    return [
        (OUTCOMES[column.out[i]], bool(column.rec[i]), missing(column.asks, i)) for i in range(n)
    ]


def evaluated_rows(
    node: Any, checked: Checked, lexicon: Any
) -> list[tuple[Outcome, bool, list[str]]]:
    """Per row what the single path gives: `evaluate()` on that referral's patient alone."""
    rows = []
    for row in range(checked.cohort.n):
        verdict = node.evaluate(Context(checked.patient(row), lexicon))
        rows.append((verdict.outcome, verdict.recoverable, missing_data([verdict])))
    return rows


@pytest.fixture(scope="module")
def referrals(catalog) -> Checked:
    checked = check(catalog, REFERRALS)
    assert checked.cohort.ok.all() and not checked.slow
    return checked


# ------------------------------------------------------------------- compile_node vs evaluate


@pytest.mark.parametrize("spec", list(SPECS.values()), ids=list(SPECS))
def test_a_compiled_criterion_gives_each_referral_what_evaluate_gives(catalog, referrals, spec):
    node = node_of(spec)
    compiled = compile_node(node, catalog.lexicon, referrals.checker.blank)
    got = column_rows(compiled(referrals.cohort), referrals.cohort.n)
    want = evaluated_rows(node, referrals, catalog.lexicon)
    for row, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g == w, (REFERRALS[row], g, w)


def test_the_specs_reach_every_outcome(catalog, referrals):
    """The comparison above means something: between them the criteria give every outcome,
    recoverable and not, and ask for something."""
    seen: set[tuple[Outcome, bool]] = set()
    asked = False
    for spec in SPECS.values():
        for outcome, recoverable, asks in evaluated_rows(node_of(spec), referrals, catalog.lexicon):
            seen.add((outcome, recoverable))
            asked = asked or bool(asks)
    assert {o for o, _ in seen} == set(Outcome)
    assert {(Outcome.NOT_MET, True), (Outcome.NOT_MET, False)} <= seen and asked


def test_every_catalog_criterion_compiles_to_what_evaluate_gives(catalog, referrals):
    """The cohorts' own criteria and the default safety checks (target, prior target, safety),
    as the catalog builds them, over referrals of every disease."""
    n = referrals.cohort.n
    compared = 0
    for entry in catalog.entries:
        for indication in entry.indications:
            for node in catalog.criteria(entry, indication):
                compiled = compile_node(node, catalog.lexicon, referrals.checker.blank)
                got = column_rows(compiled(referrals.cohort), n)
                want = evaluated_rows(node, referrals, catalog.lexicon)
                assert got == want, (entry.id, indication.id, node.id or node.kind)
                compared += 1
    assert compared > 100


def test_an_empty_chunk_gives_empty_columns(catalog):
    empty = check(catalog, [])
    for spec in (SPECS["all"], SPECS["antigen-ihc"], SPECS["indication"]):
        column = compile_node(node_of(spec), catalog.lexicon, empty.checker.blank)(empty.cohort)
        assert column_rows(column, 0) == [] and len(column.out) == len(column.rec) == 0


# ------------------------------------------------------------------ each distinct input once


def _counting(monkeypatch: pytest.MonkeyPatch, cls: type) -> list[Any]:
    """Record every call of a criterion kind's evaluate()."""
    calls: list[Any] = []
    original = cls.evaluate

    def evaluate(self: Any, ctx: Context) -> Verdict:
        calls.append(ctx.patient)
        return original(self, ctx)

    monkeypatch.setattr(cls, "evaluate", evaluate)
    return calls


def test_a_leaf_is_evaluated_once_per_distinct_value_however_many_rows(
    catalog, monkeypatch: pytest.MonkeyPatch
):
    rows = [{"diagnosis": "DLBCL", "age": age} for age in ["54", "54", "17", None, "80"] * 40]
    chunk = check(catalog, rows)
    calls = _counting(monkeypatch, AgeCriterion)
    compiled = compile_node(node_of(ADULT), catalog.lexicon, chunk.checker.blank)
    column = compiled(chunk.cohort)
    assert len(calls) == 4  # 54, 17, 80 and not given
    assert sorted(str(p.age) for p in calls) == ["17", "54", "80", "None"]
    assert [o for o, _, _ in column_rows(column, 5)] == [
        Outcome.MET,
        Outcome.MET,
        Outcome.NOT_MET,
        Outcome.UNKNOWN,
        Outcome.MET,
    ]


def test_the_leaves_of_a_composite_are_evaluated_per_value_not_per_combination(
    catalog, monkeypatch: pytest.MonkeyPatch
):
    rows = [
        {"diagnosis": "DLBCL", "age": age, "ecog": ecog}
        for age in ("30", "40", "50", "60")
        for ecog in ("0", "1", "2", "3")
    ] * 5
    chunk = check(catalog, rows)
    ages, ecogs = _counting(monkeypatch, AgeCriterion), _counting(monkeypatch, EcogCriterion)
    node = node_of({"all": [ADULT, {"ecog": {"max": 1}}]})
    compile_node(node, catalog.lexicon, chunk.checker.blank)(chunk.cohort)
    assert (len(ages), len(ecogs)) == (4, 4)


def test_a_leaf_reading_two_inputs_is_evaluated_once_per_combination_that_occurs(
    catalog, monkeypatch: pytest.MonkeyPatch
):
    """The disease criterion reads the disease and the candidates of an uncertain reading."""
    rows = [{"diagnosis": d} for d in ("DLBCL", "DLBCL", "MM", "breast cancer, now DLBCL")] * 25
    chunk = check(catalog, rows)
    calls = _counting(monkeypatch, IndicationCriterion)
    compile_node(node_of(SPECS["indication"]), catalog.lexicon, chunk.checker.blank)(chunk.cohort)
    assert len(calls) == 3


def test_values_seen_in_an_earlier_chunk_are_not_evaluated_again(
    catalog, monkeypatch: pytest.MonkeyPatch
):
    first = check(catalog, [{"diagnosis": "DLBCL", "antigens.CD19": v} for v in ("pos", "neg")])
    node = node_of(CD19)
    compiled = compile_node(node, catalog.lexicon, first.checker.blank)
    compiled(first.cohort)
    calls = _counting(monkeypatch, type(node))
    rows = [{"diagnosis": "DLBCL", "antigens.CD19": v} for v in ("neg", "pos", "neg", "60% 2+")]
    second = check(catalog, rows, first.checker)  # the next chunk of the same run
    column = compiled(second.cohort)
    assert len(calls) == 1  # only the IHC result is new
    assert column_rows(column, 4) == evaluated_rows(node, second, catalog.lexicon)


# ------------------------------------------------------------------------ OptionColumns


@pytest.fixture(scope="module")
def single(catalog, referrals) -> dict[bool, list[dict[str, Any]]]:
    """Per include_all, per referral: its options as engine.match gives them, by option."""
    return {
        include_all: [
            {
                (o.entry.id, o.indication.id): o
                for o in match(referrals.patient(row), catalog, include_all=include_all).options
            }
            for row in range(referrals.cohort.n)
        ]
        for include_all in (False, True)
    }


def _option(catalog: Any, entry_id: str, blank: Any) -> OptionColumns:
    entry = next(e for e in catalog.entries if e.id == entry_id)
    indication = entry.indications[0]
    nodes = catalog.criteria(entry, indication)
    return OptionColumns.of(entry, indication, nodes, catalog.lexicon, blank)


def _screen(
    option: OptionColumns,
    checked: Checked,
    include_all: bool,
    texts: list[Any],
    accepted: np.ndarray | None = None,
) -> Any:
    """OptionColumns.screen over the accepted referrals (default: every recognised one); each
    text made is recorded."""
    c = checked.cohort
    if accepted is None:
        accepted = c.ok & np.array(
            [
                checked.patient(row).indication is not None
                or bool(checked.patient(row).indication_candidates)
                for row in range(c.n)
            ]
        )
    codes, tempos, _ = c.inputs("disease_tempo")
    tempo = (np.where(codes == len(tempos) - 1, -1, codes), tempos)  # -1: not given

    def text_of(opt: Any, verdicts: list[Verdict], need: list[str], t: Any, disease: Any) -> Any:
        made = {
            "status": roll_up(verdicts),
            "missing": need,
            "verdicts": [(v.id, v.outcome, v.recoverable) for v in verdicts],
        }
        texts.append(made)
        return made

    return option.screen(c, accepted, tempo, include_all, text_of, pd.factorize)


@pytest.mark.parametrize("include_all", [False, True], ids=["shown", "all"])
def test_each_option_is_shown_to_the_referrals_match_shows_it_to_with_the_same_status(
    catalog, referrals, single, include_all
):
    blank = referrals.checker.blank
    compared = 0
    for entry in catalog.entries:
        for indication in entry.indications:
            nodes = catalog.criteria(entry, indication)
            option = OptionColumns.of(entry, indication, nodes, catalog.lexicon, blank)
            assert option.ids == tuple(n.id or n.kind for n in nodes)
            shown = _screen(option, referrals, include_all, [])
            key = (entry.id, indication.id)
            want = [row for row, options in enumerate(single[include_all]) if key in options]
            assert shown.rows.tolist() == want, key
            for k, row in enumerate(shown.rows.tolist()):
                text = shown.texts[shown.signature[k]]
                engine = single[include_all][row][key]
                assert text["status"] is engine.status, (key, REFERRALS[row])
                assert text["missing"] == engine.missing, (key, REFERRALS[row])
                assert text["verdicts"] == [
                    (v.id, v.outcome, v.recoverable) for v in engine.verdicts
                ], (key, REFERRALS[row])
                compared += 1
    assert compared > 50


def test_an_options_text_is_made_once_per_signature_and_kept_for_the_next_chunk(catalog, referrals):
    option = _option(catalog, "axi-cel", referrals.checker.blank)
    many = check(catalog, [REFERRALS[k % 3] for k in range(90)], referrals.checker)
    made: list[Any] = []
    shown = _screen(option, many, True, made)
    assert len(shown.rows) == 90
    assert len(shown.texts) == len(set(shown.signature.tolist())) == len(made) <= 3
    again: list[Any] = []
    _screen(option, many, True, again)
    assert again == []


def test_rows_not_accepted_are_never_shown(catalog, referrals):
    option = _option(catalog, "axi-cel", referrals.checker.blank)
    accepted = np.zeros(referrals.cohort.n, bool)
    accepted[[0, 1]] = True
    assert _screen(option, referrals, True, [], accepted).rows.tolist() == [0, 1]


# --------------------------------------------------------------------------- pack, missing


def test_pack_numbers_combinations_in_order_of_first_appearance():
    a = np.array([2, 0, 2, 1, 0, 2])
    b = np.array([1, 1, 1, 0, 1, 0])
    codes, first = pack([a, b])
    assert codes.tolist() == [0, 1, 0, 2, 1, 3]
    assert first.tolist() == [0, 1, 3, 5]
    codes_pd, first_pd = pack([a, b], pd.factorize)
    assert (codes_pd.tolist(), first_pd.tolist()) == (codes.tolist(), first.tolist())


def test_pack_of_one_array_and_of_no_rows():
    codes, first = pack([np.array([5, 5, 3, 5, 0])])
    assert (codes.tolist(), first.tolist()) == ([0, 0, 1, 0, 2], [0, 2, 4])
    codes, first = pack([np.zeros(0, np.int64), np.zeros(0, np.int64)])
    assert (codes.tolist(), first.tolist()) == ([], [])


def test_pack_keeps_combinations_apart_when_their_product_overflows_64_bits():
    big = 2**40
    arrays = [
        np.array([big, 0, big, 5, big]),
        np.array([2**30, 1, 2**30, 1, 2**30 - 1]),
        np.array([7, 7, 7, 7, 7]),
    ]
    codes, first = pack(arrays)
    assert codes.tolist() == [0, 1, 0, 2, 3]
    assert first.tolist() == [0, 1, 3, 4]
    # 0 and 2**32, each followed by 5 in a column of radix 2**32, would wrap to one key.
    codes, first = pack([np.array([0, 2**32, 1]), np.array([5, 5, 2**32 - 1])])
    assert (codes.tolist(), first.tolist()) == ([0, 1, 2], [0, 1, 2])


def _by_first_appearance(arrays: list[list[int]], n: int) -> list[int]:
    seen: dict[tuple[int, ...], int] = {}
    return [seen.setdefault(tuple(a[i] for a in arrays), len(seen)) for i in range(n)]


@given(
    st.integers(0, 25).flatmap(
        lambda n: st.lists(
            st.lists(st.integers(0, 4) | st.integers(0, 2**35), min_size=n, max_size=n),
            min_size=1,
            max_size=5,
        )
    )
)
def test_pack_gives_one_code_per_combination_numbered_by_first_appearance(arrays):
    n = len(arrays[0])
    codes, first = pack([np.array(a, dtype=np.int64) for a in arrays])
    want = _by_first_appearance(arrays, n)
    assert codes.tolist() == want
    assert first.tolist() == [want.index(k) for k in range(len(set(want)))]


def test_missing_gives_each_ask_once_in_criterion_order():
    asks = [
        (("CD19 test", "BCMA test"), np.array([0, 1, -1, -1])),
        (("LVEF",), np.array([0, -1, -1, 0])),
        (("CD19 test",), np.array([0, 0, -1, 0])),
    ]
    assert missing(asks, 0) == ["CD19 test", "LVEF"]
    assert missing(asks, 1) == ["BCMA test", "CD19 test"]
    assert missing(asks, 2) == []
    assert missing(asks, 3) == ["LVEF", "CD19 test"]
