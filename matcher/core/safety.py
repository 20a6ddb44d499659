"""The default safety layer (rules/safety.yaml): checks applied to every cohort.

A label or protocol summary rarely repeats what every CAR-T label warns about (pregnancy,
active infection, performance status, CNS disease, active GVHD) or what the product's target
implies (a target-negative disease, a prior CAR-T against the same target). These checks are
added to every cohort they apply to, each with the label warning or trial exclusion behind it,
unless the cohort states its own rule over the same profile field (a trial that takes ECOG 2).
No I/O: the layer is data, loaded with the rules.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, TypeAdapter

from matcher.core.entry import Entry, Indication
from matcher.criteria import Criterion, union
from matcher.model.base import Frozen
from matcher.model.facts import Source, Track

#: Stands for the entry's own target antigens in a rule (`antigens: $targets`).
TARGETS = "$targets"


class SafetyItem(Frozen):
    """One default check."""

    id: str = Field(pattern=r"^safety-[a-z0-9-]+$")
    text: str
    """The check as a coordinator reads it."""
    why: str
    """The label warning or pivotal-trial exclusion behind it, in words."""
    sources: list[Source] = Field(min_length=1)
    rule: dict[str, Any]
    """A criterion (the catalog's criteria language); `$targets` is the entry's targets."""
    tracks: list[Track] | None = None
    """The tracks it applies to; None: every track."""
    cohort_statuses: list[str] | None = None
    """The cohort statuses it applies to (filed); with `tracks` too, either one suffices."""
    diseases: list[str] | None = None
    """It applies to cohorts treating a disease within (or above) one of these; None: all."""
    except_diseases: list[str] = Field(default_factory=list)
    """It does not apply to cohorts that name one of these diseases (a CNS-lymphoma trial)."""
    overridden_by: list[str] = Field(default_factory=list)
    """Inputs (`ecog`, `flag.pregnant`): a cohort whose own criteria read one states its own
    rule, and this check is left out for it."""
    fields: list[str] = Field(default_factory=list)
    confirm: str | None = None
    sexes: list[str] | None = None
    soft: bool = False
    recoverable: bool | None = None


class SafetyLayer(Frozen):
    items: list[SafetyItem] = Field(default_factory=list)


_CRITERION: TypeAdapter[Any] = TypeAdapter(Criterion)


def cohort_criteria(
    entry: Entry, indication: Indication, layer: SafetyLayer, is_within: Any
) -> list[Any]:
    """The cohort's own criteria, then every default check that applies to it.

    `is_within(code, ancestor)`: the disease hierarchy (Lexicon.is_within)."""
    own = list(indication.criteria)
    read = set(union(c.reads() for c in own))
    checks = [
        _criterion(item, entry)
        for item in layer.items
        if _applies(item, entry, indication, is_within) and not read & set(item.overridden_by)
    ]
    return own + checks


def _applies(item: SafetyItem, entry: Entry, indication: Indication, is_within: Any) -> bool:
    by_track = item.tracks is not None and entry.track in item.tracks
    by_status = item.cohort_statuses is not None and indication.status.value in item.cohort_statuses
    if (item.tracks, item.cohort_statuses) != (None, None) and not (by_track or by_status):
        return False
    codes = indication.diseases
    if any(is_within(c, x) for c in codes for x in item.except_diseases):
        return False
    if item.diseases is None:
        return True
    return any(is_within(c, d) or is_within(d, c) for c in codes for d in item.diseases)


def _criterion(item: SafetyItem, entry: Entry) -> Any:
    raw: dict[str, Any] = {
        "id": item.id,
        "text": item.text,
        "safety": _substitute(item.rule, entry.targets),
        "fields": item.fields,
        "confirm": item.confirm,
        "sexes": item.sexes,
        "source": item.why,
        "soft": item.soft,
        "recoverable": item.recoverable,
    }
    return _CRITERION.validate_python(raw)


def _substitute(node: Any, targets: list[str]) -> Any:
    if node == TARGETS:
        return list(targets)
    if isinstance(node, dict):
        return {key: _substitute(value, targets) for key, value in node.items()}
    if isinstance(node, list):
        return [_substitute(value, targets) for value in node]
    return node
