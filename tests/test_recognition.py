"""Diagnoses as referrals write them (tests/data/recognition/diagnoses.tsv) are read right.

The wordings were written for this test, not copied from the vocabulary: English and Chinese,
abbreviations, misspellings, stage and status words, ICD-10 codes. A reading counts only when
it is certain (one that needs confirming leaves the diagnosis unrecognised).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data" / "recognition" / "diagnoses.tsv"
#: Share of all wordings that must be read as the right disease.
MIN_RECOGNITION_RATE = 0.95
NOT_A_CATALOG_DISEASE = "-"


def _rows(path: Path = DATA) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        lines = [line for line in f if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def _catalog_diseases(catalog: Any) -> set[str]:
    """Every disease code a catalog indication or criterion names."""
    codes: set[str] = set()

    def walk(node: Any) -> None:
        if node.kind == "indication":
            codes.update(node.indication)
        for child in [*(getattr(node, "all", None) or []), *(getattr(node, "any", None) or [])]:
            walk(child)
        if node.kind == "not":
            walk(node.not_)

    for entry in catalog.entries:
        for indication in entry.indications:
            codes.update(indication.diseases)
            for criterion in indication.criteria:
                walk(criterion)
    return codes


def _reading(catalog: Any, text: str) -> str | None:
    found = catalog.lexicon.resolve_diagnosis(text)
    return found.code if found is not None and found.certain else None


def _misses(catalog: Any, rows: list[dict[str, str]]) -> list[str]:
    return [
        f"{row['text']!r}: read {_reading(catalog, row['text'])}, expected {row['expected']}"
        for row in rows
        if _reading(catalog, row["text"]) != row["expected"]
    ]


def test_the_wordings_name_known_diseases(catalog):
    for row in _rows():
        if row["expected"] != NOT_A_CATALOG_DISEASE:
            assert row["expected"] in catalog.lexicon.diseases, row["text"]
    assert len(_rows()) >= 300


def test_most_wordings_are_read_as_the_right_disease(catalog):
    rows = [r for r in _rows() if r["expected"] != NOT_A_CATALOG_DISEASE]
    misses = _misses(catalog, rows)
    rate = 1 - len(misses) / len(rows)
    print(f"\nrecognised {len(rows) - len(misses)}/{len(rows)} ({rate:.1%})", *misses, sep="\n  ")
    assert rate >= MIN_RECOGNITION_RATE


def test_every_wording_of_a_catalog_disease_is_read_right(catalog):
    lex = catalog.lexicon
    wanted = _catalog_diseases(catalog)
    rows = [
        r
        for r in _rows()
        if r["expected"] != NOT_A_CATALOG_DISEASE
        and any(lex.is_within(r["expected"], code) for code in wanted)
    ]
    assert len(rows) >= 100
    assert _misses(catalog, rows) == []


def test_unrelated_text_is_never_a_catalog_disease(catalog):
    lex = catalog.lexicon
    wanted = _catalog_diseases(catalog)
    wrong = []
    for row in _rows():
        if row["expected"] != NOT_A_CATALOG_DISEASE:
            continue
        found = lex.resolve_diagnosis(row["text"])
        code = found.code if found else None
        if code and any(lex.is_within(code, w) or lex.is_within(w, code) for w in wanted):
            wrong.append(f"{row['text']!r} read as {code}")
    assert wrong == []


@pytest.mark.parametrize(
    ("text", "code"),
    [
        pytest.param("xyz carcinoma of the left foot", "cancer_not_in_vocabulary", id="carcinoma"),
        pytest.param("某某罕见癌", "cancer_not_in_vocabulary", id="chinese-cancer"),
        pytest.param("未分类的淋巴瘤", "lymphoma", id="lymphoma"),
        pytest.param("急性未分类白血病", "leukaemia", id="leukaemia"),
    ],
)
def test_a_cancer_no_tier_knows_is_still_a_cancer(catalog, text, code):
    found = catalog.lexicon.resolve_diagnosis(text)
    assert found is not None and found.code == code and found.certain


def test_a_cancer_not_in_the_vocabulary_fails_every_disease_criterion(catalog):
    lex = catalog.lexicon
    for code in _catalog_diseases(catalog):
        assert not lex.is_within("cancer_not_in_vocabulary", code)
        assert not lex.is_within(code, "cancer_not_in_vocabulary")


@pytest.mark.parametrize(
    ("text", "unwanted"),
    [
        pytest.param("ovarain cancr", "lymphoma", id="cancer-not-lymphoma"),
        pytest.param("ITPx", "leukaemia", id="immune-not-leukaemia"),
        pytest.param("Hodgkins lymphomma", "cancer", id="lymphoma-not-cancer"),
    ],
)
def test_did_you_mean_stays_within_the_kind_of_disease(catalog, text, unwanted):
    for name in catalog.lexicon.closest_diseases(text):
        assert unwanted not in name.casefold() or "lymphoma" in text


def test_did_you_mean_offers_a_close_name(catalog):
    assert "Hodgkin lymphoma" in catalog.lexicon.closest_diseases("Hodgkins lymphomma")


HELD_OUT = Path(__file__).parent / "data" / "recognition" / "diagnoses_heldout.tsv"


def test_held_out_wordings_are_read_as_their_disease_or_one_within_it(catalog):
    """Wordings written after the tier was built. A reading one step more specific (DLBCL, GCB
    type) or broader within the same disease (gastric or GEJ for gastric cancer) counts here;
    the exact rate is printed."""
    lex = catalog.lexicon
    rows = _rows(HELD_OUT)
    exact, close, misses = 0, 0, []
    for row in rows:
        got, want = _reading(catalog, row["text"]), row["expected"]
        if got == want:
            exact += 1
        elif got and (lex.is_within(got, want) or lex.is_within(want, got)):
            close += 1
        else:
            misses.append(f"{row['text']!r}: read {got}, expected {want}")
    n = len(rows)
    print(
        f"\nheld out: exact {exact}/{n}, exact or within {exact + close}/{n}", *misses, sep="\n  "
    )
    assert n >= 80 and (exact + close) / n >= MIN_RECOGNITION_RATE


def test_no_disease_outside_the_catalog_yields_an_eligible_or_possible_option(catalog):
    """Every wording of a disease no cohort treats (or of none at all) ranks no option that
    could send a family on: nothing eligible or possible."""
    from matcher.core.engine import match
    from matcher.core.patient import load_patient
    from tests.conftest import TODAY

    lex = catalog.lexicon
    wanted = _catalog_diseases(catalog)
    rows = _rows() + _rows(HELD_OUT)
    outside = [
        r
        for r in rows
        if r["expected"] == NOT_A_CATALOG_DISEASE
        or not any(
            lex.is_within(r["expected"], w) or lex.is_within(w, r["expected"]) for w in wanted
        )
    ]
    assert len(outside) >= 100
    offered = []
    for row in outside:
        patient, warnings = load_patient({"diagnosis": row["text"]}, lex, TODAY)
        result = match(patient, catalog, warnings=warnings)
        offered += [(row["text"], o.entry.id) for o in result.options]
    assert offered == []
