"""Hostile and broken referral files through `cartmatch screen`: exit 0, 1 or 2 with one
sentence, never a traceback, never a lost row, never a live formula in any output format
(errors file included), and patient files private (issue: hardening)."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.bulk import distributed
from matcher.bulk.writers import Writer
from matcher.cli import cli
from matcher.model.cells import FORMULA
from tests.hostile import FORMULAS, cases, write, zip_bomb

ROWS_IN = re.compile(r"rows in ([\d,]+) = screened ([\d,]+) \+ rejected ([\d,]+)")


def screen(runner, *args, env=None):
    return runner.invoke(cli, ["screen", *map(str, args)], env=env)


def one_sentence(result) -> str:
    """The refusal: one line on stderr, no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def counts(result) -> tuple[int, int, int]:
    found = ROWS_IN.search(result.stderr)
    assert found, result.stderr
    return tuple(int(n.replace(",", "")) for n in found.groups())


def lines_of(path: Path) -> set[int]:
    """The input lines an output CSV accounts for."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {int(row["line"]) for row in csv.DictReader(handle)}


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.name)
def test_every_hostile_file_is_screened_or_refused_in_one_sentence(runner, db_path, tmp_path, case):
    source = write(case, tmp_path)
    out, errors = tmp_path / "out.csv", tmp_path / "out.errors.csv"
    result = screen(runner, source, "-o", out, env=case.env)
    assert "Traceback" not in result.stderr
    if case.stops is not None:
        assert result.exit_code == 1
        assert f"line {case.stops}" in one_sentence(result)
        assert not out.exists() and not errors.exists()
        assert not list(tmp_path.glob(".*.tmp"))
        return
    if case.refused:
        assert result.exit_code == 1
        assert case.refused in one_sentence(result)
        return
    if case.rows == 0:  # the summary, then the one error: nothing was screened
        assert result.exit_code == 1
        assert result.stderr.splitlines()[-1].startswith("Error: no referral rows found")
        return
    assert result.exit_code == 0, result.stderr
    rows_in, screened, rejected = counts(result)
    assert rows_in == case.rows == screened + rejected
    assert len(lines_of(out) | lines_of(errors)) == case.rows  # every row is in one of them


def test_an_unterminated_quote_stops_the_run_naming_the_line_and_saves_nothing(
    runner, db_path, tmp_path
):
    case = next(c for c in cases() if c.name == "unterminated-quote")
    result = screen(runner, write(case, tmp_path), "-o", tmp_path / "out.csv")
    said = one_sentence(result)
    assert "quoted cell opens on line 3 and is not closed before the end of the file" in said
    import sqlite3

    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT count(*) FROM screening_runs").fetchone() == (0,)
    conn.close()


def test_a_quoted_cell_over_several_lines_is_pointed_out(runner, db_path, tmp_path):
    case = next(c for c in cases() if c.name == "multi-line-note")
    result = screen(runner, write(case, tmp_path), "-o", tmp_path / "out.csv", "--no-save")
    assert result.exit_code == 0
    assert "a quoted cell runs over lines 2-3" in result.stderr


def test_a_cell_over_the_limit_rejects_its_row_and_names_the_column(runner, db_path, tmp_path):
    case = next(c for c in cases() if c.name == "cell-over-131072")
    result = screen(runner, write(case, tmp_path), "-o", tmp_path / "out.csv", "--no-save")
    assert counts(result) == (3, 2, 1)
    errors = (tmp_path / "out.errors.csv").read_text(encoding="utf-8-sig")
    assert "line 3: column 'diagnosis': 140,000 characters, over the limit of 32,768" in errors
    assert "CARTMATCH_MAX_CELL_CHARS" in errors


@pytest.mark.parametrize("name", ["json-deep-item", "json-big-integer", "jsonl-deep-line"])
def test_unreadable_json_rejects_that_item_alone(runner, db_path, tmp_path, name):
    case = next(c for c in cases() if c.name == name)
    result = screen(runner, write(case, tmp_path), "-o", tmp_path / "out.csv", "--no-save")
    assert counts(result) == (2, 1, 1)
    errors = (tmp_path / "out.errors.csv").read_text(encoding="utf-8-sig")
    assert "nested deeper" in errors or "number too long" in errors


def test_a_count_of_thousands_of_digits_is_rejected_with_its_field(runner, db_path, tmp_path):
    case = next(c for c in cases() if c.name == "count-5000-digits")
    screen(runner, write(case, tmp_path), "-o", tmp_path / "out.csv", "--no-save")
    errors = (tmp_path / "out.errors.csv").read_text(encoding="utf-8-sig")
    assert "field 'prior_lines'" in errors and "5000 digits" in errors


def test_a_workbook_that_inflates_past_the_limit_is_refused_unopened(runner, db_path, tmp_path):
    bomb = zip_bomb(tmp_path / "bomb.xlsx", 40)
    assert bomb.stat().st_size < 200_000
    result = screen(
        runner, bomb, "-o", tmp_path / "out.csv", env={"CARTMATCH_MAX_XLSX_BYTES": "10000000"}
    )
    said = one_sentence(result)
    assert result.exit_code == 1
    assert "over the limit of 10,000,000 for a workbook, uncompressed" in said
    assert "CARTMATCH_MAX_XLSX_BYTES" in said


# -- formulas ---------------------------------------------------------------------------


def _live(text: str) -> bool:
    return bool(FORMULA.match(text))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_no_formula_survives_in_any_column_of_results_or_errors(runner, db_path, tmp_path, fmt):
    # Each payload as the id, in a carried column, and as an age that is rejected (so the
    # errors file holds it in the id and in the reason).
    rows = []
    for n, payload in enumerate(FORMULAS):
        rows += [[payload, "DLBCL", "2", payload], [f"id{n}", "FL", payload, ""]]
        rows += [[payload, "DLBCL", "abc", payload]]
    source = tmp_path / "in.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["referral_id", "diagnosis", "prior_lines", "备注"], *rows])
    out = tmp_path / f"out.{fmt}"
    result = screen(runner, source, "-o", out, "--no-save")
    assert result.exit_code == 0, result.stderr
    cells = _cells(out) + _cells(
        tmp_path / f"out.{fmt}.errors.csv" if fmt == "xlsx" else tmp_path / "out.errors.csv"
    )
    texts = [c for c in cells if isinstance(c, str)]
    assert any(t.startswith("'") for t in texts)
    assert [t for t in texts if _live(t)] == []


def _cells(path: Path) -> list:
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        return [
            c for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row
        ]
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [c for row in csv.reader(handle) for c in row]


@pytest.mark.parametrize("payload", FORMULAS, ids=range(len(FORMULAS)))
def test_the_formula_rule_catches_every_payload(payload):
    assert _live(payload)
    assert not _live("'" + payload)


@pytest.mark.parametrize("text", ["DLBCL", "弥漫大B细胞淋巴瘤", "CD19 neg", "a-b", "x=1", "3"])
def test_ordinary_text_is_left_alone(text):
    assert not _live(text)


# -- files ------------------------------------------------------------------------------


def _good(tmp_path: Path) -> Path:
    source = tmp_path / "in.csv"
    source.write_text("referral_id,diagnosis,prior_lines,age\nA,DLBCL,2,54\nB,FL,3,abc\n")
    return source


@pytest.mark.parametrize("name", ["out.csv", "out.xlsx", "out.json", "out.jsonl", "out.parquet"])
def test_results_and_errors_are_readable_by_their_owner_only(runner, db_path, tmp_path, name):
    out = tmp_path / name
    out.write_text("the previous run")
    os.chmod(out, 0o644)
    result = screen(runner, _good(tmp_path), "-o", out, "--errors", tmp_path / "bad.csv")
    assert result.exit_code == 0, result.stderr
    for path in (out, tmp_path / "bad.csv"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_an_output_folder_that_does_not_exist_is_not_created(runner, db_path, tmp_path):
    result = screen(runner, _good(tmp_path), "-o", tmp_path / "no" / "such" / "out.csv")
    assert result.exit_code == 1
    assert "the folder" in one_sentence(result) and "does not exist" in result.stderr
    assert not (tmp_path / "no").exists()


def test_results_and_errors_are_written_as_a_set(runner, db_path, tmp_path, monkeypatch):
    out, errors = tmp_path / "out.csv", tmp_path / "out.errors.csv"
    out.write_text("previous results")
    errors.write_text("previous errors")
    finish = Writer.finish

    def full_disk(self):
        if self.path == errors:
            raise OSError(errno.ENOSPC, "No space left on device")
        finish(self)

    monkeypatch.setattr(Writer, "finish", full_disk)
    result = screen(runner, _good(tmp_path), "-o", out)
    assert result.exit_code == 1
    assert "No space left on device" in one_sentence(result)
    assert out.read_text() == "previous results" and errors.read_text() == "previous errors"
    assert not list(tmp_path.glob(".*.tmp"))


def test_partial_files_of_a_killed_run_are_removed_by_the_next(runner, db_path, tmp_path):
    dead = tmp_path / ".out.csv.999999999.tmp"  # no such process
    dead.write_text("referral data from a run that was killed")
    mine = tmp_path / f".out.csv.{os.getppid()}.tmp"  # a live process: not ours to remove
    mine.write_text("x")
    assert screen(runner, _good(tmp_path), "-o", tmp_path / "out.csv").exit_code == 0
    assert not dead.exists() and mine.exists()


def test_a_pipe_is_refused_not_read(runner, db_path, tmp_path):
    fifo = tmp_path / "in.csv"
    os.mkfifo(fifo)
    result = screen(runner, fifo, "-o", tmp_path / "out.csv")
    assert result.exit_code == 1
    assert "not a regular file" in one_sentence(result)


@pytest.mark.parametrize("codec", ["base64", "zlib", "rot13", "no-such-codec"])
def test_an_encoding_that_is_not_a_text_encoding_is_refused(runner, db_path, tmp_path, codec):
    result = screen(runner, _good(tmp_path), "-o", tmp_path / "out.csv", "--encoding", codec)
    assert result.exit_code == 1
    assert "not a text encoding" in one_sentence(result)


def test_an_unreachable_dask_scheduler_is_one_sentence(runner, db_path, tmp_path, monkeypatch):
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(distributed, "SCHEDULER_TIMEOUT_S", 1)
    args = ["--engine", "dask", "--scheduler", "tcp://127.0.0.1:9", "--no-save"]
    result = screen(runner, _good(tmp_path), "-o", tmp_path / "out.csv", *args)
    assert result.exit_code == 1
    assert "no Dask scheduler answered" in one_sentence(result)


# -- fuzz -------------------------------------------------------------------------------

CELL = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12
) | st.sampled_from(["DLBCL", "FL", "骨髓瘤", "2", "-1", "=1+1", '"', '""', "\n", ",", "abc"])


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=5), min_size=1, max_size=6))
def test_fuzzed_csv_is_screened_with_every_row_or_refused_in_one_sentence(
    runner, db_path, tmp_path, rows
):
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["referral_id", "diagnosis", "prior_lines", "note"], *rows])
    text = buffer.getvalue()
    if rows and rows[0] and rows[0][0]:
        text = text.replace(rows[0][0], rows[0][0] + '"', 1)  # sometimes a quote out of place
    source = tmp_path / "fuzz.csv"
    source.write_text(text, encoding="utf-8", newline="")
    out = tmp_path / "fuzz-out.csv"
    result = screen(runner, source, "-o", out, "--no-save")
    assert result.exit_code in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    if result.exit_code == 1:  # refused (one sentence) or nothing screened (summary, then it)
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and result.stderr.rstrip().endswith(errors[0])
        return
    rows_in, screened, rejected = counts(result)
    assert rows_in == screened + rejected
    records = list(csv.reader(io.StringIO(text), strict=True))[1:]
    with_text = [r for r in records if "".join(r).strip()]
    assert rows_in == len(with_text) - _footnotes(with_text)
    for path in (out, tmp_path / "fuzz-out.errors.csv"):
        assert [c for c in _cells(path) if _live(c)] == []


def _footnotes(records: list[list[str]]) -> int:
    from matcher.bulk.table import FOOTNOTE

    return sum(
        1 for r in records if FOOTNOTE.match("".join(r)) and sum(1 for c in r if c.strip()) == 1
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    profile=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=8,
    ),
    diagnosis=st.sampled_from(["DLBCL", "", "骨髓瘤", "=1", None]),
)
def test_fuzzed_profiles_give_an_answer_or_one_sentence(
    runner, db_path, tmp_path, profile, diagnosis
):
    data = {"diagnosis": diagnosis, "extra": profile} if diagnosis is not None else {"x": profile}
    if isinstance(profile, dict):
        data = {**profile, "diagnosis": diagnosis}
    result = runner.invoke(cli, ["match", "-", "--format", "json"], input=json.dumps(data))
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.stderr
    if result.exit_code:
        one_sentence(result)


# -- the database -----------------------------------------------------------------------


def test_a_screen_that_waited_behind_a_refresh_is_saved_against_the_new_catalog(
    runner, db_path, tmp_path
):
    import sqlite3
    from datetime import date

    from matcher.bulk.run import Settings, run_screen
    from matcher.curation.bundle import open_catalog

    before = open_catalog(db_path)  # what the screen read before it waited for the lock
    sheet = tmp_path / "prices.csv"
    sheet.write_text("id,list_price_cny,source,as_of\naxi-cel,1100000,Notice,2026-11-20\n")
    assert runner.invoke(cli, ["catalog", "refresh", str(sheet), "--apply"]).exit_code == 0
    now = open_catalog(db_path).version.version
    assert now != before.version.version
    summary = run_screen(
        _good(tmp_path),
        tmp_path / "out.csv",
        tmp_path / "out.errors.csv",
        before,
        Settings(today=date(2026, 11, 29)),
        db_path=db_path,
    )
    assert summary.catalog_version == now
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT catalog_version FROM screening_runs").fetchall() == [(now,)]
    conn.close()
    text = (tmp_path / "out.csv").read_text(encoding="utf-8-sig")
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["entry_id"] == "axi-cel")
    assert float(row["cost_low_cny"]) < 1_400_000  # the new price, not the one read before


VALUE = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(items=st.lists(st.dictionaries(st.sampled_from(
    ["diagnosis", "age", "prior_lines", "referral_id", "antigens", "labs", "ecog", "x"]
), VALUE | st.lists(VALUE, max_size=3) | st.dictionaries(st.text(max_size=5), VALUE, max_size=2),
    max_size=5), min_size=1, max_size=6))  # fmt: skip
def test_fuzzed_json_referrals_are_each_accounted_for(runner, db_path, tmp_path, items):
    source = tmp_path / "fuzz.json"
    source.write_text(json.dumps(items), encoding="utf-8")
    result = screen(runner, source, "-o", tmp_path / "fuzz-out.csv", "--no-save")
    assert "Traceback" not in result.stderr
    assert result.exit_code in (0, 1), result.stderr
    rows_in, screened, rejected = counts(result)
    assert rows_in == screened + rejected == len([i for i in items if i]) + _trailing(items)


def _trailing(items: list[dict]) -> int:
    """Empty objects are empty rows: rejected as such, except those at the very end."""
    last = max((n for n, item in enumerate(items) if item), default=-1)
    return sum(1 for item in items[: last + 1] if not item)


NUMBER = st.sampled_from(
    ["inf", "-inf", "nan", "1e309", "9" * 400, "-1", "0", "1e12", "abc", "", "１２３", "=1+1"]
) | st.integers(min_value=-(10**20), max_value=10**20).map(str)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    price=NUMBER, day=st.sampled_from(["2026-11-20", "2099-01-01", "yesterday", "", "2026-13-45"])
)
def test_fuzzed_refresh_sheets_apply_sane_values_or_change_nothing(
    runner, db_path, tmp_path, price, day
):
    sheet = tmp_path / "prices.csv"
    sheet.write_text(f"id,list_price_cny,source,as_of\naxi-cel,{price},Notice,{day}\n")
    result = runner.invoke(cli, ["catalog", "refresh", str(sheet), "--apply"])
    assert "Traceback" not in result.stderr
    assert result.exit_code in (0, 1, 2), result.stderr
    after = runner.invoke(cli, ["match", "--diagnosis", "DLBCL", "--prior-lines", "2"])
    assert after.exit_code == 0, after.stderr  # whatever was applied, ranking still works
