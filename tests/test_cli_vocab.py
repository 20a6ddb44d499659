"""`cartmatch vocab check`: what each line is read as, in a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from matcher.cli import cli
from matcher.core.recognise import recognise

SAMPLE = Path(__file__).parent / "data" / "recognition" / "sample.txt"


def _check(runner, *args, stdin=None):
    return runner.invoke(cli, ["vocab", "check", *args], input=stdin)


def test_table_reads_each_line_and_ends_with_a_summary(runner):
    result = _check(runner, str(SAMPLE))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.strip().splitlines()
    assert "diagnosis: dlbcl" in lines[1]
    assert "therapy: anti_cd20, anthracycline" in lines[4]
    assert "herbal medicine" in lines[-2] and "NOT RECOGNISED" in lines[-2]
    assert lines[-1] == "9 lines: 3 diagnoses recognised, 5 therapies recognised, 1 not recognised"


def test_json_from_stdin(runner):
    result = _check(runner, "-", "--format", "json", stdin="DLBCL\n\nGemOx\nno idea\n")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    first, gemox, unknown = data["lines"]
    assert (first["kind"], first["code"], first["method"], first["certain"]) == (
        "diagnosis",
        "dlbcl",
        "code",
        True,
    )
    assert gemox["line"] == 3 and gemox["kind"] == "therapy"
    assert "platinum" in gemox["classes"] and "anti_cd20" not in gemox["classes"]
    assert unknown["kind"] == "not_recognised"
    assert data["summary"] == {"lines": 3, "diagnoses": 1, "therapies": 1, "not_recognised": 1}


def test_csv_has_one_row_a_line_and_neutralises_formulas(runner):
    result = _check(runner, "-", "--format", "csv", stdin="R-CHOP x6\n=HYPERLINK(1)\n")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["kind"] for r in rows] == ["therapy", "not_recognised"]
    assert rows[0]["classes"] == "anti_cd20;anthracycline"
    assert rows[1]["text"] == "'=HYPERLINK(1)"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        pytest.param("diagnosis", "not_recognised", id="as-diagnosis"),
        pytest.param("therapy", "therapy", id="as-therapy"),
        pytest.param("auto", "therapy", id="auto"),
    ],
)
def test_kind_limits_the_reading(runner, kind, expected):
    result = _check(runner, "-", "--kind", kind, "--format", "json", stdin="bortezomib\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["lines"][0]["kind"] == expected


def test_a_missing_file_is_one_error_line(runner, tmp_path):
    result = _check(runner, str(tmp_path / "missing.txt"))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert "no such file" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_folder_is_one_error_line(runner, tmp_path):
    result = _check(runner, str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.output


def test_a_gb18030_file_reads(runner, tmp_path):
    path = tmp_path / "terms.txt"
    path.write_bytes("多发性骨髓瘤\n来那度胺维持\n".encode("gb18030"))
    result = _check(runner, str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    kinds = [(r["kind"], r["code"]) for r in json.loads(result.stdout)["lines"]]
    assert kinds == [("diagnosis", "mm"), ("therapy", None)]


@pytest.mark.parametrize("command", [["vocab"], ["vocab", "check"]], ids=" ".join)
def test_help_ends_with_an_example(runner, command):
    result = runner.invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    description = result.stdout.split("Options:")[0].rstrip()
    assert "Example" in description
    assert description.splitlines()[-1].strip().startswith(("cartmatch vocab check", "printf"))


PROBE = """
import json, sys
from matcher.cli import cli
try:
    cli(sys.argv[1:], standalone_mode=False)
finally:
    sys.stderr.write("\\nMODULES=" + json.dumps(sorted(
        m for m in sys.modules if m.split('.')[0] in ('pandas', 'sqlite_utils', 'numpy'))))
"""


def test_vocab_check_does_not_import_pandas(db_path):
    env = {**os.environ, "CARTMATCH_DB": str(db_path)}
    args = [sys.executable, "-c", PROBE, "vocab", "check", str(SAMPLE)]
    # The first run builds the database (which may use sqlite-utils); measure the second.
    subprocess.run(args, env=env, capture_output=True, check=True)
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    assert json.loads(done.stderr.rsplit("MODULES=", 1)[1]) == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        pytest.param("DLBCL", "diagnosis", id="disease-named-exactly"),
        pytest.param("refractory DLBCL after R-CHOP", "diagnosis", id="disease-in-a-sentence"),
        pytest.param("R-CHOP x6", "therapy", id="regimen"),
        pytest.param("auto-SCT 2023", "therapy", id="transplant"),
        pytest.param("xyzzy", "not_recognised", id="nothing"),
    ],
)
def test_auto_takes_the_better_reading(catalog, text, kind):
    assert recognise(text, catalog.lexicon).kind == kind


def test_an_uncertain_diagnosis_says_so(catalog):
    reading = recognise("history of breast cancer, now DLBCL", catalog.lexicon, "diagnosis")
    assert reading.kind == "diagnosis" and reading.certain is False
