"""`cartmatch screen`: bulk screening end to end, and the vectorised path against the single one."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.bulk.frame import OUTPUT_COLUMNS, referral_frame
from matcher.bulk.screening import screen_frame, screen_rows
from matcher.cli import cli
from matcher.criteria import KINDS
from matcher.curation.bundle import open_catalog
from matcher.model.values import FLAGS
from tests.conftest import TODAY, patient_of

DAY = TODAY.isoformat()
GOOD = [
    {
        "referral_id": "R1",
        "diagnosis": "DLBCL",
        "age": "54",
        "disease_status": "refractory",
        "prior_lines": "2",
        "antigens.CD19": "pos",
        "prior_therapies": "R-CHOP;ASCT",
        "ecog": "1",
    },
    {
        "referral_id": "R2",
        "diagnosis": "胃癌",
        "age": "61",
        "antigens.CLDN18.2": "60% 2+",
        "antigens.HER2": "阴性",
        "prior_lines": "2",
        "disease_status": "progressive",
    },
    {
        "referral_id": "R3",
        "diagnosis": "multiple myeloma",
        "age": "66",
        "prior_lines": "4",
        "antigens.BCMA": "阳性",
        "disease_status": "r/r",
        "prior_therapies": "bortezomib;lenalidomide;daratumumab",
    },
    {"referral_id": "R4", "diagnosis": "Hodgkin lymphoma", "age": "45"},
]
FIELDS = [
    "referral_id",
    "diagnosis",
    "age",
    "disease_status",
    "prior_lines",
    "prior_therapies",
    "ecog",
    "antigens.CD19",
    "antigens.CLDN18.2",
    "antigens.HER2",
    "antigens.BCMA",
]


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def built_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database built once from the bundle; each test screens into its own copy."""
    path = tmp_path_factory.mktemp("db") / "built.db"
    open_catalog(path)
    return path


@pytest.fixture
def db(built_db: Path, db_path: Path) -> Path:
    shutil.copy(built_db, db_path)
    return db_path


def write_csv(
    path: Path, rows: list[dict[str, str]], encoding: str = "utf-8", columns: list[str] = FIELDS
) -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows([[row.get(c, "") for c in columns] for row in rows])
    return path


def screen(runner: Any, *args: Any) -> Any:
    return runner.invoke(cli, ["screen", *map(str, args), "--today", DAY])


def rows_of(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def db_rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


# ------------------------------------------------------------------------ the command


def test_screen_writes_ranked_options_and_records_the_run(runner, db, tmp_path):
    src = write_csv(tmp_path / "referrals.csv", GOOD)
    result = screen(runner, src, "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "rows in 4 = screened 4 + rejected 0" in result.stderr
    assert "saved as screening run 1" in result.stderr
    rows = rows_of(tmp_path / "out.csv")
    assert list(rows[0]) == [c for c in OUTPUT_COLUMNS if not c.startswith("error")]
    first = rows[0]
    assert (first["line"], first["referral_id"], first["rank"]) == ("2", "R1", "1")
    assert (first["entry_id"], first["status"]) == ("axi-cel", "eligible")
    assert first["tier"].endswith("axi-cel/lbcl-3l") and float(first["cost_low_cny"]) > 0
    ranks = [int(r["rank"]) for r in rows if r["line"] == "2"]
    assert ranks == list(range(1, len(ranks) + 1))
    assert any(r["line"] == "5" and r["status"] == "no_option" for r in rows)
    assert rows_of(tmp_path / "out.errors.csv") == []
    runs = db_rows(
        db,
        "SELECT input_name, input_hash, catalog_version, rows_in, rows_screened, "
        "rows_rejected, summary FROM screening_runs",
    )
    name, digest, version, rows_in, screened, rejected, summary = runs[0]
    assert (name, rows_in, screened, rejected) == ("referrals.csv", 4, 4, 0)
    assert digest == hashlib.sha256(src.read_bytes()).hexdigest() and version
    assert json.loads(summary)["today"] == DAY
    saved = db_rows(
        db,
        "SELECT row_number, referral_id, profile, options FROM "
        "screening_referrals ORDER BY row_number",
    )
    assert [(r[0], r[1]) for r in saved] == [(2, "R1"), (3, "R2"), (4, "R3"), (5, "R4")]
    assert json.loads(saved[0][2])["antigens.CD19"] == "pos"
    assert json.loads(saved[0][3])[0] == "axi-cel/lbcl-3l:eligible"
    assert json.loads(saved[3][3]) == []


def test_a_mixed_file_screens_to_completion_with_every_row_accounted_for(runner, db, tmp_path):
    """Good rows, malformed rows, a GBK Chinese diagnosis, a formula cell and an empty line."""
    columns = ["referral_id", "diagnosis", "age", "prior_lines", "disease_status", "antigens.CD19"]
    lines = [
        ",".join(columns),
        "R1,弥漫大B细胞淋巴瘤,54,2,复发难治,阳性",  # 2: Chinese, saved by Excel as GBK
        '=HYPERLINK("http://x"),DLBCL,60,3,refractory,pos',  # 3: formula injection
        "",  # 4: an empty line
        "R4,DLBCL,140,2,refractory,pos",  # 5: age out of range
        "R5,DLBCL,50,2,refractory,pos,extra",  # 6: a cell too many
        "R6,DLBCL,50,2,newly diagnosed,pos",  # 7: a contradiction
        "R7,多发性骨髓瘤,70,4,relapsed,",  # 8: good
        " , , , , , ",  # 9: blank cells only
        "R9,DLBCL,50,2,refractory,maybe",  # 10: not an antigen result
    ]
    src = tmp_path / "转诊.csv"
    src.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    result = screen(runner, src, "-o", tmp_path / "out.csv", "--errors", tmp_path / "bad.csv")
    assert result.exit_code == 0, result.output
    assert "(gb18030)" in result.stderr
    # blank rows between referrals are left out and counted, not rejected (issue 12)
    assert "rows in 7 = screened 3 + rejected 4" in result.stderr
    assert "left out 2 blank row(s) between the referrals" in result.stderr
    out, bad = rows_of(tmp_path / "out.csv"), rows_of(tmp_path / "bad.csv")
    screened, rejected = {r["line"] for r in out}, [r["line"] for r in bad]
    assert screened == {"2", "3", "8"} and rejected == ["5", "6", "7", "10"]
    assert screened | set(rejected) == {str(n) for n in range(2, 11)} - {"4", "9"}
    reasons = {r["line"]: r["reason"] for r in bad}
    assert "field 'age'" in reasons["5"] and "7 cells but the header has 6" in reasons["6"]
    assert "newly_diagnosed but prior_lines is 2" in reasons["7"]
    assert "antigens.CD19" in reasons["10"] and bad[0]["field"] == "age"
    chinese = [r for r in out if r["line"] == "2"]
    assert chinese[0]["referral_id"] == "R1" and chinese[0]["entry_id"] == "axi-cel"
    assert "read as relapsed" in chinese[0]["warnings"]
    assert {r["referral_id"] for r in out if r["line"] == "3"} == {'\'=HYPERLINK("http://x")'}
    assert db_rows(db, "SELECT rows_in, rows_screened, rows_rejected FROM screening_runs") == [
        (7, 3, 4)
    ]


def test_formula_cells_are_neutralised_in_csv_and_xlsx_not_in_json(runner, db, tmp_path):
    risky = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx"]
    rows = [{**GOOD[0], "referral_id": text} for text in risky]
    src = write_csv(tmp_path / "in.csv", rows)
    for name in ("out.csv", "out.xlsx", "out.jsonl"):
        assert screen(runner, src, "-o", tmp_path / name, "--no-save").exit_code == 0
    ids = {r["referral_id"] for r in rows_of(tmp_path / "out.csv")}
    assert ids == {"'" + text for text in risky}
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "out.xlsx")["results"]
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    assert {c.value for c in cells} == {"'" + text for text in risky}
    assert {c.data_type for c in cells} == {"s"}
    raw = [json.loads(line)["referral_id"] for line in (tmp_path / "out.jsonl").open()]
    assert set(raw) == set(risky)


def test_the_same_file_screened_twice_gives_identical_bytes_in_order(runner, db, tmp_path):
    rows = [*GOOD, {"referral_id": "X", "age": "abc", "diagnosis": "DLBCL"}] * 3
    src = write_csv(tmp_path / "in.csv", rows)
    outputs = []
    for run in (1, 2):
        out = tmp_path / f"run{run}"
        out.mkdir()
        for name in ("out.csv", "out.jsonl", "out.parquet"):
            result = screen(runner, src, "-o", out / name, "--errors", out / f"{name}.errors.csv")
            assert result.exit_code == 0, result.output
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] == outputs[1]
    frame = pd.read_parquet(tmp_path / "run1" / "out.parquet")
    keys = list(zip(frame["line"], frame["rank"].fillna(0), strict=True))
    assert keys == sorted(keys)


def test_no_save_leaves_no_screening_rows(runner, db, tmp_path):
    src = write_csv(tmp_path / "in.csv", GOOD)
    result = screen(runner, src, "-o", tmp_path / "out.csv", "--no-save")
    assert result.exit_code == 0, result.output
    assert "not saved (--no-save)" in result.stderr
    assert db_rows(db, "SELECT count(*) FROM screening_runs") == [(0,)]
    assert db_rows(db, "SELECT count(*) FROM screening_referrals") == [(0,)]


def _same_referrals_in(fmt: str, path: Path) -> Path:
    """GOOD as a file of the given format; JSON with native types and nested maps."""
    if fmt == "csv":
        return write_csv(path, GOOD)
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.append(FIELDS)
        for row in GOOD:  # numbers as numbers, as Excel keeps them
            sheet.append(
                [int(v) if v.isdigit() else v or None for v in (row.get(c, "") for c in FIELDS)]
            )
        book.save(path)
        return path
    records = []
    for row in GOOD:
        record: dict[str, Any] = {k: int(v) if v.isdigit() else v for k, v in row.items()}
        antigens = {k.split(".", 1)[1]: record.pop(k) for k in list(record) if "." in k}
        if "CLDN18.2" in antigens:
            antigens["CLDN18.2"] = {"percent": 60, "intensity": 2}
        if "prior_therapies" in record:
            record["prior_therapies"] = record["prior_therapies"].split(";")
        records.append({**record, "antigens": antigens})
    if fmt == "json":
        path.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
    else:
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")
    return path


@pytest.mark.parametrize(
    ("fmt_in", "fmt_out"),
    [
        ("csv", "xlsx"),
        ("csv", "json"),
        ("csv", "jsonl"),
        ("xlsx", "parquet"),
        ("json", "parquet"),
        ("jsonl", "parquet"),
    ],
)
def test_formats_in_and_out_give_the_same_results(runner, db, tmp_path, fmt_in, fmt_out):
    reference = tmp_path / "reference.parquet"
    assert (
        screen(
            runner, _same_referrals_in("csv", tmp_path / "ref.csv"), "-o", reference, "--no-save"
        ).exit_code
        == 0
    )
    src = _same_referrals_in(fmt_in, tmp_path / f"in.{fmt_in}")
    out = tmp_path / f"out.{fmt_out}"
    result = screen(runner, src, "-o", out, "--no-save")
    assert result.exit_code == 0, result.output
    want = pd.read_parquet(reference)[["referral_id", "entry_id", "status", "rank", "missing"]]
    if fmt_out == "parquet":
        got = pd.read_parquet(out)
    elif fmt_out == "xlsx":
        got = pd.read_excel(
            out, sheet_name="results", dtype={"referral_id": str}, engine="openpyxl"
        )
    elif fmt_out == "json":
        got = pd.DataFrame(json.loads(out.read_text(encoding="utf-8")))
    else:
        got = pd.read_json(out, lines=True, dtype={"referral_id": str})
    got = got[want.columns].astype(object).where(got[want.columns].notna(), None)
    want = want.astype(object).where(want.notna(), None)
    assert got.to_dict("records") == want.to_dict("records")
    lines = sorted(set(pd.read_parquet(out)["line"])) if fmt_out == "parquet" else None
    if fmt_in == "jsonl":  # line numbers as the file shows them
        text = src.read_text(encoding="utf-8").splitlines()
        starts = [n for n, line in enumerate(text, start=1) if line.startswith("{")]
        assert lines == starts and len(lines) == len(GOOD)
    elif fmt_in == "json":  # items of an array numbered 1..N, whatever the layout
        assert lines == list(range(1, len(GOOD) + 1))


def test_encodings_detected_given_or_refused(runner, db, tmp_path):
    rows = [GOOD[1]]
    for encoding, shown in (
        ("utf-8-sig", "(utf-8-sig)"),
        ("utf-8", "(utf-8)"),
        ("gb18030", "(gb18030)"),
    ):
        src = write_csv(tmp_path / f"{encoding}.csv", rows, encoding=encoding)
        result = screen(runner, src, "-o", tmp_path / "out.csv", "--no-save")
        assert result.exit_code == 0 and shown in result.stderr, result.output
        assert rows_of(tmp_path / "out.csv")[0]["entry_id"] == "satri-cel"
    given = screen(
        runner, tmp_path / "gb18030.csv", "-o", tmp_path / "o.csv", "--encoding", "gbk", "--no-save"
    )
    assert given.exit_code == 0 and "(gbk)" in given.stderr
    (tmp_path / "bad.csv").write_bytes(b"diagnosis\n\xff\xfe\x80\n")
    refused = screen(runner, tmp_path / "bad.csv", "-o", tmp_path / "o.csv")
    assert refused.exit_code == 1
    assert refused.stderr.count("\n") == 1 and "cannot be decoded" in refused.stderr


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (None, "missing.csv", "no such file"),
        ("diagnosis\nDLBCL\n", "referrals.txt.gz", "cannot tell the format"),
        ("age,age\n1,2\n", "dup.csv", "names 'age' twice"),
        ("", "empty.csv", "first row must name the profile fields"),
        ("[1, 2", "broken.json", "invalid JSON"),
    ],
)
def test_file_level_problems_are_one_clear_line(runner, db, tmp_path, content, name, message):
    src = tmp_path / name
    if content is not None:
        src.write_text(content, encoding="utf-8")
    result = screen(runner, src, "-o", tmp_path / "out.csv")
    assert result.exit_code == 1
    assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert not (tmp_path / "out.csv").exists()


def test_jsonl_bad_lines_and_trailing_blank_lines(runner, db, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"diagnosis": "DLBCL", "prior_lines": 2}\n{oops\n[1]\n\n'
        '{"diagnosis": "MM", "age": 70}\n\n\n',
        encoding="utf-8",
    )
    result = screen(runner, src, "-o", tmp_path / "out.csv", "--no-save")
    assert result.exit_code == 0, result.output
    assert "rows in 5 = screened 2 + rejected 3 (1 of them empty)" in result.stderr
    assert "ignored 2 empty line(s) at the end of the file" in result.stderr
    reasons = [(r["line"], r["reason"]) for r in rows_of(tmp_path / "out.errors.csv")]
    assert reasons[0][0] == "2" and "invalid JSON" in reasons[0][1]
    assert reasons[1][0] == "3" and "expected a JSON object" in reasons[1][1]
    assert reasons[2] == ("4", "empty row")


def test_compact_json_array_items_are_rows_each_with_its_own_number(runner, db, tmp_path):
    # json.dump's default layout: the whole array on one line
    records = [
        {"referral_id": "A", "diagnosis": "DLBCL", "prior_lines": 2},
        {"referral_id": "B", "diagnosis": "DLBCL", "colour": "blue"},
        {"referral_id": "C", "diagnosis": "multiple myeloma", "age": 66},
    ]
    src = tmp_path / "in.json"
    src.write_text(json.dumps(records), encoding="utf-8")
    assert src.read_text(encoding="utf-8").count("\n") == 0
    result = screen(runner, src, "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    assert "rows in 3 = screened 2 + rejected 1" in result.stderr
    assert "rejected rows with item number and reason" in result.stderr
    rows = rows_of(tmp_path / "out.csv")
    assert sorted({(r["line"], r["referral_id"]) for r in rows}) == [("1", "A"), ("3", "C")]
    errors = rows_of(tmp_path / "out.errors.csv")
    column = json.dumps(records).index('{"referral_id": "B"') + 1
    assert [(e["line"], e["referral_id"], e["field"]) for e in errors] == [("2", "B", "colour")]
    assert errors[0]["reason"].startswith(f"item 2 (line 1, column {column}): unknown field")
    saved = db_rows(db, "SELECT row_number, referral_id FROM screening_referrals ORDER BY 1")
    assert saved == [(1, "A"), (3, "C")]


def test_json_array_items_rejected_while_reading_are_reported_each(runner, db, tmp_path):
    text = '[{"diagnosis": "DLBCL"}, [1], "x", {},\n  {"diagnosis": "MM", "age": 70}]'
    src = tmp_path / "in.json"
    src.write_text(text, encoding="utf-8")
    result = screen(runner, src, "-o", tmp_path / "out.csv", "--no-save", "--chunk-rows", "2")
    assert result.exit_code == 0, result.output
    assert "rows in 5 = screened 2 + rejected 3 (1 of them empty)" in result.stderr
    assert sorted({r["line"] for r in rows_of(tmp_path / "out.csv")}) == ["1", "5"]
    errors = [(e["line"], e["reason"]) for e in rows_of(tmp_path / "out.errors.csv")]
    not_an_object = "expected a JSON object of profile fields, got"
    list_at, str_at = text.index("[1]") + 1, text.index('"x"') + 1  # columns count from 1
    assert errors == [
        ("2", f"item 2 (line 1, column {list_at}): {not_an_object} list"),
        ("3", f"item 3 (line 1, column {str_at}): {not_an_object} str"),
        ("4", "empty row"),
    ]


def test_csv_lines_after_a_quoted_multiline_cell_are_the_lines_rows_start_on(runner, db, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(
        "referral_id,diagnosis,age,notes\n"  # line 1
        'A,DLBCL,54,""\n'  # line 2
        'B,DLBCL,61,"seen in clinic\non Monday\nand again"\n'  # lines 3-5
        "C,multiple myeloma,66,\n"  # line 6
        "D,DLBCL,abc,\n"  # line 7: rejected (age)
        "E,DLBCL,70,,surplus\n",  # line 8: rejected (too many cells)
        encoding="utf-8",
    )
    result = screen(runner, src, "-o", tmp_path / "out.csv", "--no-save")
    assert result.exit_code == 0, result.output
    assert "rows in 5 = screened 3 + rejected 2" in result.stderr
    shown = sorted({(r["line"], r["referral_id"]) for r in rows_of(tmp_path / "out.csv")})
    assert shown == [("2", "A"), ("3", "B"), ("6", "C")]  # notes: carried through (issue 12)
    errors = [
        (e["line"], e["referral_id"], e["reason"]) for e in rows_of(tmp_path / "out.errors.csv")
    ]
    assert [e[:2] for e in errors] == [("7", "D"), ("8", "E")]
    assert all(reason.startswith(f"line {line}: ") for line, _, reason in errors)


def test_all_shows_ineligible_options_with_what_excludes_them(runner, db, tmp_path):
    src = write_csv(tmp_path / "in.csv", [GOOD[0]])
    assert screen(runner, src, "-o", tmp_path / "out.csv", "--all", "--no-save").exit_code == 0
    rows = rows_of(tmp_path / "out.csv")
    ineligible = [r for r in rows if r["status"] == "ineligible"]
    assert ineligible and all(r["excluded_by"] for r in ineligible)
    assert len({(r["entry_id"], r["indication_id"]) for r in rows}) == len(rows)


def test_long_runs_show_progress_and_help_ends_with_an_example(runner, db, tmp_path):
    src = write_csv(tmp_path / "in.csv", GOOD * 3)
    result = screen(runner, src, "-o", tmp_path / "out.csv", "--chunk-rows", "4", "--no-save")
    assert result.exit_code == 0, result.output
    assert "... 8 rows in" in result.stderr and "... 12 rows in" in result.stderr
    assert "rows in 12 = screened 12 + rejected 0" in result.stderr
    usage = runner.invoke(cli, ["screen", "--help"]).output
    example = usage.split("Examples:")[1].split("Options:")[0]
    assert example.strip().startswith("cartmatch screen referrals.csv -o results.csv")


# ------------------------------------------------------------- bulk == single, property


def test_every_criterion_kind_names_the_inputs_it_reads():
    """Bulk screening evaluates a criterion once per distinct value of what it reads: a kind
    that reads a profile field without saying so would be screened as if it read nothing."""
    # Kinds defined in the package (a test may define its own kinds, unregistered).
    ours = [cls for cls in _node_classes() if cls.__module__.startswith("matcher.")]
    kinds = {cls.model_fields["kind"].default: cls for cls in ours}
    assert set(KINDS) == set(kinds)
    silent = {"template", "manual"}  # expanded at load time; reads no profile field
    assert [k for k, cls in kinds.items() if "reads" not in vars(cls) and k not in silent] == []


def _node_classes() -> list[type]:
    from matcher.criteria.node import Node

    found, todo = [], list(Node.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return found


DIAGNOSES = [
    "DLBCL",
    "胃腺癌术后",
    "肝细胞癌 CNLC IIb",
    "重症肌无力 MGFA IVa",
    "metastatic pancreatic adenocarcinoma",
    "弥漫大B细胞淋巴瘤",
    "difuse large b cell lymphoma",
    "multiple myeloma",
    "MM",
    "多发性骨髓瘤",
    "B-ALL",
    "T-ALL",
    "胃癌",
    "stomach adenocarcinoma",
    "HCC",
    "肝细胞癌",
    "lupus nephritis",
    "SLE",
    "follicular lymphoma",
    "mantle cell lymphoma",
    "lymphoma",
    "NMOSD",
    "myasthenia gravis",
    "pancreatic cancer",
    "zzz",
    "5 mm lesion",
]
VALID = {
    "indication": ["dlbcl", "lbcl", "mm", "b_all", "gastric_gej_adenocarcinoma", "hcc", "sle"],
    "age": [str(a) for a in (2, 16, 17, 18, 19, 25, 54, 65, 70, 71, 75, 76, 80)],
    "date_of_birth": ["1950-02-01", "2008-11-24", "2008-11-23", "1990-06-15"],
    "sex": ["f", "m", "female", "male", "女", "男", "other"],
    "prior_lines": ["0", "1", "2", "3", "4", "6"],
    "prior_therapies": [
        "R-CHOP",
        "R-CHOP;ASCT",
        "ibrutinib",
        "bortezomib;lenalidomide;daratumumab",
        "axi-cel",
        "BCMA CAR-T",
        "mycophenolate;belimumab",
        "sorafenib",
        "foo;bar",
        "oxaliplatin;nivolumab",
        "blinatumomab",
        "VRd;teclistamab 2026-03",
        "R-CHOP;axi-cel (2025-06-01)",
        "cilta-cel 2025",
    ],
    "disease_status": [
        "relapsed",
        "refractory",
        "r/r",
        "progressive",
        "remission",
        "复发难治",
        "newly diagnosed",
        "cr",
    ],
    "ecog": ["0", "1", "2", "3", "4"],
    "flag": ["yes", "no", "true", "0", "1", "是", "否"],
    "antigen": [
        "pos",
        "neg",
        "阳性",
        "阴性",
        "60% 2+",
        "2+ 60%",
        "5% 3+",
        "0%:0",
        "3+",
        "40%",
        "1+",
        "15% 3+",
        "50%:1+",
        "8% 2+",
        "2+",
        "100% 3+",
        "45% 2+",
        "12% 3+",
        "positive (2026-09-20)",
        "negative 2026-01",
        "60% 2+ (2024-05-01)",
    ],
    "lab": [
        "30",
        "45",
        "50",
        "55.5",
        "70",
        "A5",
        "A6",
        "B7",
        "B8",
        "C10",
        "B",
        "nan",
        "abc",
        "45%",
    ],
    "disease_tempo": ["stable", "rapid", "Rapid"],
    "budget_cny": ["0", "500000", "2000000"],
    "setting": ["adjuvant", "metastatic", "术后", "advanced"],
    "stage": ["MGFA IIIb", "mgfa V", "CNLC IIIa", "BCLC C", "IV", "III期"],
}
INVALID = {
    "age": ["-1", "121", "abc", "54.5"],
    "prior_lines": ["-1", "x"],
    "ecog": ["5"],
    "flag": ["maybe"],
    "antigen": ["140%:2+", "abc"],
    "sex": ["x"],
    "disease_status": ["foo"],
    "indication": ["not_a_code"],
    "lab": [],
    "date_of_birth": ["2030-01-01", "2000-13-01"],
    "budget_cny": ["-1"],
    "disease_tempo": ["slow"],
    "setting": ["sideways"],
    "stage": ["Z9"],
    "prior_therapies": [],
}
ANTIGENS = ["CD19", "BCMA", "CLDN18.2", "HER2", "GPC3", "CD7", "CD20", "Claudin 18.2", "FOO"]
LABS = ["lvef", "egfr", "child_pugh", "sledai", "bilirubin_uln", "LVEF"]
FLAG_FIELDS = list(FLAGS)


def _value(kind: str) -> st.SearchStrategy[str | None]:
    pick = st.sampled_from(["none"] * 6 + ["valid"] * 9 + ["invalid"])
    return pick.flatmap(
        lambda k: (
            st.none()
            if k == "none" or (k == "invalid" and not INVALID[kind])
            else st.sampled_from(VALID[kind] if k == "valid" else INVALID[kind])
        )
    )


@st.composite
def referral(draw: st.DrawFn) -> dict[str, Any]:
    row: dict[str, Any] = {
        "referral_id": draw(st.one_of(st.none(), st.text(max_size=4))),
        "diagnosis": draw(st.one_of(st.none(), st.sampled_from(DIAGNOSES))),
    }
    for name in (
        "indication",
        "age",
        "sex",
        "prior_lines",
        "prior_therapies",
        "disease_status",
        "ecog",
        "disease_tempo",
        "budget_cny",
        "setting",
        "stage",
    ):
        row[name] = draw(_value(name))
    row["date_of_birth"] = draw(st.one_of(st.none(), st.none(), _value("date_of_birth")))
    for name in FLAG_FIELDS:
        row[name] = draw(_value("flag"))
    for name in ANTIGENS:
        row[f"antigens.{name}"] = draw(st.one_of(st.none(), _value("antigen")))
    for name in LABS:
        row[f"labs.{name}"] = draw(st.one_of(st.none(), _value("lab")))
    if draw(st.integers(0, 30)) == 0:
        row["diagnosiss"] = "DLBCL"  # an unknown field
    return row


def _native(row: dict[str, Any]) -> dict[str, Any]:
    """The same referral as JSON would give it: numbers, booleans, lists, IHC maps."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None:
            out[key] = None
        elif key in ("age", "prior_lines", "ecog") and value.lstrip("-").isdigit():
            out[key] = int(value)
        elif key in FLAG_FIELDS and value in ("true", "yes", "no"):
            out[key] = value != "no"
        elif key == "prior_therapies":
            out[key] = value.split(";")
        elif key == "antigens.CLDN18.2" and value == "60% 2+":
            out[key] = {"percent": 60, "intensity": 2}
        else:
            out[key] = value
    return out


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return referral_frame(
        columns, [[row.get(c) for c in columns] for row in rows], range(2, 2 + len(rows))
    )


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    rows=st.lists(referral(), min_size=1, max_size=10),
    include_all=st.booleans(),
    native=st.booleans(),
    fx=st.sampled_from([None, 7.1]),
)
def test_bulk_screening_gives_exactly_what_matching_each_referral_alone_gives(
    catalog, rows, include_all, native, fx
):
    frame = _frame([_native(r) for r in rows] if native else rows)
    bulk = screen_frame(frame, catalog, TODAY, include_all=include_all, fx=fx)
    single = screen_rows(frame, catalog, TODAY, include_all=include_all, fx=fx)
    pd.testing.assert_frame_equal(bulk, single)
    assert set(bulk["line"]) == set(frame.index)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    rows=st.lists(referral(), min_size=1, max_size=10),
    include_all=st.booleans(),
    city=st.sampled_from(["Shanghai", "Beijing", "Wuhan", "Hangzhou", "Chongqing"]),
)
def test_screening_at_a_city_gives_what_matching_each_referral_there_gives(
    catalog, rows, include_all, city
):
    place = catalog.places.place(city, None)
    frame = _frame(rows)
    bulk = screen_frame(frame, catalog, TODAY, include_all=include_all, place=place)
    single = screen_rows(frame, catalog, TODAY, include_all=include_all, place=place)
    pd.testing.assert_frame_equal(bulk, single)
    assert set(bulk["line"]) == set(frame.index)


def test_screen_city_keeps_options_there_and_says_what_was_left_out(runner, db, catalog, tmp_path):
    from matcher.core.engine import match
    from matcher.core.places import site_cities

    patient = patient_of(catalog, diagnosis="DLBCL", prior_lines=2)
    city = next(  # a city with sites, none of them for a DLBCL option
        c
        for c in site_cities(catalog.entries, catalog.places)
        if not match(patient, catalog, place=catalog.places.place(c, None)).options
    )
    rows = [{"referral_id": "A", "diagnosis": "DLBCL", "prior_lines": "2"}]
    src = write_csv(tmp_path / "in.csv", rows)
    result = screen(runner, src, "-o", tmp_path / "out.csv", "--no-save", "--city", city)
    assert result.exit_code == 0, result.stderr
    assert f"options kept only where the entry lists a site in {city}" in result.stderr
    (row,) = rows_of(tmp_path / "out.csv")
    assert row["status"] == "no_option"
    assert f"none lists a site in {city}" in row["reason"]
    alone = runner.invoke(cli, ["match", "--diagnosis", "DLBCL", "--prior-lines", "2",
                                "--city", city, "--format", "json"])  # fmt: skip
    assert json.loads(alone.stdout)["no_option"] == row["reason"]


def test_bulk_equals_single_on_a_cohort_with_every_status(catalog):
    """A fixed cohort big enough to exercise chunk caches: several chunks, same answers."""
    rows = [
        dict(GOOD[i % 4], referral_id=f"R{i}", age=str(15 + i % 70), prior_lines=str(i % 5))
        for i in range(120)
    ]
    frame = _frame(rows)
    halves = pd.concat(
        [
            screen_frame(frame.iloc[:60], catalog, TODAY, include_all=True),
            screen_frame(frame.iloc[60:], catalog, TODAY, include_all=True),
        ],
        ignore_index=True,
    )
    single = screen_rows(frame, catalog, TODAY, include_all=True)
    assert set(single["status"]) >= {"eligible", "possible", "near_miss", "ineligible"}
    pd.testing.assert_frame_equal(halves.astype(object), single.astype(object))


# ------------------------------------------------------------------------------- Dask


def test_dask_runs_the_same_function_partition_by_partition(catalog, runner, db, tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    from dask.distributed import Client, LocalCluster

    from matcher.bulk.screening import screen_dask

    rows = [dict(GOOD[i % 4], referral_id=f"R{i}", age=str(20 + i)) for i in range(30)]
    rows[7]["age"] = "abc"
    frame = _frame(rows)
    src = write_csv(tmp_path / "in.csv", rows)
    with (
        LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster,
        Client(cluster),
    ):
        got = screen_dask(dd.from_pandas(frame, npartitions=3), catalog, TODAY).compute()
        result = screen(
            runner,
            src,
            "-o",
            tmp_path / "dask.csv",
            "--engine",
            "dask",
            "--scheduler",
            cluster.scheduler_address,
            "--chunk-rows",
            "7",
        )
    assert result.exit_code == 0, result.output
    want = screen_frame(frame, catalog, TODAY)
    pd.testing.assert_frame_equal(got.reset_index(drop=True).astype(object), want.astype(object))
    assert screen(runner, src, "-o", tmp_path / "pandas.csv", "--no-save").exit_code == 0
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()


def test_reference_date_sets_ages_from_date_of_birth(catalog):
    frame = _frame(
        [
            {
                "diagnosis": "DLBCL",
                "date_of_birth": "2008-11-24",
                "prior_lines": "2",
                "disease_status": "refractory",
            }
        ]
    )
    young = screen_frame(frame, catalog, date(2026, 11, 23), include_all=True)
    adult = screen_frame(frame, catalog, date(2026, 11, 24), include_all=True)
    axi = "entry_id == 'axi-cel' and indication_id == 'lbcl-3l'"
    assert young.query(axi)["status"].item() == "near_miss"
    assert adult.query(axi)["status"].item() == "eligible"


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict) and "date" in value:
        return f"{value.get('status', '')} ({value['date']})"
    return value


def test_bulk_screening_gives_every_golden_case_the_single_paths_answer(catalog):
    """The safety layer, the target rule and dated results screen the same in bulk: every
    golden case as a row of cells, bulk against one-at-a-time, and its expected statuses."""
    from tests.test_cases import CASES

    cases = [param.values[0] for param in CASES if not param.values[0].get("today")]
    rows = []
    for n, case in enumerate(cases):
        row: dict[str, Any] = {"referral_id": f"C{n}"}
        for key, value in case["patient"].items():
            if isinstance(value, dict) and key in ("antigens", "labs"):
                row.update({f"{key}.{name}": _cell(v) for name, v in value.items()})
            else:
                row[key] = _cell(value)
        rows.append(row)
    frame = _frame(rows)
    bulk = screen_frame(frame, catalog, TODAY, include_all=True)
    pd.testing.assert_frame_equal(bulk, screen_rows(frame, catalog, TODAY, include_all=True))
    got = {(r.referral_id, f"{r.entry_id}/{r.indication_id}"): r.status for r in bulk.itertuples()}
    for n, case in enumerate(cases):
        for option, expected in case["expect"].items():
            assert got[(f"C{n}", option)] == expected, (case["id"], option)


def test_a_file_of_referrals_says_which_have_no_option_and_why(runner, tmp_path):
    """Issue 10: a disease no cohort treats gets one no_option row with the disease as read;
    a diagnosis that cannot be read gets its own status, which a coordinator can filter."""
    rows = [
        {"referral_id": "A", "diagnosis": "霍奇金淋巴瘤", "age": "50"},  # Hodgkin: no cohort
        {"referral_id": "B", "diagnosis": "qwertyuiop", "age": "50"},
        {
            "referral_id": "C",
            "diagnosis": "DLBCL",
            "age": "54",
            "disease_status": "refractory",
            "prior_lines": "2",
        },
    ]
    src = write_csv(tmp_path / "in.csv", rows)
    out = tmp_path / "out.csv"
    result = screen(runner, src, "-o", out, "--no-save")
    assert result.exit_code == 0, result.output
    got = {r["referral_id"]: r for r in rows_of(out) if r["referral_id"] in ("A", "B")}
    assert got["A"]["status"] == "no_option"
    assert "no CAR-T product or trial in the catalog treats" in got["A"]["reason"]
    assert got["B"]["status"] == "diagnosis_unrecognised"
    assert "not recognised" in got["B"]["reason"]
    assert "1 with a diagnosis not recognised" in result.stderr
    assert next(r["status"] for r in rows_of(out) if r["referral_id"] == "C") == "eligible"


@pytest.mark.parametrize(
    "columns",
    [
        pytest.param({"labs.lvef": "50", "labs.LVEF": "60"}, id="lab"),
        pytest.param({"antigens.CLDN18.2": "pos", "antigens.Claudin 18.2": "neg"}, id="antigen"),
    ],
)
def test_one_input_under_two_spellings_is_rejected_in_bulk_as_alone(catalog, columns):
    """Found by the property test: bulk once kept the later lab column where the single
    path rejects the row; both now reject it with the single path's message."""
    frame = _frame([{"diagnosis": "DLBCL", **columns}, {"diagnosis": "DLBCL"}])
    bulk = screen_frame(frame, catalog, TODAY, include_all=True)
    pd.testing.assert_frame_equal(bulk, screen_rows(frame, catalog, TODAY, include_all=True))
    assert "twice" in bulk.loc[bulk["line"] == 2, "error"].iloc[0]
