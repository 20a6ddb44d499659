"""The criteria language: typed leaves and `all` / `any` / `not`, evaluated three-valued.

Criteria are data in catalog entries (YAML). Each node is recognised by the one key that
names its kind (`indication:`, `antigen:`, `all:` ...), validated when the file is loaded,
and evaluated to a `Verdict` that explains itself. No I/O, no global state.
"""

from __future__ import annotations

from matcher.criteria.disease import (
    WEAK_STAINING_PERCENT,
    AntigenCriterion,
    AntigenRequirement,
    IndicationCriterion,
)
from matcher.criteria.logic import AllOf, AnyOf, NotOf, SafetyCriterion, TemplateRef
from matcher.criteria.node import Context, Node, Range, union
from matcher.criteria.person import (
    FLAG_ASK,
    FLAG_RECOVERABLE,
    FLAG_WORDS,
    AgeCriterion,
    EcogCriterion,
    Flag,
    FlagCriterion,
    FlagRequirement,
    LabCriterion,
    LabRequirement,
    ManualCriterion,
    SexCriterion,
    lab_number,
)
from matcher.criteria.registry import KINDS, LEAVES, Criterion, criterion_kind, walk
from matcher.criteria.treatment import (
    DiseaseStatusCriterion,
    PriorLinesCriterion,
    PriorTherapyCriterion,
    PriorTherapyRequirement,
)

__all__ = [
    "FLAG_ASK",
    "FLAG_RECOVERABLE",
    "FLAG_WORDS",
    "KINDS",
    "LEAVES",
    "WEAK_STAINING_PERCENT",
    "AgeCriterion",
    "AllOf",
    "AntigenCriterion",
    "AntigenRequirement",
    "AnyOf",
    "Context",
    "Criterion",
    "DiseaseStatusCriterion",
    "EcogCriterion",
    "Flag",
    "FlagCriterion",
    "FlagRequirement",
    "IndicationCriterion",
    "LabCriterion",
    "LabRequirement",
    "ManualCriterion",
    "Node",
    "NotOf",
    "PriorLinesCriterion",
    "PriorTherapyCriterion",
    "PriorTherapyRequirement",
    "Range",
    "SafetyCriterion",
    "SexCriterion",
    "TemplateRef",
    "criterion_kind",
    "lab_number",
    "union",
    "walk",
]
