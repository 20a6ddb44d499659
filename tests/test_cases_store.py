"""Cases in the database (`storage.cases`, `storage.case_records`): made from saved referrals,
moved along, noted, told; every change a row with who and when."""

from __future__ import annotations

import json
import sqlite3

import pytest

from matcher.storage.case_records import sync
from matcher.storage.cases import CASE_STATUSES, CaseError, CaseStore
from matcher.storage.db import writing
from tests.case_data import case_row, rows, screened


@pytest.fixture
def saved(runner, db_path, tmp_path):
    screened(runner, tmp_path)
    return db_path


def events(db, key: str) -> list[tuple]:
    return rows(
        db,
        "SELECT e.kind, e.from_status, e.to_status, e.by, e.text FROM case_events e "
        "JOIN cases c ON c.id = e.case_id WHERE c.key = ? ORDER BY e.id",
        (key,),
    )


def test_each_screened_referral_is_a_new_case_with_its_options_and_contact(saved):
    keys = rows(saved, "SELECT key, status, referral_id FROM cases ORDER BY id")
    assert keys == [(k, "new", k) for k in ("CASE-HCC", "CASE-DLBCL", "CASE-MM")]
    case = case_row(saved, "CASE-DLBCL")
    assert json.loads(case["contact"]) == {"contact_phone": "+86 138 0000 0002"}
    assert case["told"] == case["seen"] and case["seen_refresh"] is not None
    option = case["told"]["axi-cel/lbcl-3l"]
    assert option["status"] == "eligible" and option["enrolment"] == "open"
    assert option["cost_low_cny"] > 0 and option["cost_high_cny"] >= option["cost_low_cny"]
    (saved_event,) = events(saved, "CASE-DLBCL")
    assert saved_event[0] == "saved" and saved_event[3] and "run 1, row 3" in saved_event[4]


#: The path a case takes, then each outcome that closes it.
FORWARD = CASE_STATUSES[:5]
OUTCOMES = CASE_STATUSES[5:]


@pytest.mark.parametrize("outcome", [pytest.param(o, id=o) for o in OUTCOMES])
def test_every_move_along_the_path_is_a_row_with_who_and_when(saved, outcome):
    path = [*FORWARD[1:], outcome]
    with writing(saved) as db:
        store = CaseStore(db.conn)
        for to in path:
            store.set_status("CASE-HCC", to, "coordinator-b")
    assert case_row(saved, "CASE-HCC")["status"] == outcome
    moves = [e for e in events(saved, "CASE-HCC") if e[0] == "status"]
    assert [(e[1], e[2]) for e in moves] == list(zip(FORWARD, path, strict=True))
    assert {e[3] for e in moves} == {"coordinator-b"}
    assert all(at for (at,) in rows(saved, "SELECT at FROM case_events"))


def test_a_case_moves_back_or_reopens_only_when_asked(saved):
    with writing(saved) as db:
        store = CaseStore(db.conn)
        store.set_status("CASE-MM", "closed", "a")
        with pytest.raises(CaseError, match="needs --back"):
            store.set_status("CASE-MM", "contacted", "a")
        with pytest.raises(CaseError, match="already closed"):
            store.set_status("CASE-MM", "closed", "a")
        with pytest.raises(CaseError, match="unknown case status 'lost'"):
            store.set_status("CASE-MM", "lost", "a")
        store.set_status("CASE-MM", "contacted", "a", back=True)
    assert case_row(saved, "CASE-MM")["status"] == "contacted"
    assert [e[1:3] for e in events(saved, "CASE-MM") if e[0] == "status"] == [
        ("new", "closed"),
        ("closed", "contacted"),
    ]


def test_notes_are_dated_and_signed(saved):
    with writing(saved) as db:
        event = CaseStore(db.conn).add_note("CASE-HCC", "  family prefers Shanghai ", "b")
    assert event.kind == "note" and event.text == "family prefers Shanghai" and event.by == "b"
    assert event.at.startswith("20")
    with writing(saved) as db, pytest.raises(CaseError):
        CaseStore(db.conn).add_note("CASE-HCC", "   ", "b")


def test_a_case_is_found_by_referral_id_or_number_and_unknown_is_one_sentence(saved):
    with writing(saved) as db:
        store = CaseStore(db.conn)
        assert store.get("2").key == "CASE-DLBCL" == store.get("CASE-DLBCL").key
        with pytest.raises(Exception, match="no case 'CASE-X'"):
            store.get("CASE-X")


def test_a_referral_screened_again_keeps_its_case_status_and_notes(runner, saved, tmp_path):
    with writing(saved) as db:
        CaseStore(db.conn).set_status("CASE-DLBCL", "under_review", "a")
    screened(runner, tmp_path)
    case = case_row(saved, "CASE-DLBCL")
    assert case["status"] == "under_review" and case["run_id"] == 2
    assert rows(saved, "SELECT count(*) FROM cases") == [(3,)]
    assert [e[0] for e in events(saved, "CASE-DLBCL")] == ["saved", "status", "saved"]


def test_referrals_saved_before_cases_existed_become_cases(saved):
    conn = sqlite3.connect(saved)
    conn.execute(
        "INSERT INTO screening_referrals VALUES (1, 99, NULL, ?, ?)",
        [json.dumps({"diagnosis": "DLBCL"}), json.dumps(["axi-cel/lbcl-3l:possible"])],
    )
    conn.commit()
    conn.close()
    with writing(saved) as db:
        assert sync(db.conn, "a") == 1
        assert sync(db.conn, "a") == 0
    case = case_row(saved, "run 1 row 99")
    assert case["told"] == {"axi-cel/lbcl-3l": {"status": "possible"}}
    assert case["seen_refresh"] is None  # re-checked against every entry next time
