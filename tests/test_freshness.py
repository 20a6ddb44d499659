"""Facts that show their age, and a refresh that never silently undoes a newer update."""

from __future__ import annotations

import json
from datetime import date

from matcher.cli import cli
from matcher.core.freshness import old_facts, parse_date
from matcher.curation.bundle import open_catalog


def invoke(runner, *args):
    return runner.invoke(cli, [str(a) for a in args])


def test_a_partial_date_counts_from_its_first_day():
    assert parse_date("2021-06") == date(2021, 6, 1)
    assert parse_date("2026") == date(2026, 1, 1)
    assert parse_date("not a date") is None


def test_each_fact_is_judged_by_its_own_date(catalog):
    axi = catalog.entry("axi-cel")
    old = {f.field: f for f in old_facts(axi, catalog.rules.freshness, date(2026, 11, 23))}
    assert old["price"].basis == "as_of" and old["price"].dated == date(2021, 6, 1)
    assert old["status"].basis == "source" and old["status"].limit_days == 182
    fresh = old_facts(axi, catalog.rules.freshness, date(2021, 7, 1))
    assert "price" not in {f.field for f in fresh}


def test_catalog_stale_lists_old_facts_by_entry_with_default_limits(runner):
    result = invoke(runner, "catalog", "stale", "--today", "2026-11-23", "--format", "json")
    assert result.exit_code == 0, result.output
    axi = next(i for i in json.loads(result.stdout) if i["entry_id"] == "axi-cel")
    price = next(f for f in axi["facts"] if f["field"] == "price")
    assert price["date"] == "2021-06-01" and price["limit_days"] == 182
    text = invoke(runner, "catalog", "stale", "--today", "2026-11-23").stdout
    assert "price: 2021-06-01 (as_of; price" in text


def test_match_and_show_mark_old_facts(runner):
    args = ["match", "--diagnosis", "DLBCL", "--prior-lines", "2", "--status", "refractory"]
    data = json.loads(invoke(runner, *args, "--today", "2026-11-23", "--format", "json").stdout)
    axi = next(o for o in data["options"] if o["entry_id"] == "axi-cel")
    assert any(n.startswith("old facts") and "price 2021-06-01" in n for n in axi["notes"])
    shown = invoke(runner, "show", "axi-cel", "--today", "2026-11-23").stdout
    assert "OLD FACTS" in shown and "price dates from 2021-06-01 (as_of)" in shown


def test_a_refresh_does_not_roll_back_a_newer_update(runner, db_path, tmp_path):
    sheet = tmp_path / "price.csv"
    sheet.write_text("id,list_price_cny,source,as_of\naxi-cel,1100000,Notice,2026-12-01\n")
    done = invoke(runner, "catalog", "refresh", sheet, "--apply", "--today", "2026-12-02")
    assert done.exit_code == 0, done.output
    bundled = invoke(runner, "catalog", "refresh", "catalog", "--apply", "--today", "2026-12-02")
    assert bundled.exit_code == 0, bundled.output
    assert "Older than the catalog (1): kept the newer value" in bundled.stdout
    assert "axi-cel price" in bundled.stdout and "(kept)" in bundled.stdout
    assert open_catalog(db_path).entry("axi-cel").price.amount_cny == 1100000
    forced = invoke(
        runner,
        "catalog",
        "refresh",
        "catalog",
        "--apply",
        "--overwrite-newer",
        "--today",
        "2026-12-02",
    )
    assert "(overwritten)" in forced.stdout
    assert open_catalog(db_path).entry("axi-cel").price.amount_cny == 1200000
