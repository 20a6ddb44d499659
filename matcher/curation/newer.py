"""A refresh never silently undoes a newer update: facts a source would set back to an older
value than the catalog holds, judged by each fact's date.

A fact's date is its `last_verified`, else its `as_of` (a price) or `status_as_of`, else the
newest date of the sources it cites; an offered fact without any of these takes its entry's
`last_verified`. A held fact without a date is never called newer (nothing shows it is).
Sites count as one fact dated by their newest site. When a source offers a different value
dated before the one held, the refresh keeps the held value and says so, unless told to
overwrite newer values.
"""

from __future__ import annotations

from typing import Any

from matcher.core.freshness import parse_date
from matcher.curation.importers import EntryData

#: Entry-level facts compared by date (each a sourced record, or the list of sites).
FACTS = ("status", "price", "sponsor", "manufacturing", "insurance", "sites")
_BOOKKEEPING = ("sources", "confidence", "note", "last_verified")


def _date(fact: Any, entry: EntryData, *, fallback: bool = True) -> str:
    """The fact's date (ISO), or "" when it has none and `fallback` is off."""
    if isinstance(fact, list):
        dates = [d for item in fact if (d := _date(item, entry, fallback=fallback))]
        return max(dates, default="")
    if isinstance(fact, dict):
        for key in ("last_verified", "as_of", "status_as_of"):
            if fact.get(key) and parse_date(str(fact[key])):
                return str(parse_date(str(fact[key])))
        table = entry.get("sources") or {}
        dates = [
            str(d)
            for sid in fact.get("sources") or []
            if (d := parse_date(str((table.get(sid) or {}).get("date") or "")))
        ]
        if dates:
            return max(dates)
    if not fallback:
        return ""
    return str(parse_date(str(entry.get("last_verified") or "")) or "")


def _value(fact: Any) -> Any:
    """What a fact says, without its bookkeeping (a new source on the same value is no change)."""
    if isinstance(fact, list):
        return [_value(item) for item in fact]
    if isinstance(fact, dict):
        return {k: v for k, v in fact.items() if k not in _BOOKKEEPING}
    return fact


def _pairs(old: EntryData, new: EntryData) -> list[tuple[str, Any, Any, Any]]:
    """(field, held fact, offered fact, setter of the offered fact's place in `new`)."""
    out = [(key, old.get(key), new.get(key), (new, key)) for key in FACTS]
    offered = {i.get("id"): i for i in new.get("indications") or []}
    for held in old.get("indications") or []:
        if (cohort := offered.get(held.get("id"))) is not None:
            out.append(
                (
                    f"indications[{held['id']}].status",
                    held.get("status"),
                    cohort.get("status"),
                    (cohort, "status"),
                )
            )
    return out


def keep_newer(
    entry_id: str, old: EntryData, new: EntryData, *, overwrite: bool
) -> list[dict[str, Any]]:
    """Facts of `new` older than the different value `old` holds. Unless `overwrite`, `new`
    gets the held value back. Returns one record per such fact for the diff."""
    found = []
    for field, held, offered, (target, key) in _pairs(old, new):
        if held in (None, []) or offered is None or _value(held) == _value(offered):
            continue
        # A held fact with no date of its own or of its sources cannot be shown to be newer.
        held_date, offered_date = _date(held, old, fallback=False), _date(offered, new)
        if offered_date and held_date and offered_date < held_date:
            found.append(
                {
                    "id": entry_id,
                    "field": field,
                    "held": _value(held),
                    "held_date": held_date,
                    "offered": _value(offered),
                    "offered_date": offered_date,
                    "applied": overwrite,
                }
            )
            if not overwrite:
                target[key] = held
                _carry_sources(held, old, new)
    return found


def _cited(fact: Any) -> list[str]:
    if isinstance(fact, list):
        return [sid for item in fact for sid in _cited(item)]
    if isinstance(fact, dict):
        own = [str(s) for s in fact.get("sources") or []]
        return own + [sid for v in fact.values() if isinstance(v, list | dict) for sid in _cited(v)]
    return []


def _carry_sources(held: Any, old: EntryData, new: EntryData) -> None:
    """The sources a kept fact cites, copied into the entry's table so it still resolves."""
    table = new.setdefault("sources", {})
    for sid in _cited(held):
        if sid not in table and sid in (old.get("sources") or {}):
            table[sid] = old["sources"][sid]


__all__ = ["FACTS", "keep_newer"]
