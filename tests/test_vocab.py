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


# -- disease tiers: OncoTree, ICD-10, backstop -------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        pytest.param("C83.3", "dlbcl", id="icd10-curated"),
        pytest.param("C16.9", "gastric_adenocarcinoma", id="icd10-under-a-listed-category"),
        pytest.param("M32.1", "sle", id="icd10-sle"),
        pytest.param("icd-10: m32.14", "lupus_nephritis", id="icd10-prefix-lower-case"),
        pytest.param("C56", "oncotree:ovary", id="icd10-to-oncotree"),
        pytest.param("C26.9", "icd10:c26.9", id="icd10-generic"),
        pytest.param("ovarian cancer", "oncotree:ovary", id="oncotree-name"),
        pytest.param("Diffuse Large B-Cell Lymphoma, NOS", "dlbcl", id="oncotree-name-of-curated"),
        pytest.param("胶质母细胞瘤", "oncotree:gb", id="chinese-extra"),
    ],
)
def test_tiers_resolve(catalog, text, code):
    found = catalog.lexicon.resolve_diagnosis(text)
    assert found is not None and found.code == code and found.certain


def test_oncotree_subtypes_hang_below_curated_diseases(catalog):
    lex = catalog.lexicon
    assert lex.is_within("oncotree:gcb", "dlbcl")
    assert lex.is_within("oncotree:dstad", "gastric_adenocarcinoma")
    assert lex.is_within("oncotree:luad", "lung_cancer")
    assert lex.ancestors("oncotree:gcb")[:3] == ["oncotree:gcb", "dlbcl", "lbcl"]


def test_oncotree_does_not_put_curated_diseases_inside_one_another(catalog):
    lex = catalog.lexicon
    assert not lex.is_within("hcc", "gastric_gej_adenocarcinoma")
    assert not lex.is_within("oncotree:escc", "gastric_gej_adenocarcinoma")
    assert not lex.is_within("mm", "b_nhl") and not lex.is_within("mm", "nhl")
    assert not lex.is_within("oncotree:mgus", "nhl")
    assert not lex.is_within("oncotree:midda", "b_nhl")
    assert lex.is_within("lupus_nephritis", "sle") and not lex.is_within("sle", "lupus_nephritis")


def test_curated_diseases_keep_their_place(catalog):
    """Which catalog-named disease is within which is what it was before the new tiers."""
    lex = catalog.lexicon
    named = ["lbcl", "b_nhl", "nhl", "fl", "mcl", "mm", "b_all", "t_all", "aml", "ptcl", "hcc"]
    named += ["gastric_gej_adenocarcinoma", "pancreatic_adenocarcinoma", "sle", "lupus_nephritis"]
    named += ["systemic_sclerosis", "inflammatory_myopathy", "myasthenia_gravis", "nmosd"]
    named += ["multiple_sclerosis", "sjogren"]
    within = {(a, b) for a in named for b in named if a != b and lex.is_within(a, b)}
    assert within == {
        ("lbcl", "b_nhl"), ("lbcl", "nhl"), ("b_nhl", "nhl"), ("fl", "b_nhl"), ("fl", "nhl"),
        ("mcl", "b_nhl"), ("mcl", "nhl"), ("ptcl", "nhl"), ("lupus_nephritis", "sle"),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "code"),
    [
        pytest.param("xyz carcinoma of the left foot", "cancer_not_in_vocabulary", id="cancer"),
        pytest.param("未分类的淋巴瘤", "lymphoma", id="lymphoma"),
        pytest.param("急性未分类白血病", "leukaemia", id="leukaemia"),
    ],
)
def test_backstop_reads_unplaced_cancers(catalog, text, code):
    found = catalog.lexicon.resolve_diagnosis(text)
    assert (found.code, found.certain) == (code, True)


def test_ambiguous_abbreviation_is_read_only_alone(catalog):
    lex = catalog.lexicon
    assert lex.resolve_diagnosis("MS").code == "multiple_sclerosis"
    found = lex.resolve_diagnosis("MS lesion seen on MRI report")
    assert found is None or found.code != "multiple_sclerosis"


def test_did_you_mean_never_crosses_kinds(catalog):
    lex = catalog.lexicon
    assert all("lymphoma" not in n.casefold() for n in lex.closest_diseases("ovarain cancr"))
    assert lex.closest_diseases("xyzzy") == []


def test_the_quick_curated_reading_is_the_full_reading(catalog):
    lex = catalog.lexicon
    lex._index_all_diseases()
    for key, code in lex._curated_names.items():
        assert lex._disease_names[key] == code
