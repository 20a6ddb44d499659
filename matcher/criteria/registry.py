"""Every criterion kind in one place: the kinds, the `Criterion` union, and the tree walker.

A kind is a `Node` subclass whose `kind` field is a one-value Literal; that value is also the
key that names it in YAML (`ecog: {max: 2}`). The list below is the only list of kinds:
`KINDS`, the discriminated union the catalog is validated against, and the error message
for a criterion with no kind key all come from it. A leaf declares the patient inputs it reads
(`Node.reads`), which is all bulk screening needs to evaluate it over columns; a composite
declares its children (`Node.children`) and one pure `combine` step.

Adding a leaf kind: write its class (a module under criteria/), add it to `LEAVES`, and test it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any, Union

from pydantic import Discriminator, Tag

from matcher.criteria.disease import (
    AntigenCriterion,
    IndicationCriterion,
    SettingCriterion,
    StageCriterion,
)
from matcher.criteria.logic import AllOf, AnyOf, NotOf, SafetyCriterion, TemplateRef
from matcher.criteria.node import Node
from matcher.criteria.person import (
    AgeCriterion,
    EcogCriterion,
    FlagCriterion,
    LabCriterion,
    ManualCriterion,
    SexCriterion,
)
from matcher.criteria.target import PriorTargetCriterion, TargetCriterion
from matcher.criteria.treatment import (
    DiseaseStatusCriterion,
    PriorLinesCriterion,
    PriorTherapyCriterion,
)

COMPOSITES: tuple[type[Node], ...] = (AllOf, AnyOf, NotOf, SafetyCriterion)
"""Kinds that hold other criteria and combine their verdicts."""
LEAVES: tuple[type[Node], ...] = (
    IndicationCriterion,
    AntigenCriterion,
    PriorLinesCriterion,
    PriorTherapyCriterion,
    DiseaseStatusCriterion,
    AgeCriterion,
    EcogCriterion,
    FlagCriterion,
    LabCriterion,
    SexCriterion,
    ManualCriterion,
    TargetCriterion,
    PriorTargetCriterion,
    SettingCriterion,
    StageCriterion,
)
"""Kinds that read patient inputs (`Node.reads`) and evaluate them."""
CLASSES: tuple[type[Node], ...] = (
    AllOf,
    AnyOf,
    NotOf,
    TemplateRef,
    *LEAVES[:13],
    SafetyCriterion,
    *LEAVES[13:],
)
"""Every kind, in the order error messages list them."""


def kind_of(cls: type[Node]) -> str:
    """The key that names a kind: its `kind` field's one value."""
    return str(cls.model_fields["kind"].default)


KINDS: tuple[str, ...] = tuple(kind_of(cls) for cls in CLASSES)


def criterion_kind(value: Any) -> str | None:
    """The kind of a raw or parsed criterion: the one kind key it carries."""
    if isinstance(value, Node):
        return value.kind
    if isinstance(value, dict):
        found = [k for k in KINDS if k in value]
        return found[0] if len(found) == 1 else None
    return None


Criterion = Annotated[
    Union[tuple(Annotated[cls, Tag(kind_of(cls))] for cls in CLASSES)],  # noqa: UP007
    Discriminator(
        criterion_kind,
        custom_error_type="criterion_kind",
        custom_error_message="a criterion needs exactly one of the keys " + ", ".join(KINDS),
    ),
]

for _composite in COMPOSITES:
    _composite.model_rebuild(_types_namespace={"Criterion": Criterion})


def walk(node: Node) -> Iterator[tuple[Node, str]]:
    """Every criterion in a tree, parents before children, each with its key path below the
    root as a catalog file writes it (`all.1.not`), empty for the root."""
    stack: list[tuple[Node, str]] = [(node, "")]
    while stack:
        current, path = stack.pop()
        yield current, path
        children = current.children()
        keyed = current.kind in ("all", "any")
        for i, child in reversed(list(enumerate(children))):
            key = f"{current.kind}.{i}" if keyed else current.kind
            stack.append((child, f"{path}.{key}" if path else key))


def raw_children(node: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The children of a raw (YAML) criterion, each with the key path it sits under."""
    out: list[tuple[str, dict[str, Any]]] = []
    for key in ("all", "any"):
        items = node.get(key)
        if isinstance(items, list):
            out += [(f"{key}.{i}", c) for i, c in enumerate(items) if isinstance(c, dict)]
    for key in ("not", "safety"):
        if isinstance(node.get(key), dict):
            out.append((key, node[key]))
    return out


def map_raw_children(
    node: dict[str, Any], change: Callable[[dict[str, Any], str], Any]
) -> dict[str, Any]:
    """A copy of a raw criterion with each child replaced by `change(child, key path)`."""
    out = dict(node)
    for key in ("all", "any"):
        if isinstance(out.get(key), list):
            out[key] = [
                change(c, f"{key}.{i}") if isinstance(c, dict) else c
                for i, c in enumerate(out[key])
            ]
    for key in ("not", "safety"):
        if isinstance(out.get(key), dict):
            out[key] = change(out[key], key)
    return out


__all__ = [
    "CLASSES",
    "COMPOSITES",
    "KINDS",
    "LEAVES",
    "Criterion",
    "criterion_kind",
    "kind_of",
    "map_raw_children",
    "raw_children",
    "walk",
]
