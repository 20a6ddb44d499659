"""Call-backs after a refresh or a rollback: compared with what each family was last told,
re-checked on the bulk engine over the entries the change touched (`curation.recheck`,
`curation.callbacks`)."""

from __future__ import annotations

import json

import pytest

from matcher.core.engine import hidden_reason, match
from matcher.core.patient import load_patient
from matcher.curation.bundle import open_catalog
from matcher.curation.callbacks import cost_threshold, differences
from matcher.errors import CartmatchError
from tests.case_data import (
    a_trial_of,
    case_row,
    closing,
    invoke,
    price,
    refresh,
    rows,
    screened,
)
from tests.conftest import TODAY


@pytest.fixture
def saved(runner, db_path, tmp_path):
    screened(runner, tmp_path)
    return db_path


def listed(report: dict) -> dict[str, list[str]]:
    return {item["referral"]: item["changes"] for item in report["referrals"]["changed"]}


def axi_cel_price(db) -> int:
    return int(open_catalog(db).entry("axi-cel").price.amount_cny)


def test_a_refresh_that_changes_no_entry_rechecks_none_and_lists_no_one(runner, saved, tmp_path):
    cut = refresh(runner, tmp_path, price("axi-cel", axi_cel_price(saved) - 300_000))
    assert list(listed(cut)) == ["CASE-DLBCL"]
    same = refresh(runner, tmp_path, price("axi-cel", axi_cel_price(saved)), "same.csv")
    assert same["referrals"]["checked"] == 0 and same["referrals"]["entries"] == []
    assert listed(same) == {}
    # the family not yet told is still on the pending list, once
    pending = invoke(runner, "cases", "callbacks", "--format", "json")
    assert [c["key"] for c in json.loads(pending.stdout)] == ["CASE-DLBCL"]


def test_a_price_cut_beyond_the_threshold_lists_the_cases_with_that_option(runner, saved, tmp_path):
    before = case_row(saved, "CASE-DLBCL")["told"]["axi-cel/lbcl-3l"]["cost_low_cny"]
    report = refresh(runner, tmp_path, price("axi-cel", axi_cel_price(saved) - 300_000))
    assert report["referrals"]["entries"] == ["axi-cel"]
    changes = listed(report)["CASE-DLBCL"]
    assert len(changes) == 1 and changes[0].startswith(f"axi-cel/lbcl-3l: cost CNY {before:,.0f}")
    assert f"-> CNY {before - 300_000:,.0f}" in changes[0]
    assert "CASE-HCC" not in listed(report) and "CASE-MM" not in listed(report)
    after = case_row(saved, "CASE-DLBCL")["seen"]["axi-cel/lbcl-3l"]["cost_low_cny"]
    assert after == before - 300_000
    history = rows(saved, "SELECT source, refresh_id FROM case_matches ORDER BY id")
    assert ("recheck", report["refresh_id"]) in history


def test_a_cost_change_under_the_threshold_is_no_call_back(runner, saved, tmp_path):
    report = refresh(runner, tmp_path, price("axi-cel", axi_cel_price(saved) - 30_000))
    assert listed(report) == {} and report["referrals"]["settled"] == 1
    tight = invoke(runner, "cases", "callbacks", "--cost-threshold", "1%", "--format", "json")
    assert [c["key"] for c in json.loads(tight.stdout)] == ["CASE-DLBCL"]


def test_notified_resets_the_baseline(runner, saved, tmp_path):
    refresh(runner, tmp_path, price("axi-cel", axi_cel_price(saved) - 300_000))
    told = invoke(runner, "cases", "notified", "CASE-DLBCL", "--by", "coordinator-a")
    assert told.exit_code == 0 and "recorded 1 family as told" in told.stdout
    case = case_row(saved, "CASE-DLBCL")
    assert case["told"] == case["seen"] and case["told_at"]
    events = rows(saved, "SELECT kind, by FROM case_events WHERE case_id = ?", (case["id"],))
    assert ("notified", "coordinator-a") in events
    again = invoke(runner, "cases", "callbacks", "--format", "json")
    assert json.loads(again.stdout) == []


def test_rollback_lists_the_cases_whose_options_came_back(runner, saved, tmp_path):
    trial = a_trial_of(saved, "CASE-HCC")
    closed = refresh(runner, tmp_path, closing(trial))
    gone = listed(closed)["CASE-HCC"]
    assert any(f"{trial}/" in c and "no longer offered: closed" in c for c in gone)
    invoke(runner, "cases", "notified", "CASE-HCC")
    back = invoke(runner, "catalog", "rollback", closed["refresh_id"], "--format", "json")
    assert back.exit_code == 0, back.output
    changes = listed(json.loads(back.stdout))["CASE-HCC"]
    assert changes and all(c.startswith(f"offered again {trial}/") for c in changes)
    text = invoke(runner, "cases", "callbacks")
    assert f"offered again {trial}/" in text.stdout and "1 family to call back" in text.stdout


def test_a_change_undone_before_anyone_was_told_lists_no_one(runner, saved, tmp_path):
    trial = a_trial_of(saved, "CASE-HCC")
    closed = refresh(runner, tmp_path, closing(trial))
    assert "CASE-HCC" in listed(closed)
    back = invoke(runner, "catalog", "rollback", closed["refresh_id"])
    assert "back to what their families were last told" in back.stdout
    assert "No family needs a call-back for this change." in back.stdout
    assert json.loads(invoke(runner, "cases", "callbacks", "--format", "json").stdout) == []


def test_closed_cases_are_not_called_back(runner, saved, tmp_path):
    invoke(runner, "cases", "status", "CASE-DLBCL", "declined")
    report = refresh(runner, tmp_path, price("axi-cel", axi_cel_price(saved) - 300_000))
    assert listed(report) == {} and report["referrals"]["open"] == 2


def test_the_recheck_gives_each_case_what_matching_it_alone_gives(runner, saved, tmp_path):
    trial = a_trial_of(saved, "CASE-HCC")
    refresh(runner, tmp_path, closing(trial))
    catalog = open_catalog(saved)
    for key in ("CASE-HCC", "CASE-DLBCL", "CASE-MM"):
        (profile,) = rows(saved, "SELECT profile FROM screening_referrals WHERE referral_id = ?",
                          (key,))  # fmt: skip
        patient, _ = load_patient(json.loads(profile[0]), catalog.lexicon, TODAY)
        alone = {
            f"{o.entry.id}/{o.indication.id}": (o.status.value, o.enrolment, o.cost.low)
            for o in match(patient, catalog, include_all=True).options
            if hidden_reason(o.status, o.enrolment, False) is None
        }
        seen = case_row(saved, key)["seen"]
        assert {k: (s["status"], s["enrolment"], s["cost_low_cny"]) for k, s in seen.items()} == (
            alone
        ), key


def test_the_words_say_what_changed(catalog):
    told = {
        "axi-cel/lbcl-3l": ["eligible", "open", 1_000_000.0, 1_200_000.0],
        "gone-entry/x": ["possible"],  # saved before cases: its status only
    }
    seen = {
        "axi-cel/lbcl-3l": ["possible", "closed", 850_000.0, 1_050_000.0],
        "relma-cel/lbcl-3l": ["eligible", "open", None, None],
    }
    assert differences(told, seen, catalog, 0.1, {"relma-cel/lbcl-3l"}) == [
        "axi-cel/lbcl-3l: eligible -> possible",
        "axi-cel/lbcl-3l: enrolment open -> closed",
        "axi-cel/lbcl-3l: cost CNY 1,000,000-1,200,000 -> CNY 850,000-1,050,000",
        "gone-entry/x (possible) no longer offered: removed from the catalog",
        "offered again relma-cel/lbcl-3l (eligible)",
    ]


@pytest.mark.parametrize(
    ("text", "share"),
    [pytest.param("10%", 0.10, id="percent"), pytest.param("0.25", 0.25, id="share"),
     pytest.param("0", 0.0, id="any-change")],
)  # fmt: skip
def test_the_cost_threshold_reads_a_percentage(text, share):
    assert cost_threshold(text) == pytest.approx(share)


def test_a_nonsense_cost_threshold_is_one_sentence(runner, saved):
    result = invoke(runner, "cases", "callbacks", "--cost-threshold", "lots")
    assert result.exit_code == 1 and "--cost-threshold 'lots'" in result.output
    with pytest.raises(CartmatchError):
        cost_threshold("-5%")


def test_after_a_refresh_the_terminal_shows_twenty_and_names_the_file_command():
    from matcher.render.cases import recheck_text

    items = [{"referral": f"R-{n}", "case_id": n, "status": "new", "changes": ["x"]}
             for n in range(25)]  # fmt: skip
    text = recheck_text({"saved": 30, "open": 28, "checked": 28, "entries": ["axi-cel"],
                         "seconds": 0.5, "refresh_id": 7, "changed": items, "settled": 0,
                         "unreadable": 0})  # fmt: skip
    assert "R-19 (case 19" in text and "R-20 (case" not in text
    assert "... and 5 more" in text and "cases callbacks --since 7 -o calls.xlsx" in text


def test_the_recheck_says_its_progress_on_stderr(runner, saved, tmp_path):
    trial = a_trial_of(saved, "CASE-HCC")
    closed = refresh(runner, tmp_path, closing(trial))
    back = invoke(runner, "catalog", "rollback", closed["refresh_id"])
    assert "re-checking cases: 3 of 3" in back.stderr and "re-checking" not in back.stdout
