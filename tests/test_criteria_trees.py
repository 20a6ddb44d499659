"""Random criteria trees screen the same in bulk as one referral at a time.

Every leaf kind of the registry appears in the pool; trees nest `all`, `any` and `not`
with soft and recoverable settings; the referrals are the bulk property test's. A leaf kind
over a profile field bulk screening has never heard of (here `country`) screens with no edit
to the bulk code."""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from matcher.bulk.screening import screen_frame, screen_rows
from matcher.core.catalog import Catalog, CatalogVersion
from matcher.criteria import LEAVES, Context, Criterion, Node
from matcher.criteria.registry import kind_of
from matcher.model.verdict import Outcome, Verdict
from tests.test_screen import GOOD, TODAY, _frame, _native, referral

LEAF_SPECS: list[dict[str, Any]] = [
    {"indication": ["lbcl"]},
    {"indication": ["mm", "lbcl"]},
    {"antigen": {"name": "CD19"}},
    {"antigen": {"name": "HER2", "status": "negative"}},
    {"antigen": {"name": "CLDN18.2", "min_percent": 40, "min_intensity": 2}},
    {"prior_lines": {"min": 2}},
    {"prior_lines": {"min": 1, "max": 1}},
    {"prior_therapy": {"required": ["proteasome_inhibitor", "imid"]}},
    {"prior_therapy": {"excluded": ["car_t"]}},
    {"disease_status": ["relapsed", "refractory"]},
    {"age": {"min": 18, "max": 70}},
    {"ecog": {"max": 1}},
    {"flag": {"name": "pregnant", "must_be": False}},
    {"flag": {"name": "active_infection", "must_be": False}},
    {"lab": {"name": "lvef", "min": 50}},
    {"lab": {"name": "egfr", "min": 60}},
    {"sex": ["female"]},
    {"manual": "the protocol's other criteria"},
    {"target": {"antigens": ["CD19", "BCMA"]}},
    {"prior_target": {"antigens": ["CD19"]}},
    {"setting": ["adjuvant"]},
    {"stage": {"system": "CNLC", "allowed": ["IIb", "IIIa"]}},
]
ADAPTER: TypeAdapter[Any] = TypeAdapter(Criterion)


def test_the_pool_has_every_leaf_kind_of_the_registry():
    assert {kind_of(cls) for cls in LEAVES} == {next(iter(spec)) for spec in LEAF_SPECS}


def _settings(spec: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    extra = draw(st.sampled_from([{}, {}, {"soft": True}, {"recoverable": True}]))
    return {**spec, **extra}


@st.composite
def tree(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    shape = draw(st.sampled_from(["leaf"] * 3 + (["all", "any", "not"] if depth < 3 else [])))
    if shape == "leaf":
        return _settings(draw(st.sampled_from(LEAF_SPECS)), draw)
    if shape == "not":
        return _settings({"not": draw(tree(depth + 1))}, draw)
    children = draw(st.lists(tree(depth + 1), min_size=1, max_size=3))
    return _settings({shape: children}, draw)


#: Referrals that fit the base cohort but for one recoverable problem each, so that how a
#: composite rolls up `recoverable` decides near miss against ineligible.
CLOSE = [
    {**GOOD[0], "referral_id": "C1", "active_infection": "yes"},
    {**GOOD[0], "referral_id": "C2", "labs.lvef": "40", "pregnant": "yes", "sex": "female"},
    {**GOOD[0], "referral_id": "C3", "ecog": "2", "labs.egfr": "30"},
    {**GOOD[0], "referral_id": "C4", "antigens.CD19": None, "prior_lines": "1"},
]


def _catalog_with(catalog: Catalog, criteria: list[Any]) -> Catalog:
    """The real catalog's axi-cel, with one cohort whose criteria are `criteria`."""
    entry = catalog.entry("axi-cel")
    cohort = entry.indications[0].model_copy(update={"criteria": criteria})
    entry = entry.model_copy(update={"indications": [cohort]})
    return Catalog([entry], catalog.rules, CatalogVersion(version="trees", entries=1))


def _same(catalog: Catalog, rows: list[dict[str, Any]], include_all: bool) -> None:
    frame = _frame(rows)
    bulk = screen_frame(frame, catalog, TODAY, include_all=include_all)
    single = screen_rows(frame, catalog, TODAY, include_all=include_all)
    pd.testing.assert_frame_equal(bulk, single)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    trees=st.lists(tree(), min_size=1, max_size=3),
    rows=st.lists(referral(), min_size=1, max_size=8),
    include_all=st.booleans(),
    native=st.booleans(),
)
def test_random_criteria_trees_screen_the_same_in_bulk_as_alone(
    catalog, trees, rows, include_all, native
):
    criteria = [ADAPTER.validate_python({**t, "id": f"c{i}"}) for i, t in enumerate(trees)]
    rows = [_native(r) for r in [*CLOSE, *rows]] if native else [*CLOSE, *rows]
    _same(_catalog_with(catalog, criteria), rows, include_all)


class CountryCriterion(Node):
    """A leaf kind the bulk code has never heard of, over a field it fills generically."""

    kind: Literal["country"] = "country"
    country: list[str]

    def reads(self) -> tuple[str, ...]:
        return ("country",)

    def evaluate(self, ctx: Context) -> Verdict:
        given = ctx.patient.profile.country
        if given is None:
            return self._verdict(Outcome.UNKNOWN, "Country not stated.", ask="country")
        ok = given in self.country
        return self._verdict(Outcome.MET if ok else Outcome.NOT_MET, f"Country {given}.")


def test_a_leaf_over_a_field_bulk_never_named_screens_the_same(catalog):
    country = CountryCriterion(id="country", country=["Vietnam", "Kenya"])
    disease = ADAPTER.validate_python({"id": "disease", "indication": ["lbcl"]})
    rows = [
        {"referral_id": f"R{i}", "diagnosis": "DLBCL", "prior_lines": "2", "country": c}
        for i, c in enumerate(["Vietnam", "Kenya", "Chile", None, "Vietnam"])
    ]
    cat = _catalog_with(catalog, [disease, country])
    _same(cat, rows, include_all=True)
    statuses = screen_frame(_frame(rows), cat, TODAY, include_all=True)["status"].tolist()
    assert statuses[2] == "ineligible" and statuses[3] == "possible"
    _same(cat, [{k: v for k, v in r.items() if k != "country"} for r in rows], True)


def test_one_walker_visits_every_criterion_with_its_path_as_a_catalog_writes_it():
    from matcher.criteria import walk

    node = ADAPTER.validate_python(
        {"all": [{"age": {"min": 18}}, {"not": {"any": [{"ecog": {"max": 1}}, {"sex": ["male"]}]}}]}
    )
    assert [(n.kind, path) for n, path in walk(node)] == [
        ("all", ""),
        ("age", "all.0"),
        ("not", "all.1"),
        ("any", "all.1.not"),
        ("ecog", "all.1.not.any.0"),
        ("sex", "all.1.not.any.1"),
    ]
