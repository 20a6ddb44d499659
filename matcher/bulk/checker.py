"""Checking referral columns through the single path: each distinct value (or combination
of values whose rules read each other) goes through `load_patient` once, alone in an
otherwise valid referral, and fills a `Cohort`. Rows with any doubt are left for the caller
to put through the single path alone, for the exact message."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from matcher.bulk.cohort import EMPTY_ROW, SEX_FLAGS, Cells, Cohort, joined, objects
from matcher.bulk.columns import Factorize, pack
from matcher.core.patient import load_patient
from matcher.model.lexicon import Lexicon
from matcher.model.patient import Patient, Profile
from matcher.model.values import FLAGS, lab_key

#: Fields whose rules read each other (a status read from the diagnosis, newly diagnosed
#: against prior lines, age against date of birth, pregnancy against sex): checked together,
#: once per distinct combination. Every other column is checked alone.
GROUPS = (
    ("indication", "diagnosis", "disease_status", "prior_lines", "setting", "stage"),
    ("age", "date_of_birth"),
    ("sex", *SEX_FLAGS),
)
#: An unrecognised therapy added to the first group's check: its warning shows where
#: load_patient puts the therapy warnings among the group's own.
SENTINEL_THERAPY = "zz-cartmatch-screen-sentinel-zz"
#: Distinct values remembered per column across chunks before the cache starts afresh.
CACHE_LIMIT = 200_000
_VALIDATED = {
    f for d in Profile.__pydantic_decorators__.field_validators.values() for f in d.info.fields
}
#: Fields whose text is taken as given (no validator): their values need no check.
_PLAIN_TEXT = {
    name
    for name, info in Profile.model_fields.items()
    if info.annotation == (str | None) and name not in _VALIDATED
} - {"diagnosis", "indication"}

#: Profile fields the cohort fills by name above; any other field a criterion reads (`country`,
#: a field added later) is filled generically from its checked column, with no edit here.
_SPECIFIC = {
    "referral_id", "date_of_birth", "diagnosis", "indication", "antigens", "antigen_dates",
    "prior_therapies", "labs", "budget_cny", "age", "sex", "disease_status", "disease_tempo",
    "setting", "stage", "prior_lines", "ecog", *FLAGS,
}  # fmt: skip
_GENERIC = set(Profile.model_fields) - _SPECIFIC


@dataclass(frozen=True)
class _Probe:
    """What one distinct value (or combination) gives through the single path."""

    ok: bool
    value: Any = None
    warnings: tuple[str | None, ...] = ()


class _Remembering(Lexicon):
    """A lexicon whose free-text look-ups (pure functions of the text) are remembered: the
    checks meet the same diagnosis and therapy names over and over."""

    def __init__(self, lexicon: Lexicon) -> None:  # shares the indexes; no rebuild
        self.__dict__.update(lexicon.__dict__)
        self._diagnoses: dict[str, Any] = {}
        self._therapies: dict[str, tuple[str, ...]] = {}

    def resolve_diagnosis(self, text: str) -> Any:
        if text not in self._diagnoses:
            self._diagnoses[text] = super().resolve_diagnosis(text)
        return self._diagnoses[text]

    def therapy_classes_of(self, text: str) -> tuple[str, ...]:
        if text not in self._therapies:
            self._therapies[text] = super().therapy_classes_of(text)
        return self._therapies[text]


class Checker:
    """Checks columns of referrals against the single path, with caches of distinct values."""

    def __init__(self, lexicon: Lexicon, today: date, factorize: Factorize) -> None:
        self.lexicon = _Remembering(lexicon)
        self.today = today
        self.factorize = factorize
        self.base_code = next(iter(lexicon.diseases))
        self.blank = Patient(
            profile=Profile(indication=self.base_code),
            age=None,
            indication=None,
            indication_name=None,
            prior_therapy_classes=None,
        )
        self.probes: dict[str, dict[Any, _Probe]] = {}
        self.interned: dict[str, list[Any]] = {
            # therapy: (classes, exposures); antigen: (result, date tested)
            "therapy": [None, ((), ())],
            "antigen": [None],
            "lab": [None],
        }
        self._intern_ids = {
            head: {_value_key(v): i for i, v in enumerate(values)}
            for head, values in self.interned.items()
        }

    def intern(self, head: str, value: Any) -> int:
        """A stable id for a therapy-class tuple, an antigen result or a lab value."""
        ids = self._intern_ids[head]
        key = _value_key(value)
        if key not in ids:
            ids[key] = len(self.interned[head])
            self.interned[head].append(value)
        return ids[key]

    def check(self, cells: dict[str, Cells], lines: np.ndarray) -> tuple[Cohort, np.ndarray]:
        """The cohort, and the positions of rows to put through the single path alone."""
        n = len(lines)
        c = Cohort(
            n=n,
            lines=lines,
            checker=self,
            ok=np.ones(n, bool),
            referral_id=objects(n),
            warnings=objects(n),
            budget=np.full(n, math.nan),
        )
        given = np.zeros(n, bool)
        for codes, _, _ in cells.values():
            given |= codes >= 0
        checked: dict[str, tuple[np.ndarray, list[Any]]] = {}
        for g, members in enumerate(GROUPS):
            present = [m for m in members if m in cells]
            if present or g == 0:
                checked[f"group{g}"] = self._group(g, present, cells, n)
        grouped = {m for members in GROUPS for m in members}
        for name, column in cells.items():
            if name not in grouped:
                checked[name] = self._column(name, *column)
        slow = np.zeros(n, bool)
        for codes, probes in checked.values():
            if probes and isinstance(probes[0], _Probe):
                slow |= np.array([not p.ok for p in probes] + [False])[codes]
        slow |= self._same_input_twice(cells, n)
        self._fill(c, checked)
        for pos in np.flatnonzero(~given).tolist():
            c.reject(pos, None, None, EMPTY_ROW)
        return c, np.flatnonzero(slow & given)

    def _same_input_twice(self, cells: dict[str, Cells], n: int) -> np.ndarray:
        """Rows giving one antigen or lab under two spellings (CLDN18.2 and Claudin 18.2,
        lvef and LVEF): the single path rejects them, so they go through it for its message."""
        spellings: dict[str, list[str]] = {}
        for name in cells:
            head, _, rest = name.partition(".")
            if head == "antigens":
                canonical = self.lexicon.antigen(rest)
            elif head == "labs":
                canonical = lab_key(rest)
            else:
                continue
            if canonical is not None:
                spellings.setdefault(f"{head}.{canonical}", []).append(name)
        twice = np.zeros(n, bool)
        for names in spellings.values():
            if len(names) > 1:
                twice |= sum((cells[m][0] >= 0).astype(int) for m in names) > 1
        return twice

    def _group(
        self, g: int, present: list[str], cells: dict[str, Cells], n: int
    ) -> tuple[np.ndarray, list[_Probe]]:
        """Fields whose rules read each other, checked together once per combination."""
        parts = [cells[m][0] + 1 for m in present] or [np.zeros(n, np.int64)]
        combo, first = pack(parts, self.factorize)
        cache = self._cache(f"group{g}")
        probes = []
        for row in first.tolist():
            at = [(m, cells[m][0][row]) for m in present]
            key = tuple(cells[m][2][k] if k >= 0 else None for m, k in at)
            if key not in cache:
                cache[key] = self._probe_group(g, {m: cells[m][1][k] for m, k in at if k >= 0})
            probes.append(cache[key])
        return combo, probes

    def _probe_group(self, g: int, record: dict[str, Any]) -> _Probe:
        raw = dict(record) if g == 0 else {"indication": self.base_code, **record}
        try:
            patient, warnings = load_patient(raw, self.lexicon, self.today)
        except Exception:
            return _Probe(False)
        profile = patient.profile
        if g == 1:
            return _Probe(True, {"age": patient.age})
        if g == 2:
            return _Probe(True, {"sex": profile.sex, **{f: getattr(profile, f) for f in SEX_FLAGS}})
        value = {
            "indication": patient.indication,
            "candidates": patient.indication_candidates,
            "disease_status": profile.disease_status,
            "prior_lines": profile.prior_lines,
            "setting": profile.setting,
            "stage": profile.stage,
        }
        split = len(warnings)
        if warnings:  # where do therapy warnings go among these? A sentinel's shows it.
            _, marked = load_patient(
                {**raw, "prior_therapies": SENTINEL_THERAPY}, self.lexicon, self.today
            )
            split = next((i for i, w in enumerate(marked) if SENTINEL_THERAPY in w), split)
        return _Probe(True, value, (joined(warnings[:split]), joined(warnings[split:])))

    def _column(
        self, name: str, codes: np.ndarray, uniques: list[Any], keys: list[Any]
    ) -> tuple[np.ndarray, list[Any]]:
        """Per distinct value its probe (or the text itself, for a field taken as given)."""
        if name in _PLAIN_TEXT and all(isinstance(u, str) for u in uniques):
            return codes, uniques
        cache = self._cache(name)
        probes = []
        for key, value in zip(keys, uniques, strict=True):
            if key not in cache:
                cache[key] = self._probe(name, value)
            probes.append(cache[key])
        return codes, probes

    def _probe(self, name: str, value: Any) -> _Probe:
        """One distinct value through load_patient, alone in an otherwise valid referral."""
        raw = {"indication": self.base_code, name: value}
        try:
            patient, warnings = load_patient(raw, self.lexicon, self.today)
        except Exception:
            return _Probe(False)
        profile = patient.profile
        if name == "prior_therapies":
            got: Any = self.intern("therapy", _therapy(patient))
        elif name.startswith("antigens."):
            ((key, result),) = profile.antigens.items()
            got = (key, self.intern("antigen", (result, profile.antigen_dates.get(key))))
        elif name.startswith("labs."):
            ((key, result),) = profile.labs.items()
            got = (key, self.intern("lab", result))
        else:
            got = getattr(profile, name)
        return _Probe(True, got, (joined(warnings),))

    def _cache(self, name: str) -> dict[Any, _Probe]:
        cache = self.probes.setdefault(name, {})
        if len(cache) > CACHE_LIMIT:
            cache.clear()
        return cache

    def _fill(self, c: Cohort, checked: dict[str, tuple[np.ndarray, list[Any]]]) -> None:
        """Normalised columns from the probes (None where a check failed: those rows go
        through the single path)."""

        def values(name: str, key: str | None = None, numeric: bool = False) -> np.ndarray:
            if name not in checked:
                return np.full(c.n, math.nan) if numeric else objects(c.n)
            codes, probes = checked[name]
            got = [_got(p, key) for p in probes] + [None]
            if numeric:
                return np.array([math.nan if v is None else float(v) for v in got])[codes]
            table = np.empty(len(got), dtype=object)
            table[:] = got
            return table[codes]

        a = c.attrs
        c.referral_id = values("referral_id")
        for key in ("indication", "candidates", "disease_status", "setting", "stage"):
            a[key] = values("group0", key)
        a["prior_lines"] = values("group0", "prior_lines", numeric=True)
        a["age"] = values("group1", "age", numeric=True)
        a["sex"] = values("group2", "sex")
        for flag in FLAGS:
            group = "group2" if flag in SEX_FLAGS else flag
            a[f"flag.{flag}"] = values(group, flag if flag in SEX_FLAGS else None, numeric=True)
        a["disease_tempo"] = values("disease_tempo")
        a["ecog"] = values("ecog", numeric=True)
        c.budget = values("budget_cny", numeric=True)
        therapy = values("prior_therapies", numeric=True)
        no_lines = np.where(a["prior_lines"] == 0, 1, 0)  # no prior lines: no prior therapy
        c.ids["therapy"] = np.where(np.isnan(therapy), no_lines, therapy).astype(np.int32)
        for name, (codes, probes) in checked.items():
            head = name.partition(".")[0]
            if head in ("antigens", "labs"):
                # Later columns naming the same antigen override earlier ones, as in normalise().
                for k, probe in enumerate(probes):
                    if probe.ok:
                        attr, value = probe.value
                        c.id_column(f"{head[:-1]}.{attr}")[codes == k] = value
        for name in checked.keys() & _GENERIC:
            a[name] = values(name)  # a field only a criterion reads: its checked value
        self._fill_warnings(c, checked)

    def _fill_warnings(self, c: Cohort, checked: dict[str, tuple[np.ndarray, list[Any]]]) -> None:
        """Warnings in load_patient's order: the first group's (diagnosis, a status read
        from it), the therapies', then the first group's last (an ambiguous status)."""
        group, probes = checked["group0"]
        parts = [(group, [p.warnings[0] if p.ok else None for p in probes] + [None])]
        if "prior_therapies" in checked:
            codes, therapy = checked["prior_therapies"]
            parts.append((codes, [p.warnings[0] if p.ok else None for p in therapy] + [None]))
        parts.append((group, [p.warnings[1] if p.ok else None for p in probes] + [None]))
        signature, first = pack([codes + 1 for codes, _ in parts], self.factorize)
        texts = np.empty(len(first), dtype=object)
        for k, row in enumerate(first.tolist()):
            texts[k] = joined(t for codes, text in parts if (t := text[codes[row]]))
        c.warnings = texts[signature]

    def set_patient(self, c: Cohort, pos: int, patient: Patient, warnings: list[str]) -> None:
        """Fill one row from a patient the single path accepted."""
        profile = patient.profile
        a = c.attrs
        c.referral_id[pos] = profile.referral_id
        c.warnings[pos] = joined(warnings)
        c.budget[pos] = _float(profile.budget_cny)
        a["indication"][pos] = patient.indication
        a["candidates"][pos] = patient.indication_candidates
        a["age"][pos] = _float(patient.age)
        for name in ("sex", "disease_status", "disease_tempo", "setting", "stage"):
            a[name][pos] = getattr(profile, name)
        a["prior_lines"][pos] = _float(profile.prior_lines)
        a["ecog"][pos] = _float(profile.ecog)
        for flag in FLAGS:
            a[f"flag.{flag}"][pos] = _float(getattr(profile, flag))
        for name in a.keys() & _GENERIC:
            a[name][pos] = getattr(profile, name)
        for column in c.ids.values():
            column[pos] = 0
        c.ids["therapy"][pos] = self.intern("therapy", _therapy(patient))
        for name, value in profile.antigens.items():
            tested = profile.antigen_dates.get(name)
            c.id_column(f"antigen.{name}")[pos] = self.intern("antigen", (value, tested))
        for name, value in profile.labs.items():
            c.id_column(f"lab.{name}")[pos] = self.intern("lab", value)


def _therapy(patient: Patient) -> Any:
    """A patient's therapy history as the criteria read it: classes and targeted exposures."""
    if patient.prior_therapy_classes is None:
        return None
    return (patient.prior_therapy_classes, patient.exposures)


def _got(probe: Any, key: str | None) -> Any:
    if isinstance(probe, str):
        return probe
    if not probe.ok:
        return None
    return probe.value[key] if key else probe.value


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def _value_key(value: Any) -> Any:
    """A hashable key that tells apart values that compare equal (1, 1.0, True; NaN)."""
    if value is None:
        return None
    if isinstance(value, float):
        return ("float", repr(value))
    if hasattr(value, "model_dump"):
        return (type(value).__name__, json.dumps(value.model_dump(), sort_keys=True))
    return (type(value).__name__, value)


__all__ = ["Checker"]
