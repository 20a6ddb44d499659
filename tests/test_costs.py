"""Cost model (DESIGN section 6): the real rules/costs.yaml and the real catalog entries.

The Done-when numbers of the cost issue are asserted twice: against the literal calibration
ranges (what a coordinator checks) and against the figures in rules/costs.yaml (so editing a
figure without re-checking the calibration fails here).
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from matcher.core.catalog import Catalog, CatalogVersion
from matcher.core.cost_estimate import CostEstimate
from matcher.core.costs import estimate
from matcher.core.engine import match
from matcher.core.entry import Entry
from matcher.core.patient import load_patient
from matcher.curation.loader import load_catalog, read_yaml
from matcher.errors import CartmatchError
from matcher.model.cost_model import CostModel
from matcher.model.lexicon import Lexicon
from matcher.model.patient import Patient

TODAY = date(2026, 11, 23)
FIGURE_KEYS = ({"low", "high"}, {"cap_cny"})


@pytest.fixture(scope="module")
def root() -> Path:
    return Path(__file__).parents[1]


@pytest.fixture(scope="module")
def loaded(root: Path) -> tuple[dict[str, Entry], Any]:
    entries, rules = load_catalog(root / "catalog", root / "rules")
    return {e.id: e for e in entries}, rules


@pytest.fixture(scope="module")
def entries(loaded: tuple[dict[str, Entry], Any]) -> dict[str, Entry]:
    return loaded[0]


@pytest.fixture(scope="module")
def model(loaded: tuple[dict[str, Entry], Any]) -> CostModel:
    return loaded[1].costs


@pytest.fixture(scope="module")
def raw(root: Path) -> dict[str, Any]:
    return read_yaml(root / "rules" / "costs.yaml")


def patient(loaded: tuple[dict[str, Entry], Any], **fields: Any) -> Patient:
    profile = {"indication": "lbcl", "age": 55, "prior_lines": 2,
               "disease_status": "refractory", **fields}  # fmt: skip
    found, _ = load_patient(profile, Lexicon(loaded[1].vocabulary), TODAY)
    return found


def axi_cel(entries: dict[str, Entry], model: CostModel, who: Patient | None, **kw: Any):
    entry = entries["axi-cel"]
    return estimate(entry, entry.indication("lbcl-3l"), who, model, **kw)


def iit_entry(entries: dict[str, Entry]) -> Entry:
    """tyu19 once the catalog has it, else any IIT entry, else a minimal IIT built here."""
    for entry_id in ("tyu19", "tyu19-allo-cd19"):
        if entry_id in entries:
            return entries[entry_id]
    found = next((e for e in entries.values() if e.track == "iit"), None)
    return found or Entry.model_validate(MINIMAL_IIT)


MINIMAL_IIT = {
    "id": "tyu19",
    "name": "TyU19 allogeneic CD19 CAR-T (IIT)",
    "sponsor": {
        "value": "Shanghai Changzheng Hospital IIT; product BRL Medicine",
        "sources": ["S69"],
    },
    "targets": ["CD19"],
    "cell_source": "allogeneic",
    "track": "iit",
    "status": {"value": "recruiting", "sources": ["S67"]},
    "indications": [
        {
            "id": "sle",
            "title": "Refractory SLE",
            "diseases": ["sle"],
            "status": {"value": "recruiting", "sources": ["S67"]},
            "criteria": [{"id": "disease", "text": "SLE", "indication": ["sle"]}],
        }
    ],
    "sources": {
        "S67": {"title": "Allogeneic CD19 CAR-T in myositis and systemic sclerosis (Cell 2024)"},
        "S69": {"title": "首个通用CAR-T治疗风湿免疫疾病成果 (People's Daily Health)"},
    },
    "last_verified": "2026-11-23",
}


def pathway_sum(raw: dict[str, Any], track: str, key: str, *, rapid: bool = False) -> float:
    """Sum of a track's care-pathway components in rules/costs.yaml (drug excluded)."""
    parts = raw["tracks"][track]["components"]
    return sum(c[key] for c in parts if c.get("when", "always") == "always" or rapid)


def line(est: CostEstimate, name: str):
    return next(c for c in est.components if c.name == name)


# -- Done when: China commercial --------------------------------------------------------------


def test_axi_cel_refractory_dlbcl_total_and_drug_share(entries, model, raw, loaded):
    est = axi_cel(entries, model, patient(loaded, disease_tempo="stable"))
    assert est.track == "china_commercial" and est.currency == "CNY"
    assert 1_100_000 <= est.low <= est.high <= 1_650_000
    assert 0.70 <= est.drug_share <= 0.80
    # The drug is axi-cel's own list price; the rest is the yaml's China care pathway.
    drug = line(est, "drug")
    assert drug.low == drug.high == entries["axi-cel"].price.amount_cny == 1_200_000
    assert est.low == 1_200_000 + pathway_sum(raw, "china_commercial", "low")
    assert est.high == 1_200_000 + pathway_sum(raw, "china_commercial", "high")
    ref = raw["tracks"]["china_commercial"]["reference_total"]
    assert ref["low"] <= est.low <= est.high <= ref["high"]
    share = raw["tracks"]["china_commercial"]["drug_share_reference"]
    assert share["low"] <= est.drug_share <= share["high"]
    # C05 quotes the same total as USD 150,000-230,000.
    assert 150_000 <= est.usd_low <= est.usd_high <= 230_000
    assert est.price_known and est.confidence == "medium"


def test_complicated_scenario_is_higher(entries, model, raw):
    est = axi_cel(entries, model, None)
    complicated = est.scenario_total("complicated")
    extras = {c["name"]: c for c in raw["tracks"]["china_commercial"]["extras"]}
    assert complicated.adds == ("severe_crs_icans", "extended_stay")
    added = {key: sum(extras[name][key] for name in complicated.adds) for key in ("low", "high")}
    assert complicated.low == est.low + added["low"]
    assert complicated.high == est.high + added["high"]
    assert complicated.low > est.low and complicated.high > est.high
    folded = axi_cel(entries, model, None, scenario="complicated")
    assert (folded.low, folded.high) == (complicated.low, complicated.high)
    assert folded.scenario_total("complicated") is None
    with pytest.raises(CartmatchError, match="did you mean complicated"):
        axi_cel(entries, model, None, scenario="complicatd")


def test_every_scenario_widens_the_range(entries, model):
    est = axi_cel(entries, model, None)
    names = {s.name for s in est.scenarios}
    assert {"bridging", "severe_crs_icans", "extended_stay", "complicated"} <= names
    assert all(s.high > est.high for s in est.scenarios)


def test_several_infusions_repeat_drug_and_lymphodepletion(entries, model, raw):
    entry = entries["satri-cel"]
    indication = next(i for i in entry.indications if i.max_infusions > 1)
    est = estimate(entry, indication, None, model)
    several = est.scenario_total("several_infusions")
    extra = indication.max_infusions - 1
    lympho = raw["tracks"]["china_commercial"]["components"][0]
    assert lympho["name"] == "lymphodepletion"
    # satri-cel's price unit is unknown: extra infusions cost from no more product (a price per
    # course) to a product each (a price per infusion); lymphodepletion is repeated either way.
    assert entry.price.unit == "unknown"
    assert several.low == est.low + extra * lympho["low"]
    assert several.high == est.high + extra * (line(est, "drug").high + lympho["high"])


# -- Done when: trial track and US reference --------------------------------------------------


@pytest.mark.parametrize("source", ["catalog", "minimal"])
def test_iit_total_in_usd_40_to_60k_with_low_confidence(entries, model, raw, source):
    entry = iit_entry(entries) if source == "catalog" else Entry.model_validate(MINIMAL_IIT)
    assert entry.track == "iit"
    est = estimate(entry, entry.indications[0], None, model)
    assert est.track == "china_trial"
    assert 40_000 <= est.usd_low <= est.usd_high <= 60_000
    ref = raw["tracks"]["china_trial"]["reference_total"]
    assert ref["currency"] == "USD"
    assert ref["low"] <= est.usd_low <= est.usd_high <= ref["high"]
    assert line(est, "drug").high == 0  # product free in the trial
    assert est.confidence == "low"
    assert any(n.startswith("low confidence") for n in est.notes)
    assert est.as_dict()["confidence"] == "low"


def test_us_reference_for_the_same_indication(entries, model, raw):
    entry = iit_entry(entries)
    us = estimate(entry, entry.indications[0], None, model).us_reference
    assert us["usd_low"] >= 600_000
    us_track = raw["tracks"]["us_reference"]
    assert us["usd_low"] == us_track["drug"]["default"]["low"] + pathway_sum(
        raw, "us_reference", "low"
    )
    assert us_track["reference_total"]["low"] <= us["usd_low"]
    assert us["usd_high"] <= us_track["reference_total"]["high"]
    assert us["complicated_usd_high"] > us["usd_high"]


def test_registrational_trial_uses_the_trial_track(entries, model):
    entry = entries.get("c-car031")
    if entry is None:
        pytest.skip("c-car031 not in the catalog yet")
    est = estimate(entry, entry.indications[0], None, model)
    assert est.track == "china_trial" and est.drug_basis == "track_default"
    assert 40_000 <= est.usd_low <= est.usd_high <= 60_000


def test_filed_product_without_a_price_has_an_unknown_total(entries, model):
    """A filed product's price is not set: never the approved products' band (issue 9)."""
    entry = entries["im19"]
    est = estimate(entry, entry.indications[0], None, model)
    assert (est.low, est.high, est.usd_low, est.usd_high) == (None, None, None, None)
    assert est.drug_basis == "unknown" and not est.price_known and est.confidence == "low"
    assert "drug" not in {c.name for c in est.components}
    assert any(n.startswith("list price not set") for n in est.notes)


def test_approved_product_without_a_price_gets_the_sourced_band(entries, model, raw):
    entry = next(
        e
        for e in entries.values()
        if e.track == "nmpa_commercial"
        and not (e.price and (e.price.amount_cny or e.price.band_cny))
    )
    est = estimate(entry, entry.indications[0], None, model)
    band = raw["tracks"]["china_commercial"]["drug"]["default"]
    assert (line(est, "drug").low, line(est, "drug").high) == (band["low"], band["high"])
    assert any(n.startswith("list price unknown") for n in est.notes)


# -- Done when: tempo, exchange rate -----------------------------------------------------------


def test_rapid_tempo_adds_bridging(entries, model, raw, loaded):
    stable = axi_cel(entries, model, patient(loaded, disease_tempo="stable"))
    rapid = axi_cel(entries, model, patient(loaded, disease_tempo="rapid"))
    bridging = next(c for c in raw["tracks"]["china_commercial"]["components"]
                    if c["name"] == "bridging_therapy")  # fmt: skip
    assert "bridging_therapy" not in {c.name for c in stable.components}
    assert "bridging_therapy" in {c.name for c in rapid.components}
    assert rapid.low - stable.low == bridging["low"]
    assert rapid.high - stable.high == bridging["high"]
    assert rapid.scenario_total("bridging") is None
    assert stable.scenario_total("bridging").low == rapid.low
    unknown = axi_cel(entries, model, patient(loaded))
    assert (unknown.low, unknown.high) == (stable.low, stable.high)
    assert any("bridging" in n and "not included" in n for n in unknown.notes)


def usd_free(data: Any) -> Any:
    """The estimate's JSON without USD figures and the rate that produced them (its value,
    date and sources)."""
    if isinstance(data, dict):
        return {k: usd_free(v) for k, v in data.items()
                if not k.startswith(("usd_", "fx_"))}  # fmt: skip
    if isinstance(data, list):
        return [usd_free(v) for v in data]
    return data


def test_fx_changes_usd_and_nothing_else(entries, model, raw):
    assert model.fx_cny_per_usd == raw["fx_cny_per_usd"]
    base = axi_cel(entries, model, None)
    other = axi_cel(entries, model, None, fx=6.5)
    assert base.fx_rate == raw["fx_cny_per_usd"] and other.fx_rate == 6.5
    # The model's rate has its date and source; a rate given for this match has neither.
    assert base.fx_date and base.fx_sources and set(base.fx_sources) <= base.sources.keys()
    assert other.fx_date is None and other.fx_sources == ()
    only_fx = base.sources.keys() - other.sources.keys()
    assert only_fx and only_fx <= set(base.fx_sources)  # the rate's own sources go with it
    drop = lambda data: {**data, "sources": {k: v for k, v in data["sources"].items()  # noqa: E731
                                             if k not in only_fx}}  # fmt: skip
    assert usd_free(drop(base.as_dict())) == usd_free(drop(other.as_dict()))
    assert (other.low, other.high) == (base.low, base.high)
    assert other.usd_low == round(base.low / 6.5) != base.usd_low
    assert line(other, "hospitalisation").usd_high == round(216_000 / 6.5)
    assert other.us_reference == base.us_reference  # US figures are USD already
    with pytest.raises(CartmatchError):
        axi_cel(entries, model, None, fx=0)


def test_currency_usd_view(entries, model):
    est = axi_cel(entries, model, None)
    usd = est.converted("USD")
    assert usd["currency"] == "USD"
    assert (usd["low"], usd["high"]) == (est.usd_low, est.usd_high)
    assert all(c["currency"] == "USD" and c["low"] == c["usd_low"] for c in usd["components"])
    assert est.converted("cny") == est.as_dict()
    with pytest.raises(CartmatchError):
        est.converted("EUR")


# -- insurance and budget ----------------------------------------------------------------------


def test_insurance_is_context_not_subtracted(entries, model, raw):
    est = axi_cel(entries, model, None)
    ins = est.insurance
    assert ins["commercial_innovative_list"] is True and ins["subtracted"] is False
    cap = raw["insurance"]["huiminbao"][0]["cap_cny"]
    assert [h["cap_cny"] for h in ins["huiminbao"]] == [cap] == [500_000]
    assert est.low == sum(c.low for c in est.components)  # nothing taken off the total
    assert set(ins["sources"]) <= set(est.sources)


def test_budget_flags_but_does_not_hide(entries, model, loaded):
    who = patient(loaded, budget_cny=1_000_000)
    assert axi_cel(entries, model, who).over_budget is True
    trial = iit_entry(entries)
    assert estimate(trial, trial.indications[0], who, model).over_budget is False
    assert axi_cel(entries, model, None).over_budget is None
    catalog = Catalog(list(entries.values()), loaded[1], CatalogVersion(version="t", entries=1))
    result = match(who, catalog)
    axi = [o for o in result.options if o.entry.id == "axi-cel"]
    assert axi, "an option over budget must still be shown"
    assert all(o.cost.over_budget for o in axi)
    assert all(any("exceeds the budget" in n for n in o.notes) for o in axi)


# -- every figure has a source and a date ------------------------------------------------------


def figures(node: Any, where: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every mapping in costs.yaml that carries an amount, with its dotted location."""
    found = []
    if isinstance(node, dict):
        if any(keys <= node.keys() for keys in FIGURE_KEYS):
            found.append((where, node))
        for key, value in node.items():
            found += figures(value, f"{where}.{key}" if where else str(key))
    elif isinstance(node, list):
        for n, value in enumerate(node):
            found += figures(value, f"{where}.{n}")
    return found


def test_every_cost_figure_has_a_source_and_a_date(raw):
    found = figures({k: v for k, v in raw.items() if k != "sources"})
    assert len(found) >= 25
    found.append(("fx_source", raw["fx_source"]))
    table = raw["sources"]
    for where, figure in found:
        assert figure.get("sources"), f"{where}: no source"
        assert str(figure.get("date") or "").strip(), f"{where}: no date"
        for source_id in figure["sources"]:
            source = table.get(source_id)
            assert source, f"{where}: source {source_id} not in the sources table"
            assert source.get("title") and source.get("url") and source.get("date"), source_id
    for where, figure in found:
        if figure.get("confidence") != "high" and "low" in figure:
            assert figure.get("basis"), f"{where}: a non-high figure must say how it was obtained"


@pytest.mark.parametrize(
    ("path", "change"),
    [
        (("tracks", "china_commercial", "components", 1), {"sources": []}),
        (("tracks", "china_commercial", "components", 1), {"date": None}),
        (("tracks", "us_reference", "drug", "default"), {"sources": ["X99"]}),
        (("insurance", "huiminbao", 0), {"date": ""}),
        (("fx_source",), {"sources": []}),
    ],
)
def test_a_figure_without_source_or_date_is_rejected(raw, path, change):
    broken = copy.deepcopy(raw)
    node = broken
    for part in path:
        node = node[part]
    node.update(change)
    with pytest.raises(ValidationError):
        CostModel.model_validate(broken)


def test_estimate_json_carries_sources_for_every_line(entries, model):
    data = axi_cel(entries, model, None).as_dict()
    for key in ("track", "currency", "low", "high", "usd_low", "usd_high", "components"):
        assert key in data
    for comp in data["components"]:
        assert {"name", "low", "high", "currency", "sources", "date"} <= comp.keys()
        assert all(s in data["sources"] for s in comp["sources"])
    assert data["fx_date"] and data["fx_sources"]
    json.dumps(data, ensure_ascii=False)
