"""Where a registry study runs and whom to call: its sites in mainland China, each with its own
recruiting status and contacts, and the study's central contacts, as ClinicalTrials.gov gives
them (API v2 `contactsLocationsModule`).

A contact becomes one catalog contact per route: a phone number (`trial_contact`), an e-mail
address (`email`), or, for a person the record names with neither (a principal investigator),
the name itself (`person`). Nothing is added that the record does not say.
"""

from __future__ import annotations

from typing import Any, get_args

from matcher.curation.importers import EntryData, mapping, records, text_of
from matcher.model.facts import EntryStatus

#: Registry roles as a coordinator reads them.
_ROLES = {
    "CONTACT": "contact",
    "PRINCIPAL_INVESTIGATOR": "principal investigator",
    "SUB_INVESTIGATOR": "sub-investigator",
    "STUDY_CHAIR": "study chair",
    "STUDY_DIRECTOR": "study director",
}
#: Fields of a site a curator may have added that a registry record never gives.
_CURATED = ("name_zh", "short_names", "department", "international_service", "role", "note")
_SUFFIXES = (" municipality", " province", " sheng", " shi")
_STATUSES = set(get_args(EntryStatus))
_EXTRA_STATUS = {
    "no_longer_available": "closed",
    "temporarily_not_available": "suspended",
    "available": "recruiting",
}


def entry_status(raw: Any) -> str:
    """A registry status (RECRUITING, "Not yet recruiting") as a catalog status."""
    key = str(raw or "unknown").strip().lower().replace(" ", "_").replace(",", "")
    return key if key in _STATUSES else _EXTRA_STATUS.get(key, "unknown")


def contacts(items: Any, sid: str) -> list[dict[str, Any]]:
    """Registry contacts (central or of one site) as catalog contacts citing `sid`."""
    out: list[dict[str, Any]] = []
    for person in records(items):
        name = text_of(person.get("name"))
        raw_role = text_of(person.get("role")) or ""
        role = _ROLES.get(raw_role.upper(), raw_role.replace("_", " ").lower()) or None
        label = f"{name} ({role})" if name and role else name or role
        phone, email = text_of(person.get("phone")), text_of(person.get("email"))
        extension = text_of(person.get("phoneExt"))
        found = []
        if phone:
            number = f"{phone} ext. {extension}" if extension else phone
            found.append({"kind": "trial_contact", "value": number, "label": label})
        if email:
            found.append({"kind": "email", "value": email, "label": label})
        if not found and name:
            found.append({"kind": "person", "value": name, "label": role})
        for contact in found:
            contact = {k: v for k, v in contact.items() if v} | {"sources": [sid]}
            if contact not in out:
                out.append(contact)
    return out


def province(state: Any) -> str | None:
    """The registry's state field without "Municipality"/"Province" ("Beijing Municipality")."""
    text = text_of(state)
    if not text:
        return None
    for suffix in _SUFFIXES:
        if text.casefold().endswith(suffix):
            return text[: -len(suffix)].strip() or None
    return text


def registry_sites(record: dict[str, Any], sid: str, as_of: str | None) -> list[dict[str, Any]]:
    """Sites in mainland China in registry order, each with its own status (dated `as_of`,
    the record's last update), place and contacts."""
    sites: list[dict[str, Any]] = []
    seen = set()
    module = mapping(mapping(record.get("protocolSection")).get("contactsLocationsModule"))
    for loc in records(module.get("locations")):
        facility, city = text_of(loc.get("facility")), text_of(loc.get("city"))
        if (text_of(loc.get("country")) or "").casefold() != "china" or not facility:
            continue
        if (facility, city) in seen:
            continue
        seen.add((facility, city))
        site: dict[str, Any] = {
            "name": facility,
            "city": city,
            "province": province(loc.get("state")),
            "country": "China",
            "sources": [sid],
            "contacts": contacts(loc.get("contacts"), sid),
        }
        status = text_of(loc.get("status"))
        if status:
            site |= {"status": entry_status(status), "status_as_of": as_of}
        sites.append({k: v for k, v in site.items() if v not in (None, [])})
    return sites


def merge_sites(held: list[EntryData], fresh: list[EntryData]) -> list[EntryData]:
    """The registry's sites, each keeping what a curator added to the held site of the same
    name (Chinese name, short forms, department, role, contacts from other sources)."""
    by_name = {str(s.get("name", "")).casefold(): s for s in held}
    out = []
    for site in fresh:
        old = by_name.get(site["name"].casefold())
        if old is None:
            out.append(site)
            continue
        merged = {**{k: old[k] for k in _CURATED if k in old}, **site}
        ours = set(site.get("sources") or [])
        kept = [c for c in old.get("contacts") or [] if not set(c.get("sources") or []) <= ours]
        if kept or site.get("contacts"):
            merged["contacts"] = kept + [c for c in site.get("contacts") or [] if c not in kept]
        merged["sources"] = list(dict.fromkeys([*(old.get("sources") or []), *site["sources"]]))
        out.append(merged)
    return out


def site_changes(nct: str, held: list[EntryData], offered: list[EntryData]) -> list[str]:
    """What a record says changed at each site: status, sites added and gone (for the diff)."""
    before = {str(s.get("name", "")).casefold(): s for s in held}
    after = {str(s.get("name", "")).casefold(): s for s in offered}
    lines = []
    for key, site in after.items():
        old = before.get(key)
        where = f"{site['name']} ({site.get('city') or 'city not stated'})"
        status = site.get("status") or "no status"
        if old is None:
            lines.append(f"new site {where}: {status}")
        elif old.get("status") != site.get("status"):
            lines.append(f"{where}: {old.get('status') or 'no status'} -> {status}")
    lines += [f"no longer listed: {s['name']}" for k, s in before.items() if k not in after]
    if not lines:
        return []
    when = next((s["status_as_of"] for s in offered if s.get("status_as_of")), None)
    dated = f" (record updated {when})" if when else ""
    return [f"{nct}{dated}, sites: " + "; ".join(lines)]


__all__ = ["contacts", "entry_status", "merge_sites", "province", "registry_sites", "site_changes"]
