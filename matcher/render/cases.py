"""Cases and call-backs as text for the terminal (data in, text out; no I/O)."""

from __future__ import annotations

from typing import Any

#: Call-backs printed after a refresh; the rest go to a file (`cases callbacks -o`).
SHOWN = 20


def recheck_text(report: dict[str, Any] | None) -> str:
    """What a refresh or rollback means for the families: who to call back, and why."""
    if report is None:
        return ""
    if not report["saved"]:
        return (
            "No saved referrals to check (none were saved by `cartmatch screen` or `match --save`)."
        )
    entries = report["entries"]
    scope = "every entry" if entries is None else f"{len(entries)} changed entr{_ies(entries)}"
    lines = [
        f"Cases: {report['open']:,} open of {report['saved']:,}; {report['checked']:,} "
        f"re-checked against {scope} in {report['seconds']:.1f} s."
    ]
    changed = report["changed"]
    if not changed:
        lines.append("No family needs a call-back for this change.")
    else:
        since = f" --since {report['refresh_id']}" if report.get("refresh_id") else ""
        lines.append(
            f"{len(changed):,} now have a different set of options than their families were "
            f"last told (call these families back; `cartmatch cases callbacks{since} -o "
            "calls.xlsx` writes the list with the contact columns):"
        )
        for item in changed[:SHOWN]:
            lines.append(f"  {item['referral']} (case {item['case_id']}, {item['status']})")
            lines += [f"    {change}" for change in item["changes"]]
        if len(changed) > SHOWN:
            lines.append(f"  ... and {len(changed) - SHOWN:,} more: write the list to a file")
    if report["settled"]:
        lines.append(
            f"{report['settled']} case(s) are back to what their families were last told "
            "(no call needed)."
        )
    if report["unreadable"]:
        lines.append(
            f"{report['unreadable']} case(s) could not be matched again (their saved "
            "profile no longer reads); `cartmatch cases list` shows them."
        )
    return "\n".join(lines)


def _ies(items: list[Any]) -> str:
    return "y" if len(items) == 1 else "ies"


def cases_text(cases: list[Any]) -> str:
    """One line per case: number, key, status, options now, last change."""
    if not cases:
        return "No cases."
    lines = [f"{'case':>6}  {'referral':<20} {'status':<18} {'options':>7}  changed"]
    for case in cases:
        lines.append(
            f"{case.id:>6}  {case.key[:20]:<20} {case.status:<18} {len(case.seen):>7}  "
            f"{case.changed_at or '-'}"
        )
    lines.append(f"{len(cases):,} case(s)")
    return "\n".join(lines)


def case_text(case: Any, events: list[Any], matches: list[dict[str, Any]]) -> str:
    """Everything about one case: status, contact, options now and told, history."""
    lines = [
        f"Case {case.id}: {case.key} ({case.status})",
        f"  saved {case.created_at} by {case.created_by or 'unknown'}; screening run "
        f"{case.run_id}, row {case.row_number}",
    ]
    if case.contact:
        lines.append("  contact: " + "; ".join(f"{k}: {v}" for k, v in case.contact.items()))
    lines.append(f"  options now ({len(case.seen)}), as of refresh {case.seen_refresh}:")
    lines += [f"    {key} ({state.status})" for key, state in sorted(case.seen.items())]
    lines.append(f"  last told {case.told_at or '-'}: {len(case.told)} option(s)")
    lines.append("  history:")
    history = [(e.at, 0, _event_text(e), e.by) for e in events]
    history += [(m["at"], 1, _match_text(m), m.get("by")) for m in matches]
    for at, _, what, by in sorted(history, key=lambda item: item[:2]):
        lines.append(f"    {at}  {by or '-'}  {what}")
    return "\n".join(lines)


def _event_text(event: Any) -> str:
    return {
        "status": f"status {event.from_status} -> {event.to_status}",
        "note": f"note: {event.text}",
        "notified": "family told the options as they were then",
        "saved": f"saved ({event.text})",
    }.get(event.kind, event.kind)


def _match_text(match: dict[str, Any]) -> str:
    refresh = f"refresh {match['refresh_id']}" if match["refresh_id"] else "-"
    return f"{match['source']} ({refresh}): {len(match['options'])} option(s)"


__all__ = ["case_text", "cases_text", "recheck_text"]
