"""The disease hierarchy built from its tiers: curated diseases, OncoTree, ICD-10 and extras.

`rules/vocab/diseases.yaml` is the curated tier: the codes catalog criteria name. OncoTree
(`oncotree.yaml`, generated) adds every tumour type, ICD-10-CM (`icd10.yaml`, generated) every
neoplasm code and the autoimmune categories, and `diseases_extra.yaml` (reviewed by hand) adds
Chinese names, abbreviations, ICD-10 links and parent corrections to any of them.

Codes: a curated disease keeps its code; an OncoTree node that a curated disease lists (its
`oncotree` field) IS that disease, and its subtypes hang below it; any other OncoTree node is
`oncotree:<code>` (`oncotree:hgsoc`) and an ICD-10 code that no disease lists, itself or through
a broader code, is `icd10:<code>` (`icd10:c56`). A curated disease keeps its curated parent, so
OncoTree's tree never puts one curated disease inside another. No I/O here.
"""

from __future__ import annotations

from pydantic import Field

from matcher.model.base import Frozen
from matcher.model.vocabulary import Disease

#: Where an OncoTree tissue (level 1) hangs unless diseases_extra.yaml says otherwise.
ONCOTREE_TISSUE_PARENT = "solid_tumour"
ONCOTREE_PREFIX = "oncotree:"
ICD10_PREFIX = "icd10:"


class OncotreeNode(Frozen):
    """One line of rules/vocab/oncotree.yaml."""

    code: str
    name: str
    parent: str | None
    level: int
    main_type: str | None = None
    tissue: str | None = None
    umls: list[str] = Field(default_factory=list)
    nci: list[str] = Field(default_factory=list)


class OncotreeFile(Frozen):
    version: str
    nodes: list[OncotreeNode]


class Icd10Code(Frozen):
    """One line of rules/vocab/icd10.yaml."""

    code: str
    name: str
    parent: str | None


class Icd10File(Frozen):
    codes: list[Icd10Code]


class DiseaseExtra(Frozen):
    """Additions to one disease of any tier, reviewed by hand (rules/vocab/diseases_extra.yaml)."""

    of: str
    """The disease's code: curated (`hcc`), `oncotree:<code>` or `icd10:<code>`."""
    name: str | None = None
    """A clearer English display name than the source's."""
    name_zh: str | None = None
    synonyms: list[str] = Field(default_factory=list)
    exact_names: list[str] = Field(default_factory=list)
    """Names read only as the whole diagnosis (ambiguous abbreviations such as "MS")."""
    icd10: list[str] = Field(default_factory=list)
    """ICD-10 codes that mean this disease (with the codes under them)."""
    parent: str | None = None
    """A corrected parent: where OncoTree's own would put it inside the wrong disease."""
    match_name: bool | None = None
    """False when the source's name is too generic to read in free text ("IgG", "Other")."""


def oncotree_code(code: str) -> str:
    return ONCOTREE_PREFIX + code.lower()


def icd10_code(code: str) -> str:
    return ICD10_PREFIX + code.lower()


def build_diseases(
    curated: list[Disease],
    oncotree: OncotreeFile,
    icd10: Icd10File,
    extras: list[DiseaseExtra],
) -> list[Disease]:
    """Every disease of every tier, curated first; raises ValueError on a bad reference."""
    nodes: dict[str, dict] = {d.code: d.model_dump() for d in curated}
    onto = {oc: d.code for d in curated for oc in d.oncotree}
    for node in oncotree.nodes:  # parents come before their children
        if node.level == 0:
            continue
        if node.code in onto:  # OncoTree's name for a curated disease is one of its names
            same = nodes[onto[node.code]]
            same["synonyms"] = [*same["synonyms"], _oncotree_name(node)]
            continue
        onto[node.code] = code = oncotree_code(node.code)
        nodes[code] = {
            "code": code,
            "name": _oncotree_name(node),
            "parent": onto.get(node.parent or "", ONCOTREE_TISSUE_PARENT),
            "oncotree": [node.code],
        }
    listed = {c: d.code for d in curated for c in d.icd10}
    for extra in extras:
        for c in extra.icd10:
            listed.setdefault(c, extra.of)
    _add_icd10(nodes, icd10, listed)
    for extra in extras:
        if extra.of not in nodes:
            raise ValueError(f"extra for unknown disease '{extra.of}'")
        _apply(nodes[extra.of], extra)
    for code, node in nodes.items():
        parent = node.get("parent")
        if parent and parent not in nodes:
            raise ValueError(f"disease '{code}' has unknown parent '{parent}'")
        if node.get("match_name", True):
            _derive_synonyms(node)
    return [Disease.model_validate(node) for node in nodes.values()]


def _oncotree_name(node: OncotreeNode) -> str:
    """A tissue (level 1) is named by its kind of cancer: "Liver Cancer", not "Liver"."""
    return node.main_type if node.level == 1 and node.main_type else node.name


def _add_icd10(nodes: dict[str, dict], icd10: Icd10File, listed: dict[str, str]) -> None:
    """A node for each ICD-10 code that no disease lists, itself or through a broader code."""
    names = {c.code: c.name for c in icd10.codes}
    for c in icd10.codes:
        if c.code in listed and listed[c.code] in nodes:
            nodes[listed[c.code]].setdefault("synonyms", []).append(c.name)
    generic: dict[str, str] = {}
    covered: set[str] = set(listed)
    for c in icd10.codes:  # parents come before their children
        if c.code in covered or (c.parent and c.parent in covered):
            covered.add(c.code)
            continue
        generic[c.code] = code = icd10_code(c.code)
        nodes[code] = {
            "code": code,
            "name": names[c.code],
            "parent": generic.get(c.parent or ""),
            "icd10": [c.code],
        }


def _apply(node: dict, extra: DiseaseExtra) -> None:
    """Add an extra's names and links; a new display name replaces a generic one."""
    synonyms = node.setdefault("synonyms", [])
    if extra.name:
        if extra.match_name is not False:
            synonyms.append(node["name"])
        node["name"] = extra.name
    elif extra.match_name is False:
        node["match_name"] = False
    synonyms += extra.synonyms
    node.setdefault("exact_names", []).extend(extra.exact_names)
    codes = node.setdefault("icd10", [])
    codes += [c for c in extra.icd10 if c not in codes]
    if extra.name_zh:
        node["name_zh"] = extra.name_zh
    if extra.parent:
        node["parent"] = extra.parent


def _derive_synonyms(node: dict) -> None:
    """OncoTree's ", NOS" names are also read without it ("Glioma, NOS" as "glioma")."""
    name = node["name"]
    if name.endswith(", NOS"):
        node["synonyms"] = [*node.get("synonyms", []), name.removesuffix(", NOS")]
