"""How old each fact of an entry is, judged by its own date. Pure: `today` is passed in.

A fact's date is, in this order: its own `last_verified`; its `as_of` (a price) or
`status_as_of` (a site's status); the newest date of the sources it cites; the entry's
`last_verified`. A partial date counts from its first day (2021-06 is 2021-06-01), so a fact
is never taken for newer than it is. Each kind has its limit (rules/freshness.yaml); a fact
older than its limit is old, and `catalog stale`, `match` and `show` say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from matcher.core.entry import Entry
from matcher.model.facts import Freshness, Sourced

_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


@dataclass(frozen=True)
class DatedFact:
    """One fact with the date it is judged by and how old that is."""

    field: str
    """Where in the entry (price, status, indications[fl].status, sites[Ruijin Hospital])."""
    kind: str
    dated: date
    basis: str
    """What the date is: last_verified, as_of, status_as_of, source or entry."""
    days: int
    limit_days: int

    @property
    def old(self) -> bool:
        return self.days > self.limit_days

    def as_dict(self) -> dict[str, object]:
        return {
            "field": self.field,
            "kind": self.kind,
            "date": self.dated.isoformat(),
            "basis": self.basis,
            "days": self.days,
            "limit_days": self.limit_days,
        }

    def text(self) -> str:
        return (
            f"{self.field} dates from {self.dated.isoformat()} ({self.basis}), "
            f"{self.days} days old, limit {self.limit_days}"
        )


def parse_date(text: str | None) -> date | None:
    """An ISO date, or a partial one (2026-06, 2026) as its first day; None if unreadable."""
    match = _DATE.match(str(text or "").strip())
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2] or 1), int(match[3] or 1))
    except ValueError:
        return None


def fact_date(
    entry: Entry, fact: Sourced, own: str | None = None, own_name: str = "as_of"
) -> tuple[date, str]:
    """The date a fact is judged by, and what that date is."""
    if fact.last_verified is not None:
        return fact.last_verified, "last_verified"
    if (found := parse_date(own)) is not None:
        return found, own_name
    dates = [d for s in fact.sources if (d := parse_date(entry.sources[s].date)) is not None]
    if dates:
        return max(dates), "source"
    return entry.last_verified, "entry"


def _facts(entry: Entry) -> list[tuple[str, str, Sourced, str | None, str]]:
    """(field, kind, fact, its own date, what that date is) for every fact that ages."""
    out: list[tuple[str, str, Sourced, str | None, str]] = []
    if entry.price is not None:
        out.append(("price", "price", entry.price, entry.price.as_of, "as_of"))
    if entry.insurance is not None:
        out.append(("insurance", "insurance", entry.insurance, None, "as_of"))
    out.append(("status", "status", entry.status, None, "as_of"))
    out += [
        (f"indications[{i.id}].status", "status", i.status, None, "as_of")
        for i in entry.indications
    ]
    for site in entry.sites:
        out.append((f"sites[{site.name}]", "site", site, None, "as_of"))
        if site.status is not None:
            out.append(
                (f"sites[{site.name}].status", "status", site, site.status_as_of, "status_as_of")
            )
    return out


def dated_facts(
    entry: Entry, freshness: Freshness, today: date, limit_days: int | None = None
) -> list[DatedFact]:
    """Every fact of a kind with a limit, with its date and age. `limit_days` replaces the
    limit of every kind (`catalog stale --older-than`)."""
    limits: dict[str, int] = dict(freshness.limits_days)
    out = []
    for field, kind, fact, own, own_name in _facts(entry):
        limit = limit_days if limit_days is not None else limits.get(kind)
        if limit is None:
            continue
        dated, basis = fact_date(entry, fact, own, own_name)
        out.append(DatedFact(field, kind, dated, basis, (today - dated).days, limit))
    return out


def old_facts(
    entry: Entry, freshness: Freshness, today: date, limit_days: int | None = None
) -> list[DatedFact]:
    """The facts older than their limit, oldest first."""
    old = [f for f in dated_facts(entry, freshness, today, limit_days) if f.old]
    return sorted(old, key=lambda f: (f.dated, f.field))


def option_note(entry: Entry, indication_id: str, freshness: Freshness, today: date) -> str | None:
    """One line for an option: which of its facts are older than their limit (its price, the
    entry's and this cohort's status, its sites), or None when none is."""
    old = [
        f
        for f in old_facts(entry, freshness, today)
        if not f.field.startswith("indications[")
        or f.field == f"indications[{indication_id}].status"
    ]
    if not old:
        return None
    sites = [f for f in old if f.kind == "site"]
    parts = [
        f"{f.field} {f.dated.isoformat()} ({f.basis})"
        for f in old
        if f.kind != "site" and not f.field.startswith("sites[")
    ]
    if sites:
        parts.append(f"{len(sites)} of {len(entry.sites)} sites (oldest {sites[0].dated})")
    return f"old facts (older than their limit on {today.isoformat()}): " + "; ".join(parts)


__all__ = ["DatedFact", "dated_facts", "fact_date", "old_facts", "option_note", "parse_date"]
