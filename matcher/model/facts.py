"""The facts of a catalog entry (DESIGN section 3): sourced values, statuses, tracks, sites.
The entry and its cohorts, which hold criteria trees, are `core.entry`.

Every fact that can be wrong carries source ids (resolved in the entry's own `sources` table),
a `confidence`, and is covered by the entry's `last_verified` date unless it has its own.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from matcher.model.base import Frozen

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
    note: str | None = None
    """What the date means when it is not the page's own (the date it was read)."""


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


class Contact(Sourced):
    """A public way to reach a site or a trial: a switchboard, an international office, a
    trial contact, an e-mail address or a web page, each as its source gives it; or a person
    a registry names without a number or address of their own (`person`: a principal
    investigator)."""

    kind: Literal["switchboard", "international_office", "trial_contact", "email", "web", "person"]
    value: str
    """The number, address or page, as published (for `person`, the name)."""
    label: str | None = None
    """Whose it is (a department, a named trial contact and their role)."""


class TrialId(Frozen):
    id: str
    """NCT, CTR or ChiCTR number."""
    registry: Literal["nct", "ctr", "chictr", "other"]
    note: str | None = None
    url: str | None = None
    """The registry record."""
    overall_status: str | None = None
    """The registry's overall status, in its own words (RECRUITING)."""
    last_update: str | None = None
    """Date of the record's last update on the registry."""
    verified: str | None = None
    """The month or date the sponsor last verified the record (statusVerifiedDate)."""
    contacts: list[Contact] = Field(default_factory=list)
    """Central contacts of the trial."""


SiteRole = Literal["commercial", "trial_site", "lead_site"]


class Site(Sourced):
    """A hospital that gives the product commercially or runs the trial, as a source names it.

    Unknown stays unknown: `international_service: null` means no source read says either way.
    """

    name: str
    """The hospital's English name as its source spells it."""
    name_zh: str | None = None
    """Chinese name, only when a source gives it."""
    short_names: list[str] = Field(default_factory=list)
    """Common short forms in English and Chinese (Ruijin, 瑞金, PUMCH, 协和)."""
    city: str | None = None
    province: str | None = None
    """Province or municipality (Beijing, Guangdong)."""
    country: str | None = None
    """Country as the registry gives it (imported sites; all are in mainland China)."""
    department: str | None = None
    international_service: bool | None = None
    """Whether the hospital runs an international patient service; null when unknown."""
    contacts: list[Contact] = Field(default_factory=list)
    status: EntryStatus | None = None
    """This site's own recruiting status (trials)."""
    status_as_of: str | None = None
    """The date the site's status was read, as precise as known."""
    role: SiteRole | None = None
    """commercial (announced it gives the approved product), trial_site or lead_site."""

    def names(self) -> list[str]:
        """Every name the site is known by."""
        return [self.name, *([self.name_zh] if self.name_zh else []), *self.short_names]


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


FactKind = Literal["price", "status", "site", "insurance"]


class Freshness(Frozen):
    """How old a fact of each kind may be before it is shown as old (rules/freshness.yaml)."""

    limits_days: dict[FactKind, int] = Field(
        default_factory=lambda: {"price": 182, "status": 182, "site": 365, "insurance": 365}
    )
