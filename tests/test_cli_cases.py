"""`cartmatch cases ...` and `match --save` as a coordinator uses them: exit codes, output,
files, and what the database holds afterwards."""

from __future__ import annotations

import json
import os
import stat
import zipfile

import pytest

from tests.case_data import case_row, invoke, price, refresh, rows, screened
from tests.conftest import TODAY


@pytest.fixture
def saved(runner, db_path, tmp_path):
    screened(runner, tmp_path)
    return db_path


def keys(result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [case["key"] for case in json.loads(result.stdout)]


def test_list_filters_by_status_entry_change_and_city(runner, saved, tmp_path):
    everyone = ["CASE-HCC", "CASE-DLBCL", "CASE-MM"]
    assert keys(invoke(runner, "cases", "list", "--format", "json")) == everyone
    invoke(runner, "cases", "status", "CASE-MM", "under_review")
    assert keys(
        invoke(runner, "cases", "list", "--status", "under_review", "--format", "json")
    ) == ["CASE-MM"]
    assert keys(invoke(runner, "cases", "list", "--entry", "axi-cel", "--format", "json")) == [
        "CASE-DLBCL"
    ]
    assert keys(invoke(runner, "cases", "list", "--changed-since", "2000-01-01",
                       "--format", "json")) == []  # fmt: skip
    refresh(runner, tmp_path, price("axi-cel", 900_000))
    changed = invoke(runner, "cases", "list", "--changed-since", "2000-01-01", "--format", "json")
    assert keys(changed) == ["CASE-DLBCL"]
    city = keys(invoke(runner, "cases", "list", "--city", "Shanghai", "--format", "json"))
    assert set(city) <= set(everyone) and city  # some option of theirs is at a Shanghai site
    text = invoke(runner, "cases", "list")
    assert "CASE-DLBCL" in text.stdout and "3 case(s)" in text.stdout


def test_status_note_and_show(runner, saved):
    moved = invoke(runner, "cases", "status", "CASE-HCC", "records_requested",
                   "--note", "asked for imaging", "--by", "coordinator-c")  # fmt: skip
    assert moved.exit_code == 0 and "is now records_requested" in moved.stdout
    back = invoke(runner, "cases", "status", "CASE-HCC", "new")
    assert back.exit_code == 1 and "needs --back" in back.output
    noted = invoke(runner, "cases", "note", "1", "second opinion booked", "--by", "coordinator-c")
    assert noted.exit_code == 0
    shown = invoke(runner, "cases", "show", "CASE-HCC")
    assert "status new -> records_requested" in shown.stdout
    assert "note: second opinion booked" in shown.stdout and "+86 138 0000 0001" in shown.stdout
    data = json.loads(invoke(runner, "cases", "show", "CASE-HCC", "--format", "json").stdout)
    assert [e["kind"] for e in data["events"]] == ["saved", "status", "note", "note"]
    assert {e["by"] for e in data["events"][1:]} == {"coordinator-c"}
    unknown = invoke(runner, "cases", "show", "NOPE")
    assert unknown.exit_code == 1 and "no case 'NOPE'" in unknown.output
    assert "Traceback" not in unknown.output


def private(path) -> bool:
    return stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_export_writes_csv_and_xlsx_readable_by_the_owner_only(runner, saved, tmp_path):
    out = tmp_path / "cases.csv"
    result = invoke(runner, "cases", "export", "--status", "new", "-o", out)
    assert result.exit_code == 0 and "wrote 3 case(s)" in result.stdout and private(out)
    text = out.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].endswith('"contact_phone"') and "+86 138 0000 0002" in text
    book = tmp_path / "cases.xlsx"
    assert invoke(runner, "cases", "export", "-o", book).exit_code == 0 and private(book)
    with zipfile.ZipFile(book) as archive:
        assert "+86 138 0000 0003" in archive.read("xl/sharedStrings.xml").decode()
    wrong = invoke(runner, "cases", "export", "-o", tmp_path / "cases.txt")
    assert wrong.exit_code == 1 and ".csv or .xlsx" in wrong.output


def test_callbacks_file_has_the_change_in_words_and_the_contact(runner, saved, tmp_path):
    report = refresh(runner, tmp_path, price("axi-cel", 900_000))
    calls = tmp_path / "calls.csv"
    result = invoke(runner, "cases", "callbacks", "--since", report["refresh_id"], "-o", calls)
    assert result.exit_code == 0 and "wrote 1 call-back(s)" in result.stdout and private(calls)
    header, line = calls.read_text(encoding="utf-8-sig").splitlines()
    assert header.split(",")[:4] == ['"case"', '"referral_id"', '"status"', '"changes"']
    assert "CASE-DLBCL" in line and "axi-cel/lbcl-3l: cost CNY" in line and "0002" in line
    later = invoke(runner, "cases", "callbacks", "--since", report["refresh_id"] + 1)
    assert "0 families to call back" in later.stdout


def test_match_save_makes_a_case_that_gets_call_backs(runner, db_path, tmp_path):
    args = ["match", "--diagnosis", "DLBCL", "--status", "refractory", "--prior-lines", "2",
            "--age", "54", "--today", TODAY]  # fmt: skip
    refused = invoke(runner, *args, "--save")
    assert refused.exit_code == 2 and "--save needs --referral-id" in refused.output
    assert rows(db_path, "SELECT count(*) FROM cases") == [(0,)]
    saved = invoke(runner, *args, "--referral-id", "ONE-1", "--save", "--format", "json")
    assert saved.exit_code == 0 and "saved as case 1" in saved.stderr
    json.loads(saved.stdout)  # stdout is the match JSON, unchanged
    case = case_row(db_path, "ONE-1")
    assert case["status"] == "new" and "axi-cel/lbcl-3l" in case["told"]
    report = refresh(runner, tmp_path, price("axi-cel", 900_000))
    assert [c["referral"] for c in report["referrals"]["changed"]] == ["ONE-1"]


MARKER = "ZZQ-unique-7731"


def database_bytes(db) -> bytes:
    data = db.read_bytes()
    for suffix in ("-wal", "-journal"):
        side = db.with_name(db.name + suffix)
        if side.exists():
            data += side.read_bytes()
    return data


def test_delete_leaves_no_byte_of_the_patient_in_the_database_file(runner, db_path, tmp_path):
    source = tmp_path / "one.csv"
    source.write_text(
        f"referral_id,diagnosis,age,contact_phone\n{MARKER},DLBCL,54,{MARKER}-phone\n"
        "KEEP-1,multiple myeloma,60,+86 1\n",
        encoding="utf-8",
    )
    assert invoke(runner, "screen", source, "-o", tmp_path / "o.csv").exit_code == 0
    invoke(runner, "cases", "note", MARKER, f"called {MARKER}")
    refresh(runner, tmp_path, price("axi-cel", 900_000))  # a history row for it too
    assert MARKER.encode() in database_bytes(db_path)
    result = invoke(runner, "cases", "delete", MARKER)
    assert result.exit_code == 0 and "deleted 1 case(s)" in result.stdout
    assert MARKER.encode() not in database_bytes(db_path)
    assert rows(db_path, "SELECT key FROM cases") == [("KEEP-1",)]
    assert rows(db_path, "SELECT referral_id FROM screening_referrals") == [("KEEP-1",)]
    assert invoke(runner, "cases", "show", "KEEP-1").exit_code == 0


def test_purge_removes_cases_idle_past_the_retention(runner, saved, monkeypatch):
    dry = invoke(runner, "cases", "purge", "--older-than", "30d", "--dry-run")
    assert "would remove 0 case(s)" in dry.stdout
    later = "2099-01-01"  # every case is then older than the retention
    monkeypatch.setenv("CARTMATCH_RETENTION_DAYS", "400")
    result = invoke(runner, "cases", "purge", "--today", later)
    assert result.exit_code == 0 and "removed 3 case(s) unchanged for more than 400 days" in (
        result.stdout
    )
    assert rows(saved, "SELECT count(*) FROM cases") == [(0,)]
    assert rows(saved, "SELECT count(*) FROM screening_referrals") == [(0,)]
    assert rows(saved, "SELECT count(*) FROM case_events") == [(0,)]
    assert b"CASE-HCC" not in database_bytes(saved)
    monkeypatch.setenv("CARTMATCH_RETENTION_DAYS", "soon")
    bad = invoke(runner, "cases", "purge")
    assert bad.exit_code == 1 and "CARTMATCH_RETENTION_DAYS 'soon'" in bad.output


def test_every_cases_command_has_help_ending_with_an_example(runner):
    for command in ("list", "show", "status", "note", "export", "callbacks", "notified",
                    "delete", "purge"):  # fmt: skip
        result = invoke(runner, "cases", command, "--help")
        assert result.exit_code == 0 and "Example" in result.stdout, command
