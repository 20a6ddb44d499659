"""Fuzzy look-up over the catalog: names, targets, diseases, sponsors, trial ids (EN and ZH)."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

from matcher.core.catalog import Catalog
from matcher.core.entry import Entry
from matcher.core.places import site_cities
from matcher.errors import NotFoundError
from matcher.model.vocabulary import compact_key

#: WRatio score above which a misspelt product name counts as a hit.
NAME_FUZZY_CUTOFF = 80
#: Shortest query compared by containment (shorter ones must match a name exactly).
MIN_CONTAINS_LENGTH = 3


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float
    why: str


def lookup(query: str, catalog: Catalog, limit: int = 20) -> list[Hit]:
    """Entries matching a free-text query, best first; each says why it matched."""
    best: dict[str, Hit] = {}
    for hit in _candidates(query, catalog):
        current = best.get(hit.entry.id)
        if current is None or hit.score > current.score:
            best[hit.entry.id] = hit
    return sorted(best.values(), key=lambda h: (-h.score, h.entry.id))[:limit]


def _candidates(query: str, catalog: Catalog) -> list[Hit]:
    key = compact_key(query)
    if not key:
        return []
    hits = _by_trial_id(key, catalog) + _by_name(key, catalog)
    hits += _by_antigen(query, catalog) + _by_disease(query, catalog)
    hits += _by_sponsor(key, catalog) + _by_site(key, catalog) + _by_city(key, catalog)
    if not hits:
        hits = _by_fuzzy_name(query, catalog)
    return hits


def _by_trial_id(key: str, catalog: Catalog) -> list[Hit]:
    return [
        Hit(entry, 100, f"trial id {trial.id}")
        for entry in catalog.entries
        for trial in entry.trial_ids
        if compact_key(trial.id) == key
    ]


def _by_name(key: str, catalog: Catalog) -> list[Hit]:
    hits = []
    for entry in catalog.entries:
        for name in entry.all_names():
            name_key = compact_key(name)
            if name_key == key:
                hits.append(Hit(entry, 98, f"name {name}"))
            elif len(key) >= MIN_CONTAINS_LENGTH and key in name_key:
                hits.append(Hit(entry, 92, f"name {name}"))
    return hits


def _by_antigen(query: str, catalog: Catalog) -> list[Hit]:
    antigen = catalog.lexicon.antigen(query)
    if antigen is None:
        return []
    return [Hit(e, 90, f"targets {antigen}") for e in catalog.entries if antigen in e.targets]


def _by_disease(query: str, catalog: Catalog) -> list[Hit]:
    lexicon = catalog.lexicon
    found = lexicon.resolve_diagnosis(query)
    if found is None or found.code is None:
        return []
    hits = []
    for entry in catalog.entries:
        for indication in entry.indications:
            related = [
                code
                for code in indication.diseases
                if lexicon.is_within(found.code, code) or lexicon.is_within(code, found.code)
            ]
            if related:
                name = lexicon.disease_name(related[0])
                hits.append(Hit(entry, 85, f"treats {name} ({indication.id})"))
    return hits


def _by_sponsor(key: str, catalog: Catalog) -> list[Hit]:
    if len(key) < MIN_CONTAINS_LENGTH:
        return []
    return [
        Hit(e, 80, f"sponsor {e.sponsor.value}")
        for e in catalog.entries
        if key in compact_key(e.sponsor.value)
    ]


def _by_site(key: str, catalog: Catalog) -> list[Hit]:
    """Entries with a site whose name (or its hospital's: Chinese, short forms) matches."""
    hits = []
    index = catalog.places
    for entry in catalog.entries:
        for site in entry.sites:
            keys = [compact_key(n) for n in index.site_names(site)]
            where = f"site {site.name}" + (f", {site.city}" if site.city else "")
            if key in keys:
                hits.append(Hit(entry, 97, where))
            elif len(key) >= MIN_CONTAINS_LENGTH and any(key in k for k in keys):
                hits.append(Hit(entry, 88, where))
    return hits


def _by_city(key: str, catalog: Catalog) -> list[Hit]:
    """Entries with a site in the city or province the query names (北京, Peking, Hubei)."""
    index = catalog.places
    try:
        place = index.place(key, None, site_cities(catalog.entries, index))
    except NotFoundError:
        try:
            place = index.place(None, key)
        except NotFoundError:
            return []
    return [
        Hit(e, 75, f"site in {place.label()}: {sites[0].name}")
        for e in catalog.entries
        if (sites := index.sites_at(e, place))
    ]


def places_named(query: str, catalog: Catalog) -> list[str]:
    """Gazetteer hospitals the query names, each in one line with its city, Chinese name and
    how many entries list it (so `lookup PUMCH` says so even when no programme lists it)."""
    key = compact_key(query)
    if not key:
        return []
    index = catalog.places
    out = []
    for hospital in catalog.rules.places.hospitals:
        if key not in {compact_key(n) for n in hospital.names()}:
            continue
        listed = sum(
            1 for e in catalog.entries if any(index.hospital(s) == hospital for s in e.sites)
        )
        zh = f" ({hospital.zh})" if hospital.zh else ""
        out.append(
            f"{hospital.name}{zh}, {hospital.city}: listed as a site by {listed} "
            f"entr{'y' if listed == 1 else 'ies'}"
        )
    return out


def _by_fuzzy_name(query: str, catalog: Catalog) -> list[Hit]:
    choices = {(name, entry.id): name for entry in catalog.entries for name in entry.all_names()}
    found = process.extract(
        query,
        choices,
        scorer=fuzz.WRatio,
        processor=utils.default_process,
        score_cutoff=NAME_FUZZY_CUTOFF,
        limit=10,
    )
    return [
        Hit(catalog.by_id[entry_id], score * 0.9, f"name like {name}")
        for name, score, (_, entry_id) in found
    ]
