"""Read catalog/ and rules/ (YAML) into validated models; errors name the file, line and field.

A bad criterion fails here, when the catalog is loaded, never in the middle of a match.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from matcher.core import tiers as disease_tiers
from matcher.core.catalog import Rules
from matcher.core.entry import Entry
from matcher.core.safety import SafetyLayer
from matcher.criteria import KINDS, criterion_kind
from matcher.criteria.registry import map_raw_children, raw_children, walk
from matcher.errors import CatalogError
from matcher.model.base import Frozen, did_you_mean, first_error
from matcher.model.cost_model import CostModel
from matcher.model.facts import Freshness
from matcher.model.lexicon import Lexicon
from matcher.model.places import Places
from matcher.model.ranking import RankingPolicy
from matcher.model.vocabulary import Antigen, Disease, Therapy, TherapyClass, Vocabulary

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


#: Values a YAML file may expand to once its aliases (`*name`) are written out: the largest
#: bundled file has ~30,000; a file of aliases of aliases ("billion laughs") has billions,
#: which the C parser shares cheaply but validation would copy.
MAX_YAML_VALUES = 1_000_000
#: The largest catalog or rules file read, in bytes (the largest bundled one is ~200 kB).
MAX_YAML_BYTES = 4 << 20


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe YAML without implicit dates: dates stay text until a model asks for a date."""


def _expanded_size(data: Any, seen: dict[int, int] | None = None) -> int:
    """How many values `data` holds with every shared (aliased) value counted where used."""
    seen = {} if seen is None else seen
    if not isinstance(data, dict | list):
        return 1
    if id(data) not in seen:
        seen[id(data)] = 0  # a cycle counts once
        items = [*data.keys(), *data.values()] if isinstance(data, dict) else data
        seen[id(data)] = 1 + sum(_expanded_size(item, seen) for item in items)
    return seen[id(data)]


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}

RULE_FILES = {
    "diseases": "vocab/diseases.yaml",
    "diseases_extra": "vocab/diseases_extra.yaml",
    "oncotree": "vocab/oncotree.yaml",
    "icd10": "vocab/icd10.yaml",
    "antigens": "vocab/antigens.yaml",
    "therapies": "vocab/therapies.yaml",
    "templates": "templates.yaml",
    "ranking": "ranking.yaml",
    "costs": "costs.yaml",
    "safety": "safety.yaml",
    "places": "places.yaml",
    "freshness": "freshness.yaml",
}
#: Generated files, large and never changed in memory: parsed once per file version.
GENERATED_RULE_FILES = ("oncotree", "icd10")


def read_yaml(path: Path) -> Any:
    """Parse one YAML file; a syntax error names the file, line and column."""
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            raise CatalogError(
                f"{path}: over {MAX_YAML_BYTES >> 20} MB, larger than any catalog or rules file "
                "should be; split it or check it is the right file",
                path=str(path),
            )
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CatalogError(f"{path}: cannot be read ({error.strerror})", path=str(path)) from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise CatalogError(
            f"{path}{where}: invalid YAML ({problem}); fix the syntax there", path=str(path)
        ) from None
    try:
        size = _expanded_size(data)
    except RecursionError:
        raise CatalogError(
            f"{path}: nested too deeply to be a catalog file", path=str(path)
        ) from None
    if size > MAX_YAML_VALUES:
        raise CatalogError(
            f"{path}: its aliases expand to more than {MAX_YAML_VALUES:,} values; write the "
            "values out instead of nesting *aliases",
            path=str(path),
        )
    return data


def validate(model: Any, data: Any, path: Path) -> Any:
    """Validate data against a model or type; errors become a CatalogError with file and line."""
    try:
        if isinstance(model, type) and issubclass(model, BaseModel):
            return model.model_validate(data)
        return TypeAdapter(model).validate_python(data)
    except ValidationError as error:
        problem = first_error(error)
        line = _line_of(path, problem.loc)
        where = f" line {line}" if line else ""
        more = f" (and {problem.others} more)" if problem.others else ""
        raise CatalogError(
            f"{path}{where}, at {problem.where or 'top level'}: {problem.msg}{more}; fix the file "
            "and run `cartmatch catalog validate`",
            path=str(path),
            location=problem.where,
        ) from None


def _line_of(path: Path, loc: tuple[Any, ...]) -> int | None:
    """1-based line of a dotted pydantic location in a YAML file (union tags are skipped)."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(part)), None)
            node = match if match is not None else node
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
    return node.start_mark.line + 1 if node is not None else None


class _TherapyFile(Frozen):
    classes: list[TherapyClass]
    therapies: list[Therapy]


def load_rules(rules_dir: Path) -> Rules:
    """All of rules/ as one validated Rules object."""
    files = {key: rules_dir / rel for key, rel in RULE_FILES.items()}
    raw = {
        key: _read_generated(path) if key in GENERATED_RULE_FILES else read_yaml(path)
        for key, path in files.items()
    }
    therapies = raw["therapies"] if isinstance(raw["therapies"], dict) else {}
    therapies = validate(_TherapyFile, therapies, files["therapies"])
    rules = Rules(
        vocabulary=Vocabulary(
            diseases=_diseases(raw, files),
            antigens=validate(list[Antigen], raw["antigens"], files["antigens"]),
            therapy_classes=therapies.classes,
            therapies=therapies.therapies,
        ),
        templates=validate(dict[str, dict[str, Any]], raw["templates"] or {}, files["templates"]),
        ranking=validate(RankingPolicy, raw["ranking"], files["ranking"]),
        costs=validate(CostModel, raw["costs"], files["costs"]),
        safety=validate(SafetyLayer, raw["safety"], files["safety"]),
        places=validate(Places, raw["places"], files["places"]),
        freshness=validate(Freshness, raw["freshness"], files["freshness"]),
    )
    _check_vocabulary(rules, rules_dir)
    return rules


def _read_generated(path: Path) -> Any:
    try:
        stat = path.stat()
    except OSError:
        return read_yaml(path)  # says the file cannot be read
    return _read_version(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _read_version(path: Path, mtime_ns: int, size: int) -> Any:
    return read_yaml(path)


def _diseases(raw: dict[str, Any], files: dict[str, Path]) -> list[Disease]:
    """The curated diseases with the OncoTree and ICD-10 tiers and the extras merged in."""
    extras = files["diseases_extra"]
    try:
        return disease_tiers.build_diseases(
            validate(list[Disease], raw["diseases"], files["diseases"]),
            validate(disease_tiers.OncotreeFile, raw["oncotree"], files["oncotree"]),
            validate(disease_tiers.Icd10File, raw["icd10"], files["icd10"]),
            validate(list[disease_tiers.DiseaseExtra], raw["diseases_extra"], extras),
        )
    except ValueError as error:
        raise CatalogError(f"{extras}: {error}; fix the file", path=str(extras)) from None


def _check_vocabulary(rules: Rules, rules_dir: Path) -> None:
    vocab = rules.vocabulary
    codes = {d.code for d in vocab.diseases}
    for disease in vocab.diseases:
        if disease.parent and disease.parent not in codes:
            raise CatalogError(
                f"{rules_dir / RULE_FILES['diseases']}: disease '{disease.code}' has unknown "
                f"parent '{disease.parent}'{did_you_mean(disease.parent, codes)}"
            )
    classes = {c.code for c in vocab.therapy_classes}
    for therapy in vocab.therapies:
        for cls in therapy.classes:
            if cls not in classes:
                raise CatalogError(
                    f"{rules_dir / RULE_FILES['therapies']}: therapy '{therapy.name}' has unknown "
                    f"class '{cls}'{did_you_mean(cls, classes)}"
                )


def entry_files(catalog_dir: Path) -> list[Path]:
    return sorted((catalog_dir / "entries").glob("*.yaml"))


def load_entry(path: Path, rules: Rules, lexicon: Lexicon) -> Entry:
    """One entry file: templates expanded, criteria ids assigned, references checked."""
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: expected a mapping of entry fields", path=str(path))
    for n, indication in enumerate(raw.get("indications") or []):
        if isinstance(indication, dict) and isinstance(indication.get("criteria"), list):
            where = f"indications.{n}.criteria"
            criteria = [
                _expand(c, rules.templates, path, f"{where}.{i}")
                for i, c in enumerate(indication["criteria"])
            ]
            _assign_ids(criteria, set())
            indication["criteria"] = criteria
    entry: Entry = validate(Entry, raw, path)
    if path.stem != entry.id:
        raise CatalogError(f"{path}: file name must be the entry id ('{entry.id}.yaml')")
    check_references(entry, lexicon, path)
    return entry


def _expand(node: Any, templates: dict[str, dict[str, Any]], path: Path, where: str) -> Any:
    if not isinstance(node, dict):
        return node
    if "template" in node:
        name = node["template"]
        if name not in templates:
            raise CatalogError(
                f"{path}, at {where}: unknown template '{name}'{did_you_mean(name, templates)}; "
                "templates are defined in rules/templates.yaml",
                path=str(path),
                location=where,
            )
        node = {**templates[name], **{k: v for k, v in node.items() if k != "template"}}
    return map_raw_children(node, lambda c, key: _expand(c, templates, path, f"{where}.{key}"))


def _assign_ids(criteria: list[Any], used: set[str]) -> None:
    """Give every criterion without an id a readable one, unique within the indication."""
    for node in criteria:
        if not isinstance(node, dict):
            continue
        if not node.get("id"):
            kind = criterion_kind(node) or "criterion"
            base = kind
            detail = node.get(kind)
            if isinstance(detail, dict) and isinstance(detail.get("name"), str):
                base = f"{kind}-{detail['name']}"
            candidate, n = base, 2
            while candidate in used:
                candidate, n = f"{base}-{n}", n + 1
            node["id"] = candidate
        used.add(node["id"])
        _assign_ids([child for _, child in raw_children(node)], used)


def check_references(entry: Entry, lexicon: Lexicon, path: Path) -> None:
    """Every disease code, antigen and therapy class an entry names must be in the vocabulary."""
    problems = list(_reference_problems(entry, lexicon))
    if problems:
        where, message = problems[0]
        raise CatalogError(
            f"{path}, at {where}: {message}; fix the entry or add it to rules/vocab/",
            path=str(path),
            location=where,
        )


def _reference_problems(entry: Entry, lexicon: Lexicon) -> Iterator[tuple[str, str]]:
    for i, target in enumerate(entry.targets):
        if target not in lexicon.antigens:
            yield f"targets.{i}", _unknown("antigen", target, lexicon.antigens)
    for n, indication in enumerate(entry.indications):
        for i, code in enumerate(indication.diseases):
            if code not in lexicon.diseases:
                yield f"indications.{n}.diseases.{i}", _unknown("disease", code, lexicon.diseases)
        for i, criterion in enumerate(indication.criteria):
            yield from _criterion_problems(criterion, lexicon, f"indications.{n}.criteria.{i}")


def _criterion_problems(node: Any, lexicon: Lexicon, where: str) -> Iterator[tuple[str, str]]:
    for each, path in walk(node):
        yield from _leaf_problems(each, lexicon, f"{where}.{path}" if path else where)


def _leaf_problems(node: Any, lexicon: Lexicon, where: str) -> Iterator[tuple[str, str]]:
    kind = node.kind
    if kind == "template":
        yield where, f"template '{node.template}' was not expanded"
    elif kind == "indication":
        for code in node.indication:
            if code not in lexicon.diseases:
                yield where, _unknown("disease", code, lexicon.diseases)
    elif kind == "antigen" and node.antigen.name not in lexicon.antigens:
        yield where, _unknown("antigen", node.antigen.name, lexicon.antigens)
    elif kind == "prior_therapy":
        for code in [*node.prior_therapy.required, *node.prior_therapy.excluded]:
            if code not in lexicon.therapy_classes:
                yield where, _unknown("therapy class", code, lexicon.therapy_classes)


def _unknown(what: str, name: str, known: Any) -> str:
    return f"unknown {what} '{name}'{did_you_mean(name, known)}"


def load_catalog(catalog_dir: Path, rules_dir: Path) -> tuple[list[Entry], Rules]:
    """Every entry file and the rules, validated; the first problem raises CatalogError."""
    rules = load_rules(rules_dir)
    lexicon = Lexicon(rules.vocabulary)
    files = entry_files(catalog_dir)
    if not files:
        raise CatalogError(f"{catalog_dir / 'entries'}: no entry files (*.yaml) found")
    return [load_entry(path, rules, lexicon) for path in files], rules


__all__ = ["KINDS", "load_catalog", "load_entry", "load_rules", "read_yaml"]
