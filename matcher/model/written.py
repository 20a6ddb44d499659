"""Values as partner hospitals write them: full-width characters, units and suffixes, Chinese
numerals, dates in local orders, response words and pathology grades.

Pure functions called by the profile's validators (`matcher.model.patient`), so a JSON
referral, a command-line flag and a spreadsheet cell are read alike, and bulk screening (which
checks every distinct value through the same validators) cannot read them otherwise. A value
read here is exact; one that could mean two things raises ValueError saying what to write, and
one that is not recognised is returned unchanged for the field's own check to reject.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any

#: Chinese numerals a count may be written in ("三线", "二级").
CHINESE_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
                  "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip

#: Words and units around a whole number, per field, matched after NFKC and casefolding,
#: longest first: '55 岁', '55周岁', '2线', '3 lines', 'ECOG 1', 'PS评分：1分'.
COUNT_PREFIXES = {
    "ecog": ("ecog评分", "ecog", "ps评分", "ps", "体能状态", "评分"),
    "prior_lines": ("既往", "共"),
}
COUNT_SUFFIXES = {
    "age": ("周岁", "岁", "years old", "years", "year", "yrs", "yr", "y"),
    "prior_lines": ("线治疗", "线方案", "线", "lines", "line", "l"),
    "ecog": ("分",),
}
#: Signs that a count is a bound, not a count: never read as the number beside them.
_BOUND = re.compile(r"[<>≤≥~～]|以上|以下|左右|多|余|\d\s*[-–]\s*\d")

#: Excel day numbers read as dates: 10000 is 1927-05-18, 99999 is 2173-10-14 (a 4-digit
#: number is more likely a year, and a year alone is not a date of birth).
EXCEL_EPOCH = date(1899, 12, 30)
EXCEL_SERIALS = (10_000, 99_999)
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_YM = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
_DMY = re.compile(r"^(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})$")


def plain(text: str) -> str:
    """Full-width digits, letters and punctuation as their ASCII forms (NFKC), spaces
    collapsed: '５５ 岁' -> '55 岁', '（＋）' -> '(+)'."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def chinese_number(text: str) -> int | None:
    """'三' -> 3, '十二' -> 12, '二十' -> 20; None for anything else."""
    if not text or any(c not in CHINESE_DIGITS and c != "十" for c in text):
        return None
    if "十" not in text:
        return CHINESE_DIGITS[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return None
    return (CHINESE_DIGITS[tens] if tens else 1) * 10 + (CHINESE_DIGITS[ones] if ones else 0)


#: No count in a profile (age, lines, ECOG) has more digits; a longer one is refused as it is,
#: before Python's digit limit (4,300) or float infinity turns it into a traceback.
_COUNT_DIGITS = 6


def whole_number(field: str, raw: Any) -> Any:
    """A count as written ('５５岁', '2线', '三线', 'ECOG 1', '3.0') as an int; other input
    unchanged. A bound ('>3线', '2-3线') raises: it is not a count."""
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if not isinstance(raw, str):
        return raw
    text = plain(raw).casefold()
    for prefix in COUNT_PREFIXES.get(field, ()):
        if text.startswith(prefix):
            text = text[len(prefix) :].lstrip(" :")
            break
    for suffix in COUNT_SUFFIXES.get(field, ()):
        if text.endswith(suffix):
            text = text[: -len(suffix)].rstrip()
            break
    if re.fullmatch(r"\d+(?:\.0+)?", text):
        digits = text.split(".")[0].lstrip("0") or "0"
        if len(digits) > _COUNT_DIGITS:
            raise ValueError(f"'{raw[:20]}…' ({len(digits)} digits) is not a plausible count")
        return int(digits)
    if (number := chinese_number(text)) is not None:
        return number
    if _BOUND.search(text) and re.search(r"\d|[一二三四五六七八九十]", text):
        raise ValueError(f"'{raw}' is a range or a bound, not a count: give the exact number")
    return raw


def day_of(raw: Any) -> Any:
    """A date as written: 2016-08-15, 2016/8/15, 2016年8月15日, 2016.8.15, 15/08/2016 (when
    only one order is possible), an Excel day number, a date cell; other input unchanged."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return _excel_day(raw)
    if not isinstance(raw, str):
        return raw
    text = plain(raw)
    if re.fullmatch(r"\d{5}(?:\.\d+)?", text):
        return _excel_day(float(text))
    if match := _YMD.match(text):
        return _day(raw, int(match[1]), int(match[2]), int(match[3]))
    if match := _DMY.match(text):
        return _day_month_year(raw, int(match[1]), int(match[2]), int(match[3]))
    if _YM.match(text) or re.fullmatch(r"\d{4}\s*年?", text):
        raise ValueError(f"'{raw}' gives no day: give the full date (2016-08-15) or the age")
    return raw


def _excel_day(number: float) -> Any:
    low, high = EXCEL_SERIALS
    if not low <= number <= high:
        return number  # rejected by the date check, with its own message
    return EXCEL_EPOCH + timedelta(days=int(number))


def _day(raw: str, year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"'{raw}' is not a date of the calendar") from None


def _day_month_year(raw: str, first: int, second: int, year: int) -> date:
    """15/08/2016 or 08/15/2016: read only when one order is a date, or both are the same."""
    if first > 12 >= second or first == second:
        return _day(raw, year, second, first)
    if second > 12 >= first:
        return _day(raw, year, first, second)
    if first > 12 and second > 12:
        raise ValueError(f"'{raw}' is not a date of the calendar")
    raise ValueError(
        f"'{raw}' could be day/month or month/day: write it as {year}-MM-DD "
        f"({year}-{second:02d}-{first:02d} or {year}-{first:02d}-{second:02d})"
    )


# ----------------------------------------------------------------------------- responses

#: Response and status words a referral may give for disease_status, read as a status only
#: where that is what they say: progression on therapy (PD) is refractory disease (as
#: 'progressive' is), a complete remission is remission.
STATUS_WORDS = {
    "进展": "refractory",
    "疾病进展": "refractory",
    "进展期": "refractory",
    "复发性": "relapsed",
    "复发/难治": "relapsed",
    "复发或难治": "relapsed",
    "难治性": "refractory",
    "原发难治": "refractory",
    "完全缓解": "remission",
    "cr": "remission",
    "scr": "remission",
    "新诊断": "newly_diagnosed",
    "初诊": "newly_diagnosed",
    "未治疗": "newly_diagnosed",
}
#: Responses that say how the last therapy worked, not which status the disease is in:
#: rejected with what to give instead, never guessed.
RESPONSE_WORDS = {
    "pr": "a partial response",
    "部分缓解": "a partial response",
    "vgpr": "a very good partial response",
    "sd": "stable disease",
    "稳定": "stable disease",
    "疾病稳定": "stable disease",
    "mr": "a minor response",
    "nr": "no response",
    "未缓解": "no remission",
    "好转": "an improvement",
}


def status_word(raw: Any) -> Any:
    """A status or response word as a disease_status, the input unchanged if not one; a
    response that is no status (PR, SD) raises, saying what to give."""
    if not isinstance(raw, str):
        return raw
    key = plain(raw).casefold()
    if key in STATUS_WORDS:
        return STATUS_WORDS[key]
    if key in RESPONSE_WORDS:
        raise ValueError(
            f"'{raw}' is {RESPONSE_WORDS[key]} to the last therapy, not a disease status: "
            "give relapsed (came back after a response), refractory (never responded or "
            "progressed on it), remission or newly_diagnosed"
        )
    return plain(raw)


# ------------------------------------------------------------------------------ antigens

#: Pathology words for an antigen result, with the IHC intensity they state (None: present,
#: grade not stated; 0: absent).
ANTIGEN_WORDS = {
    "阳性": None, "positive": None, "pos": None, "部分阳性": None, "局灶阳性": None,
    "partly positive": None, "focal": None, "focally positive": None,
    "强阳性": 3, "strong": 3, "strongly positive": 3,
    "中等阳性": 2, "中度阳性": 2, "moderate": 2, "moderately positive": 2,
    "弱阳性": 1, "weak": 1, "weakly positive": 1,
    "阴性": 0, "negative": 0, "neg": 0,
}  # fmt: skip
SIGNS = {"+": None, "++": 2, "+++": 3, "-": 0}
EQUIVOCAL = ("±", "+/-", "可疑", "不确定", "equivocal", "待定", "?")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")


def antigen_words(raw: str) -> tuple[str, float | None, int | None] | None:
    """'强阳性', '弱阳性(10%)', '阳性(+)', '(＋)', '(－)', '+++', '部分阳性 30%' as (kind,
    percent, intensity), kind 'positive' or 'negative'; None when not such words. Words and
    signs that disagree, or an equivocal result, raise."""
    text = plain(raw).casefold()
    if any(mark in text for mark in EQUIVOCAL):
        raise ValueError(f"'{raw}' is equivocal: give the result once it is settled")
    found = _PERCENT.search(text)
    percent = float(found[1]) if found else None
    text = _PERCENT.sub(" ", text)
    signs = re.findall(r"[+]+|-", text)
    word = re.sub(r"[()\[\]（）:,;，、+\-]|\s+", " ", text).strip()
    if len(signs) > 1 or (word and word not in ANTIGEN_WORDS) or not (word or signs):
        return None
    grades = [ANTIGEN_WORDS[word]] if word else []
    if signs:
        if signs[0] not in SIGNS:
            return None
        grades.append(SIGNS[signs[0]])
    stated = {g for g in grades if g is not None}
    signs_of = {g == 0 for g in grades}  # negative, positive
    if len(stated) > 1 or len(signs_of) > 1 or (0 in stated and percent):
        raise ValueError(f"'{raw}' says two different things: give one result")
    intensity = stated.pop() if stated else None
    if intensity == 0:
        return "negative", None, None
    return "positive", percent, intensity
