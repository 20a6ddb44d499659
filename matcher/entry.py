"""Catalog entries (DESIGN section 3): one product or trial, its facts, sources and cohorts.

Every fact that can be wrong carries source ids (resolved in the entry's own `sources` table),
a `confidence`, and is covered by the entry's `last_verified` date unless it has its own.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from matcher.base import Frozen
from matcher.criteria import Criterion

Track = Literal["nmpa_commercial", "nda_filed", "registrational_trial", "iit"]
Confidence = Literal["high", "medium", "low"]
CellSource = Literal["autologous", "allogeneic", "in_vivo", "unknown"]
EntryStatus = Literal[
    "approved",
    "filed",
    "approved_unverified",
    "recruiting",
    "not_yet_recruiting",
    "active_not_recruiting",
    "enrolling_by_invitation",
    "completed",
    "suspended",
    "terminated",
    "withdrawn",
    "closed",
    "unknown",
]
#: Statuses under which a patient can be treated or enrolled now.
OPEN_STATUSES = frozenset(
    {"approved", "approved_unverified", "recruiting", "enrolling_by_invitation"}
)
#: Statuses under which no new patient can be enrolled; left out unless asked for.
CLOSED_STATUSES = frozenset(
    {"active_not_recruiting", "completed", "suspended", "terminated", "withdrawn", "closed"}
)


class Source(Frozen):
    """Where a fact comes from."""

    title: str
    url: str | None = None
    """Address of the source; None when only an excerpt without address was seen."""
    date: str | None = None
    """Publication date as precise as known (2026-06-22, 2026-06, 2026)."""


class Sourced(Frozen):
    """Common fields of a fact: which sources say it and how sure we are."""

    sources: list[str] = Field(default_factory=list)
    """Ids into the entry's `sources` table."""
    confidence: Confidence = "high"
    note: str | None = None
    last_verified: date | None = None
    """When this fact was last checked; defaults to the entry's last_verified."""


class TextFact(Sourced):
    value: str


class StatusFact(Sourced):
    value: EntryStatus


class DateFact(Sourced):
    value: str
    """ISO date, or a partial one (2023-07) when only the month is known."""


class Price(Sourced):
    """List price of the product. `amount_cny: null` means unknown, and the output says so."""

    amount_cny: float | None = Field(default=None, gt=0)
    unit: Literal["per_infusion", "per_course", "unknown"] = "per_infusion"
    """Whether the price buys one infusion or the course; `unknown` repeats nothing."""
    as_of: str | None = None
    """Date of the price as precise as known."""
    band_cny: tuple[float, float] | None = None
    """When the exact price is unknown: the sourced band it lies in (low, high)."""


class Insurance(Sourced):
    """Payer context, shown alongside the cost, never subtracted from it."""

    commercial_innovative_list: bool | None = None
    """On the Commercial Health Insurance Innovative Drug List (effective 2026-01-01)."""
    text: str | None = None


class Evidence(Sourced):
    """A key efficacy or safety figure as its source states it."""

    text: str


class TrialId(Frozen):
    id: str
    """NCT, CTR or ChiCTR number."""
    registry: Literal["nct", "ctr", "chictr", "other"]
    note: str | None = None


class Site(Sourced):
    name: str
    city: str | None = None
    status: EntryStatus | None = None


class Names(Frozen):
    inn: str | None = None
    """International non-proprietary name (axicabtagene ciloleucel)."""
    chinese: list[str] = Field(default_factory=list)
    """Chinese generic and brand names."""
    brands: list[str] = Field(default_factory=list)
    """Brand names in Latin script (Yescarta, Carteyva)."""
    codes: list[str] = Field(default_factory=list)
    """Development codes (FKC876, CT041)."""
    aliases: list[str] = Field(default_factory=list)


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
