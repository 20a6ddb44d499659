"""Costs as a report shows them: each option's range on its track in rounded figures, the
scenarios in words, what the estimate includes and leaves out, insurance as context, and the
rows of the chart beside the US reference."""

from __future__ import annotations

import re
from typing import Any

from matcher.core.costs import SEVERAL_INFUSIONS
from matcher.render.money import money_in_text
from matcher.report.refs import grouped, option_names, said_of, shared_and_own
from matcher.report.words import Words

#: What no estimate includes: the family pays these on top (no sourced figure, so no amount).
NOT_INCLUDED = (
    "travel to and from China",
    "accommodation outside the hospital",
    "an interpreter",
    "living costs of the family or carer",
    "care after returning home",
)

#: The scenarios as the family reads them, by their name in rules/costs.yaml.
SCENARIOS = {
    "bridging": "If the disease moves fast and needs bridging therapy first",
    "severe_crs_icans": "If severe side effects (CRS or ICANS) need days in intensive care",
    "extended_stay": "If the stay is 2–3 weeks longer",
    "complicated": "If the course is complicated (intensive care and a longer stay)",
    SEVERAL_INFUSIONS: "If more than one infusion is given, as the protocol or label allows",
}


#: The scenarios as a column head of the MDT's cost table.
SCENARIO_HEADS = {
    "bridging": "Bridging therapy",
    "severe_crs_icans": "Intensive care",
    "extended_stay": "Stay 2–3 weeks longer",
    "complicated": "Complicated course",
    SEVERAL_INFUSIONS: "More than one infusion",
}


def option_cost(cost: dict[str, Any], words: Words, currency: str) -> dict[str, Any]:
    """One option's cost, rounded as people read it, in the chosen currency first."""
    return {
        "track": words(cost["track_label"]) if cost.get("track_label") else cost["track"],
        # The MDT's cost table: the track's name without its explanation ("China trial").
        "track_short": words(cost.get("track_label", cost["track"]).split(" (")[0]),
        "range": money(cost, words, currency),
        "assumed_price": cost.get("drug_basis") == "price_band",
        "confidence": words(cost.get("confidence", "low")),
        "scenarios": [
            {
                "label": words(SCENARIOS.get(s["name"], s["label"])),
                "range": money(s, words, currency),
            }
            for s in cost.get("scenarios", [])
        ],
        "included": [words(c["label"]) for c in cost.get("components", [])],
        "not_included": [words(item) for item in NOT_INCLUDED],
        "us": us_money(cost.get("us_reference") or {}, words, currency, cost.get("fx_rate")),
        "insurance": insurance_words(cost.get("insurance") or {}, words),
        "fx": fx_words(cost, words),
        "notes": [
            money_note(note, words, currency, cost.get("fx_rate")) for note in cost.get("notes", [])
        ],
    }


def fx_words(cost: dict[str, Any], words: Words) -> str | None:
    """The exchange rate used, with the model rate's date, or marked as given for the report
    (a rate given with --fx has no date)."""
    rate = cost.get("fx_rate")
    if not rate:
        return None
    if not cost.get("fx_date"):
        return words("At {rate} CNY per USD (the rate given for this report).", rate=f"{rate:g}")
    when = words.date(cost.get("fx_date"))
    return words("At {rate} CNY per USD ({when}).", rate=f"{rate:g}", when=when)


def money(item: dict[str, Any], words: Words, currency: str) -> str:
    """'CNY 1.49–1.63 M (about USD 207–226k)', or the USD figure first with --currency USD."""
    if item.get("low") is None:
        return words("unknown (no price published)")
    cny = words.money(item["low"], item["high"], "CNY")
    if currency.upper() == "USD":
        return f"{words.money(item.get('usd_low'), item.get('usd_high'), 'USD')} ({cny})"
    usd = words.money(item.get("usd_low"), item.get("usd_high"), "USD", about=True)
    return f"{cny} ({usd})"


def scenario_table(options: list[dict[str, Any]], words: Words, currency: str) -> dict[str, Any]:
    """The cost table's rows: options whose estimate is the same in every figure (track,
    range, confidence, each scenario and their own cost notes) share one row, so eighteen
    trials on the same pathway are one line, not eighteen; the notes said of several rows are
    said once below the table, with their option numbers. For the MDT, a column for each
    scenario any option has (the whole estimate if it happens, in the chosen currency)."""
    heads = _heads(options, words)
    shared, own = shared_and_own({o["number"]: o["cost"]["notes"] for o in options})
    cells = {
        o["number"]: tuple(_scenario_cell(s, words, currency) for s in _by_head(o, heads))
        for o in options
    }

    def row_key(option: dict[str, Any]) -> tuple[Any, ...]:
        cost, number = option["cost"], option["number"]
        same = (cost["track"], cost["range"], cost["confidence"], cost["assumed_price"])
        return (*same, cells[number], tuple(own[number]))

    rows = [
        {"options": members, "names": option_names(members, words, "name"),
         "cost": members[0]["cost"], "cells": cells[members[0]["number"]],
         "notes": own[members[0]["number"]]}
        for _, members in grouped(options, row_key)
    ]  # fmt: skip
    return {"heads": heads, "rows": rows, "shared_notes": shared}


def _heads(options: list[dict[str, Any]], words: Words) -> list[dict[str, str]]:
    """A column for each scenario any option has, the usual ones first in their usual order."""
    names: dict[str, str] = {}
    for option in options:
        for scenario in option["cost_raw"].get("scenarios", []):
            names.setdefault(scenario["name"], scenario["label"])
    ordered = [n for n in SCENARIO_HEADS if n in names]
    ordered += [n for n in names if n not in SCENARIO_HEADS]
    return [{"name": n, "label": words(SCENARIO_HEADS.get(n, names[n]))} for n in ordered]


def _by_head(option: dict[str, Any], heads: list[dict[str, str]]) -> list[dict[str, Any] | None]:
    """The option's scenarios in the order of the table's columns (None where it has none)."""
    by_name = {s["name"]: s for s in option["cost_raw"].get("scenarios", [])}
    return [by_name.get(h["name"]) for h in heads]


def _scenario_cell(scenario: dict[str, Any] | None, words: Words, currency: str) -> str:
    if scenario is None or scenario.get("low") is None:
        return "—"
    if currency.upper() == "USD":
        text = words.money(scenario.get("usd_low"), scenario.get("usd_high"), "USD")
    else:
        text = words.money(scenario["low"], scenario["high"], "CNY")
    # The table's note names the currency once: "1.56–1.79 M", "363–589k" ("156–179 万元").
    return text.removeprefix(f"{currency.upper()} ").replace(" ", "\u00a0")


def what_adds(options: list[dict[str, Any]], words: Words, currency: str) -> list[dict[str, Any]]:
    """What each scenario adds to the usual range, said once for all the options it adds the
    same to (the family report; the MDT report gives each option's scenario totals)."""
    said: dict[int, list[tuple[tuple[str, str], ...]]] = {}
    for option in options:
        cost = option["cost_raw"]
        if cost.get("low") is None:
            continue
        lines = []
        for scenario in cost.get("scenarios", []):
            adds = {k: scenario[k] - cost[k] for k in ("low", "high", "usd_low", "usd_high")}
            if adds["high"] > 0:
                label = words(SCENARIOS.get(scenario["name"], scenario["label"]))
                lines.append((label, money(adds, words, currency)))
        if lines:
            said[option["number"]] = [tuple(lines)]
    return [{**group, "lines": group["text"]} for group in said_of(said)]


def us_money(us: dict[str, Any], words: Words, currency: str, fx: float | None) -> str | None:
    """The US reference pathway: in USD, with CNY alongside at the model rate."""
    if us.get("usd_low") is None:
        return None
    usd = words.money(us["usd_low"], us["usd_high"], "USD")
    complicated = words.money(us.get("complicated_usd_high"), us.get("complicated_usd_high"), "USD")
    text = words("{range}; complicated course up to {high}", range=usd, high=complicated)
    if fx and currency.upper() == "CNY":
        cny = words.money(us["usd_low"] * fx, us["usd_high"] * fx, "CNY", about=True)
        text += f" ({cny})"
    return text


def insurance_words(insurance: dict[str, Any], words: Words) -> list[str]:
    """Insurance as context: never subtracted from the estimate."""
    lines = []
    listed = insurance.get("commercial_innovative_list")
    if listed is True:
        lines.append(words("On China's commercial health insurance innovative drug list."))
    elif listed is False:
        lines.append(words("Not on China's commercial health insurance innovative drug list."))
    if insurance.get("text"):
        lines.append(insurance["text"])
    lines.append(words("Insurance depends on the patient's own policy; it is not subtracted."))
    return lines


def money_note(note: str, words: Words, currency: str, fx: float | None) -> str:
    """A cost note in the report's words: the one the engine writes most is translated; the
    others stay as the engine gives them, their amounts in the chosen currency."""
    if note.startswith("disease tempo unknown"):
        return words(
            "Disease tempo unknown: bridging therapy is not included (see the bridging scenario)."
        )
    return without_source_ids(money_in_text(note, currency, fx))


#: "(S07, S05)" in an engine note: the catalog's source ids, which a report reader cannot look
#: up (the option's sources are listed under their report numbers instead).
_SOURCE_IDS = re.compile(r"\s*\((?:[A-Z]\d+[a-z]?)(?:,\s*[A-Z]\d+[a-z]?)*\)")


def without_source_ids(note: str) -> str:
    return _SOURCE_IDS.sub("", note)


def chart_rows(options: list[dict[str, Any]], words: Words, currency: str) -> dict[str, Any]:
    """The bars of the cost chart: each option's range (and how far its costliest scenario can
    take it) on one axis with the US reference, in the chosen currency. Options with the same
    range on the same track share a bar, labelled with their numbers."""
    use_usd = currency.upper() == "USD"
    costed = [o for o in options if o["cost_raw"].get("low") is not None]

    def bar(option: dict[str, Any]) -> tuple[Any, ...]:
        cost = option["cost_raw"]
        low, high = (cost["usd_low"], cost["usd_high"]) if use_usd else (cost["low"], cost["high"])
        return (cost["track"], low, high, max(_worst(cost, use_usd), high))

    rows = []
    for group, members in grouped(costed, bar):
        _, low, high, worst = group["text"]
        (label,) = option_names(members, words, "short_name", at_most=1)
        rows.append({"label": label, "low": low, "high": high, "worst": worst, "us": False})
    us_rows = _us_rows(options, words, use_usd)
    return {"rows": [*rows, *us_rows], "currency": "USD" if use_usd else "CNY"}


def _worst(cost: dict[str, Any], use_usd: bool) -> float:
    key = "usd_high" if use_usd else "high"
    return max([cost[key], *(s[key] for s in cost.get("scenarios", []))])


def _us_rows(options: list[dict[str, Any]], words: Words, use_usd: bool) -> list[dict[str, Any]]:
    """One bar per distinct US reference (usually one for all options)."""
    seen = {}
    for option in options:
        cost = option["cost_raw"]
        us = cost.get("us_reference") or {}
        fx = 1.0 if use_usd else cost.get("fx_rate") or 0
        if us.get("usd_low") is None or not fx:
            continue
        key = (us["usd_low"] * fx, us["usd_high"] * fx, us["complicated_usd_high"] * fx)
        seen.setdefault(key, us.get("label"))
    return [
        {"label": words("US reference (same pathway at US prices)"), "low": low, "high": high,
         "worst": worst, "us": True}
        for (low, high, worst) in seen
    ]  # fmt: skip
