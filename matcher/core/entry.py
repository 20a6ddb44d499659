"""Catalog entries (DESIGN section 3): one product or trial, its facts, sources and cohorts.

Every fact that can be wrong carries source ids (resolved in the entry's own `sources` table),
a `confidence`, and is covered by the entry's `last_verified` date unless it has its own.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from matcher.criteria import Criterion
from matcher.model.base import Frozen
from matcher.model.facts import (
    CellSource,
    DateFact,
    Evidence,
    Insurance,
    Names,
    Price,
    Site,
    Source,
    Sourced,
    StatusFact,
    TextFact,
    Track,
    TrialId,
)


class Indication(Frozen):
    """One cohort: a disease, the criteria that define who qualifies, its status and evidence."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    diseases: list[str] = Field(min_length=1)
    """Disease codes this cohort treats (for look-up and screening)."""
    status: StatusFact
    approval_date: DateFact | None = None
    label: TextFact | None = None
    """The label or protocol eligibility summary, quoted from its source."""
    criteria: list[Criterion] = Field(min_length=1)
    """Top-level criteria; all must be met (each explained on its own line)."""
    evidence: list[Evidence] = Field(default_factory=list)
    needs_review: list[str] = Field(default_factory=list)
    """What a curator still has to check; every match on this cohort says so."""
    max_infusions: int = Field(default=1, ge=1)
    """Infusions the label or protocol allows (drives the several-infusions cost scenario)."""
    bridging_required: bool = False
    """The regimen gives every patient bridging therapy (satri-cel: one irinotecan cycle), so
    the cost estimate includes it whatever the disease tempo."""


class Entry(Frozen):
    """A product or trial in the catalog (`catalog/entries/<id>.yaml`)."""

    schema_: str | None = Field(default=None, alias="$schema")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    """Lower-case slug of the short international name (axi-cel, satri-cel)."""
    name: str
    """Display name."""
    names: Names = Field(default_factory=Names)
    sponsor: TextFact
    targets: list[str] = Field(min_length=1)
    """Target antigens, canonical names."""
    cell_source: CellSource
    track: Track
    status: StatusFact
    trial_ids: list[TrialId] = Field(default_factory=list)
    sites: list[Site] = Field(default_factory=list)
    price: Price | None = None
    insurance: Insurance | None = None
    manufacturing: TextFact | None = None
    """Manufacturing or vein-to-vein time."""
    evidence: list[Evidence] = Field(default_factory=list)
    indications: list[Indication] = Field(min_length=1)
    needs_review: list[str] = Field(default_factory=list)
    sources: dict[str, Source] = Field(min_length=1)
    """Source table: id -> title, address, date. Facts refer to these ids."""
    last_verified: date

    model_config = Frozen.model_config | {"populate_by_name": True}

    @model_validator(mode="after")
    def _references(self) -> Entry:
        for where, ids in self._source_refs():
            for source_id in ids:
                if source_id not in self.sources:
                    raise ValueError(f"{where} cites source '{source_id}', not in `sources`")
        seen = set()
        for indication in self.indications:
            if indication.id in seen:
                raise ValueError(f"indication id '{indication.id}' is used twice")
            seen.add(indication.id)
        return self

    def _source_refs(self) -> list[tuple[str, list[str]]]:
        refs: list[tuple[str, list[str]]] = []
        facts: list[tuple[str, Sourced | None]] = [
            ("sponsor", self.sponsor),
            ("status", self.status),
            ("price", self.price),
            ("insurance", self.insurance),
            ("manufacturing", self.manufacturing),
        ]
        facts += [(f"evidence.{i}", e) for i, e in enumerate(self.evidence)]
        facts += [(f"sites.{i}", s) for i, s in enumerate(self.sites)]
        facts += [
            (f"sites.{i}.contacts.{j}", c)
            for i, s in enumerate(self.sites)
            for j, c in enumerate(s.contacts)
        ]
        facts += [
            (f"trial_ids.{i}.contacts.{j}", c)
            for i, t in enumerate(self.trial_ids)
            for j, c in enumerate(t.contacts)
        ]
        for n, ind in enumerate(self.indications):
            facts += [
                (f"indications.{n}.status", ind.status),
                (f"indications.{n}.approval_date", ind.approval_date),
                (f"indications.{n}.label", ind.label),
            ]
            facts += [(f"indications.{n}.evidence.{i}", e) for i, e in enumerate(ind.evidence)]
        for where, fact in facts:
            if fact is not None:
                refs.append((where, fact.sources))
        return refs

    def indication(self, indication_id: str) -> Indication | None:
        return next((i for i in self.indications if i.id == indication_id), None)

    def all_names(self) -> list[str]:
        n = self.names
        out = [self.id, self.name, *n.chinese, *n.brands, *n.codes, *n.aliases]
        if n.inn:
            out.append(n.inn)
        return out
