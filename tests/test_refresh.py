"""`cartmatch catalog refresh/diff/history/rollback/export/stale` against a real database."""

from __future__ import annotations

import inspect
import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from matcher.cli import cli
from matcher.curation.bundle import open_catalog
from matcher.curation.export import export_catalog
from matcher.curation.loader import load_catalog
from matcher.curation.refresh import PAUSE_ENV
from matcher.storage.catalog_store import read_catalog
from matcher.storage.db import connect
from tests.conftest import ROOT, TODAY

DATA = Path(__file__).parent / "data" / "refresh"
CTGOV = DATA / "ctgov"
GPC3 = str(CTGOV / "NCT09900001.json")


def invoke(runner, *args):
    return runner.invoke(cli, [str(a) for a in args])


def snapshot(db_path: Path, folder: Path) -> dict[str, bytes]:
    """The catalog in the database, exported (read without syncing the bundle)."""
    conn = connect(db_path)
    try:
        catalog = read_catalog(conn)
    finally:
        conn.close()
    export_catalog(catalog, folder)
    return {p.name: p.read_bytes() for p in sorted((folder / "entries").glob("*.yaml"))}


def refresh_ids(db_path: Path) -> list[int]:
    conn = sqlite3.connect(db_path)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM refreshes ORDER BY id")]
    finally:
        conn.close()


@pytest.fixture
def built(db_path) -> Path:
    open_catalog(db_path)
    return db_path


def test_a_dry_run_prints_the_diff_and_writes_nothing(runner, built, tmp_path):
    before = snapshot(built, tmp_path / "before")
    result = invoke(runner, "catalog", "refresh", DATA / "updates.csv")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "~ axi-cel" in out and "price.amount_cny:" in out and "-> 1100000.0" in out
    assert "sites[Zhongshan Hospital, Fudan University]: (none) ->" in out
    assert "Dry run: nothing was written" in out
    assert snapshot(built, tmp_path / "after") == before
    assert refresh_ids(built) == [1]


def test_apply_writes_in_one_logged_refresh(runner, built):
    result = invoke(runner, "catalog", "refresh", DATA / "updates.csv", "--apply")
    assert result.exit_code == 0, result.output
    assert "Applied as refresh 2" in result.stdout
    catalog = open_catalog(built)
    assert catalog.entry("axi-cel").price.amount_cny == 1100000
    assert catalog.version.refresh_id == 2
    history = json.loads(invoke(runner, "catalog", "history", "--format", "json").stdout)
    assert [h["id"] for h in history] == [2, 1]
    logged = history[0]
    assert logged["kind"] == "refresh" and logged["source"].endswith("updates.csv")
    assert len(logged["content_hash"]) == 64 and logged["at"]
    assert {c["id"] for c in logged["diff"]["changed"]} == {"axi-cel", "c-car031"}
    assert logged["summary"]["changed"] == 2
    mine = json.loads(invoke(runner, "catalog", "history", "axi-cel", "--format", "json").stdout)
    assert [(h["id"], h["change"]) for h in mine] == [(2, "changed"), (1, "added")]
    again = invoke(runner, "catalog", "refresh", DATA / "updates.csv")
    assert "Unchanged (2): axi-cel, c-car031" in again.stdout


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("bad_row.csv", "bad_row.csv row 3: 5 cells but the header has 4 columns"),
        ("bad_status.csv", "bad_status.csv row 3, column status: 'sold out' is not a status"),
        ("unknown_id.csv", "unknown_id.csv row 2, column id: no entry 'axi-cell' (did you mean"),
        ("bad_price.csv", "bad_price.csv row 3, column list_price_cny: 'abc' is not a number"),
        ("broken.json", "broken.json line 25, column 7: invalid JSON (Expecting ',' delimiter)"),
    ],
)  # fmt: skip
def test_an_invalid_source_changes_nothing_and_names_file_row_and_field(
    runner, built, tmp_path, source, expected
):
    before = snapshot(built, tmp_path / "before")
    result = invoke(runner, "catalog", "refresh", DATA / "updates.csv", DATA / source, "--apply")
    assert result.exit_code == 1
    assert expected in result.stderr
    assert result.stderr.count("\n") == 1 and not result.stdout
    assert snapshot(built, tmp_path / "after") == before
    assert refresh_ids(built) == [1]


def test_an_xlsx_sheet_of_updates_applies(runner, built, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["id", "status", "sites", "source", "as_of"])
    book.active.append(["c-car031", "Not yet recruiting", "Hospital X / Wuhan / recruiting",
                        "Sponsor letter", "2026-11-10"])  # fmt: skip
    book.save(tmp_path / "updates.xlsx")
    result = invoke(runner, "catalog", "refresh", tmp_path / "updates.xlsx", "--apply")
    assert result.exit_code == 0, result.output
    entry = open_catalog(built).entry("c-car031")
    assert entry.status.value == "not_yet_recruiting"
    assert [(s.name, s.city, s.status) for s in entry.sites] == [
        ("Hospital X", "Wuhan", "recruiting")
    ]


def test_a_registry_page_creates_entries_for_car_t_studies_only(runner, built, tmp_path):
    records = []
    for name in ("studies_page_kras_g12c.json", "synthetic_page.json", "NCT09900001.json"):
        data = json.loads((CTGOV / name).read_text(encoding="utf-8"))
        records += data.get("studies", [data])
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"studies": records, "nextPageToken": "t"}), encoding="utf-8")
    result = invoke(runner, "catalog", "refresh", page, "--apply", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [a["id"] for a in data["added"]] == ["nct09900001", "nct09900003"]
    assert data["changed"] == [] and data["summary"]["skipped"] == 13
    catalog = open_catalog(built)
    entry = catalog.entry("nct09900001")
    assert {s.city for s in entry.sites} == {"Shanghai", "Guangzhou", "Hangzhou"}
    again = json.loads(invoke(runner, "catalog", "diff", page, "--format", "json").stdout)
    assert again["unchanged"] == ["nct09900001", "nct09900003"] and again["added"] == []
    conn = sqlite3.connect(built)
    kept = conn.execute("SELECT record_id, entry_ids FROM registry_records ORDER BY record_id")
    assert kept.fetchall() == [("NCT09900001", '["nct09900001"]'),
                               ("NCT09900003", '["nct09900003"]')]  # fmt: skip


def test_curated_criteria_survive_a_registry_import(runner, built, tmp_path):
    curated = DATA / "curated"
    assert invoke(runner, "catalog", "refresh", curated, "--apply").exit_code == 0
    before = open_catalog(built).entry("gpc3-hai-demo")
    result = invoke(runner, "catalog", "refresh", GPC3, "--apply", "--format", "json")
    assert result.exit_code == 0, result.output
    diff = json.loads(result.stdout)
    assert diff["added"] == []
    fields = {f["field"] for f in diff["changed"][0]["fields"]}
    assert not any(".criteria" in f for f in fields)
    assert {"status.value", "indications[hcc-2l].status.value"} <= fields
    after = open_catalog(built).entry("gpc3-hai-demo")
    assert after.indications[0].criteria == before.indications[0].criteria
    assert after.status.value == "recruiting" and len(after.sites) == 3


def test_refresh_then_rollback_gives_byte_identical_export(runner, built, tmp_path):
    before = snapshot(built, tmp_path / "before")
    sources = [DATA / "updates.csv", DATA / "curated", GPC3, CTGOV / "synthetic_page.json"]
    result = invoke(runner, "catalog", "refresh", *sources, "--apply", "--format", "json")
    assert result.exit_code == 0, result.output
    refresh_id = json.loads(result.stdout)["refresh_id"]
    assert snapshot(built, tmp_path / "during") != before
    undo = invoke(runner, "catalog", "rollback", refresh_id)
    assert undo.exit_code == 0, undo.output
    assert f"Rolled back refresh {refresh_id}" in undo.stdout
    assert snapshot(built, tmp_path / "after") == before
    history = json.loads(invoke(runner, "catalog", "history", "--format", "json").stdout)
    assert history[0]["kind"] == "rollback" and history[0]["diff"]["rollback_of"] == refresh_id


def test_prune_removes_missing_entries_and_rollback_brings_them_back(runner, built, tmp_path):
    before = snapshot(built, tmp_path / "before")
    folder = tmp_path / "catalog"
    (folder / "entries").mkdir(parents=True)
    for name in ("axi-cel.yaml", "relma-cel.yaml"):
        (folder / "entries" / name).write_bytes(before[name])
    dry = invoke(runner, "catalog", "refresh", folder)
    assert "Missing from the sources" in dry.stdout and "kept; --prune removes them" in dry.stdout
    pruned = invoke(runner, "catalog", "refresh", folder, "--prune", "--apply", "--format", "json")
    assert pruned.exit_code == 0, pruned.output
    data = json.loads(pruned.stdout)
    assert data["unchanged"] == ["axi-cel", "relma-cel"] and len(data["removed"]) == len(before) - 2
    assert [e.id for e in open_catalog(built).entries] == ["axi-cel", "relma-cel"]
    assert invoke(runner, "catalog", "rollback", data["refresh_id"]).exit_code == 0
    assert snapshot(built, tmp_path / "after") == before
    # removed and restored entries keep one history (versions continue)
    assert invoke(runner, "catalog", "refresh", folder, "--prune", "--apply").exit_code == 0


def test_a_plan_made_before_another_write_is_not_applied(built):
    from matcher.curation.refresh import apply_plan, plan_refresh
    from matcher.errors import StoreError

    stale_plan = plan_refresh([DATA / "updates.csv"], open_catalog(built))
    apply_plan(plan_refresh([Path(GPC3)], open_catalog(built)), built)
    with pytest.raises(StoreError, match="catalog changed while this refresh was being prepared"):
        apply_plan(stale_plan, built)
    assert refresh_ids(built) == [1, 2]


def test_prune_needs_a_catalog_folder(runner, built):
    result = invoke(runner, "catalog", "refresh", DATA / "updates.csv", "--prune")
    assert result.exit_code == 1 and "--prune needs a catalog folder" in result.stderr


def test_rollback_refuses_what_it_cannot_undo_cleanly(runner, built, tmp_path):
    assert invoke(runner, "catalog", "rollback", 99).stderr.startswith("Error: no refresh 99")
    assert "synced the bundled catalog" in invoke(runner, "catalog", "rollback", 1).stderr
    assert invoke(runner, "catalog", "refresh", DATA / "updates.csv", "--apply").exit_code == 0
    sheet = tmp_path / "again.csv"
    sheet.write_text("id,list_price_cny,source,as_of\naxi-cel,1000000,Notice,2026-11-20\n")
    assert invoke(runner, "catalog", "refresh", sheet, "--apply").exit_code == 0
    result = invoke(runner, "catalog", "rollback", 2)
    assert result.exit_code == 1
    assert "entry 'axi-cel' was changed again by refresh 3" in result.stderr
    assert refresh_ids(built) == [1, 2, 3]


def test_export_is_deterministic_and_loads_back_unchanged(runner, built, tmp_path):
    assert invoke(runner, "catalog", "refresh", GPC3, "--apply").exit_code == 0
    first = invoke(runner, "catalog", "export", tmp_path / "one")
    assert first.exit_code == 0 and "Exported" in first.stdout
    invoke(runner, "catalog", "export", tmp_path / "two")
    files_one = sorted((tmp_path / "one" / "entries").iterdir())
    files_two = sorted((tmp_path / "two" / "entries").iterdir())
    assert [p.read_bytes() for p in files_one] == [p.read_bytes() for p in files_two]
    assert "already identical" in invoke(runner, "catalog", "export", tmp_path / "one").stdout
    entries, _ = load_catalog(tmp_path / "one", ROOT / "rules")
    assert {e.id for e in entries} == {e.id for e in open_catalog(built).entries}
    again = json.loads(
        invoke(runner, "catalog", "diff", tmp_path / "one", "--format", "json").stdout
    )
    assert again["added"] == again["changed"] == [] and again["missing"] == []
    text = (tmp_path / "one" / "entries" / "nct09900001.yaml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server") and "sources: [ctgov-NCT09900001]" in text


def test_stale_lists_entries_and_facts_older_than_the_threshold(runner, built):
    # Since issue #14 each fact is judged by its own date (last_verified, as_of, its sources'
    # newest date, else the entry's), so an entry curated recently can still hold old facts.
    invoke(runner, "catalog", "refresh", DATA / "curated", DATA / "updates.csv", "--apply")
    args = ["catalog", "stale", "--older-than", "180d", "--today", TODAY.isoformat()]
    stale = json.loads(invoke(runner, *args, "--format", "json").stdout)
    demo = next(s for s in stale if s["entry_id"] == "gpc3-hai-demo")
    assert all(f["days"] > 180 for f in demo["facts"])
    later = [
        "catalog",
        "stale",
        "--older-than",
        "190d",
        "--today",
        "2027-05-15",
        "--format",
        "json",
    ]
    axi = next(s for s in json.loads(invoke(runner, *later).stdout) if s["entry_id"] == "axi-cel")
    price = next(f for f in axi["facts"] if f["field"] == "price")
    assert (price["date"], price["basis"]) == ("2026-11-01", "last_verified")  # the sheet's as_of
    text = invoke(runner, *args).stdout
    assert "gpc3-hai-demo" in text and "180 days for every kind" in text
    bad = invoke(runner, "catalog", "stale", "--older-than", "half a year")
    assert bad.exit_code == 2 and "'half a year' is not a duration" in bad.stderr


@pytest.mark.parametrize("threshold", ["3000y", "101y", "1217m", "9" * 5000 + "d"])
def test_an_absurd_stale_threshold_is_a_usage_error(runner, built, threshold):
    result = invoke(runner, "catalog", "stale", "--older-than", threshold)
    assert result.exit_code == 2 and not isinstance(result.exception, OverflowError)
    assert result.stderr.endswith(
        f"Error: Invalid value for '--older-than': '{threshold}' is more than 100 years; "
        "write an age threshold like 180d, 26w, 6m or 1y\n"
    )
    assert invoke(runner, "catalog", "stale", "--older-than", "100y").exit_code == 0
    tiny = invoke(runner, "catalog", "stale", "--older-than", "10d", "--today", "0001-01-02")
    assert tiny.exit_code == 0, tiny.output


def test_a_sheet_with_one_entry_on_two_rows_changes_nothing(runner, built, tmp_path):
    before = snapshot(built, tmp_path / "before")
    sheet = tmp_path / "twice.csv"
    sheet.write_text(
        "id,list_price_cny,source,as_of\naxi-cel,1100000,Notice A,2026-11-01\n"
        "c-car031,,Notice B,2026-11-01\naxi-cel,1000000,Notice C,2026-11-02\n"
    )
    result = invoke(runner, "catalog", "refresh", sheet, "--apply")
    assert result.exit_code == 1 and not result.stdout
    assert result.stderr == (
        f"Error: {sheet} rows 2 and 4 both update 'axi-cel': put each entry on one row\n"
    )
    assert snapshot(built, tmp_path / "after") == before
    assert refresh_ids(built) == [1]


def test_an_as_of_after_today_is_refused_so_stale_still_sees_the_fact(runner, built, tmp_path):
    sheet = tmp_path / "future.csv"
    sheet.write_text("id,list_price_cny,source,as_of\naxi-cel,1100000,Notice,2099-01-01\n")
    result = invoke(runner, "catalog", "refresh", sheet, "--apply", "--today", TODAY.isoformat())
    assert result.exit_code == 1 and refresh_ids(built) == [1]
    assert result.stderr == (
        f"Error: {sheet} row 2, column as_of: 2099-01-01 is later than the reference date "
        "2026-11-23 (--today, default today); fix the sheet and run the refresh again\n"
    )
    later = invoke(runner, "catalog", "refresh", sheet, "--today", "2099-01-01")
    assert later.exit_code == 0, later.output  # as of a later reference date it is fine


def test_a_status_for_an_entry_with_several_indications_is_spelled_out(runner, built, tmp_path):
    before = {i.id: i.status.value for i in open_catalog(built).entry("relma-cel").indications}
    sheet = tmp_path / "close.csv"
    sheet.write_text("id,status,source,as_of\nrelma-cel,closed,Letter,2026-11-01\n")
    dry = invoke(runner, "catalog", "refresh", sheet)
    assert dry.exit_code == 0, dry.output
    assert "indications[fl].status.value: 'approved' -> 'closed'" in dry.stdout
    assert f"{sheet} row 2: status 'closed' for 'relma-cel' is applied to its 4 indications" in (
        dry.stdout
    )
    assert "fl approved -> closed" in dry.stdout and "`indication` column" in dry.stdout
    one = tmp_path / "one.csv"
    one.write_text("id,indication,status,source,as_of\nrelma-cel,mcl,closed,Letter,2026-11-01\n")
    applied = invoke(runner, "catalog", "refresh", one, "--apply", "--format", "json")
    assert applied.exit_code == 0, applied.output
    fields = {f["field"] for f in json.loads(applied.stdout)["changed"][0]["fields"]}
    assert "indications[mcl].status.value" in fields and "status.value" not in fields
    entry = open_catalog(built).entry("relma-cel")
    assert entry.status.value == "approved"
    assert {i.id: i.status.value for i in entry.indications} == {**before, "mcl": "closed"}


def test_diff_shows_sources_without_writing_or_a_past_refresh(runner, built):
    dry = invoke(runner, "catalog", "diff", GPC3)
    assert "+ nct09900001" in dry.stdout and refresh_ids(built) == [1]
    invoke(runner, "catalog", "refresh", GPC3, "--apply")
    past = invoke(runner, "catalog", "diff", "--refresh", "2")
    assert "+ nct09900001" in past.stdout
    assert "+ axi-cel" in invoke(runner, "catalog", "diff", "--refresh", "1").stdout
    assert invoke(runner, "catalog", "diff").exit_code == 2


def _save_referrals(db_path: Path, profiles: dict[str, dict]) -> None:
    from matcher.core.engine import match
    from matcher.core.patient import load_patient

    catalog = open_catalog(db_path)
    conn = sqlite3.connect(db_path)
    conn.execute(
        "INSERT INTO screening_runs (id, at, input_name, input_hash, catalog_version, "
        "include_all, rows_in, rows_screened, rows_rejected, summary) "
        "VALUES (1, '2026-11-20T09:00:00+00:00', 'referrals.csv', 'h', ?, 0, ?, ?, 0, '{}')",
        [catalog.version.version, len(profiles), len(profiles)],
    )
    for row, (referral, profile) in enumerate(profiles.items(), start=2):
        patient, _ = load_patient(profile, catalog.lexicon, TODAY)
        options = [f"{o.entry.id}/{o.indication.id}:{o.status.value}"
                   for o in match(patient, catalog).options]  # fmt: skip
        conn.execute(
            "INSERT INTO screening_referrals VALUES (1, ?, ?, ?, ?)",
            [row, referral, json.dumps(profile), json.dumps(options)],
        )
    conn.commit()
    conn.close()


def test_after_apply_saved_referrals_with_other_options_are_listed(runner, built, tmp_path):
    none = invoke(runner, "catalog", "refresh", DATA / "updates.csv", "--apply")
    assert "No saved referrals to check" in none.stdout
    hcc = {"referral_id": "REF-HCC", "diagnosis": "hepatocellular carcinoma", "age": 50}
    sle = {"referral_id": "REF-SLE", "diagnosis": "lupus nephritis", "age": 30, "sex": "female"}
    _save_referrals(built, {"REF-HCC": hcc, "REF-SLE": sle})
    args = ["catalog", "refresh", GPC3, "--apply", "--today", TODAY.isoformat()]
    data = json.loads(invoke(runner, *args, "--format", "json").stdout)
    report = data["referrals"]
    assert report["saved"] == 2 and [c["referral"] for c in report["changed"]] == ["REF-HCC"]
    assert "new option nct09900001/study (possible)" in report["changed"][0]["changes"]
    # a trial the family was told about closes: they are called back about that too
    catalog = open_catalog(built)
    recorded = json.loads(
        sqlite3.connect(built)
        .execute("SELECT options FROM screening_referrals WHERE referral_id = 'REF-HCC'")
        .fetchone()[0]
    )
    trials = ("iit", "registrational_trial")
    trial = next(o for o in recorded if catalog.entry(o.split("/")[0]).track in trials)
    entry_id = trial.split("/")[0]
    sheet = tmp_path / "close.csv"
    sheet.write_text(f"id,status,source,as_of\n{entry_id},closed,Site letter,2026-11-22\n")
    text = invoke(runner, "catalog", "refresh", sheet, "--apply", "--today", TODAY.isoformat())
    assert "1 now have a different set of options" in text.stdout
    # compared with what the family was last told (never notified: the new trial is still news)
    assert "REF-HCC (case 1, new)" in text.stdout and "REF-SLE" not in text.stdout
    assert f"{trial.split(':')[0]} ({trial.split(':')[1]}) no longer offered: closed" in text.stdout


def test_every_new_command_has_help_ending_with_an_example(runner):
    for command in ("refresh", "diff", "history", "rollback", "export", "stale"):
        result = runner.invoke(cli, ["catalog", command, "--help"])
        assert result.exit_code == 0 and "Example" in result.stdout, command
    doc = inspect.cleandoc(cli.commands["catalog"].commands["refresh"].help)
    assert "`indication` column" in " ".join(doc.split())
    assert doc.split("\n\n")[-1].startswith("\b\nExamples:")


def _wait_for(stream, marker: str, timeout: float) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([stream], [], [], left)[0]:
            raise AssertionError(f"no {marker!r} within {timeout}s; stderr so far: {seen}")
        line = stream.readline()
        if not line:
            raise AssertionError(f"process ended before {marker!r}; stderr: {seen}")
        seen += line
    return seen


@pytest.mark.slow
def test_a_refresh_killed_mid_apply_leaves_the_database_as_before(built, tmp_path):
    before = snapshot(built, tmp_path / "before")
    env = {**os.environ, "CARTMATCH_DB": str(built)}
    refresher = subprocess.Popen(
        [sys.executable, "-m", "matcher", "catalog", "refresh", str(DATA / "updates.csv"),
         GPC3, str(DATA / "curated"), "--apply"],
        env={**env, PAUSE_ENV: "60"}, cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_for(refresher.stderr, PAUSE_ENV, timeout=60)
        # the refresher holds the write lock, its writes done but not committed
        probe = sqlite3.connect(built, timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            probe.execute("BEGIN IMMEDIATE")
        probe.close()
        # `cartmatch match` keeps answering meanwhile, from the last committed catalog
        started = time.monotonic()
        answer = subprocess.run(
            [sys.executable, "-m", "matcher", "match", "--diagnosis", "hepatocellular carcinoma",
             "--age", "50", "--format", "json"],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert answer.returncode == 0, answer.stderr
        assert time.monotonic() - started < 20
        ids = {o["entry_id"] for o in json.loads(answer.stdout)["options"]}
        assert ids and "nct09900001" not in ids and "gpc3-hai-demo" not in ids
        assert refresher.poll() is None
        refresher.send_signal(signal.SIGKILL)
        assert refresher.wait(timeout=30) == -signal.SIGKILL
    finally:
        if refresher.poll() is None:
            refresher.kill()
        refresher.stderr.close()
    assert snapshot(built, tmp_path / "after") == before
    assert refresh_ids(built) == [1]
    # and the database is usable: the same refresh applies cleanly now
    done = subprocess.run(
        [sys.executable, "-m", "matcher", "catalog", "refresh", GPC3, "--apply"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert refresh_ids(built) == [1, 2]
