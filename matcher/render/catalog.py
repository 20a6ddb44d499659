"""Plain-text renderings for `cartmatch catalog ...`: refresh diffs, history, stale facts,
saved referrals to call back. Each reads the same JSON-able data the `--format json` prints."""

from __future__ import annotations

import json
from typing import Any

VALUE_WIDTH = 70
_BOOKKEEPING = ("sources", "confidence", "last_verified")


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, dict):  # a whole record: its own fields, not its bookkeeping
        value = {k: v for k, v in value.items() if k not in _BOOKKEEPING} or value
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    text = text.replace("\\n", " ")
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


def _ids(ids: list[str], limit: int = 12) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f", … ({len(ids) - limit} more)" if len(ids) > limit else "")


def diff_text(diff: dict[str, Any]) -> str:
    """The diff of a refresh plan (or of a logged refresh)."""
    lines = []
    for source in diff.get("sources", []):
        skipped = f", {source['skipped']} skipped" if source.get("skipped") else ""
        lines.append(
            f"Source {source['path']} ({source['kind']}: {source['entries']} entries{skipped})"
        )
    if diff.get("added"):  # a bundle sync logs bare ids
        lines.append(f"Added ({len(diff['added'])}):")
        lines += [
            f"  + {a['id']}  {a['name']}  [{a['source']}]" if isinstance(a, dict) else f"  + {a}"
            for a in diff["added"]
        ]
    if diff.get("changed"):
        lines.append(f"Changed ({len(diff['changed'])}):")
        for item in diff["changed"]:
            if not isinstance(item, dict):
                lines.append(f"  ~ {item}")
                continue
            lines.append(f"  ~ {item['id']}")
            lines += [
                f"      {f['field']}: {_value(f['old'])} -> {_value(f['new'])}"
                for f in item["fields"]
            ]
    if diff.get("unchanged"):
        lines.append(f"Unchanged ({len(diff['unchanged'])}): {_ids(diff['unchanged'])}")
    if diff.get("removed"):
        lines.append(
            f"Removed, not in the sources ({len(diff['removed'])}): {_ids(diff['removed'])}"
        )
    elif diff.get("sources") and all(s["kind"] != "catalog" for s in diff["sources"]):
        lines.append(
            "Missing from the sources: not checked (only a catalog folder lists every entry)"
        )
    elif diff.get("missing"):
        lines.append(
            f"Missing from the sources ({len(diff['missing'])}, kept; --prune removes "
            f"them): {_ids(diff['missing'])}"
        )
    if diff.get("skipped"):
        lines.append(f"Skipped records ({len(diff['skipped'])}):")
        lines += [f"  - {s['record']}: {s['reason']}" for s in diff["skipped"]]
    lines += _older_lines(diff.get("older") or [])
    if diff.get("notes"):
        lines.append("Notes:")
        lines += [f"  * {note}" for note in diff["notes"]]
    summary = diff.get("summary", {})
    counts = ", ".join(f"{n} {k}" for k, n in summary.items() if n or k in ("added", "changed"))
    lines.append(f"Summary: {counts or 'nothing'}.")
    return "\n".join(lines)


def _older_lines(older: list[dict[str, Any]]) -> list[str]:
    """Facts a source would set back to an older value than the catalog holds."""
    if not older:
        return []
    kept = [o for o in older if not o["applied"]]
    head = f"Older than the catalog ({len(older)}): " + (
        "kept the newer value; --overwrite-newer applies the source's"
        if kept
        else "applied because of --overwrite-newer"
    )
    lines = [head]
    for o in older:
        lines.append(
            f"  ! {o['id']} {o['field']}: source {_value(o['offered'])} dated "
            f"{o['offered_date']} is older than {_value(o['held'])} dated {o['held_date']}"
            f"{' (overwritten)' if o['applied'] else ' (kept)'}"
        )
    return lines


def history_text(items: list[dict[str, Any]]) -> str:
    if not items:
        return "No refreshes recorded."
    lines = []
    for item in items:
        summary = ", ".join(f"{n} {k}" for k, n in item["summary"].items() if n)
        change = f"  [{item['change']} v{item['version']}]" if item.get("change") else ""
        lines.append(
            f"#{item['id']:<4} {item['at']}  {item['kind']:<8} {item['source']}"
            f"{change}  ({summary or 'no change'})"
        )
    return "\n".join(lines)


def stale_text(items: list[dict[str, Any]], limits: str, today: str) -> str:
    """Old facts by entry; `limits` says which limits were applied."""
    if not items:
        return f"No fact is older than its limit ({limits}) on {today}."
    facts = sum(len(i["facts"]) for i in items)
    lines = [
        f"{facts} facts in {len(items)} entries are older than their limit ({limits}) on "
        f"{today}, oldest first:"
    ]
    for item in items:
        lines.append(
            f"  {item['entry_id']}  ({item['track']}, oldest {item['oldest']}, {item['days']} days)"
        )
        for fact in item["facts"]:
            lines.append(
                f"    {fact['field']}: {fact['date']} ({fact['basis']}; {fact['kind']}, "
                f"{fact['days']} > {fact['limit_days']} days)"
            )
    return "\n".join(lines)


__all__ = ["diff_text", "history_text", "stale_text"]
