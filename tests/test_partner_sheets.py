"""Partner spreadsheets as they arrive (issue 12): headers found below title rows, Chinese
headers read (or carried through), values as hospitals write them, the call list, the
workbook out, and the template partners fill in."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest

from matcher.bulk.headers import HeaderReader, bundled_names, load_names
from matcher.cli import cli
from matcher.curation.bundle import open_catalog
from tests.conftest import TODAY
from tests.partner_workbooks import PATIENTS, no_header

DAY = TODAY.isoformat()
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def built_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "built.db"
    open_catalog(path)
    return path


@pytest.fixture
def db(built_db: Path, db_path: Path) -> Path:
    shutil.copy(built_db, db_path)
    return db_path


def screen(runner, *args):
    return runner.invoke(cli, ["screen", *map(str, args), "--today", DAY, "--no-save"])


def rows_of(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("name", list(PATIENTS))
def test_a_partner_workbook_screens_every_patient_row_with_extras_carried(
    runner, db, tmp_path, name
):
    build, patients, carried = PATIENTS[name]
    build(tmp_path / "in.xlsx")
    result = screen(runner, tmp_path / "in.xlsx", "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    assert f"rows in {patients} = screened {patients} + rejected 0" in result.stderr
    assert "carried through" in result.stderr and "footnote" in result.stderr
    out = rows_of(tmp_path / "out.csv")
    assert len({r["line"] for r in out}) == patients
    assert all(c in out[0] for c in carried)
    wide = tmp_path / "wide.csv"
    assert screen(runner, tmp_path / "in.xlsx", "-o", wide, "--layout", "wide").exit_code == 0
    listed = rows_of(wide)
    assert len(listed) == patients == len({r["line"] for r in listed})
    assert all(r[c] is not None for r in listed for c in carried)


def test_values_and_headers_as_written_are_read(runner, db, tmp_path):
    PATIENTS["hospital_a"][0](tmp_path / "a.xlsx")
    result = screen(runner, tmp_path / "a.xlsx", "-o", tmp_path / "out.csv", "--layout", "wide")
    assert "header read on line 3 (2 title row(s) above it left out)" in result.stderr
    assert "left out 2 blank row(s)" in result.stderr
    rows = {r["序号"]: r for r in rows_of(tmp_path / "out.csv")}
    assert rows["1"]["referral_id"] == "患者甲" and rows["1"]["转诊日期"] == "2026-10-08"
    assert rows["1"]["联系电话"] == "138-0000-0001"  # carried as written
    assert rows["4"]["result"]  # 胃腺癌 with （－） and PD read, not rejected


def test_a_close_header_is_read_and_said_once(runner, db, tmp_path):
    PATIENTS["hospital_b"][0](tmp_path / "b.xlsx")
    result = screen(runner, tmp_path / "b.xlsx", "-o", tmp_path / "out.csv")
    assert "sheet '患者信息'" in result.stderr  # the instructions sheet is passed over
    assert result.stderr.count("'临床诊断名称' read as diagnosis") == 1


def test_an_ambiguous_value_is_rejected_naming_its_column(runner, db, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("编号,诊断,疗效评估,出生日期\nA,DLBCL,PR,\nB,DLBCL,进展,05/08/1970\n", "utf-8")
    result = screen(runner, src, "-o", tmp_path / "out.csv")
    assert result.exit_code != 0  # no row screened
    errors = {r["line"]: r["reason"] for r in rows_of(tmp_path / "out.errors.csv")}
    assert "partial response" in errors["2"] and "(column '疗效评估')" in errors["2"]
    assert "day/month or month/day" in errors["3"] and "(column '出生日期')" in errors["3"]


def test_map_names_a_column_and_carries_another(runner, db, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("病人,病名,岁数\nA,DLBCL,54\n", "utf-8")
    result = screen(
        runner, src, "-o", tmp_path / "out.csv", "--map", "病名=diagnosis", "--map", "岁数=age",
        "--map", "病人=",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    row = rows_of(tmp_path / "out.csv")[0]
    assert row["病人"] == "A" and row["status"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("甲,乙\n1,2\n", "no header row found", id="no-header"),
        pytest.param("编号,年龄\nA,54\n", "no column holds the diagnosis", id="no-diagnosis"),
        pytest.param("诊断,年龄\n", "no referral rows found", id="no-rows"),
    ],
)
def test_a_file_that_is_wrong_exits_non_zero_with_one_message(
    runner, db, tmp_path, content, message
):
    src = tmp_path / "in.csv"
    src.write_text(content, "utf-8")
    result = screen(runner, src, "-o", tmp_path / "out.csv")
    assert result.exit_code == 1
    assert message in result.stderr and result.stderr.count(message) == 1


def test_a_workbook_with_no_usable_header_exits_non_zero(runner, db, tmp_path):
    no_header(tmp_path / "in.xlsx")
    result = screen(runner, tmp_path / "in.xlsx", "-o", tmp_path / "out.csv")
    assert result.exit_code == 1 and "no header row found" in result.stderr
    assert result.stderr.count("\n") == 1


def test_header_row_and_sheet_can_be_given(runner, db, tmp_path):
    PATIENTS["hospital_b"][0](tmp_path / "b.xlsx")
    args = ("-o", tmp_path / "out.csv", "--sheet", "2", "--header-row", "4")
    assert screen(runner, tmp_path / "b.xlsx", *args).exit_code == 0
    bad = screen(runner, tmp_path / "b.xlsx", "-o", tmp_path / "o.csv", "--sheet", "nope")
    assert bad.exit_code == 1 and "no such sheet" in bad.stderr


def test_xlsx_out_is_a_workbook_with_summary_results_and_errors(runner, db, tmp_path):
    from openpyxl import load_workbook

    src = tmp_path / "in.csv"
    src.write_text("诊断,年龄,电话\nDLBCL,54,1\nDLBCL,abc,2\n", "utf-8")
    out = tmp_path / "out.xlsx"
    assert screen(runner, src, "-o", out).exit_code == 0
    book = load_workbook(out)
    assert book.sheetnames == ["summary", "results", "errors"]
    results = book["results"]
    assert results.freeze_panes == "A2" and results.auto_filter.ref
    assert results.cell(1, results.max_column).value == "电话"
    assert book["errors"].max_row == 2 and "summary" in book.sheetnames
    assert (tmp_path / "out.xlsx.errors.csv").exists()  # never out.errors.csv of a CSV run


def test_a_filled_template_screens_with_no_mapping_and_no_rejects(runner, db, tmp_path):
    for lang in ("zh", "en"):
        book = tmp_path / f"t-{lang}.xlsx"
        assert runner.invoke(cli, ["template", "--lang", lang, "-o", str(book)]).exit_code == 0
        result = screen(runner, book, "-o", tmp_path / f"{lang}.csv")
        assert result.exit_code == 0, result.output
        assert "rows in 1 = screened 1 + rejected 0" in result.stderr
        assert "close to" not in result.stderr


def test_the_bundled_header_names_are_valid_and_a_bad_file_is_named(tmp_path, catalog):
    names = bundled_names()
    reader = HeaderReader(names, catalog.lexicon)
    read_as = {"诊断": "diagnosis", "出生年月": "date_of_birth", "CD19表达": "antigens.CD19",
               "Claudin18.2": "antigens.CLDN18.2", "年龄（岁）": "age", "PS评分": "ecog",
               "射血分数": "labs.lvef"}  # fmt: skip
    for header, field in read_as.items():
        assert reader.read(header).field == field, header
    assert reader.read("诊断日期") is None  # a date, not the diagnosis
    bad = tmp_path / "headers.yaml"
    bad.write_text("fields:\n  diagnosys: [诊断]\n", "utf-8")
    with pytest.raises(Exception, match="did you mean diagnosis"):
        load_names(bad)


#: LibreOffice's CSV export: UTF-8, comma, quote, of the 2nd sheet (results); LibreOffice is
#: not installed by the project's files, so this test runs only where someone installed it.
LO_CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,2"


@pytest.mark.skipif(not shutil.which("libreoffice"), reason="LibreOffice is not installed")
def test_xlsx_out_opens_in_libreoffice_with_every_row(runner, db, tmp_path):
    PATIENTS["hospital_a"][0](tmp_path / "a.xlsx")
    out = tmp_path / "out.xlsx"
    assert screen(runner, tmp_path / "a.xlsx", "-o", out, "--layout", "wide").exit_code == 0
    lo = tmp_path / "lo"
    command = ["libreoffice", "--headless", "--convert-to", LO_CSV, "--outdir", str(lo), str(out)]
    subprocess.run(command, check=True, capture_output=True, timeout=180)
    rows = rows_of(sorted(lo.glob("*.csv"))[0])
    assert len(rows) == PATIENTS["hospital_a"][1]
