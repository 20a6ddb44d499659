"""Is a registry study a CAR-T study, and what does its CAR target?

A CAR-T study names a chimeric antigen receptor on T cells in its title or its interventions
("CAR-T", "CAR T", "CART19", "chimeric antigen receptor T cells", "T cells transduced with a
chimeric antigen receptor"). Not CAR-T, each with its own reason: TCR-T (T-cell receptor)
studies, CAR-NK and other CAR cells that are not T cells, a statistical "CART" (classification
and regression tree), observational studies, and studies whose primary purpose is supportive
care or prevention (they are about patients receiving CAR-T, not about a CAR-T product).
Reference lists and summaries are not read: they cite CAR-T papers in TCR-T studies.
"""

from __future__ import annotations

import re
from typing import Any

from matcher.curation.importers import dig, mapping, records, texts
from matcher.model.lexicon import Lexicon

NOT_TREATMENT = {
    "SUPPORTIVE_CARE",
    "PREVENTION",
    "DIAGNOSTIC",
    "SCREENING",
    "HEALTH_SERVICES_RESEARCH",
}
_CELL_TYPES = {"BIOLOGICAL", "GENETIC", "COMBINATION_PRODUCT"}

_CAR_T = [
    re.compile(r"\bCAR[\s\-]T\b", re.I),  # CAR-T, CAR T (bare "CART" below)
    re.compile(r"\bCAR[\s\-]?(?:modified|engineered|redirected|transduced)[\s\-]+T\b", re.I),
    re.compile(
        r"chimeric[\s\-]+antigen[\s\-]+receptor[\s\-]*(?:\(CAR\)[\s\-]*)?"
        r"(?:(?:modified|engineered|redirected|transduced|expressing)[\s\-]+)?T\b",
        re.I,
    ),
    re.compile(
        r"\bT[\s\-]?cells?\b(?:[\s\-]+[\w\-/]+){0,6}?[\s\-]+(?:with|expressing|bearing|"
        r"transduced with|engineered with|redirected with)[\s\-]+(?:an?[\s\-]+)?"
        r"(?:[\w\-/]+[\s\-]+){0,3}chimeric[\s\-]+antigen[\s\-]+receptor",
        re.I,
    ),
    re.compile(
        r"\bCART(?:[\s\-]?(?:cells?|therapy)\b|[\s\-]?\d|[\s\-]?(?:BCMA|CD\d|GPC3|CLDN|"
        r"HER2|EGFR|MUC|NKG2D|CEA|PSMA|Meso))"
    ),  # case-sensitive: CART19, CART-BCMA
]
_CAR_OTHER = re.compile(
    r"\bCAR[\s\-]?(?:NK|NKT|iNKT|M|MAC)\b|chimeric[\s\-]+antigen[\s\-]+receptor|"
    r"\bCAR\b[\s\-]+(?:natural killer|NK|macrophage)",
    re.I,
)
_TCR = re.compile(r"\bTCR[\s\-]?T\b|T[\s\-]cell[\s\-]receptor|\bm?TCR\b", re.I)
_STAT_CART = re.compile(r"classification and regression tree|\bCART\b", re.I)


def _interventions(record: dict[str, Any]) -> list[dict[str, Any]]:
    return records(dig(record, "protocolSection", "armsInterventionsModule", "interventions"))


def titles(record: dict[str, Any]) -> list[str]:
    ident = mapping(dig(record, "protocolSection", "identificationModule"))
    return [t for k in ("briefTitle", "officialTitle", "acronym") for t in texts(ident.get(k))]


def names_of(intervention: dict[str, Any]) -> list[str]:
    return [*texts(intervention.get("name")), *texts(intervention.get("otherNames"))]


def _mentions_car_t(texts: list[str]) -> bool:
    return any(p.search(t) for p in _CAR_T for t in texts)


def car_t_interventions(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Interventions that are CAR-T cells (by name, or by description for cell products)."""
    out = []
    for item in _interventions(record):
        said = names_of(item)
        if str(item.get("type", "")).upper() in _CELL_TYPES:
            said += texts(item.get("description"))
        if _mentions_car_t(said):
            out.append(item)
    return out


def rejection(record: dict[str, Any]) -> str | None:
    """Why a study is not a CAR-T study, or None when it is one."""
    design = mapping(dig(record, "protocolSection", "designModule"))
    study_type = str(design.get("studyType") or "").upper()
    purpose = str(dig(design, "designInfo", "primaryPurpose") or "").upper()
    named = titles(record)
    listed = [
        t for i in _interventions(record) for t in (*names_of(i), *texts(i.get("description")))
    ]
    if car_t_interventions(record) or (_mentions_car_t(named) and purpose not in NOT_TREATMENT):
        if study_type and study_type != "INTERVENTIONAL":
            return f"{study_type.lower()} study: no CAR-T is given in it"
        return None
    if _mentions_car_t(named):
        return (
            f"primary purpose {purpose.lower()}: about patients receiving CAR-T, "
            "not a CAR-T product"
        )
    said = named + listed
    if any(_TCR.search(t) for t in said):
        return "T-cell receptor (TCR-T) therapy, not a chimeric antigen receptor"
    if any(_CAR_OTHER.search(t) for t in said):
        return "chimeric antigen receptor on cells other than T cells (CAR-NK, CAR-M)"
    if any(_STAT_CART.search(t) for t in said):
        return "'CART' here is a classification and regression tree, not CAR-T cells"
    return "no chimeric antigen receptor T cells in the title or interventions"


def _antigen_patterns(lexicon: Lexicon) -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for antigen in lexicon.vocabulary.antigens:
        for name in (antigen.name, *antigen.aliases):
            if len(name) >= 3:
                pattern = rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])"
                out.append((antigen.name, re.compile(pattern, re.I)))
    return out


def targets(record: dict[str, Any], lexicon: Lexicon) -> list[str]:
    """Target antigens from the CAR-T interventions' names, else the titles, else descriptions."""
    cars = car_t_interventions(record)
    groups = [
        [t for i in cars for t in names_of(i)],
        titles(record),
        [t for i in cars for t in texts(i.get("description"))],
    ]
    patterns = _antigen_patterns(lexicon)
    for group in groups:
        hits: dict[str, int] = {}
        for name, pattern in patterns:
            for text in group:
                match = pattern.search(text)
                if match:
                    hits[name] = min(hits.get(name, 10**6), match.start())
        if hits:
            return sorted(hits, key=lambda n: (hits[n], n))
    return []


def cell_source(record: dict[str, Any]) -> tuple[str, bool]:
    """autologous, allogeneic or in_vivo, and whether the record says so (else assumed)."""
    said = titles(record) + [
        t for i in car_t_interventions(record) for t in (*names_of(i), *texts(i.get("description")))
    ]
    blob = " ".join(said).casefold()
    if "autologous" in blob:
        return "autologous", True
    if re.search(r"allogene?ic|universal car|\bucar|off[\s\-]the[\s\-]shelf", blob):
        return "allogeneic", True
    if "in vivo" in blob:
        return "in_vivo", True
    return "autologous", False


__all__ = ["car_t_interventions", "cell_source", "names_of", "rejection", "targets", "titles"]
