"""The cost model as data (rules/costs.yaml): tracks, components, scenarios, payer context.

Every figure carries its sources, date and confidence; validation fails when one does not,
or when it cites a source id the model's `sources` table lacks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, get_args

from pydantic import Field, model_validator

from matcher.model.base import Frozen, did_you_mean
from matcher.model.facts import Confidence, Track

ENTRY_TRACKS: tuple[str, ...] = get_args(Track)


class CostSource(Frozen):
    """A source of cost figures: all three parts are required (a figure must be traceable)."""

    title: str
    url: str
    date: str = Field(min_length=4)


class Provenance(Frozen):
    """Where a figure comes from and how it was obtained."""

    sources: list[str] = Field(min_length=1)
    """Ids into the model's `sources` table."""
    date: str = Field(min_length=4)
    """Date of the figure (the source's date, or the as-of date of a derived figure)."""
    confidence: Confidence
    basis: str | None = None
    """How the figure was obtained; derived figures show their arithmetic here."""


class Range(Provenance):
    """A sourced low/high range."""

    low: float = Field(ge=0)
    high: float = Field(ge=0)
    currency: Literal["CNY", "USD", "share"]

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.low > self.high:
            raise ValueError(f"low {self.low:,.0f} is above high {self.high:,.0f}")
        return self


class Component(Range):
    """One priced step of the treatment pathway."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    when: Literal["always", "rapid"] = "always"
    """`rapid`: part of the estimate only when disease_tempo is rapid, else a scenario."""
    repeats_per_infusion: bool = False
    """Repeated with every extra infusion (the several-infusions scenario)."""


class DrugRule(Frozen):
    use_entry_price: bool
    """Price the drug from the entry's list price when it has one."""
    default: Component
    """The drug when the entry gives no price (or the track ignores it)."""


class CostTrack(Frozen):
    """One cost track: its drug rule, care pathway, scenario components and calibration."""

    label: str
    kind: Literal["commercial", "trial", "reference"]
    currency: Literal["CNY", "USD"]
    confidence: Confidence
    drug: DrugRule
    components: list[Component] = Field(min_length=1)
    extras: list[Component] = Field(default_factory=list)
    """Scenario-only components, never in the uncomplicated total."""
    reference_total: Range
    """The sourced total the uncomplicated estimate is calibrated against."""
    drug_share_reference: Range | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_currency(self) -> CostTrack:
        for c in [self.drug.default, *self.components, *self.extras]:
            if c.currency != self.currency:
                raise ValueError(f"component '{c.name}' is in {c.currency}, not {self.currency}")
        return self

    def component(self, name: str) -> Component | None:
        return next((c for c in [*self.components, *self.extras] if c.name == name), None)


class Scenario(Frozen):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    adds: list[str] = Field(min_length=1)
    """Component names added to the uncomplicated total."""


class InsuranceFact(Provenance):
    text: str


class HuiminbaoCap(Provenance):
    scheme: str
    cap_cny: float = Field(gt=0)
    note: str | None = None


class InsuranceContext(Frozen):
    commercial_list: InsuranceFact
    discount_claim: InsuranceFact | None = None
    basic_insurance: InsuranceFact
    huiminbao: list[HuiminbaoCap] = Field(default_factory=list)

    def facts(self) -> list[Provenance]:
        return [self.commercial_list, self.basic_insurance, *self.huiminbao,
                *filter(None, [self.discount_claim])]  # fmt: skip


class CostModel(Frozen):
    """rules/costs.yaml: tracks, scenarios, exchange rate, payer context and sources."""

    fx_cny_per_usd: float = Field(gt=0)
    fx_source: Provenance
    track_map: dict[str, str]
    """Entry track (nmpa_commercial, nda_filed, registrational_trial, iit) -> cost track."""
    reference_track: str
    tracks: dict[str, CostTrack]
    scenarios: list[Scenario]
    insurance: InsuranceContext
    sources: dict[str, CostSource] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> CostModel:
        missing = [t for t in ENTRY_TRACKS if t not in self.track_map]
        if missing:
            raise ValueError(f"track_map has no cost track for {', '.join(missing)}")
        for name in [*self.track_map.values(), self.reference_track]:
            if name not in self.tracks:
                raise ValueError(f"unknown cost track '{name}'{did_you_mean(name, self.tracks)}")
        for where, ids in self._cited():
            for source_id in ids:
                if source_id not in self.sources:
                    raise ValueError(f"{where} cites source '{source_id}', not in `sources`")
        return self

    def _cited(self) -> Iterable[tuple[str, list[str]]]:
        figures: list[Provenance] = [self.fx_source, *self.insurance.facts()]
        for track in self.tracks.values():
            figures += [track.drug.default, *track.components, *track.extras]
            figures += filter(None, [track.reference_total, track.drug_share_reference])
        for figure in figures:
            yield getattr(figure, "name", None) or type(figure).__name__, figure.sources

    def track_for(self, entry_track: str) -> tuple[str, CostTrack]:
        """The cost track an entry of this track is estimated on."""
        name = self.track_map[entry_track]
        return name, self.tracks[name]
