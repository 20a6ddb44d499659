"""The catalog as the engine sees it: entries plus the rules they are read with. No I/O."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from pydantic import Field

from matcher.core.entry import Entry, Indication
from matcher.core.places import Place, PlaceIndex, site_cities
from matcher.core.safety import SafetyLayer, cohort_criteria
from matcher.criteria.node import union
from matcher.model.base import Frozen
from matcher.model.cost_model import CostModel
from matcher.model.facts import Freshness
from matcher.model.lexicon import Lexicon
from matcher.model.places import Places
from matcher.model.ranking import RankingPolicy
from matcher.model.vocabulary import Vocabulary


class Rules(Frozen):
    """Everything in rules/: vocabularies, criteria templates, ranking policy, cost model."""

    vocabulary: Vocabulary
    templates: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Named criteria reused by entries (`- template: adult`)."""
    ranking: RankingPolicy
    costs: CostModel
    safety: SafetyLayer = Field(default_factory=SafetyLayer)
    """Default checks added to every cohort they apply to (rules/safety.yaml)."""
    places: Places = Field(default_factory=Places)
    """Cities, provinces and hospitals in English and Chinese (rules/places.yaml)."""
    freshness: Freshness = Field(default_factory=Freshness)
    """How old a fact of each kind may be before it is marked (rules/freshness.yaml)."""


class CatalogVersion(Frozen):
    """Which catalog answered: printed with every result."""

    version: str
    """Short content hash of entries and rules."""
    entries: int
    refresh_id: int | None = None
    updated_at: str | None = None
    source: str | None = None


class Catalog:
    """Entries, rules and the version they form, with lookup indexes built once."""

    def __init__(self, entries: list[Entry], rules: Rules, version: CatalogVersion) -> None:
        self.entries = sorted(entries, key=lambda e: e.id)
        self.rules = rules
        self.version = version
        self.by_id = {e.id: e for e in self.entries}
        self._criteria: dict[tuple[str, str], list[Any]] = {}
        self._reads: dict[tuple[str, str], frozenset[str]] = {}

    @cached_property
    def lexicon(self) -> Lexicon:
        return Lexicon(self.rules.vocabulary)

    @cached_property
    def places(self) -> PlaceIndex:
        """Cities, provinces and hospitals by every name (rules/places.yaml)."""
        return PlaceIndex(self.rules.places)

    def place(self, city: str | None, province: str | None = None) -> Place | None:
        """The place a --city/--province (or a form's city) names, read against the gazetteer
        and every site's city; None when neither is given; NotFoundError when unknown."""
        if not city and not province:
            return None
        return self.places.place(city, province, site_cities(self.entries, self.places))

    def criteria(self, entry: Entry, indication: Indication) -> list[Any]:
        """The criteria a cohort is matched on: its own, then the default safety checks."""
        key = (entry.id, indication.id)
        if key not in self._criteria:
            self._criteria[key] = cohort_criteria(
                entry, indication, self.rules.safety, self.lexicon.is_within
            )
        return self._criteria[key]

    def reads(self, entry: Entry, indication: Indication) -> frozenset[str]:
        """Every input a cohort's criteria read (made once per cohort)."""
        key = (entry.id, indication.id)
        if key not in self._reads:
            self._reads[key] = frozenset(union(c.reads() for c in self.criteria(entry, indication)))
        return self._reads[key]

    def entry(self, entry_id: str) -> Entry | None:
        return self.by_id.get(entry_id.strip().casefold())
