"""Text cells a spreadsheet would run as a formula, and how they are made inert.

OWASP's CSV-injection rule (a cell starting with = + - @, a tab or a carriage return), widened
to what spreadsheets also accept in front of a formula or read as its first character: leading
spaces, line breaks, no-break and zero-width spaces and other invisible format characters,
and the full-width and small forms (＝＋－＠, ﹦﹢﹣, the minus sign −) that Chinese input
methods type. Such a cell gets a leading ', which spreadsheets show as text.
"""

from __future__ import annotations

import re

#: Whitespace and invisible characters a spreadsheet passes over before a formula.
_INVISIBLE = "\\s\u00a0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff\x00-\x1f\x7f"
#: Characters that start a formula, with their full-width and small forms.
_STARTS = "=+\\-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\u2212"
FORMULA = re.compile(f"^(?:[\\t\\r]|[{_INVISIBLE}]*[{_STARTS}])")
"""A cell's text that would be read as a formula (or as its start)."""


def neutral(text: str) -> str:
    """Text a spreadsheet shows as text: a leading ' where it could start a formula."""
    return "'" + text if FORMULA.match(text) else text


__all__ = ["FORMULA", "neutral"]
