"""Where an option can be given: sites read against rules/places.yaml. Pure, no I/O.

`PlaceIndex` answers which city or province a query names (English, Chinese or another
spelling: Beijing, 北京, Peking), which hospital of the gazetteer a site is (so a site listed
as "Renji Hospital" is found as 仁济 and Renji), and whether an entry has a site in a place.
`at_place` is the one filter: `match --city/--province` use it, and so can bulk screening.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from matcher.core.entry import Entry
from matcher.errors import NotFoundError
from matcher.model.base import did_you_mean
from matcher.model.facts import Site
from matcher.model.places import Hospital, Places
from matcher.model.vocabulary import compact_key


@dataclass(frozen=True)
class Place:
    """A place a filter asks for: a city, a province, or both (a city inside a province)."""

    city: str | None = None
    """Canonical English name of the city."""
    province: str | None = None

    def label(self) -> str:
        return ", ".join(p for p in (self.city, self.province) if p) or "anywhere"


class PlaceIndex:
    """Cities, provinces and hospitals by every name, built once per catalog."""

    def __init__(self, places: Places) -> None:
        self.places = places
        self._cities = {
            compact_key(n): c for c in places.cities for n in (c.name, c.zh, *c.aliases)
        }
        self._provinces = {
            compact_key(n): p.name for p in places.provinces for n in (p.name, p.zh, *p.aliases)
        }
        self._hospitals = {
            compact_key(n): h for h in places.hospitals for n in (h.name, *h.aliases)
        }

    def hospital(self, site: Site) -> Hospital | None:
        """The gazetteer's hospital this site is, by its name or one of its aliases."""
        return self._hospitals.get(compact_key(site.name))

    def site_names(self, site: Site) -> list[str]:
        """Every name the site is known by: its own and its hospital's."""
        hospital = self.hospital(site)
        return list(dict.fromkeys([*site.names(), *(hospital.names() if hospital else [])]))

    def city_of(self, site: Site) -> str | None:
        """The site's city, canonical when the gazetteer knows it."""
        hospital = self.hospital(site)
        name = site.city or (hospital.city if hospital else None)
        if name is None:
            return None
        city = self._cities.get(compact_key(name))
        return city.name if city else name

    def province_of(self, site: Site) -> str | None:
        hospital = self.hospital(site)
        if site.province or (hospital and hospital.province):
            name = site.province or (hospital.province if hospital else None)
            return self._provinces.get(compact_key(name or ""), name)
        city = self._cities.get(compact_key(self.city_of(site) or ""))
        return city.province if city else None

    def city_zh(self, name: str | None) -> str | None:
        city = self._cities.get(compact_key(name or ""))
        return city.zh if city else None

    def place(self, city: str | None, province: str | None, known: Iterable[str] = ()) -> Place:
        """The place `--city` and `--province` name; NotFoundError with a suggestion when a
        name is neither in the gazetteer nor the city of any site (`known`)."""
        known_cities = {compact_key(k): k for k in known}
        found_city = None
        if city:
            match = self._cities.get(compact_key(city))
            found_city = match.name if match else known_cities.get(compact_key(city))
            if found_city is None:
                names = [c.name for c in self.places.cities] + list(known_cities.values())
                raise NotFoundError(
                    f"no city '{city}' in rules/places.yaml or in any site"
                    f"{did_you_mean(city, names)}; `cartmatch sites` lists the cities of every site"
                )
        found_province = None
        if province:
            found_province = self._provinces.get(compact_key(province))
            if found_province is None:
                names = [p.name for p in self.places.provinces]
                raise NotFoundError(
                    f"no province '{province}' in rules/places.yaml{did_you_mean(province, names)}"
                )
        return Place(found_city, found_province)

    def site_at(self, site: Site, place: Place) -> bool:
        if place.city and compact_key(self.city_of(site) or "") != compact_key(place.city):
            return False
        return not place.province or self.province_of(site) == place.province

    def sites_at(self, entry: Entry, place: Place) -> list[Site]:
        return [s for s in entry.sites if self.site_at(s, place)]


def at_place(entries: Iterable[Entry], index: PlaceIndex, place: Place) -> set[str]:
    """Ids of the entries with at least one site in the place (the filter of `--city`)."""
    return {e.id for e in entries if index.sites_at(e, place)}


def site_cities(entries: Iterable[Entry], index: PlaceIndex) -> list[str]:
    """Every city a site is in, sorted."""
    return sorted({c for e in entries for s in e.sites if (c := index.city_of(s))})


def site_record(site: Site, index: PlaceIndex) -> dict[str, object]:
    """One site as JSON-able data: its own facts, completed from the gazetteer hospital."""
    hospital = index.hospital(site)
    contacts = [c.model_dump(mode="json", exclude_none=True) for c in site.contacts]
    if hospital:
        contacts += [
            {**c.model_dump(mode="json", exclude_none=True), "from": "rules/places.yaml"}
            for c in hospital.contacts
        ]
    service = site.international_service
    if service is None and hospital:
        service = hospital.international_service
    data = site.model_dump(mode="json", exclude_none=True, exclude={"contacts"})
    return {
        **data,
        "name_zh": site.name_zh or (hospital.zh if hospital else None),
        "short_names": index.site_names(site)[1:],
        "city": index.city_of(site),
        "province": index.province_of(site),
        "international_service": service,
        "contacts": contacts,
    }


def sites_listing(
    entries: Iterable[Entry], index: PlaceIndex, place: Place | None = None
) -> list[dict[str, object]]:
    """Every site (one hospital once) with the programmes that list it, by city then name."""
    by_site: dict[tuple[str, str], dict[str, object]] = {}
    programmes: dict[tuple[str, str], list[dict[str, object]]] = {}
    for entry in entries:
        for site in entry.sites:
            if place and not index.site_at(site, place):
                continue
            hospital = index.hospital(site)
            key = (index.city_of(site) or "", compact_key(hospital.name if hospital else site.name))
            record = site_record(site, index)
            by_site.setdefault(key, record)
            programmes.setdefault(key, []).append(
                {
                    "entry_id": entry.id,
                    "track": entry.track,
                    "entry_status": entry.status.value,
                    **{k: record[k] for k in ("role", "status", "status_as_of") if k in record},
                    "sources": site.sources,
                    "confidence": site.confidence,
                    **({"note": site.note} if site.note else {}),
                }
            )
    return [{**by_site[k], "programmes": programmes[k]} for k in sorted(by_site)]


__all__ = ["Place", "PlaceIndex", "at_place", "site_cities", "site_record", "sites_listing"]
