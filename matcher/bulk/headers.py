"""Column headers as partners write them: which profile field each column of a sheet holds.

The names are data (`rules/headers.yaml`, validated when read); antigen columns are read
through the vocabulary (`CD19`, `Claudin18.2`, `CD19表达`), labs through their aliases. A
header is read, in turn, as: a `--map` given for it; a profile field's own name
(`antigens.CD19`); a listed name; an antigen or lab name; a header that contains a listed
name ("病理诊断结果") or is one misspelt, which is reported. A column read as no field is
carried through to the output unchanged; when two columns name one field, the first name of
the field's list wins and the other is carried through. Everything worth saying about a
header is said once (`ColumnMap.notes`), never on every row.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pydantic import Field, ValidationError, model_validator
from rapidfuzz import fuzz, process, utils

from matcher.errors import InputFileError
from matcher.model.base import Frozen, did_you_mean
from matcher.model.lexicon import Lexicon
from matcher.model.patient import Profile
from matcher.model.values import KNOWN_LABS

#: Nested profile fields a column names with a dot: antigens.CD19, labs.lvef.
NESTED = ("antigens", "labs", "antigen_dates")
#: How close a misspelt header must be to a listed name (rapidfuzz ratio, 0-100).
CLOSE_HEADER = 80
#: Shortest listed name looked for inside a longer header ("年龄" in "患者年龄（岁）").
CONTAINED_MIN = 2
#: Words that make a header about something else than a field named inside it:
#: "诊断日期" is a date, not the diagnosis.
OTHER_SUBJECT = ("日期", "时间", "date", "时长", "医院", "医生", "科室", "电话", "备注", "来源")


class HeaderNames(Frozen):
    """rules/headers.yaml: the names partners give each profile field's column."""

    fields: dict[str, list[str]] = Field(default_factory=dict)
    labs: dict[str, list[str]] = Field(default_factory=dict)
    antigen_suffixes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known(self) -> HeaderNames:
        for name in self.fields:
            if name not in Profile.model_fields or name in NESTED:
                known = [f for f in Profile.model_fields if f not in NESTED]
                raise ValueError(
                    f"fields: '{name}' is not a profile field{did_you_mean(name, known)}"
                )
        for name in self.labs:
            if name not in KNOWN_LABS:
                raise ValueError(f"labs: '{name}' is not a lab{did_you_mean(name, KNOWN_LABS)}")
        seen: dict[str, str] = {}
        for target, names in self.targets():
            for name in names:
                other = seen.setdefault(header_key(name), target)
                if other != target:
                    raise ValueError(f"'{name}' is listed for both {other} and {target}")
        return self

    def targets(self) -> list[tuple[str, list[str]]]:
        """(column field, its names in order of preference)."""
        return [*self.fields.items(), *((f"labs.{k}", v) for k, v in self.labs.items())]


def header_key(text: str) -> str:
    """A header as compared: NFKC, case, spaces, '*' and a trailing note in brackets
    ("年龄（岁）", "Age (years)", "性 别*") left out."""
    key = unicodedata.normalize("NFKC", str(text)).casefold()
    key = re.sub(r"\s*[(\[][^()\[\]]*[)\]]\s*$", "", key)  # a trailing note: (岁), (必填)
    return re.sub(r"[\s*:_\-]+", "", key)


def load_names(path: Path) -> HeaderNames:
    """Read and validate a header-names file; errors name the file."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return HeaderNames.model_validate(data)
    except (OSError, yaml.YAMLError) as error:
        raise InputFileError(f"{path}: cannot be read ({error})", path=str(path)) from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputFileError(
            f"{path}: {where + ': ' if where else ''}{first['msg'].removeprefix('Value error, ')}",
            path=str(path),
        ) from None


@cache
def bundled_names() -> HeaderNames:
    from matcher.paths import rules_dir

    return load_names(rules_dir() / "headers.yaml")


@dataclass
class ColumnMap:
    """What each column of a sheet holds: a profile field, or carried through."""

    headers: list[str]
    fields: dict[int, str] = field(default_factory=dict)
    """Column index -> profile field (flattened: antigens.CD19)."""
    carried: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def carried_names(self) -> list[str]:
        return [self.headers[i] for i in self.carried]

    def column_of(self, field_name: str) -> str | None:
        """The header a field was read from, when it is not the field's own name."""
        for index, name in self.fields.items():
            if name == field_name and self.headers[index] != name:
                return self.headers[index]
        return None


@dataclass(frozen=True)
class _Reading:
    field: str
    rank: tuple[int, int]
    """(how: 0 given, 1 own name, 2 listed, 3 contained, 4 misspelt; place in the list)."""
    close_to: str | None = None


class HeaderReader:
    """Reads header rows against the names, the vocabulary and a run's `--map`."""

    def __init__(
        self, names: HeaderNames, lexicon: Lexicon, given: dict[str, str] | None = None
    ) -> None:
        self.lexicon = lexicon
        self.given = {header_key(k): v for k, v in (given or {}).items()}
        self.listed: dict[str, tuple[str, int]] = {}
        for target, aliases in names.targets():
            for place, alias in enumerate([target, *aliases]):
                self.listed.setdefault(header_key(alias), (target, place))
        self.suffixes = sorted((header_key(s) for s in names.antigen_suffixes), key=len)[::-1]
        self.choices = list(self.listed)

    def read(self, header: str) -> _Reading | None:
        """The field one header names, or None."""
        text = str(header).strip()
        key = header_key(text)
        if key in self.given:
            return _Reading(self.given[key], (0, 0)) if self.given[key] else None
        if text in Profile.model_fields or (text.partition(".")[0] in NESTED and "." in text):
            return _Reading(text, (1, 0))
        if key in self.listed:
            target, place = self.listed[key]
            return _Reading(target, (2, place))
        if found := self._antigen(key):
            return _Reading(found, (2, 0))
        return self._close(text, key)

    def _antigen(self, key: str) -> str | None:
        for suffix in ["", *self.suffixes]:
            if suffix and not key.endswith(suffix):
                continue
            name = key[: len(key) - len(suffix)] if suffix else key
            canonical = self.lexicon.antigen(name) if name else None
            if canonical:
                return f"antigens.{canonical}"
        return None

    def _close(self, text: str, key: str) -> _Reading | None:
        if not key or any(word in key for word in OTHER_SUBJECT):
            return None
        inside = [k for k in self.choices if len(k) >= CONTAINED_MIN and k in key]
        if inside:
            best = max(inside, key=len)
            return _Reading(self.listed[best][0], (3, self.listed[best][1]), best)
        found = process.extractOne(
            key, self.choices, scorer=fuzz.ratio, processor=utils.default_process,
            score_cutoff=CLOSE_HEADER,
        )  # fmt: skip
        if found:
            return _Reading(self.listed[found[0]][0], (4, self.listed[found[0]][1]), found[0])
        return None

    def score(self, cells: Sequence[object]) -> int:
        """How many cells of a row name a field exactly (a header row scores high)."""
        return sum(
            1
            for cell in cells
            if isinstance(cell, str) and (r := self.read(cell)) and r.rank[0] <= 2
        )

    def map(self, headers: list[str]) -> ColumnMap:
        """The columns of a header row: fields (one column each) and carried columns."""
        columns = ColumnMap(headers)
        best: dict[str, tuple[tuple[int, int], int]] = {}
        readings = {i: self.read(h) for i, h in enumerate(headers)}
        for index, reading in readings.items():
            if reading is None:
                continue
            held = best.get(reading.field)
            if held is None or reading.rank < held[0]:
                best[reading.field] = (reading.rank, index)
        chosen = {index: name for name, (_, index) in best.items()}
        for index, header in enumerate(headers):
            reading = readings[index]
            if index in chosen:
                columns.fields[index] = chosen[index]
                if reading and reading.close_to:
                    columns.notes.append(
                        f"column '{header}' read as {reading.field} (close to "
                        f"'{reading.close_to}'); --map '{header}=FIELD' to change it"
                    )
                continue
            columns.carried.append(index)
            if reading is not None:
                other = headers[best[reading.field][1]]
                columns.notes.append(
                    f"columns '{other}' and '{header}' both name {reading.field}: read "
                    f"'{other}', '{header}' carried through (--map '{header}=FIELD' to change)"
                )
        plain = [headers[i] for i in columns.carried if readings[i] is None]
        if plain:
            columns.notes.append(
                f"{len(plain)} column(s) read as no profile field, carried through to the output "
                f"unchanged: {', '.join(plain)}"
            )
        return columns


def parse_map(items: Sequence[str]) -> dict[str, str]:
    """`--map 'COLUMN=field'` options: column -> field ('' carries the column through)."""
    given: dict[str, str] = {}
    fields = [f for f in Profile.model_fields if f not in NESTED]
    for item in items:
        column, eq, target = item.partition("=")
        target = target.strip()
        if not eq or not column.strip():
            raise InputFileError(f"--map '{item}': write it as 'COLUMN=field'")
        head, dot, _ = target.partition(".")
        if target and not (target in fields or (dot and head in NESTED)):
            raise InputFileError(
                f"--map '{item}': '{target}' is not a profile field{did_you_mean(target, fields)}; "
                "use a field of docs/DESIGN.md section 2, antigens.NAME or labs.NAME"
            )
        given[column.strip()] = target
    return given
