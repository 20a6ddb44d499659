"""Importers: ClinicalTrials.gov v2 records and pages (CAR-T only), spreadsheets of updates."""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from pathlib import Path

import pytest

from matcher.core.entry import Entry
from matcher.curation.importers import ctgov
from matcher.curation.importers import study as ctgov_study
from matcher.curation.importers.cart import rejection
from matcher.curation.importers.spreadsheet import (
    import_sheet,
    parse_price,
    parse_sites,
    read_sheet,
)
from matcher.curation.loader import load_entry
from matcher.curation.refresh import checker, entry_data
from matcher.errors import CatalogError

DATA = Path(__file__).parent / "data" / "refresh"
CTGOV = DATA / "ctgov"
TODAY = date(2026, 11, 23)
TCR_T = {"NCT05438667", "NCT06898385", "NCT03745326"}


def studies(name: str) -> list[dict]:
    data = json.loads((CTGOV / name).read_text(encoding="utf-8"))
    return data.get("studies", [data])


def write_page(path: Path, records: list[dict]) -> Path:
    path.write_text(json.dumps({"studies": records, "nextPageToken": "x"}), encoding="utf-8")
    return path


def run_import(catalog, path: Path, state: dict | None = None):
    state = {} if state is None else state
    outcome = ctgov.import_studies(path, state, catalog.lexicon, checker(catalog), TODAY)
    return state, outcome


def gpc3_record() -> dict:
    return copy.deepcopy(studies("NCT09900001.json")[0])


# -- ClinicalTrials.gov ------------------------------------------------------------------------


def test_a_single_car_t_record_becomes_a_trial_entry_needing_review(catalog):
    state, outcome = run_import(catalog, CTGOV / "NCT09900001.json")
    assert list(state) == ["nct09900001"] and outcome.touched == ["nct09900001"]
    entry = Entry.model_validate(state["nct09900001"])
    assert entry.track == "iit"  # hospital sponsor, phase 1
    assert entry.targets == ["GPC3"] and entry.cell_source == "autologous"
    assert entry.status.value == "recruiting"
    assert [t.id for t in entry.trial_ids] == ["NCT09900001", "ChiCTR2600099001"]
    assert entry.needs_review[0].startswith(ctgov.IMPORT_MARK)
    assert entry.sources["ctgov-NCT09900001"].url == "https://clinicaltrials.gov/study/NCT09900001"
    assert entry.sources["ctgov-NCT09900001"].date == "2026-10-02"
    assert entry.last_verified == date(2026, 11, 14)  # the registry snapshot it was read from
    (indication,) = entry.indications
    assert indication.diseases == ["hcc"]
    kinds = [c.kind for c in indication.criteria]
    assert kinds == ["indication", "age", "manual"]  # no sex criterion: the study takes all
    assert (indication.criteria[1].age.min, indication.criteria[1].age.max) == (18, 75)
    assert "Exclusion Criteria" in indication.label.value
    assert outcome.raw[0]["nct_id"] == "NCT09900001"
    assert json.loads(outcome.raw[0]["body"]) == gpc3_record()


def test_only_sites_in_mainland_china_are_kept_each_with_its_own_status(catalog):
    state, _ = run_import(catalog, CTGOV / "NCT09900001.json")
    sites = [(s["name"], s["city"], s["status"]) for s in state["nct09900001"]["sites"]]
    assert sites == [
        ("Zhongshan Hospital, Fudan University", "Shanghai", "recruiting"),
        ("Sun Yat-sen University Cancer Center", "Guangzhou", "not_yet_recruiting"),
        (
            "The First Affiliated Hospital, Zhejiang University School of Medicine",
            "Hangzhou",
            "active_not_recruiting",
        ),
    ]


def test_a_page_mixing_car_t_and_other_studies_imports_the_car_t_ones_only(catalog, tmp_path):
    records = studies("studies_page_kras_g12c.json") + studies("synthetic_page.json")
    records.insert(3, gpc3_record())
    state, outcome = run_import(catalog, write_page(tmp_path / "page.json", records))
    assert sorted(state) == ["nct09900001", "nct09900003"]
    reasons = {s["record"]: s["reason"] for s in outcome.skipped}
    assert len(reasons) == len(records) - 2
    for nct in TCR_T:
        assert "TCR-T" in reasons[nct]
    assert "CAR-NK" in reasons["NCT09900002"]
    assert "classification and regression tree" in reasons["NCT09900004"]
    assert "mainland China" in reasons["NCT09900005"]
    assert "no chimeric antigen receptor" in reasons["NCT06008288"]
    assert all(s["sources"] for e in state.values() for s in e["sites"])


def test_a_company_phase_2_trial_is_registrational(catalog):
    state, _ = run_import(catalog, CTGOV / "synthetic_page.json")
    entry = Entry.model_validate(state["nct09900003"])
    assert entry.track == "registrational_trial"
    assert entry.targets == ["CLDN18.2"]
    assert entry.indications[0].diseases == ["gastric_adenocarcinoma", "gej_adenocarcinoma"]
    assert any("inferred from the registry" in item for item in entry.needs_review)


def test_sex_and_ages_in_months_are_read(catalog, tmp_path):
    record = gpc3_record()
    record["protocolSection"]["eligibilityModule"].update(sex="FEMALE", minimumAge="6 Months")
    state, _ = run_import(catalog, write_page(tmp_path / "p.json", [record]))
    criteria = {c["id"]: c for c in state["nct09900001"]["indications"][0]["criteria"]}
    assert criteria["sex"]["sex"] == ["female"]
    assert criteria["age"]["age"] == {"min": 0.5, "max": 75.0}


def test_every_match_on_an_imported_entry_says_it_needs_review(catalog, tmp_path):
    from matcher.core.catalog import Catalog, CatalogVersion
    from tests.conftest import run_match, status_of

    state, _ = run_import(catalog, CTGOV / "NCT09900001.json")
    entries = [*catalog.entries, Entry.model_validate(state["nct09900001"])]
    bigger = Catalog(entries, catalog.rules, CatalogVersion(version="t", entries=len(entries)))
    result = run_match(bigger, diagnosis="hepatocellular carcinoma", age=50, sex="male")
    assert status_of(result, "nct09900001/study") == "possible"  # never eligible
    option = next(o for o in result.options if o.entry.id == "nct09900001")
    assert any(n.startswith("needs review: " + ctgov.IMPORT_MARK) for n in option.notes)


def test_conditions_outside_the_vocabulary_are_flagged_or_skip_the_study(catalog, tmp_path):
    some = gpc3_record()
    some["protocolSection"]["conditionsModule"]["conditions"].append("Made-up Syndrome")
    none = gpc3_record()
    none["protocolSection"]["identificationModule"]["nctId"] = "NCT09900011"
    none["protocolSection"]["conditionsModule"]["conditions"] = ["Made-up Syndrome"]
    state, outcome = run_import(catalog, write_page(tmp_path / "p.json", [some, none]))
    review = state["nct09900001"]["indications"][0]["needs_review"]
    assert any("Made-up Syndrome" in item for item in review)
    assert "nct09900011" not in state
    assert "not in the disease vocabulary" in outcome.skipped[0]["reason"]


def test_a_target_not_in_the_vocabulary_skips_the_study(catalog, tmp_path):
    record = gpc3_record()
    ident = record["protocolSection"]["identificationModule"]
    ident["briefTitle"] = ident["officialTitle"] = "ROR1 CAR-T Cells in Hepatocellular Carcinoma"
    interventions = record["protocolSection"]["armsInterventionsModule"]["interventions"]
    interventions[0] = {"type": "BIOLOGICAL", "name": "ROR1 CAR-T cells"}
    state, outcome = run_import(catalog, write_page(tmp_path / "p.json", [record]))
    assert state == {} and "target antigen" in outcome.skipped[0]["reason"]


@pytest.mark.parametrize(
    ("title", "interventions", "purpose", "reason"),
    [
        ("Tocilizumab for CRS After CAR-T Cell Therapy", [("DRUG", "Tocilizumab")],
         "SUPPORTIVE_CARE", "supportive_care"),
        ("Anti-CD19 CAR-NK Cells in Lymphoma", [("BIOLOGICAL", "CD19 CAR-NK cells")],
         "TREATMENT", "CAR-NK"),
        ("Mesothelin TCR-T Cells in Mesothelioma", [("BIOLOGICAL", "TCR-T cells")],
         "TREATMENT", "TCR-T"),
    ],
)  # fmt: skip
def test_near_misses_are_rejected_with_their_reason(title, interventions, purpose, reason):
    record = gpc3_record()
    proto = record["protocolSection"]
    proto["identificationModule"].update(briefTitle=title, officialTitle=title)
    proto["armsInterventionsModule"]["interventions"] = [
        {"type": kind, "name": name} for kind, name in interventions
    ]
    proto["designModule"]["designInfo"]["primaryPurpose"] = purpose
    assert reason in (rejection(record) or "")


@pytest.mark.parametrize(
    "text",
    ["CART19 cells", "CAR T cells targeting BCMA", "Chimeric Antigen Receptor T Cells",
     "Redirected Autologous T Cells With a Chimeric Antigen Receptor", "anti-CD7 CAR-T"],
)  # fmt: skip
def test_car_t_is_recognised_in_its_usual_spellings(text):
    record = gpc3_record()
    record["protocolSection"]["identificationModule"].update(briefTitle=text, officialTitle=text)
    record["protocolSection"]["armsInterventionsModule"]["interventions"] = []
    assert rejection(record) is None


def test_a_curated_entry_gets_only_registry_facts_never_new_criteria(catalog):
    curated = load_entry(DATA / "curated" / "entries" / "gpc3-hai-demo.yaml",
                         catalog.rules, catalog.lexicon)  # fmt: skip
    state = {"gpc3-hai-demo": entry_data(curated)}
    state, outcome = run_import(catalog, CTGOV / "NCT09900001.json", state)
    assert list(state) == ["gpc3-hai-demo"] and outcome.touched == ["gpc3-hai-demo"]
    after = Entry.model_validate(state["gpc3-hai-demo"])
    assert after.indications[0].criteria == curated.indications[0].criteria
    assert after.indications[0].title == curated.indications[0].title
    assert after.needs_review == curated.needs_review and after.track == "iit"
    assert after.status.value == "recruiting"
    assert after.indications[0].status.value == "recruiting"  # it followed the trial
    assert after.sites[0].name == "Zhongshan Hospital, Fudan University"
    assert all(s.last_verified == date(2026, 11, 14) for s in after.sites)


def test_a_product_citing_the_trial_is_left_alone_with_a_note(catalog):
    curated = load_entry(DATA / "curated" / "entries" / "gpc3-hai-demo.yaml",
                         catalog.rules, catalog.lexicon)  # fmt: skip
    data = entry_data(curated)
    data["track"] = "nmpa_commercial"
    state = {"gpc3-hai-demo": data}
    before = copy.deepcopy(data)
    state, outcome = run_import(catalog, CTGOV / "NCT09900001.json", state)
    assert state["gpc3-hai-demo"] == before and outcome.touched == []
    assert "not applied" in outcome.notes[0]


def test_a_second_import_updates_an_imported_entry_and_closes_its_cohorts(catalog, tmp_path):
    state, _ = run_import(catalog, CTGOV / "NCT09900001.json")
    record = gpc3_record()
    record["protocolSection"]["statusModule"]["overallStatus"] = "COMPLETED"
    state, _ = run_import(catalog, write_page(tmp_path / "p.json", [record]), state)
    entry = Entry.model_validate(state["nct09900001"])
    assert entry.status.value == "completed"
    assert entry.indications[0].status.value == "completed"


def test_a_record_that_is_not_car_t_at_all_is_skipped(catalog):
    state, outcome = run_import(catalog, CTGOV / "NCT06008288.json")
    assert state == {} and outcome.skipped[0]["record"] == "NCT06008288"


def test_broken_json_names_the_file_line_and_column(catalog):
    with pytest.raises(CatalogError, match=r"broken\.json line 25, column 7: invalid JSON"):
        run_import(catalog, DATA / "broken.json")


def test_json_that_is_not_a_study_says_so(catalog, tmp_path):
    other = tmp_path / "other.json"
    other.write_text('{"nctid": "NCT03302403", "raw_criteria": "..."}', encoding="utf-8")
    with pytest.raises(CatalogError, match=r"not a ClinicalTrials\.gov API v2 study record"):
        run_import(catalog, other)
    record = gpc3_record()
    record["protocolSection"]["identificationModule"]["nctId"] = "NCT123"
    with pytest.raises(CatalogError, match=r"studies\.0\.protocolSection.*nctId: 'NCT123'"):
        run_import(catalog, write_page(tmp_path / "p.json", [record]))


def real_study(nct: str) -> ctgov_study.Study:
    (record,) = [r for r in studies("studies_page_kras_g12c.json") if nct in json.dumps(r)[:400]]
    return ctgov_study.Study(nct, "record", record)


def test_site_and_central_contacts_are_kept_as_the_public_record_gives_them(catalog):
    # A real record (a TCR-T study, so never imported; its facts are read the same way).
    facts = ctgov_study.read_facts(real_study("NCT06898385"), catalog.lexicon, TODAY)
    (site,) = facts.sites
    assert (site["name"], site["city"], site["province"], site["country"]) == (
        "Sun Yat-sen University Cancer Center", "Guangzhou", "Guangdong", "China")  # fmt: skip
    assert (site["status"], site["status_as_of"]) == ("recruiting", "2025-05-30")
    routes = [(c["kind"], c["value"], c.get("label")) for c in site["contacts"]]
    assert routes == [
        ("trial_contact", "020-87342487", "Li Yuhong, MD (contact)"),
        ("email", "liyh@sysucc.org.cn", "Li Yuhong, MD (contact)"),
        ("person", "Li Yuhong, MD", "principal investigator"),  # named, no number of their own
    ]
    trial = facts.trial_ids[0]
    assert trial["url"] == "https://clinicaltrials.gov/study/NCT06898385"
    assert (trial["overall_status"], trial["last_update"], trial["verified"]) == (
        "RECRUITING", "2025-05-30", "2025-05")  # fmt: skip
    assert {c["value"] for c in trial["contacts"]} == {"87342487 ext. 020", "liyh@sysucc.org.cn"}
    assert all(c["sources"] == ["ctgov-NCT06898385"] for c in trial["contacts"])


def test_municipalities_read_as_their_province_name(catalog):
    facts = ctgov_study.read_facts(real_study("NCT06008288"), catalog.lexicon, TODAY)
    places = {(s["city"], s.get("province")) for s in facts.sites}
    assert ("Beijing", "Beijing") in places and ("Hefei", "Anhui") in places
    assert facts.trial_ids[0]["contacts"][0]["value"] == "86-21-80423288"


def test_an_imported_entry_links_the_record_with_its_dates(catalog):
    state, _ = run_import(catalog, CTGOV / "NCT09900001.json")
    entry = Entry.model_validate(state["nct09900001"])
    trial = entry.trial_ids[0]
    assert trial.url == "https://clinicaltrials.gov/study/NCT09900001"
    assert (trial.overall_status, trial.last_update, trial.verified) == (
        "RECRUITING", "2026-10-02", "2026-10")  # fmt: skip
    assert [s.province for s in entry.sites] == ["Shanghai", "Guangdong", "Zhejiang"]
    assert {s.status_as_of for s in entry.sites} == {"2026-10-02"}  # the record's last update


def test_show_prints_the_record_link_status_and_dates(runner, db_path):
    from matcher.cli import cli

    imported = runner.invoke(
        cli, ["catalog", "refresh", str(CTGOV / "NCT09900001.json"), "--apply"]
    )
    assert imported.exit_code == 0, imported.stderr
    shown = runner.invoke(cli, ["show", "nct09900001"]).stdout
    assert (
        "registry status RECRUITING · record updated 2026-10-02 · verified 2026-10 · "
        "https://clinicaltrials.gov/study/NCT09900001"
    ) in shown


def newer_gpc3_record() -> dict:
    record = gpc3_record()
    status = record["protocolSection"]["statusModule"]
    status.update(overallStatus="ACTIVE_NOT_RECRUITING", statusVerifiedDate="2026-11")
    status["lastUpdatePostDateStruct"]["date"] = "2026-11-20"
    record["derivedSection"]["miscInfoModule"]["versionHolder"] = "2026-11-25"
    locations = record["protocolSection"]["contactsLocationsModule"]["locations"]
    locations[0]["status"] = "COMPLETED"
    locations[1]["status"] = "RECRUITING"
    locations[1]["contacts"] = [{"name": "Trial Office", "role": "CONTACT", "phone": "020-1"}]
    return record


def test_a_newer_record_updates_sites_and_the_diff_shows_each_site_status(catalog, tmp_path):
    from matcher.core.catalog import Catalog, CatalogVersion
    from matcher.curation.refresh import plan_refresh
    from matcher.render.catalog import diff_text

    state, _ = run_import(catalog, CTGOV / "NCT09900001.json")
    held = Catalog([Entry.model_validate(state["nct09900001"])], catalog.rules,
                   CatalogVersion(version="t", entries=1))  # fmt: skip
    newer = write_page(tmp_path / "newer.json", [newer_gpc3_record()])
    text = diff_text(plan_refresh([newer], held, today=TODAY).diff())
    zhongshan = "sites[Zhongshan Hospital, Fudan University]"
    assert f"{zhongshan}.status: 'recruiting' -> 'completed'" in text
    assert f"{zhongshan}.status_as_of: '2026-10-02' -> '2026-11-20'" in text
    assert "trial_ids[NCT09900001].overall_status: 'RECRUITING' -> 'ACTIVE_NOT_RECRUITING'" in text
    assert (
        "NCT09900001 (record updated 2026-11-20), sites: Zhongshan Hospital, Fudan University "
        "(Shanghai): recruiting -> completed; Sun Yat-sen University Cancer Center (Guangzhou): "
        "not_yet_recruiting -> recruiting"
    ) in text
    assert "sites[Sun Yat-sen University Cancer Center].contacts: [] -> " in text


def test_an_older_record_does_not_roll_back_the_sites_or_the_link(catalog, tmp_path):
    from matcher.core.catalog import Catalog, CatalogVersion
    from matcher.curation.refresh import plan_refresh

    state, _ = run_import(catalog, write_page(tmp_path / "n.json", [newer_gpc3_record()]))
    held = Catalog([Entry.model_validate(state["nct09900001"])], catalog.rules,
                   CatalogVersion(version="t", entries=1))  # fmt: skip
    plan = plan_refresh([CTGOV / "NCT09900001.json"], held, today=TODAY)
    after = plan.proposed["nct09900001"]
    assert after.sites[0].status == "completed" and after.trial_ids[0].last_update == "2026-11-20"
    assert any(o["field"] == "sites" and not o["applied"] for o in plan.older)
    assert any("older than the one the entry holds" in n for n in plan.notes)


def test_a_curated_site_keeps_its_chinese_name_when_the_registry_updates_it(catalog):
    curated = load_entry(DATA / "curated" / "entries" / "gpc3-hai-demo.yaml",
                         catalog.rules, catalog.lexicon)  # fmt: skip
    data = entry_data(curated)
    site = {"name": "Zhongshan Hospital, Fudan University", "name_zh": "复旦大学附属中山医院"}
    data["sites"] = [{**site, "status": "not_yet_recruiting", "sources": ["T1"]}]
    data["trial_ids"][0]["note"] = "curated note"
    state, outcome = run_import(catalog, CTGOV / "NCT09900001.json", {"gpc3-hai-demo": data})
    after = Entry.model_validate(state["gpc3-hai-demo"])
    zhongshan = after.sites[0]
    assert zhongshan.name_zh == "复旦大学附属中山医院" and zhongshan.status == "recruiting"
    assert zhongshan.sources == ["T1", "ctgov-NCT09900001"]
    assert after.trial_ids[0].note == "curated note" and after.trial_ids[0].verified == "2026-10"
    assert any("not_yet_recruiting -> recruiting" in n for n in outcome.notes)


def test_json_nested_past_the_limit_is_one_sentence(catalog, tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text('{"studies": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        run_import(catalog, deep)
    assert str(caught.value) == (
        f"{deep}: nested 100,001 levels deep, over the limit of 16 for a ClinicalTrials.gov "
        "file; download the record again, or raise CARTMATCH_MAX_JSON_DEPTH"
    )
    brackets_in_text = gpc3_record()
    brackets_in_text["protocolSection"]["identificationModule"]["briefTitle"] += " [[[[" * 40
    run_import(catalog, write_page(tmp_path / "ok.json", [brackets_in_text]))  # no error
    huge = tmp_path / "huge.json"
    huge.write_text('{"protocolSection": {"x": ' + "9" * 5000 + "}}", encoding="utf-8")
    with pytest.raises(CatalogError, match="a number in the file is too long to read"):
        run_import(catalog, huge)


def _paths(node, path=()):
    yield path
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else []
    )
    for key, child in items:
        yield from _paths(child, (*path, key))


def test_every_field_of_the_wrong_shape_is_read_as_absent_never_a_traceback(catalog, tmp_path):
    record = gpc3_record()
    office = {"name": "Trial Office", "role": "CONTACT", "phone": "021-1", "email": "a@b.cn"}
    record["protocolSection"]["contactsLocationsModule"]["centralContacts"] = [office]
    hostile = ["text", 7, None, ["list"], {"key": 1}]
    failures = []
    for path in [p for p in _paths(record) if p]:
        for value in hostile:
            broken = copy.deepcopy(record)
            parent = broken
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = value
            try:
                run_import(catalog, write_page(tmp_path / "h.json", [broken]))
            except CatalogError:
                pass
            except Exception as error:  # the point is that none escapes
                failures.append(f"{'.'.join(map(str, path))}={value!r}: {error!r}")
    assert failures == []


# -- spreadsheets ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"), [("1100000", 1100000), ("1,100,000", 1100000), ("¥ 998,000", 998000)]
)
def test_prices_are_read_with_separators_and_currency_signs(text, value):
    assert parse_price(text) == value


def test_sites_are_read_as_name_city_status():
    sites = parse_sites("Hospital A / Beijing / recruiting; Hospital B / Shanghai; Hospital C")
    assert sites == [
        {"name": "Hospital A", "city": "Beijing", "status": "recruiting"},
        {"name": "Hospital B", "city": "Shanghai"},
        {"name": "Hospital C"},
    ]


def test_a_gb18030_csv_from_excel_is_read(tmp_path):
    path = tmp_path / "zh.csv"
    path.write_bytes(
        "id,sponsor,source,as_of\naxi-cel,复星凯特,价格通知,2026-11-01\n".encode("gb18030")
    )
    assert read_sheet(path) == [
        (2, {"id": "axi-cel", "sponsor": "复星凯特", "source": "价格通知", "as_of": "2026-11-01"})
    ]


def test_an_xlsx_with_number_and_date_cells_is_read(catalog, tmp_path):
    import datetime

    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["ID", "list_price_cny", "source", "as_of"])
    book.active.append(["axi-cel", 1100000, "Price notice", datetime.datetime(2026, 11, 1)])
    book.save(tmp_path / "u.xlsx")
    state = {e.id: entry_data(e) for e in catalog.entries}
    outcome = import_sheet(tmp_path / "u.xlsx", state, checker(catalog))
    assert outcome.touched == ["axi-cel"]
    price = state["axi-cel"]["price"]
    assert price["amount_cny"] == 1100000 and price["last_verified"] == "2026-11-01"


def test_a_status_update_closes_the_cohorts_that_followed_it(catalog):
    state = {e.id: entry_data(e) for e in catalog.entries}
    trial = next(e for e in catalog.entries if e.track in ("iit", "registrational_trial"))
    path = DATA / "updates.csv"
    rows = [(n, {**row, "id": trial.id, "status": "closed", "list_price_cny": "", "sites": ""})
            for n, row in read_sheet(path)][:1]  # fmt: skip
    from matcher.curation.importers.spreadsheet import apply_row

    after = Entry.model_validate(apply_row(state[trial.id], rows[0][1]))
    assert after.status.value == "closed"
    assert {i.status.value for i in after.indications} == {"closed"}


def sheet(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "updates.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_two_rows_for_one_entry_reject_the_sheet_and_change_nothing(catalog, tmp_path):
    path = sheet(
        tmp_path,
        "id,list_price_cny,source,as_of\n"
        "axi-cel,1100000,Notice A,2026-11-01\n"
        "Axi-Cel,1000000,Notice B,2026-11-02\n",
    )
    state = {e.id: entry_data(e) for e in catalog.entries}
    before = copy.deepcopy(state)
    with pytest.raises(CatalogError) as caught:
        import_sheet(path, state, checker(catalog), TODAY)
    assert str(caught.value) == (
        f"{path} rows 2 and 3 both update 'axi-cel': put each entry on one row"
    )
    assert state == before  # no price, no orphan source for either row


def test_an_as_of_after_the_reference_date_is_rejected(catalog, tmp_path):
    path = sheet(
        tmp_path,
        "id,sponsor,source,as_of\naxi-cel,Kite,Letter,2026-11-01\nrelma-cel,JW,Letter,2099-01-01\n",
    )
    state = {e.id: entry_data(e) for e in catalog.entries}
    with pytest.raises(CatalogError) as caught:
        import_sheet(path, state, checker(catalog), TODAY)
    assert str(caught.value) == (
        f"{path} row 3, column as_of: 2099-01-01 is later than the reference date 2026-11-23 "
        "(--today, default today); fix the sheet and run the refresh again"
    )
    state = {e.id: entry_data(e) for e in catalog.entries}
    on_the_day = sheet(tmp_path, "id,sponsor,source,as_of\naxi-cel,Kite,Letter,2026-11-23\n")
    import_sheet(on_the_day, state, checker(catalog), TODAY)
    assert state["axi-cel"]["sponsor"]["last_verified"] == "2026-11-23"


def indication_statuses(data: dict) -> dict[str, str]:
    return {i["id"]: i["status"]["value"] for i in data["indications"]}


def test_an_indication_column_sets_that_indications_status_only(catalog, tmp_path):
    state = {e.id: entry_data(e) for e in catalog.entries}
    before = indication_statuses(state["relma-cel"])
    assert len(before) > 1 and before["fl"] == "approved"
    path = sheet(
        tmp_path,
        "id,indication,status,source,as_of\nrelma-cel,FL,withdrawn,Label notice,2026-11-01\n",
    )
    outcome = import_sheet(path, state, checker(catalog), TODAY)
    assert outcome.touched == ["relma-cel"] and outcome.notes == []
    after = Entry.model_validate(state["relma-cel"])
    assert after.status.value == "approved"  # the entry keeps its own status
    assert indication_statuses(state["relma-cel"]) == {**before, "fl": "withdrawn"}
    fl = next(i for i in after.indications if i.id == "fl")
    assert fl.status.last_verified == date(2026, 11, 1)
    assert after.sources[fl.status.sources[0]].title == "Label notice"


def test_an_entry_row_and_indication_rows_combine_the_indication_wins(catalog, tmp_path):
    state = {e.id: entry_data(e) for e in catalog.entries}
    path = sheet(
        tmp_path,
        "id,indication,status,source,as_of\n"
        "relma-cel,fl,approved,Letter,2026-11-01\n"
        "relma-cel,,closed,Letter,2026-11-01\n",
    )
    outcome = import_sheet(path, state, checker(catalog), TODAY)
    statuses = indication_statuses(state["relma-cel"])
    assert statuses.pop("fl") == "approved" and set(statuses.values()) == {"closed"}
    assert "fl approved -> approved (row 2)" in outcome.notes[0]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("relma-cel,fll,closed,,Letter,2026-11-01",
         "row 2, column indication: 'fll' is not an indication of 'relma-cel' (did you mean fl?)"),
        ("relma-cel,fl,closed,JW,Letter,2026-11-01",
         "row 2, column indication: a row naming indication 'fl' sets its status only, but this "
         "one also changes sponsor"),
        ("relma-cel,fl,,JW,Letter,2026-11-01",
         "row 2, column status: missing: a row naming indication 'fl' sets its status"),
        ("relma-cel,fl,closed,,Letter,2026-11-01\nrelma-cel,fl,approved,,Letter,2026-11-01",
         "rows 2 and 3 both update 'relma-cel' indication 'fl': put each indication on one row"),
    ],
)  # fmt: skip
def test_bad_indication_rows_are_named(catalog, tmp_path, rows, expected):
    path = sheet(tmp_path, f"id,indication,status,sponsor,source,as_of\n{rows}\n")
    state = {e.id: entry_data(e) for e in catalog.entries}
    with pytest.raises(CatalogError, match=re.escape(expected)):
        import_sheet(path, state, checker(catalog), TODAY)


def test_an_entry_status_notes_what_each_of_several_indications_becomes(catalog, tmp_path):
    state = {e.id: entry_data(e) for e in catalog.entries}
    before = indication_statuses(state["relma-cel"])
    path = sheet(tmp_path, "id,status,source,as_of\nrelma-cel,closed,Letter,2026-11-01\n")
    outcome = import_sheet(path, state, checker(catalog), TODAY)
    changes = ", ".join(f"{i} {s} -> closed" for i, s in before.items())
    assert outcome.notes == [
        f"{path} row 2: status 'closed' for 'relma-cel' is applied to its {len(before)} "
        f"indications too: {changes}; to change one indication only, name it in an "
        "`indication` column"
    ]
