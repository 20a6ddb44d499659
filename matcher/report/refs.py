"""Sources and sites as a report lists them: every cited source once, numbered, with its
title, address and date; each programme's sites with their contacts when the catalog has them."""

from __future__ import annotations

from typing import Any

from matcher.core.catalog import Catalog
from matcher.core.engine import Option
from matcher.core.places import site_record
from matcher.report.words import Words

ROLES = {
    "commercial": "gives the approved product",
    "trial_site": "trial site",
    "lead_site": "lead trial site",
}
CONTACTS = {
    "switchboard": "switchboard",
    "international_office": "international office",
    "trial_contact": "trial contact",
    "email": "e-mail",
    "web": "web page",
}


class SourceList:
    """The report's numbered list of sources; the same source cited twice keeps one number."""

    def __init__(self) -> None:
        self._numbers: dict[tuple[str, str, str], int] = {}

    def cite(self, *tables: dict[str, Any]) -> list[int]:
        """Numbers for every source in these tables (an entry's `sources`, a cost's)."""
        numbers = []
        for table in tables:
            for source in table.values():
                key = _key(source)
                number = self._numbers.setdefault(key, len(self._numbers) + 1)
                if number not in numbers:
                    numbers.append(number)
        return sorted(numbers)

    def listed(self, words: Words) -> list[dict[str, Any]]:
        return [
            {"number": n, "title": title, "url": url, "date": words.date(day) if day else ""}
            for (title, url, day), n in sorted(self._numbers.items(), key=lambda kv: kv[1])
        ]


def number_ranges(numbers: list[int]) -> str:
    """Citation numbers as a reader scans them: [1, 2, 3, 5, 7, 8] as "1–3, 5, 7, 8" (a run
    of three or more is a range)."""
    runs: list[list[int]] = []
    for n in sorted(set(numbers)):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    parts = []
    for run in runs:
        parts += [f"{run[0]}–{run[-1]}"] if len(run) > 2 else [str(n) for n in run]
    return ", ".join(parts)


def said_of(texts: dict[int, list[Any]]) -> list[dict[str, Any]]:
    """Each text once, in the order first said, with the numbers of the options it is said of
    (as a list and as ranges, "1–3, 6"): the one grouping behind every "options N: text". A
    text may be any hashable value (a criterion row's fields, say)."""
    said: dict[Any, list[int]] = {}
    for number, lines in texts.items():
        for line in lines:
            said.setdefault(line, []).append(number)
    return [
        {"text": text, "numbers": numbers, "options": number_ranges(numbers), "count": len(numbers)}
        for text, numbers in said.items()
    ]


def grouped(
    options: list[dict[str, Any]], key: Any
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Options with the same `key(option)` together, in the order first met: `said_of` with
    one key an option, each group with its options (a cost row, a chart bar)."""
    by_number = {o["number"]: o for o in options}
    said = said_of({o["number"]: [key(o)] for o in options})
    return [(group, [by_number[n] for n in group["numbers"]]) for group in said]


def shared_and_own(
    texts: dict[int, list[Any]],
) -> tuple[list[dict[str, Any]], dict[int, list[Any]]]:
    """Texts said of two or more options, and each option's texts that are its own: a note
    repeated under every option is read once."""
    said = said_of(texts)
    shared = [group for group in said if group["count"] > 1]
    once = {group["text"] for group in said if group["count"] == 1}
    own = {n: [line for line in lines if line in once] for n, lines in texts.items()}
    return shared, own


#: A row, bar or line said of more options than this names them by number only.
NAMED_AT_MOST = 3


def option_names(
    options: list[dict[str, Any]],
    words: Words,
    key: str,
    at_most: int = NAMED_AT_MOST,
    many: str = "Options {options}",
) -> list[str]:
    """How a row said of several options names them: each by number and name ("4. C-CAR039"),
    or, for more than `at_most`, their numbers alone (`many`: "Options 1–18")."""
    if len(options) <= at_most:
        return [f"{o['number']}. {o[key]}" for o in options]
    return [words(many, options=number_ranges([o["number"] for o in options]))]


def shown_sources(entry: Any, indication: Any) -> dict[str, Any]:
    """The entry's sources behind what the report shows of one option: its status, price,
    insurance, sites and contacts, and this cohort's status, approval, label and evidence."""
    facts = [entry.status, entry.price, entry.insurance, *entry.sites]
    facts += [c for site in entry.sites for c in site.contacts]
    facts += [indication.status, indication.approval_date, indication.label]
    facts += indication.evidence
    ids = {source for fact in facts if fact is not None for source in fact.sources}
    return {key: source for key, source in entry.sources.items() if key in ids}


def _key(source: Any) -> tuple[str, str, str]:
    """(title, address, date) of a Source model or of a cost's source dict."""
    get = source.get if isinstance(source, dict) else lambda k: getattr(source, k, None)
    return (str(get("title") or ""), str(get("url") or ""), str(get("date") or ""))


def entry_sites(options: list[Option], catalog: Catalog, words: Words) -> dict[str, Any]:
    """Each shown programme with named sites once, with the numbers of its options and its
    sites (name, city, role, status, contacts); the options of programmes whose sources name
    no site are said together in one line."""
    programmes, unnamed = [], []
    for group in said_of({n: [o.entry.id] for n, o in enumerate(options, start=1)}):
        entry = options[group["numbers"][0] - 1].entry
        if not entry.sites:
            unnamed += group["numbers"]
            continue
        sites = [_site(site_record(s, catalog.places), words) for s in entry.sites]
        programmes.append({**group, "name": entry.name, "sites": sites})
    return {
        "programmes": programmes,
        "unnamed": {"options": number_ranges(unnamed), "count": len(unnamed)},
    }


def _site(record: dict[str, Any], words: Words) -> dict[str, Any]:
    name = record.get("name_zh") if words.lang == "zh" and record.get("name_zh") else None
    service = record.get("international_service")
    return {
        "name": name or record["name"],
        "other_name": record["name"] if name else record.get("name_zh"),
        "city": ", ".join(_unique(record.get("city"), record.get("province"))),
        "role": words(ROLES.get(record.get("role") or "", "site")),
        "status": _status(record, words),
        "international": words({True: "yes", False: "no"}.get(service, "unknown")),
        "contacts": [
            {
                "kind": words(CONTACTS.get(c["kind"], c["kind"])),
                "value": c["value"],
                "label": c.get("label") or "",
            }
            for c in record.get("contacts", [])
        ],
    }


def _unique(*names: str | None) -> list[str]:
    """Names once each, in order: 'Beijing' for Beijing, Beijing."""
    return list(dict.fromkeys(n for n in names if n))


def _status(record: dict[str, Any], words: Words) -> str:
    status = record.get("status")
    if not status:
        return ""
    when = record.get("status_as_of")
    state = words(status.replace("_", " "))
    return words("{state} (as of {when})", state=state, when=words.date(when)) if when else state
