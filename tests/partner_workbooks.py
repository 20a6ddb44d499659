# ruff: noqa: E501  (each fixture row on one line, as a partner's sheet shows it)
"""Partner workbooks as Chinese hospitals send them, made at test time (synthetic patients,
no real data). Each is different: title and merged rows, an instructions sheet first, Chinese
headers (some not in rules/headers.yaml but close to a listed one), full-width digits, units,
Chinese dates, date cells and Excel day numbers, status words, extra columns, blank and
footnote rows. `PATIENTS` says how many patient rows each holds and which columns it carries."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter


def _book(path: Path) -> tuple[Any, dict[str, Any]]:
    book = xlsxwriter.Workbook(str(path))
    formats = {
        "title": book.add_format({"bold": True, "font_size": 14, "align": "center"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "head": book.add_format({"bold": True, "border": 1}),
    }
    return book, formats


def hospital_a(path: Path) -> None:
    """Merged title, a 'filled in by' row, Chinese headers with units in brackets, full-width
    digits, 岁 and 线, Chinese dates, date cells, a blank row, a footnote, extra columns."""
    book, f = _book(path)
    sheet = book.add_worksheet("转诊患者")
    sheet.merge_range(0, 0, 0, 10, "XX省肿瘤医院 CAR-T 细胞治疗转诊患者登记表", f["title"])
    sheet.write_row(1, 0, ["填表人：李医生", None, None, None, "填表日期：2026年11月1日"])
    headers = ["序号", "姓名", "病理诊断", "年龄(岁)", "性别", "出生日期", "既往治疗线数",
               "既往治疗方案", "疗效评估", "CD19表达", "联系电话", "转诊日期"]  # fmt: skip
    sheet.write_row(2, 0, headers, f["head"])
    rows = [
        [1, "患者甲", "弥漫大B细胞淋巴瘤", "５５岁", "男", "1971年3月2日", "２线",
         "R-CHOP×6周期、R-ICE×2周期", "进展", "强阳性", "138-0000-0001", date(2026, 10, 8)],
        [2, "患者乙", "多发性骨髓瘤", "61 岁", "女", "1965/7/15", "3线",
         "硼替佐米；来那度胺；达雷妥尤单抗", "复发", None, "138-0000-0002", date(2026, 10, 9)],
        None,  # a blank row
        [3, "患者丙", "DLBCL", 48, "M", date(1978, 5, 20), 2, "R-CHOP", "难治", "阳性(+)",
         "138-0000-0003", date(2026, 10, 12)],
        [4, "患者丁", "胃腺癌", "５２", "Ｆ", "1974.9.30", "二线", "SOX；XELOX", "PD",
         "（－）", "138-0000-0004", date(2026, 10, 20)],
    ]  # fmt: skip
    _rows(sheet, 3, rows, f)
    sheet.write(9, 0, "备注：带*为必填项；信息仅供CAR-T筛查使用。")
    book.close()


def hospital_b(path: Path) -> None:
    """An instructions sheet first, then the list under two title rows: headers close to
    listed ones (临床诊断名称, 患者年龄, 目前疾病状况, 既往化疗线数), Excel day numbers, CLDN18.2
    as Claudin18.2, antigen words with percents, extra columns of its own."""
    book, f = _book(path)
    notes = book.add_worksheet("填表说明")
    notes.write_column(
        0, 0, ["填表说明", "1. 每位患者一行", "2. 诊断请写全称", "3. 日期格式 2026-01-01"]
    )
    sheet = book.add_worksheet("患者信息")
    sheet.merge_range(0, 0, 0, 8, "合作医院转诊名单（第二批）", f["title"])
    sheet.merge_range(1, 0, 1, 8, "医院：某某大学附属医院    联系人：王老师", None)
    headers = ["住院号", "临床诊断名称", "患者年龄", "出生年月日", "目前疾病状况", "既往化疗线数",
               "Claudin18.2", "HER2", "ECOG评分", "主管医生", "备注"]  # fmt: skip
    sheet.write_row(3, 0, headers, f["head"])
    rows = [
        ["ZY0001", "胃癌", "６１", 24000, "复发", "２", "部分阳性(60%)", "阴性", "ECOG 1", "张医生", "急"],
        ["ZY0002", "胰腺癌", "57岁", None, "进展", "3线", "弱阳性 10%", "（－）", "1分", "张医生", None],
        ["ZY0003", "弥漫大B细胞淋巴瘤", None, "1960-02-29", "复发/难治", "2", None, None, "PS 2", "赵医生", "已电话沟通"],
    ]  # fmt: skip
    _rows(sheet, 4, rows, f)
    sheet.write_row(8, 0, [None] * 3)
    sheet.write(9, 0, "注：以上患者均已签署知情同意。")
    book.close()


def hospital_c(path: Path) -> None:
    """English and Chinese mixed, a header on row 5 under merged group headings, full-width
    punctuation in values, 阳性/阴性 with signs, +++, an unnamed column with notes."""
    book, f = _book(path)
    sheet = book.add_worksheet("Sheet1")
    sheet.merge_range(0, 0, 0, 6, "Referral list / 转诊名单", f["title"])
    sheet.write(1, 0, "Hospital: 某医院血液科")
    sheet.merge_range(3, 0, 3, 3, "基本信息 Basic", f["head"])
    sheet.merge_range(3, 4, 3, 7, "检测 Tests", f["head"])
    headers = ["Patient ID", "Diagnosis", "Age", "Sex", "BCMA", "CD19", "Disease status",
               "Prior lines", "Phone"]  # fmt: skip
    sheet.write_row(4, 0, headers, f["head"])
    rows = [
        ["P-01", "multiple myeloma", "６８", "男性", "+++", None, "relapsed", "４", "+86 138 0000 0005"],
        ["P-02", "B-ALL", "23", "女性", "阴性(-)", "阳性(＋)", "复发", "2 lines", "+86 138 0000 0006"],
        ["P-03", "多发性骨髓瘤", "70岁", "F", "强阳性（80%）", None, "缓解", "5", None],
    ]  # fmt: skip
    _rows(sheet, 5, rows, f)
    sheet.write(8, 0, "* 数据来源：门诊登记")
    book.close()


def no_header(path: Path) -> None:
    """A workbook whose sheets name no profile field."""
    book, _ = _book(path)
    sheet = book.add_worksheet("数据")
    sheet.write_row(0, 0, ["甲", "乙", "丙"])
    sheet.write_row(1, 0, ["1", "2", "3"])
    book.close()


def _rows(sheet: Any, first: int, rows: list[Any], f: dict[str, Any]) -> None:
    for r, row in enumerate(rows, start=first):
        for c, value in enumerate(row or []):
            if isinstance(value, date | datetime):
                sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), f["date"])
            elif value is not None:
                sheet.write(r, c, value)


#: name -> (builder, patient rows, columns carried through).
PATIENTS = {
    "hospital_a": (hospital_a, 4, ["序号", "联系电话", "转诊日期"]),
    "hospital_b": (hospital_b, 3, ["主管医生", "备注"]),
    "hospital_c": (hospital_c, 3, ["Phone"]),
}
