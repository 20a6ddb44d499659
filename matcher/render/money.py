"""Amounts as people read them: 'CNY 1.49–1.63 M', 'about USD 207–226k', '149–163 万元'.

Three significant figures on the larger end, both ends with the same decimals; the terminal,
the Markdown and the reports all round the same way. Figures inside notes are rewritten in the
chosen currency, so --currency USD reaches every amount printed.
"""

from __future__ import annotations

import re

#: 'CNY 70,000-160,000', 'CNY 1,200,000' inside a note written by the core.
_CNY_IN_TEXT = re.compile(r"CNY (\d[\d,]*(?:\.\d+)?)(?:\s*[-–]\s*(\d[\d,]*(?:\.\d+)?))?")


def _pair(low: float, high: float) -> str:
    """Both ends with the decimals the larger needs: 207.4, 226.3 -> '207–226'."""
    decimals = 0 if high >= 100 else 1 if high >= 10 else 2
    a, b = f"{low:,.{decimals}f}", f"{high:,.{decimals}f}"
    return a if a == b else f"{a}–{b}"


def amount_range(low: float, high: float, currency: str) -> str:
    """'CNY 1.49–1.63 M', 'USD 207–226k', 'USD 5,600–6,200'."""
    if high >= 1_000_000:
        return f"{currency} {_pair(low / 1e6, high / 1e6)} M"
    if high >= 10_000:
        return f"{currency} {_pair(low / 1e3, high / 1e3)}k"
    return f"{currency} {_pair(round(low, -2), round(high, -2))}"


def amount_range_zh(low: float, high: float, currency: str) -> str:
    """'149–163 万元', '20.7–22.6 万美元', '5,600 元'."""
    unit = "元" if currency == "CNY" else "美元"
    if high >= 10_000:
        return f"{_pair(low / 1e4, high / 1e4)} 万{unit}"
    return f"{_pair(round(low, -2), round(high, -2))} {unit}"


def money_in_text(text: str, currency: str, fx: float | None) -> str:
    """A note with its CNY figures rounded, or converted to USD at `fx` (CNY per USD)."""
    use_usd = currency.upper() == "USD" and fx

    def one(match: re.Match[str]) -> str:
        low = float(match.group(1).replace(",", ""))
        high = float((match.group(2) or match.group(1)).replace(",", ""))
        if use_usd:
            return amount_range(low / fx, high / fx, "USD")
        return amount_range(low, high, "CNY")

    return _CNY_IN_TEXT.sub(one, text)
