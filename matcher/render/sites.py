"""Plain text for sites: `cartmatch sites` and the sites section of `cartmatch show`."""

from __future__ import annotations

from typing import Any


def _service(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "unknown"}[value]


def _contact(contact: dict[str, Any]) -> str:
    label = f" ({contact['label']})" if contact.get("label") else ""
    cite = "".join(f"[{s}]" for s in contact.get("sources", []))
    where = " from rules/places.yaml" if contact.get("from") else ""
    return f"{contact['kind'].replace('_', ' ')}: {contact['value']}{label} {cite}{where}".rstrip()


def site_head(site: dict[str, Any]) -> str:
    """Hospital (Chinese name) · city, province · department."""
    zh = f" ({site['name_zh']})" if site.get("name_zh") else ""
    place = ", ".join(p for p in (site.get("city"), site.get("province")) if p) or "city unknown"
    department = f" · {site['department']}" if site.get("department") else ""
    return f"{site['name']}{zh} · {place}{department}"


def site_details(site: dict[str, Any]) -> list[str]:
    """Short forms, international service and contacts (or that none is known)."""
    shorts = [n for n in site.get("short_names", []) if n != site.get("name_zh")]
    lines = [f"also: {', '.join(shorts)}"] if shorts else []
    lines.append(f"international patient service: {_service(site.get('international_service'))}")
    contacts = site.get("contacts") or []
    lines += [f"contact {_contact(c)}" for c in contacts] or ["contact: none published in sources"]
    return lines


def _status(item: dict[str, Any]) -> str:
    role = (item.get("role") or "role not stated").replace("_", " ")
    status = f", site {item['status']}" if item.get("status") else ""
    when = f" as of {item['status_as_of']}" if item.get("status_as_of") else ""
    cite = "".join(f"[{s}]" for s in item.get("sources", []))
    weak = f" ({item['confidence']} confidence)" if item.get("confidence", "high") != "high" else ""
    return f"{role}{status}{when} {cite}{weak}".rstrip()


def sites_text(items: list[dict[str, Any]], where: str) -> str:
    if not items:
        return f"No site listed {where}."
    lines = [f"{len(items)} site(s) {where}:"]
    for site in items:
        lines += ["", site_head(site)]
        lines += [f"  {line}" for line in site_details(site)]
        for item in site["programmes"]:
            lines.append(
                f"  - {item['entry_id']} ({item['track']}, {item['entry_status']}): {_status(item)}"
            )
    return "\n".join(lines)


def entry_site_lines(records: list[dict[str, Any]]) -> list[str]:
    """The sites of one entry, for `show`: one head line each, details indented."""
    lines = []
    for site in records:
        lines.append(f"  - {site_head(site)}: {_status(site)}")
        lines += [f"      {line}" for line in site_details(site)]
        if site.get("note"):
            lines.append(f"      note: {site['note']}")
    return lines


__all__ = ["entry_site_lines", "site_details", "site_head", "sites_text"]
