"""What the vocabulary reads a line of free text as: a diagnosis, a prior therapy, or nothing.

The core of `cartmatch vocab check`: a coordinator pastes the diagnoses and prior therapies of
a batch of referrals and sees, before screening, which ones the matcher will not understand.
`recognise` is pure (the Lexicon is passed in; `cli.intake.read_lines` reads the file); the report
functions turn results into a table, CSV or JSON.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterable
from typing import Literal

from pydantic import Field

from matcher.model.base import Frozen
from matcher.model.cells import neutral
from matcher.model.lexicon import Lexicon

Kind = Literal["diagnosis", "therapy", "auto"]
#: Diagnosis readings taken over a therapy reading of the same line: the text is a disease name.
NAMED_EXACTLY = ("code", "exact")
#: Cells a spreadsheet would run as a formula start with one of these (CSV output).


class Reading(Frozen):
    """One line and what it was read as."""

    line: int
    text: str
    kind: Literal["diagnosis", "therapy", "not_recognised"]
    code: str | None = None
    """Diagnosis: the disease code (None when the text names unrelated diseases)."""
    name: str | None = None
    """Diagnosis: the disease's display name."""
    method: str | None = None
    """Diagnosis: how it was matched (code, exact, contains, broad, ambiguous, fuzzy, partial)."""
    matched: str | None = None
    """Diagnosis: the vocabulary name(s) the text matched."""
    score: float | None = None
    certain: bool | None = None
    """Diagnosis: False when a human should confirm the reading before matching on it."""
    also: list[str] = Field(default_factory=list)
    """Diagnosis: the diseases a broad or ambiguous text names."""
    classes: list[str] = Field(default_factory=list)
    """Therapy: every class, broader ones included (what criteria test)."""
    specific: list[str] = Field(default_factory=list)
    """Therapy: the classes without those only implied by another (car_t under cd19_cart)."""

    @property
    def recognised(self) -> bool:
        return self.kind != "not_recognised"


def recognise(text: str, lexicon: Lexicon, kind: Kind = "auto", line: int = 0) -> Reading:
    """Read one line as a diagnosis, a therapy, or (auto) whichever reading is the better.

    In auto mode a disease named exactly wins; otherwise a recognised therapy wins over a
    diagnosis found inside the text or guessed from a misspelling ("R-CHOP x6" is a therapy,
    "refractory DLBCL after R-CHOP" a diagnosis).
    """
    text = text.strip()
    diagnosis = _as_diagnosis(text, lexicon, line) if kind != "therapy" else None
    therapy = _as_therapy(text, lexicon, line) if kind != "diagnosis" else None
    if diagnosis and (diagnosis.method in NAMED_EXACTLY or therapy is None):
        return diagnosis
    return therapy or Reading(line=line, text=text, kind="not_recognised")


def recognise_lines(lines: Iterable[str], lexicon: Lexicon, kind: Kind = "auto") -> list[Reading]:
    """Every non-blank line read; line numbers count blank lines too (as an editor does)."""
    return [
        recognise(text, lexicon, kind, number)
        for number, text in enumerate(lines, start=1)
        if text.strip()
    ]


def _as_diagnosis(text: str, lexicon: Lexicon, line: int) -> Reading | None:
    found = lexicon.resolve_diagnosis(text)
    if found is None:
        return None
    return Reading(
        line=line,
        text=text,
        kind="diagnosis",
        code=found.code,
        name=lexicon.disease_name(found.code) if found.code else None,
        method=found.method,
        matched=found.matched,
        score=round(float(found.score), 1),
        certain=bool(found.certain) and found.code is not None,
        also=list(found.also),
    )


def _as_therapy(text: str, lexicon: Lexicon, line: int) -> Reading | None:
    classes = lexicon.therapy_classes_of(text)
    if not classes:
        return None
    implied = {
        parent
        for code in classes
        for parent in classes
        if parent != code and _is_above(lexicon, parent, code)
    }
    return Reading(
        line=line,
        text=text,
        kind="therapy",
        classes=list(classes),
        specific=[c for c in classes if c not in implied],
    )


def _is_above(lexicon: Lexicon, broader: str, code: str) -> bool:
    cls = lexicon.therapy_classes.get(code)
    seen = set()
    while cls and cls.parent and cls.parent not in seen:
        if cls.parent == broader:
            return True
        seen.add(cls.parent)
        cls = lexicon.therapy_classes.get(cls.parent)
    return False


# -- reports -----------------------------------------------------------------------------------


def summary(readings: list[Reading]) -> str:
    """One line: how many lines were read as what."""
    diagnoses = sum(r.kind == "diagnosis" for r in readings)
    therapies = sum(r.kind == "therapy" for r in readings)
    missing = len(readings) - diagnoses - therapies
    return (
        f"{len(readings)} lines: {diagnoses} diagnoses recognised, "
        f"{therapies} therapies recognised, {missing} not recognised"
    )


def describe(reading: Reading) -> str:
    """What a line was read as, in words."""
    if reading.kind == "therapy":
        implied = [c for c in reading.classes if c not in reading.specific]
        more = f" (also counts as {', '.join(implied)})" if implied else ""
        return "therapy: " + ", ".join(reading.specific) + more
    if reading.kind == "not_recognised":
        return "NOT RECOGNISED"
    how = f"{reading.method}, score {reading.score:g}"
    if reading.code is None:
        return f"diagnosis: AMBIGUOUS, names {', '.join(reading.also)} ({how}): confirm which"
    text = f"diagnosis: {reading.code} ({reading.name}; {how})"
    if reading.also:
        text += f"; names {', '.join(reading.also)}"
    return text + ("" if reading.certain else "; UNCERTAIN: confirm before matching")


def report_table(readings: list[Reading]) -> str:
    width = min(max((_width(r.text) for r in readings), default=4), TEXT_COLUMN_WIDTH)
    lines = [f"{'LINE':>4}  {_pad('TEXT', width)}  READ AS"]
    for r in readings:
        lines.append(f"{r.line:>4}  {_pad(r.text, width)}  {describe(r)}")
    lines.append(summary(readings))
    return "\n".join(lines)


#: The table's text column is cut to this many terminal cells.
TEXT_COLUMN_WIDTH = 40


def _width(text: str) -> int:
    """Terminal cells the text takes: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    if _width(text) > width:
        while _width(text) > width - 1:
            text = text[:-1]
        text += "…"
    return text + " " * (width - _width(text))


CSV_COLUMNS = ["line", "text", "kind", "code", "name", "method", "score", "certain", "classes"]


def report_csv(readings: list[Reading]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in readings:
        cells = [r.line, r.text, r.kind, r.code, r.name, r.method, r.score, r.certain]
        cells.append(";".join(r.specific))
        writer.writerow(["" if c is None else neutral(str(c)) for c in cells])
    return out.getvalue()


def report_json(readings: list[Reading]) -> str:
    data = {
        "lines": [r.model_dump(mode="json") for r in readings],
        "summary": {
            "lines": len(readings),
            "diagnoses": sum(r.kind == "diagnosis" for r in readings),
            "therapies": sum(r.kind == "therapy" for r in readings),
            "not_recognised": sum(not r.recognised for r in readings),
        },
    }
    return json.dumps(data, ensure_ascii=False, indent=2)
