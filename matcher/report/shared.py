"""What several options share, said once with their numbers: the records to request and the
checks before treatment, merged across options; the insurance lines and the parts of the
estimates; the curator notes; and, in the MDT report, the met criterion rows several options
needing tests share. Each option keeps what is its own."""

from __future__ import annotations

from typing import Any

from matcher.model.verdict import Status
from matcher.render.compact import merged_asks as asks_by_option
from matcher.report.refs import option_names, said_of, shared_and_own
from matcher.report.words import Words


def merged_asks(options: list[dict[str, Any]], words: Words) -> list[dict[str, Any]]:
    """Each record or test to request once, with the options it would decide: by number and
    name, or by number alone when it decides more than a few."""
    asks = asks_by_option(options, lambda o: o)
    return [
        {
            "ask": ask,
            "decides": option_names(decides, words, "short_name", many="options {options}"),
        }
        for ask, decides in asks.items()
    ]


def same_lines(options: list[dict[str, Any]], lines_of: Any) -> list[dict[str, Any]]:
    """Each line of a per-option text (insurance, say) once, with the numbers of the options
    it is said of: the context every option shares is read once, and last."""
    said = said_of({o["number"]: lines_of(o) for o in options})
    return sorted(said, key=lambda g: g["count"] == len(options))


def included_lines(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the estimates include, each part once: the parts some options have (a commercial
    product's list price, a trial's product provided free) first, with their option numbers,
    then the parts every option has, in one line."""
    by_options: dict[str, dict[str, Any]] = {}
    for group in same_lines(options, lambda o: o["cost"]["included"]):
        line = by_options.setdefault(group["options"], {**group, "parts": []})
        line["parts"].append(group["text"])
        line["text"] = "; ".join(line["parts"])
    return list(by_options.values())


def common_notes(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Curator notes said of two or more options, taken out of each option's list to be shown
    once with their option numbers; each option keeps the notes that are its own."""
    shared, own = shared_and_own({o["number"]: o["notes"] for o in options})
    for option in options:
        option["notes"] = own[option["number"]]
    return shared


#: A met criterion row said of this many options needing tests or records, or more, is shown
#: once for them all.
SHARED_BY_AT_LEAST = 3


def common_criteria(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Met rows of the MDT's criterion table that several options needing tests or records
    share (the same text, patient value and explanation: "Active despite standard therapy ...
    met" under seventeen lupus trials), taken out of their tables to be shown once with the
    options' numbers. Each such option keeps its own rows, every unknown and check among them
    (what decides it stays in its table), and the count of its shared ones. An option that can
    proceed, or is close, keeps its whole table: that is the table the MDT checks before saying
    yes, or reads to see what is not met."""

    def key(row: dict[str, Any]) -> tuple[str, ...]:
        return (row["text"], row["value"], row["outcome"], row["message"])

    possible = [o for o in options if o["status"] == Status.POSSIBLE.value]
    met = {
        o["number"]: list(dict.fromkeys(key(r) for r in o["criteria"] if r["outcome"] == "met"))
        for o in possible
    }
    rows = {key(row): row for option in possible for row in option["criteria"]}
    shared = [g for g in said_of(met) if g["count"] >= SHARED_BY_AT_LEAST]
    for option in options:
        taken = {g["text"] for g in shared if option["number"] in g["numbers"]}
        option["criteria"] = [row for row in option["criteria"] if key(row) not in taken]
        option["shared_criteria"] = len(taken)
    return [{**rows[group["text"]], "options": group["options"]} for group in shared]


def merged_checks(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the treating centre confirms before infusion, once each, with its options."""
    said = said_of({o["number"]: o["checks"] for o in options})
    return [{"check": group["text"], "options": group["options"]} for group in said]
