"""The referral workbook to send partners (`cartmatch template`): an instructions sheet, then
the referral sheet with bilingual headers that `screen` reads with no --map, drop-downs for
the words it knows, number ranges, and one synthetic example row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matcher.bulk.headers import HeaderNames

YES_NO = ["是", "否", "yes", "no"]
ANTIGEN_RESULTS = ["阳性", "阴性", "强阳性", "弱阳性", "positive", "negative"]
#: (field, English label, what to write, drop-down list or number range, example value).
COLUMNS: list[tuple[str, str, str, Any, Any]] = [
    ("referral_id", "referral id", "编号，勿填姓名 / your own id, no names", None, "HX-0001"),
    ("diagnosis", "diagnosis", "必填：疾病全称 / required: the full disease name", None,
     "弥漫大B细胞淋巴瘤"),
    ("age", "age", "整数，岁 / whole years", (0, 120), 54),
    ("sex", "sex", "男/女 / male or female", ["男", "女", "male", "female"], "男"),
    ("date_of_birth", "date of birth", "2016-08-15", None, None),
    ("disease_status", "disease status", "初治/复发/难治/缓解",
     ["初治", "复发", "难治", "缓解", "newly_diagnosed", "relapsed", "refractory", "remission"],
     "难治"),
    ("prior_lines", "prior lines", "既往系统治疗线数 / prior lines of therapy", (0, 30), 2),
    ("prior_therapies", "prior therapies", "方案以；分隔 / separated by ;", None,
     "R-CHOP；R-ICE"),
    ("ecog", "ECOG", "0-4", (0, 4), 1),
    ("antigens.CD19", "CD19", "阳性/阴性，或 60%:2+", ANTIGEN_RESULTS, "阳性"),
    ("antigens.BCMA", "BCMA", "阳性/阴性，或 60%:2+", ANTIGEN_RESULTS, None),
    ("antigens.CLDN18.2", "CLDN18.2", "如 60%:2+ / e.g. 60%:2+", None, None),
    ("antigens.HER2", "HER2", "阳性/阴性，或 IHC 0-3+", ANTIGEN_RESULTS, None),
    ("cns_involvement", "CNS involvement", "是/否", YES_NO, "否"),
    ("prior_allo_sct", "prior allo-SCT", "是/否", YES_NO, "否"),
    ("active_infection", "active infection", "是/否", YES_NO, "否"),
    ("pregnant", "pregnant", "是/否", YES_NO, None),
    ("labs.lvef", "LVEF", "%, 0-100", (0, 100), 60),
    ("country", "country", "国家 / country", None, None),
]  # fmt: skip
EXAMPLE_NOTE = "示例 example (synthetic)"


def header_labels(names: HeaderNames, lang: str) -> list[str]:
    """Each column's header: the Chinese name partners use with the English in brackets
    (zh), or the other way round (en); both read back as the field with no --map."""
    labels = []
    for name, english, *_ in COLUMNS:
        head, _, tail = name.partition(".")
        if head == "antigens":
            labels.append(f"{tail} ({english})" if lang == "en" else tail)
            continue
        aliases = names.fields.get(name) or names.labs.get(tail) or []
        chinese = next((a for a in aliases if not a.isascii()), english)
        labels.append(f"{english} ({chinese})" if lang == "en" else f"{chinese} ({english})")
    return labels


def write_template(path: Path, names: HeaderNames, lang: str = "zh") -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    labels = header_labels(names, lang)
    guide = book.add_worksheet("填表说明 instructions" if lang == "zh" else "instructions")
    guide.set_column(0, 0, 34)
    guide.set_column(1, 1, 70)
    intro = [
        "CAR-T 转诊登记表 / CAR-T referral sheet",
        "每位患者一行；未知请留空（留空表示未知，不表示否）。One patient a row; leave unknown "
        "cells empty (empty means unknown, never no).",
        "请勿修改表头。可在右侧增加列（如联系电话），筛查结果中原样保留。Do not change the "
        "headers; extra columns to the right are kept as they are.",
    ]
    for r, line in enumerate(intro):
        guide.write(r, 0, line)
    for r, (label, column) in enumerate(zip(labels, COLUMNS, strict=True), start=len(intro) + 1):
        guide.write(r, 0, label.split(" (")[0])
        guide.write(r, 1, column[2])
    sheet = book.add_worksheet("转诊患者 referrals" if lang == "zh" else "referrals")
    sheet.freeze_panes(1, 0)
    sheet.set_row(0, 32)
    for c, (label, column) in enumerate(zip(labels, COLUMNS, strict=True)):
        sheet.write(0, c, label, bold)
        sheet.set_column(c, c, max(12, min(28, len(label) + 4)))
        _validate(sheet, c, column[3])
        if column[4] is not None:
            sheet.write(1, c, column[4])
    sheet.write(1, len(COLUMNS), EXAMPLE_NOTE)
    sheet.write(0, len(COLUMNS), "备注 notes" if lang == "zh" else "notes", bold)
    sheet.activate()
    book.close()


def _validate(sheet: Any, column: int, rule: Any) -> None:
    last = 5000
    if isinstance(rule, list):
        sheet.data_validation(1, column, last, column, {"validate": "list", "source": rule})
    elif isinstance(rule, tuple):
        low, high = rule
        sheet.data_validation(
            1, column, last, column,
            {"validate": "integer" if high <= 120 else "decimal", "criteria": "between",
             "minimum": low, "maximum": high,
             "error_message": f"{low}-{high}"},
        )  # fmt: skip
