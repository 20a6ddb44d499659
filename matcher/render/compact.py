"""The default terminal view of a match: one line per option, at most 100 columns (wrapped to
a narrower terminal), one merged list of what to ask for, and what was left out. The full view,
every criterion and cost scenario, is `match --details` (render.match.match_table)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from matcher.core.engine import MatchResult
from matcher.render.match import hidden_line, match_heading
from matcher.render.money import amount_range

#: The widest line of the compact view, whatever the terminal.
MAX_WIDTH = 100
TRACKS = {
    "nmpa_commercial": "approved",
    "nda_filed": "filed",
    "registrational_trial": "reg. trial",
    "iit": "IIT",
}
ENROLMENT = {"open": "open", "not_yet_open": "not yet open", "unknown": "status unknown"}


def match_compact(result: MatchResult, currency: str = "CNY", width: int = MAX_WIDTH) -> str:
    """The options of one referral, one line each; `width` is the terminal's."""
    width = max(40, min(width, MAX_WIDTH))
    data = result.as_dict()
    lines = [match_heading(data), *[f"warning: {w}" for w in data["warnings"]]]
    if not data["options"]:
        lines.append(f"No option: {data['no_option']}.")
    elif data["patient"].get("indication") is None:
        lines.append("Every option below depends on the diagnosis; confirm it first.")
    lines += [option_line(o, currency) for o in data["options"]]
    asks = merged_asks(data["options"])
    if asks:
        lines += ["", "Ask the referring doctor for (options it decides):"]
        lines += [f"  - {ask} ({', '.join(map(str, ranks))})" for ask, ranks in asks.items()]
    if hidden := hidden_line(data):
        lines += ["", hidden]
    if data["options"]:
        lines += [
            "",
            "--details: every criterion, cost scenario and note; "
            "`cartmatch report` writes a PDF to send.",
        ]
    return "\n".join(wrapped(line, width) for line in lines)


def option_line(option: dict[str, Any], currency: str = "CNY") -> str:
    """' 1. axi-cel / lbcl-3l  [ELIGIBLE]  approved, open  CNY 1.49–1.63 M'."""
    where = TRACKS.get(option["track"], option["track"])
    state = ENROLMENT.get(option["enrolment"], option["enrolment"])
    parts = [
        f"{option['rank']:>2}. {option['entry_id']} / {option['indication_id']}  "
        f"[{option['status'].upper()}]",
        f"{where}, {state}",
        short_cost(option["cost"], currency),
    ]
    if option["missing"]:
        parts.append(f"{len(option['missing'])} to ask")
    return "  ".join(parts)


def short_cost(cost: dict[str, Any], currency: str = "CNY") -> str:
    """The option's range in the chosen currency only: 'CNY 1.49–1.63 M'."""
    if cost.get("low") is None:
        return "cost unknown"
    if currency.upper() == "USD":
        return amount_range(cost["usd_low"], cost["usd_high"], "USD")
    return amount_range(cost["low"], cost["high"], "CNY")


def merged_asks(
    options: list[dict[str, Any]], label: Callable[[dict[str, Any]], Any] = itemgetter("rank")
) -> dict[str, list[Any]]:
    """Each thing to ask for once, in order, with the options it would decide (each named by
    `label`: its rank by default). The terminal, the reports and the web page all list them so."""
    asks: dict[str, list[Any]] = {}
    for option in options:
        for ask in option["missing"]:
            asks.setdefault(ask, []).append(label(option))
    return asks


def display_width(text: str) -> int:
    """Columns on a terminal: a wide (CJK) character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrapped(line: str, width: int) -> str:
    """A line folded at spaces to `width` terminal columns (CJK counted double), continuation
    lines indented under the option's text."""
    if display_width(line) <= width:
        return line
    indent = " " * 4
    body = line.lstrip(" ")
    rows, row = [], line[: len(line) - len(body)]
    for word in body.split(" "):
        candidate = f"{row} {word}" if row.strip() else row + word
        if row and display_width(candidate) > width:
            rows.append(row.rstrip())
            candidate = indent + word
        row = candidate
    rows.append(row)
    return "\n".join(rows)
