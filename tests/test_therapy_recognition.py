"""Prior-therapy wordings as referrals write them map to the right classes.

`tests/data/recognition/therapies.tsv` holds wordings written the way referral letters and
spreadsheets carry them (regimens with cycle counts, doses and dates, brand names, Chinese
names, misspellings), each with the classes it must map to. The expected classes are listed
without their broader classes (cd19_cart, not car_t); the test adds those.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data" / "recognition" / "therapies.tsv"
#: Share of wordings that must map exactly to their expected classes.
MIN_RECOGNITION_RATE = 0.90
#: Classes a criterion excludes or requires, or that name a target antigen: a wording must
#: never gain one of these by mistake (a wrong anti-CD20 or CAR-T reading changes a verdict).
GUARDED = {
    "anti_cd20",
    "car_t",
    "proteasome_inhibitor",
    "imid",
    "btk_inhibitor",
    "immunosuppressant",
    "sle_biologic",
    "glucocorticoid",
    "antimalarial",
    "autologous_transplant",
    "allogeneic_transplant",
}


def _rows() -> list[tuple[str, frozenset[str], str]]:
    with DATA.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [
            (row["text"], frozenset(c for c in row["expected"].split(";") if c), row["note"])
            for row in reader
        ]


ROWS = _rows()


def _with_broader(lexicon, classes) -> set[str]:
    out = set()
    for code in classes:
        while code and code not in out:
            out.add(code)
            known = lexicon.therapy_classes.get(code)
            code = known.parent if known else None
    return out


def _guarded(lexicon) -> set[str]:
    directed = {c.code for c in lexicon.vocabulary.therapy_classes if c.directed_at}
    return GUARDED | directed


def _readings(lexicon):
    for text, expected, _ in ROWS:
        yield text, _with_broader(lexicon, expected), set(lexicon.therapy_classes_of(text))


def test_the_data_is_big_enough_and_names_known_classes(catalog):
    assert len(ROWS) >= 150
    known = set(catalog.lexicon.therapy_classes)
    for text, expected, _ in ROWS:
        assert expected, f"{text}: no expected classes"
        assert expected <= known, f"{text}: unknown classes {expected - known}"


def test_at_least_90_percent_of_wordings_map_exactly(catalog):
    misses = [(t, w, g) for t, w, g in _readings(catalog.lexicon) if w != g]
    rate = 1 - len(misses) / len(ROWS)
    print(f"\ntherapy recognition: {len(ROWS) - len(misses)}/{len(ROWS)} = {rate:.1%}")
    for text, want, got in misses:
        print(f"  MISS {text!r}: expected {sorted(want)}, got {sorted(got) or 'nothing'}")
    assert rate >= MIN_RECOGNITION_RATE


def test_no_wording_gains_a_guarded_class(catalog):
    guarded = _guarded(catalog.lexicon)
    wrong = {
        text: sorted((got - want) & guarded)
        for text, want, got in _readings(catalog.lexicon)
        if (got - want) & guarded
    }
    assert wrong == {}


@pytest.mark.parametrize(
    ("text", "classes"),
    [
        pytest.param("GemOx", {"chemotherapy", "platinum"}, id="gemox-has-no-rituximab"),
        pytest.param("R-GemOx", {"anti_cd20", "chemotherapy", "platinum"}, id="r-gemox"),
        pytest.param("CHOP", {"chemotherapy", "anthracycline"}, id="chop-has-no-rituximab"),
        pytest.param("R-CHOP", {"anti_cd20", "chemotherapy", "anthracycline"}, id="r-chop"),
        pytest.param("rituximab-biosimilar", {"anti_cd20", "sle_biologic"}, id="biosimilar"),
        pytest.param("ICE", {"chemotherapy", "platinum"}, id="ice-has-no-rituximab"),
        pytest.param("blinatumomab", {"cd19_bispecific"}, id="blinatumomab"),
        pytest.param("inotuzumab", {"cd22_adc"}, id="inotuzumab"),
        pytest.param("teclistamab", {"bcma_bispecific"}, id="teclistamab"),
        pytest.param("belantamab", {"bcma_adc"}, id="belantamab"),
        pytest.param("brentuximab vedotin", {"cd30_adc"}, id="brentuximab"),
    ],
)
def test_regimens_are_exactly_their_components(catalog, text, classes):
    lexicon = catalog.lexicon
    assert set(lexicon.therapy_classes_of(text)) == _with_broader(lexicon, classes)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("rituximab + unknown herbal tea", id="one-part-unrecognised"),
        pytest.param("吉西他滨联合某某中药", id="one-chinese-part-unrecognised"),
        pytest.param("clinical trial drug XYZ-123", id="trial-drug"),
        pytest.param("中药", id="herbal-medicine"),
        pytest.param("unknown regimen at outside hospital", id="vague"),
        pytest.param("tislelizumab + something", id="noise-does-not-hide-a-part"),
        pytest.param("6", id="a-number"),
        pytest.param("2023", id="a-year"),
        pytest.param("x6", id="a-count-alone"),
        pytest.param("maintenance", id="a-noise-word-alone"),
        pytest.param("", id="empty"),
    ],
)
def test_what_is_not_recognised_stays_unrecognised(catalog, text):
    assert catalog.lexicon.therapy_classes_of(text) == ()


@pytest.mark.parametrize(
    ("text", "not_class"),
    [
        pytest.param("CHOPP", "anti_cd20", id="chop-misspelt-is-not-r-chop"),
        pytest.param("GemOxx", "anti_cd20", id="gemox-misspelt-is-not-r-gemox"),
        pytest.param("carboplatn", "anthracycline", id="carboplatin-misspelt"),
        pytest.param("lenalidomde", "proteasome_inhibitor", id="lenalidomide-misspelt"),
        pytest.param("daratumumb", "car_t", id="daratumumab-misspelt"),
        pytest.param("tisagenlecleucl", "bcma_cart", id="tisa-cel-misspelt"),
        pytest.param("pomalidomde", "proteasome_inhibitor", id="pomalidomide-misspelt"),
    ],
)
def test_a_misspelling_never_lands_on_another_class(catalog, text, not_class):
    assert not_class not in catalog.lexicon.therapy_classes_of(text)


@pytest.mark.parametrize(
    ("text", "other"),
    [
        pytest.param("carboplatin", "cisplatin", id="platins"),
        pytest.param("ibrutinib", "imatinib", id="tinibs"),
        pytest.param("pomalidomide", "lenalidomide", id="imids"),
        pytest.param("teclistamab", "talquetamab", id="bispecifics"),
    ],
)
def test_fuzzy_cutoff_keeps_lookalike_drugs_apart(text, other):
    from rapidfuzz import fuzz, utils

    from matcher.model.therapy_text import THERAPY_FUZZY_CUTOFF

    score = fuzz.ratio(text, other, processor=utils.default_process)
    assert score < THERAPY_FUZZY_CUTOFF


def test_every_catalog_product_name_maps_to_its_targets(catalog):
    lexicon = catalog.lexicon
    car_t = {c for c in lexicon.therapy_classes if "car_t" in _with_broader(lexicon, [c])}
    wrong = {}
    for entry in catalog.entries:
        names = entry.names
        wanted = {c for t in entry.targets for c in lexicon.classes_directed_at(t) if c in car_t}
        for name in filter(None, [names.inn, *names.chinese, *names.brands, *names.codes]):
            got = set(lexicon.therapy_classes_of(name)) & car_t - {"car_t"}
            if got != wanted:
                wrong[f"{entry.id}: {name}"] = sorted(got)
    assert wrong == {}


def test_no_alias_names_two_different_therapies(catalog):
    from matcher.model.vocabulary import text_key

    seen: dict[str, tuple[str, tuple[str, ...]]] = {}
    clashes = []
    for therapy in catalog.lexicon.vocabulary.therapies:
        for name in (therapy.name, *therapy.aliases):
            key = text_key(name)
            if key in seen and set(seen[key][1]) != set(therapy.classes):
                clashes.append(f"{name}: {seen[key][0]} and {therapy.name}")
            seen.setdefault(key, (therapy.name, tuple(therapy.classes)))
    assert clashes == []
