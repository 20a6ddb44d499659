"""Lenient reading of profile values: the many ways a referral spells the same thing.

Antigen results ("pos", "阳性", "60% 2+"), yes/no words, status and sex aliases, numeric lab
cells: one place, used by the single-referral path, the CLI flags and bulk screening alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from matcher.model.base import Frozen
from matcher.model.written import antigen_words, plain

#: Oldest age a profile may give or a date of birth may imply.
MAX_AGE = 120

#: The yes/no facts a profile may give (each a boolean field of the profile and a `flag`
#: criterion); every one of them speaks to safety.
FLAGS = (
    "cns_involvement",
    "prior_allo_sct",
    "active_infection",
    "active_gvhd",
    "pregnant",
    "breastfeeding",
)

#: Pseudo-class in a patient's prior-therapy classes when a listed therapy was not recognised.
UNRECOGNISED_THERAPY = "unrecognised_therapy"

#: Labs a profile may carry, with what they mean; anything else is a typo or unsupported.
KNOWN_LABS = {
    "egfr": "eGFR, mL/min/1.73m²",
    "creatinine_clearance": "creatinine clearance, mL/min",
    "lvef": "left-ventricular ejection fraction, %",
    "child_pugh": "Child-Pugh class and score, e.g. A5, B7",
    "sledai": "SLEDAI-2K score",
    "bilirubin_uln": "total bilirubin, multiples of the upper limit of normal",
    "alt_uln": "ALT, multiples of the upper limit of normal",
    "anc": "absolute neutrophil count, 10^9/L",
    "platelets": "platelets, 10^9/L",
    "hemoglobin": "haemoglobin, g/L",
    "spo2": "oxygen saturation on room air, %",
    "afp": "alpha-fetoprotein, ng/mL",
}
#: The range a lab value can possibly take; anything outside is a typo or a unit mix-up.
LAB_RANGES = {
    "egfr": (0, 300),
    "creatinine_clearance": (0, 300),
    "lvef": (0, 100),
    "child_pugh": (5, 15),
    "sledai": (0, 105),
    "bilirubin_uln": (0, 100),
    "alt_uln": (0, 100),
    "anc": (0, 500),
    "platelets": (0, 5000),
    "hemoglobin": (0, 300),
    "spo2": (0, 100),
    "afp": (0, 10_000_000),
}

STATUS_ALIASES = {
    "newly diagnosed": "newly_diagnosed",
    "new": "newly_diagnosed",
    "nd": "newly_diagnosed",
    "untreated": "newly_diagnosed",
    "初治": "newly_diagnosed",
    "relapse": "relapsed",
    "relapsed": "relapsed",
    "recurrent": "relapsed",
    "复发": "relapsed",
    "r/r": "relapsed",
    "rr": "relapsed",
    "relapsed/refractory": "relapsed",
    "relapsed or refractory": "relapsed",
    "复发难治": "relapsed",
    "refractory": "refractory",
    "primary refractory": "refractory",
    "progressive": "refractory",
    "progression": "refractory",
    "progressive disease": "refractory",
    "pd": "refractory",
    "难治": "refractory",
    "remission": "remission",
    "complete remission": "remission",
    "cr": "remission",
    "缓解": "remission",
}
#: Aliases that lose information; the engine warns so a coordinator can be precise.
AMBIGUOUS_STATUS = {
    "r/r", "rr", "relapsed/refractory", "relapsed or refractory",
    "复发难治", "复发/难治", "复发或难治",
}  # fmt: skip

SEX_ALIASES = {
    "f": "female",
    "woman": "female",
    "女": "female",
    "m": "male",
    "man": "male",
    "男": "male",
    "女性": "female",
    "男性": "male",
}
TRUE_WORDS = {"true", "yes", "y", "1", "是", "有"}
FALSE_WORDS = {"false", "no", "n", "0", "否", "无"}
POSITIVE_WORDS = {"positive", "pos", "+", "阳性", "yes", "true", "expressed"}
NEGATIVE_WORDS = {"negative", "neg", "-", "阴性", "no", "false", "not expressed"}
_IHC = re.compile(
    r"^\s*(?:(?P<pct>\d+(?:\.\d+)?)\s*%)?\s*[:,;/ ]?\s*(?:(?P<int>[0-3])\s*\+?)?\s*$"
    r"|^\s*(?P<int2>[0-3])\s*\+\s*[:,;/ ]?\s*(?P<pct2>\d+(?:\.\d+)?)\s*%\s*$"
)


class Ihc(Frozen):
    """An immunohistochemistry result: percent of tumour cells at `intensity` or above."""

    percent: float | None = Field(default=None, ge=0, le=100)
    intensity: int | None = Field(default=None, ge=0, le=3)

    def __str__(self) -> str:
        pct = f"{self.percent:g}%" if self.percent is not None else "?%"
        inten = f"{self.intensity}+" if self.intensity is not None else "?+"
        return f"{pct} at {inten}"


AntigenValue = Literal["positive", "negative"] | Ihc


def parse_antigen_result(raw: Any) -> tuple[AntigenValue, str | None]:
    """An antigen result and the date it was tested, when given: 'negative (2026-09-01)',
    {'status': 'negative', 'date': '2026-09'}, {'percent': 60, 'intensity': 2, 'date': ...}."""
    if isinstance(raw, Mapping) and "date" in raw:
        rest = {k: v for k, v in raw.items() if k != "date"}
        found = find_date(str(raw["date"]))
        if not found or found[1]:
            raise ValueError(f"date '{raw['date']}' is not a date (write 2026-09-15 or 2026-09)")
        value = rest["status"] if set(rest) == {"status"} else rest
        return parse_antigen_value(value), found[0]
    if isinstance(raw, Mapping) and set(raw) == {"status"}:
        return parse_antigen_value(raw["status"]), None
    if isinstance(raw, str) and (found := find_date(raw)) and found[1]:
        return parse_antigen_value(found[1]), found[0]
    return parse_antigen_value(raw), None


def parse_antigen_value(raw: Any) -> AntigenValue:
    """'pos', '阳性', '60%:2+', '2+ 60%', {'percent': 60, 'intensity': 2} and the like."""
    if isinstance(raw, Ihc):
        return raw
    if isinstance(raw, Mapping):
        return Ihc.model_validate(dict(raw))
    if isinstance(raw, bool):
        return "positive" if raw else "negative"
    text = plain(str(raw)).casefold()
    if text in POSITIVE_WORDS:
        return "positive"
    if text in NEGATIVE_WORDS:
        return "negative"
    match = _IHC.match(text)
    if text and match and any(match.groups()):
        pct = match["pct"] or match["pct2"]
        inten = match["int"] or match["int2"]
        return Ihc(
            percent=float(pct) if pct is not None else None,
            intensity=int(inten) if inten is not None else None,
        )
    worded = antigen_words(str(raw))  # 强阳性, 弱阳性(10%), 阳性(+), (－), +++
    if worded is not None:
        kind, percent, intensity = worded
        if kind == "negative" or (percent is None and intensity is None):
            return kind  # type: ignore[return-value]
        return Ihc(percent=percent, intensity=intensity)
    raise ValueError(
        f"'{raw}' is not an antigen result: use positive, negative, or percent:intensity "
        "such as 60%:2+ (or 阳性, 阴性, 强阳性, 弱阳性, +++)"
    )


def parse_bool(raw: Any) -> bool | None:
    if raw is None or isinstance(raw, bool):
        return raw
    text = str(raw).strip().casefold()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(f"'{raw}' is not yes or no")


def number_or_text(value: Any) -> Any:
    """Lab cells: numbers as floats (so range checks see them), other text stripped."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value.strip()
    return value


#: Other names of labs, matched ignoring case, spaces, hyphens and dots ("LVEF", "Child-Pugh").
LAB_ALIASES = {
    "ef": "lvef",
    "ejection_fraction": "lvef",
    "gfr": "egfr",
    "crcl": "creatinine_clearance",
    "childpugh": "child_pugh",
    "child_pugh_score": "child_pugh",
    "child_pugh_class": "child_pugh",
    "sledai_2k": "sledai",
    "hb": "hemoglobin",
    "hgb": "hemoglobin",
    "haemoglobin": "hemoglobin",
    "plt": "platelets",
    "platelet": "platelets",
    "bilirubin": "bilirubin_uln",
    "alt": "alt_uln",
    "sao2": "spo2",
}


def lab_key(name: str) -> str:
    """The canonical lab name for any spelling: 'LVEF' -> lvef, 'Child-Pugh' -> child_pugh."""
    key = re.sub(r"[\s\-.]+", "_", unicodedata.normalize("NFKC", str(name)).strip().casefold())
    return LAB_ALIASES.get(key, key)


#: Units a lab value may carry in its text, per lab; the number is read, the unit dropped.
LAB_UNITS = {
    "egfr": ("ml/min/1.73m2", "ml/min/1.73 m2", "ml/min/1.73m²", "ml/min/1.73 m²", "ml/min"),
    "creatinine_clearance": ("ml/min",),
    "lvef": ("%",),
    "spo2": ("%",),
    "sledai": (),
    "bilirubin_uln": ("x uln", "×uln", "x", "×", "uln"),
    "alt_uln": ("x uln", "×uln", "x", "×", "uln"),
    "anc": ("x10^9/l", "×10^9/l", "x 10^9/l", "10^9/l", "×10⁹/l", "g/l"),
    "platelets": ("x10^9/l", "×10^9/l", "x 10^9/l", "10^9/l", "×10⁹/l", "g/l"),
    "hemoglobin": ("g/l",),
    "afp": ("ng/ml", "μg/l", "ug/l"),
}
_LAB_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(.*?)\s*$")


def lab_value(name: str, raw: Any) -> float | str:
    """A lab cell as its number ('55 mL/min' -> 55.0; '45%' -> 45.0) or, for Child-Pugh, its
    class and score ('B', 'B7'). Raises ValueError, naming what is expected, otherwise."""
    if isinstance(raw, bool):
        raise ValueError("must be a number, not true or false")
    if name == "child_pugh":
        if isinstance(raw, int | float):
            return float(raw)
        text = unicodedata.normalize("NFKC", str(raw)).strip().upper()
        if CHILD_PUGH.match(text):
            return re.sub(r"\s+", "", text)
        raise ValueError(
            f"'{raw}' is not a Child-Pugh class and score; write A5-A6, B7-B9 or C10-C15 "
            "(or the class alone)"
        )
    if isinstance(raw, int | float):
        return float(raw)
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    match = _LAB_NUMBER.match(text)
    unit = match[2].casefold().replace(" ", "") if match else None
    units = [u.replace(" ", "") for u in LAB_UNITS.get(name, ())]
    if match and (not unit or unit in units):
        return float(match[1])
    expected = f" in {LAB_UNITS[name][0]}" if LAB_UNITS.get(name) else ""
    raise ValueError(f"'{raw}' is not a number{expected}; give the value as a number{expected}")


#: Child-Pugh scores each class covers.
CHILD_PUGH_CLASSES = {"A": (5.0, 6.0), "B": (7.0, 9.0), "C": (10.0, 15.0)}


def child_pugh_range(raw: Any) -> tuple[float, float] | None:
    """The scores a Child-Pugh value may stand for: 'B7' -> (7, 7), 'B' -> (7, 9)."""
    score = child_pugh_score(raw)
    if score is not None:
        return score, score
    text = str(raw).strip().upper()
    return CHILD_PUGH_CLASSES.get(text)


#: A date as precise as known: 2026, 2026-09, 2026-09-15 (also 2026/9/15, 2026.09, 2026年9月).
_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d\d)(?:\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2})\s*日?)?\s*月?)?(?!\d)"
)


def find_date(text: str) -> tuple[str, str] | None:
    """The first date in a text as (ISO partial date, the text without it), or None."""
    match = _DATE.search(unicodedata.normalize("NFKC", text))
    if not match:
        return None
    year, month, day = match.groups()
    if (month and not 1 <= int(month) <= 12) or (day and not 1 <= int(day) <= 31):
        return None
    iso = year + (f"-{int(month):02d}" if month else "") + (f"-{int(day):02d}" if day else "")
    rest = unicodedata.normalize("NFKC", text)
    rest = rest[: match.start()] + rest[match.end() :]
    return iso, re.sub(r"[\s(（)）,，;@]+$|^[\s(（)）,，;@]+|\(\s*\)|（\s*）", "", rest).strip()


def date_span(iso: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """The earliest and latest day a partial ISO date may mean (2026-09 -> 09-01 .. 09-31)."""
    parts = [int(p) for p in iso.split("-")]
    low = ([*parts, 1, 1])[:3]
    high = ([*parts, 12, 31])[:3] if len(parts) == 1 else ([*parts, 31])[:3]
    return (low[0], low[1], low[2]), (high[0], high[1], high[2])


def surely_after(later: str, earlier: str) -> bool:
    """Whether partial date `later` is certainly after `earlier` (2026-10 after 2026-09-15)."""
    return date_span(later)[0] > date_span(earlier)[1]


CHILD_PUGH = re.compile(r"^\s*(?:A\s*([56])|B\s*([789])|C\s*(1[0-5])|[ABC])\s*$", re.IGNORECASE)


def child_pugh_score(raw: Any) -> float | None:
    """The score of a Child-Pugh value ('B7' -> 7.0, 8 -> 8.0); None for a class alone or
    anything that is not a Child-Pugh value."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    match = CHILD_PUGH.match(str(raw))
    score = next((g for g in match.groups() if g), None) if match else None
    return float(score) if score else None
