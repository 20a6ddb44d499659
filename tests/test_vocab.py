"""Normalisation of free text: diagnoses (EN/ZH, typos, hierarchy), antigens, therapies."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("text", "code"),
    [
        pytest.param("DLBCL", "dlbcl", id="abbreviation"),
        pytest.param("dlbcl", "dlbcl", id="lower-case-alone"),
        pytest.param("弥漫大B细胞淋巴瘤", "dlbcl", id="chinese"),
        pytest.param("复发难治性弥漫大B细胞淋巴瘤", "dlbcl", id="chinese-with-status"),
        pytest.param("difuse large b-cell lymphoma", "dlbcl", id="typo"),
        pytest.param("refractory DLBCL after R-CHOP", "dlbcl", id="inside-a-sentence"),
        pytest.param("stomach adenocarcinoma", "gastric_adenocarcinoma", id="stomach"),
        pytest.param("胃癌", "gastric_gej_adenocarcinoma", id="gastric-chinese"),
        pytest.param("胃食管结合部腺癌", "gej_adenocarcinoma", id="gej-chinese"),
        pytest.param("lupus nephritis", "lupus_nephritis", id="lupus-nephritis"),
        pytest.param("狼疮肾炎", "lupus_nephritis", id="lupus-nephritis-chinese"),
        pytest.param("系统性红斑狼疮", "sle", id="sle-chinese"),
        pytest.param("多发性骨髓瘤", "mm", id="myeloma-chinese"),
        pytest.param("肝细胞癌", "hcc", id="hcc-chinese"),
        pytest.param("relapsed MM", "mm", id="short-abbreviation-in-case"),
        pytest.param("Hodgkin lymphoma", "hodgkin_lymphoma", id="hodgkin-not-nhl"),
        pytest.param("lymphoma", "lymphoma", id="unspecified-lymphoma-stays-broad"),
    ],
)
def test_diagnoses_resolve_to_codes(catalog, text, code):
    found = catalog.lexicon.resolve_diagnosis(text)
    assert found is not None and found.code == code


@pytest.mark.parametrize("text", ["5 mm lesion in the liver wall", "chest pain", ""])
def test_unrelated_text_is_not_a_disease(catalog, text):
    found = catalog.lexicon.resolve_diagnosis(text)
    assert found is None or found.code != "mm"


def test_hierarchy_lbcl_covers_its_subtypes(catalog):
    lex = catalog.lexicon
    for sub in ("dlbcl", "pmbcl", "hgbcl", "tfl"):
        assert lex.is_within(sub, "lbcl")
    assert not lex.is_within("fl", "lbcl")
    assert not lex.is_within("lbcl", "dlbcl")


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("Claudin 18.2", "CLDN18.2"),
        ("claudin18_2", "CLDN18.2"),
        ("ERBB2", "HER2"),
        ("Glypican-3", "GPC3"),
        ("cd19", "CD19"),
        ("TNFRSF17", "BCMA"),
    ],
)
def test_antigen_aliases(catalog, name, canonical):
    assert catalog.lexicon.antigen(name) == canonical


@pytest.mark.parametrize(
    ("therapy", "cls"),
    [
        ("ibrutinib", "btk_inhibitor"),
        ("bortezomib", "proteasome_inhibitor"),
        ("lenalidomide", "imid"),
        ("axi-cel", "cd19_cart"),
        ("ASCT", "autologous_transplant"),
        ("来那度胺", "imid"),
        ("bortezomb", "proteasome_inhibitor"),
    ],
)
def test_therapies_map_to_classes(catalog, therapy, cls):
    assert cls in catalog.lexicon.therapy_classes_of(therapy)


def test_a_specific_car_t_is_also_a_car_t(catalog):
    assert "car_t" in catalog.lexicon.therapy_classes_of("cilta-cel")


@pytest.mark.parametrize(
    ("text", "method", "code"),
    [
        pytest.param("系统性红斑狼疮伴狼疮肾炎", "contains", "lupus_nephritis", id="most-specific"),
        pytest.param("DLBCL transformed from FL", "broad", "lbcl", id="common-group-lbcl"),
        pytest.param("DLBCL (prior Hodgkin lymphoma)", "broad", "lymphoma", id="common-group"),
        pytest.param("history of breast cancer, now DLBCL", "ambiguous", None, id="unrelated"),
        pytest.param("anaplastic large cell lymphoma", "exact", "alcl", id="t-cell-not-b-cell"),
        pytest.param("chronic myeloid leukemia", "exact", "cml", id="cml-not-aml"),
        pytest.param("smoldering myeloma", "exact", "smoldering_myeloma", id="smm-not-mm"),
    ],
)
def test_every_disease_named_counts(catalog, text, method, code):
    found = catalog.lexicon.resolve_diagnosis(text)
    assert (found.method, found.code) == (method, code)
