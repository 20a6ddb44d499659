"""Limits on what cartmatch reads, each named, with the environment variable that raises it.

A limit is checked before the expensive step it protects (reading a file, parsing JSON,
matching a diagnosis against the vocabulary), and a breach is one sentence naming the limit,
the size found and the setting. Standard library only; shared by every layer.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from itertools import accumulate


@dataclass(frozen=True)
class Limit:
    what: str
    """What is limited, as the message says it ("a diagnosis")."""
    env: str
    """The environment variable that raises (or lowers) it."""
    default: int
    unit: str

    @property
    def value(self) -> int:
        raw = os.environ.get(self.env, "")
        return int(raw) if raw.strip().isdigit() and int(raw) > 0 else self.default

    def exceeded(self, found: int) -> bool:
        return found > self.value

    def message(self, found: int) -> str:
        return (
            f"{found:,} {self.unit}, over the limit of {self.value:,} for {self.what}; "
            f"shorten it, or raise {self.env}"
        )


PROFILE_BYTES = Limit("a profile file", "CARTMATCH_MAX_PROFILE_BYTES", 1 << 20, "bytes")
DIAGNOSIS_CHARS = Limit("a diagnosis", "CARTMATCH_MAX_DIAGNOSIS_CHARS", 2_000, "characters")
JSON_DEPTH = Limit("the nesting of a JSON profile", "CARTMATCH_MAX_JSON_DEPTH", 16, "levels")
CELL_CHARS = Limit("a cell of a referral file", "CARTMATCH_MAX_CELL_CHARS", 32_768, "characters")
"""A longer cell rejects its row (the errors file names the column); the run goes on."""
COLUMNS = Limit("the columns of a referral file", "CARTMATCH_MAX_COLUMNS", 1_000, "columns")
XLSX_BYTES = Limit("a workbook, uncompressed", "CARTMATCH_MAX_XLSX_BYTES", 1 << 30, "bytes")
"""Checked from the zip directory before a cell is read: a zip bomb is refused unopened."""

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_nesting(text: str) -> int:
    """The deepest bracket nesting of JSON text outside strings: checked against JSON_DEPTH
    before parsing, since the parser recurses once a level."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    steps = (1 if char in "[{" else -1 for char in brackets)
    return max(accumulate(steps), default=0)


__all__ = [
    "CELL_CHARS",
    "COLUMNS",
    "DIAGNOSIS_CHARS",
    "JSON_DEPTH",
    "PROFILE_BYTES",
    "XLSX_BYTES",
    "Limit",
    "json_nesting",
]
