"""Where to send the patient: sites, look-ups by place, match --city, `cartmatch sites`."""

from __future__ import annotations

import json

import pytest

from matcher.cli import cli
from matcher.core.lookup import lookup
from matcher.core.places import Place, at_place


def invoke(runner, *args):
    return runner.invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize(
    ("query", "entry_id"),
    [
        pytest.param("Ruijin", "axi-cel", id="ruijin"),
        pytest.param("瑞金", "axi-cel", id="ruijin-zh"),
        pytest.param("Renji", "gc012f", id="renji"),
        pytest.param("仁济", "relma-cel", id="renji-zh"),
        pytest.param("GoBroad", "gobroad-cd19-bcma", id="gobroad"),
        pytest.param("高博", "satri-cel", id="gobroad-zh"),
        pytest.param("北京", "pcar-19b", id="beijing-zh"),
        pytest.param("Beijing Children's Hospital", "pcar-19b", id="bch"),
        pytest.param("同济医院", "eque-cel-ms", id="tongji-zh"),
        pytest.param("宜昌", "inati-cel", id="yichang-zh"),
        pytest.param("Shanghai First People's Hospital", "hrain-cd19", id="shgh-alias"),
    ],
)
def test_lookup_finds_hospitals_and_cities(runner, query, entry_id):
    result = invoke(runner, "lookup", query, "--format", "json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert entry_id in [h["entry_id"] for h in hits]
    assert not any(h["why"].startswith("name like") for h in hits)  # no unrelated fuzzy hits


def test_lookup_by_a_short_form_names_the_hospital_and_its_programmes(runner):
    result = invoke(runner, "lookup", "协和")
    assert result.exit_code == 0
    assert "Peking Union Medical College Hospital (北京协和医院), Beijing" in result.stdout
    assert "listed as a site by 1 entry" in result.stdout
    assert result.stdout.startswith("inati-cel ")  # its SLE-ITP study (NEJM 2024)


def test_match_city_keeps_options_with_a_site_there_and_counts_the_rest(runner):
    args = ["match", "--diagnosis", "multiple myeloma", "--prior-lines", "4", "--status"]
    args += ["refractory", "--age", "64", "--format", "json"]
    everywhere = json.loads(invoke(runner, *args).stdout)
    wuhan = json.loads(invoke(runner, *args, "--city", "武汉").stdout)
    kept = {o["entry_id"] for o in wuhan["options"]}
    assert kept == {"eque-cel", "tongji-bcma-gprc5d-cart"}
    assert wuhan["place"] == "Wuhan"
    assert wuhan["hidden"]["no_site_there"] == len(everywhere["options"]) - len(kept)
    text = invoke(runner, *args[:-2], "--city", "Wuhan").stdout
    assert "with no site listed in Wuhan" in text


def test_match_province_and_an_unknown_city(runner):
    args = ["match", "--diagnosis", "DLBCL", "--prior-lines", "2", "--status", "refractory"]
    guangdong = json.loads(invoke(runner, *args, "--province", "广东", "--format", "json").stdout)
    in_guangdong = {o["entry_id"] for o in guangdong["options"]}
    assert in_guangdong == {"axi-cel", "axi-cel-ctdna-reinfusion", "relma-cel"}  # Zhujiang
    bad = invoke(runner, *args, "--city", "Shangai")
    assert bad.exit_code == 1 and "did you mean Shanghai?" in bad.stderr


def test_the_place_filter_is_a_pure_function(catalog):
    shanghai = at_place(catalog.entries, catalog.places, Place(city="Shanghai"))
    assert {"axi-cel", "gc012f", "satri-cel", "relma-cel"} <= shanghai
    assert "pcar-19b" not in shanghai


def test_sites_lists_each_hospital_once_with_its_programmes(runner):
    result = invoke(runner, "sites", "--city", "Wuhan", "--format", "json")
    assert result.exit_code == 0, result.output
    (tongji,) = json.loads(result.stdout)
    assert tongji["name_zh"] == "华中科技大学同济医学院附属同济医院"
    assert {p["entry_id"] for p in tongji["programmes"]} >= {"eque-cel", "eque-cel-sle"}
    assert any(c["kind"] == "switchboard" and c["sources"] for c in tongji["contacts"])
    assert tongji["international_service"] is None  # no source says: unknown, not no
    text = invoke(runner, "sites", "--entry", "axi-cel").stdout
    assert "Ruijin Hospital" in text and "international patient service: unknown" in text


def test_show_gives_sites_with_chinese_names_and_status_dates(runner):
    text = invoke(runner, "show", "axi-cel", "--today", "2026-11-23").stdout
    assert "(上海交通大学医学院附属瑞金医院) · Shanghai, Shanghai" in text
    assert "site not_yet_recruiting as of 2026-11-29" in text


def test_every_approved_product_names_its_sites_with_city_and_source(catalog):
    approved = [e for e in catalog.entries if e.track == "nmpa_commercial"]
    counts = {e.id: len([s for s in e.sites if s.city and s.sources]) for e in approved}
    short = {k for k, n in counts.items() if n < 2}
    assert short == set(), counts


def test_lookup_finds_every_listed_hospital_by_its_english_and_chinese_names(catalog):
    index = catalog.places  # the catalog's PlaceIndex
    missed = []
    for entry in catalog.entries:
        for site in entry.sites:
            hospital = index.hospital(site)
            names = [site.name, site.name_zh, hospital and hospital.name, hospital and hospital.zh]
            for name in dict.fromkeys(n for n in names if n):
                if entry.id not in {h.entry.id for h in lookup(name, catalog, limit=1000)}:
                    missed.append(f"{entry.id}: {name}")
    assert missed == []
