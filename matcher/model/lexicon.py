"""`Lexicon`: indexes over a vocabulary, built once, and the normalisation of free text.

Diagnoses are read with `matcher.model.diagnosis_text`, prior therapies with
`matcher.model.therapy_text`; antigen names by their compact key.
"""

from __future__ import annotations

from rapidfuzz import fuzz, process, utils

from matcher.model.diagnosis_text import (
    BACKSTOP,
    DIAGNOSIS_FUZZY_CUTOFF,
    DIAGNOSIS_PARTIAL_CUTOFF,
    DIAGNOSIS_PARTIAL_MIN_LENGTH,
    DIAGNOSIS_SUGGEST_CUTOFF,
    DIAGNOSIS_SUGGEST_LIMIT,
    ICD10,
    DiagnosisMatch,
    disease_family,
    is_short,
    spans,
)
from matcher.model.therapy_text import read_therapy
from matcher.model.vocabulary import CJK, Disease, Vocabulary, compact_key, spaced, text_key


class Lexicon:
    """Indexes over a Vocabulary, built once, with the normalisation functions."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self._index_diseases(vocabulary.diseases)
        self.antigens = {a.name: a for a in vocabulary.antigens}
        self._antigen_names = {
            compact_key(name): a.name for a in vocabulary.antigens for name in (a.name, *a.aliases)
        }
        self.therapy_classes = {c.code: c for c in vocabulary.therapy_classes}
        self._therapy_names: dict[str, tuple[str, ...]] = {}
        for therapy in vocabulary.therapies:
            for name in (therapy.name, *therapy.aliases):
                self._therapy_names[text_key(name)] = tuple(therapy.classes)
        for cls in vocabulary.therapy_classes:
            self._therapy_names.setdefault(text_key(cls.code), (cls.code,))
            self._therapy_names.setdefault(text_key(cls.name), (cls.code,))
        self._therapy_choices = list(self._therapy_names)

    # -- diseases -------------------------------------------------------------------------

    def _index_diseases(self, diseases: list[Disease]) -> None:
        """The curated diseases' names now; the index over every tier when a text needs it.

        Most diagnoses are exactly a curated name ("DLBCL"), and the full index over ~2,000
        diseases costs ~25 ms to build on every run; it gives those names the same reading.
        """
        self.diseases = {d.code: d for d in diseases}
        self._ancestry: dict[str, tuple[str, ...]] = {}
        self._curated_names: dict[str, str] = {}
        for disease in diseases:
            if ":" in disease.code:  # the generated tiers follow the curated diseases
                break
            shown = disease.name if disease.match_name else None
            for name in (disease.code, shown, disease.name_zh, *disease.synonyms):
                if name:
                    self._curated_names.setdefault(text_key(name), disease.code)
        self._indexed = False

    def _index_all_diseases(self) -> None:
        """Name indexes: the first disease to claim a name keeps it (curated ones come first)."""
        if self._indexed:
            return
        self._indexed = True
        diseases = self.diseases.values()
        self._disease_names: dict[str, str] = {}
        self._exact_names: dict[str, str] = {}
        self._short_names: dict[str, str] = {}
        self._icd10: dict[str, str] = {}
        fuzzy: list[str] = []
        for disease in diseases:
            shown = disease.name if disease.match_name else None
            generic = disease.code.startswith("icd10:")  # ICD names are read, never guessed at
            for name in (disease.code, shown, disease.name_zh, *disease.synonyms):
                key = text_key(name) if name else ""
                claimed = self._disease_names.setdefault(key, disease.code) if key else None
                if claimed == disease.code and not generic:
                    fuzzy.append(key)
            for name in disease.exact_names:
                self._exact_names.setdefault(text_key(name), disease.code)
            for name in disease.synonyms:
                if is_short(name):
                    self._short_names.setdefault(spaced(name), disease.code)
            for code in disease.icd10:
                self._icd10.setdefault(code.upper(), disease.code)
        self._latin_names: dict[str, str] = {}
        self._cjk_names: dict[str, str] = {}
        for name, code in self._disease_names.items():
            if CJK.search(name):
                self._cjk_names[name] = code
            elif not is_short(name):
                self._latin_names[name] = code
        self._longest = {
            "latin": max(map(len, self._latin_names), default=0),
            "cjk": max(map(len, self._cjk_names), default=0),
            "short": max(map(len, self._short_names), default=0),
        }
        self._long_choices = [
            n for n in dict.fromkeys(fuzzy) if n in self._latin_names or n in self._cjk_names
        ]
        # A misspelt name inside longer text is looked for among curated diseases only: among
        # thousands of OncoTree names some part of any text is close to one ("5q- syndrome").
        self._partial_choices = [n for n in self._long_choices if ":" not in self._disease_names[n]]

    def disease_name(self, code: str) -> str:
        disease = self.diseases.get(code)
        return disease.name if disease else code

    def ancestors(self, code: str) -> list[str]:
        """The code itself and every broader disease above it, nearest first."""
        chain = self._ancestry.get(code)
        if chain is None:
            found: list[str] = []
            current: str | None = code
            while current and current not in found and current in self.diseases:
                found.append(current)
                current = self.diseases[current].parent
            chain = self._ancestry[code] = tuple(found)
        return list(chain)

    def is_within(self, code: str, ancestor: str) -> bool:
        """True when `code` is `ancestor` or one of its subtypes (DLBCL within LBCL)."""
        if code not in self._ancestry:
            self.ancestors(code)
        return ancestor in self._ancestry[code]

    def resolve_diagnosis(self, text: str) -> DiagnosisMatch | None:
        """The disease a free-text diagnosis names, or None when nothing is recognised.

        Every disease named in the text counts, not just the longest name: "SLE with lupus
        nephritis" is lupus nephritis (the most specific), "DLBCL and FL" is their common
        group (B-cell NHL), and "breast cancer, now DLBCL" is ambiguous (code None). An
        ICD-10 code is read as its disease; a text that names a cancer no tier knows more
        precisely is read as that kind of cancer (method "backstop").
        """
        key = text_key(text)
        if not key:
            return None
        by_code = self._icd10_diagnosis(text)
        if by_code:
            return by_code
        if key in self._curated_names:
            code = self._curated_names[key]
            return DiagnosisMatch(code, text, "code" if key == code else "exact", 100.0)
        self._index_all_diseases()
        exact = self._disease_names.get(key) or self._exact_names.get(key)
        if exact:
            method = "code" if key == exact else "exact"
            return DiagnosisMatch(exact, text, method, 100.0)
        mentions = self._mentions(text, key)
        fuzzy = self._fuzzy_diagnosis(key)
        if not mentions:
            return fuzzy or self._backstop(key)
        longest = max((name for _, _, name, _ in mentions), key=len)
        # A misspelt longer name ("difuse large b-cell lymphoma") beats a shorter exact one
        # found inside it ("large b cell lymphoma"): it is the more specific reading.
        if (
            fuzzy
            and fuzzy.method == "fuzzy"
            and fuzzy.certain
            and len(fuzzy.matched) > len(longest)
        ):
            return fuzzy
        return self._most_specific(mentions)

    def _icd10_diagnosis(self, text: str) -> DiagnosisMatch | None:
        """An ICD-10 code given as the diagnosis: the disease of the code or a broader one."""
        found = ICD10.match(spaced(text))
        if not found:
            return None
        self._index_all_diseases()
        category, rest = found.group(1).upper(), found.group(2).upper()
        for n in range(len(rest), -1, -1):
            code = f"{category}.{rest[:n]}" if n else category
            if code in self._icd10:
                return DiagnosisMatch(self._icd10[code], code, "icd10", 100.0)
        return None

    def _backstop(self, key: str) -> DiagnosisMatch | None:
        """A lymphoma, leukaemia or other cancer named in words no tier knows."""
        for code, words in BACKSTOP:
            hit = words.search(key)
            if hit and code in self.diseases:
                return DiagnosisMatch(code, hit.group(0), "backstop", 100.0)
        return None

    def _mentions(self, text: str, key: str) -> list[tuple[int, int, str, str]]:
        """Every disease name in the text as (start, end, name, code), none inside another.

        Names are looked up by substring rather than searched for one by one, so the cost
        grows with the text, not with the vocabulary: an English name must stand as whole
        words, a Chinese one anywhere, an abbreviation in its own case.
        """
        in_case = spaced(text)
        found = [
            *spans(key, self._latin_names, self._longest["latin"], anywhere=False),
            *spans(key, self._cjk_names, self._longest["cjk"], anywhere=True),
            *spans(in_case, self._short_names, self._longest["short"], anywhere=False),
        ]
        found.sort(key=lambda m: m[0] - m[1])  # longest first
        kept: list[tuple[int, int, str, str]] = []
        for mention in found:
            if not any(k[0] <= mention[0] and mention[1] <= k[1] for k in kept):
                kept.append(mention)
        return kept

    def _most_specific(self, mentions: list[tuple[int, int, str, str]]) -> DiagnosisMatch:
        codes = list(dict.fromkeys(code for _, _, _, code in mentions))
        # A broader disease named beside a narrower one adds nothing (SLE beside LN).
        specific = [c for c in codes if not any(c != o and self.is_within(o, c) for o in codes)]
        names = ", ".join(name for _, _, name, _ in mentions)
        if len(specific) == 1:
            return DiagnosisMatch(specific[0], names, "contains", 100.0)
        common = self.common_ancestor(specific)
        if common is not None and self.diseases[common].parent is not None:
            return DiagnosisMatch(common, names, "broad", 100.0, tuple(specific))
        return DiagnosisMatch(None, names, "ambiguous", 100.0, tuple(specific))

    def common_ancestor(self, codes: list[str]) -> str | None:
        """The nearest disease every code is within, or None."""
        chains = [self.ancestors(c) for c in codes]
        shared = set(chains[0]).intersection(*chains[1:])
        return next((c for c in chains[0] if c in shared), None)

    def _fuzzy_diagnosis(self, key: str) -> DiagnosisMatch | None:
        whole = process.extractOne(
            key,
            self._long_choices,
            scorer=fuzz.token_sort_ratio,
            processor=utils.default_process,
            score_cutoff=DIAGNOSIS_FUZZY_CUTOFF,
        )
        if whole:
            return DiagnosisMatch(self._disease_names[whole[0]], whole[0], "fuzzy", whole[1])
        long_names = [
            n for n in self._partial_choices if DIAGNOSIS_PARTIAL_MIN_LENGTH <= len(n) <= len(key)
        ]
        part = process.extractOne(
            key,
            long_names,
            scorer=fuzz.partial_ratio,
            processor=utils.default_process,
            score_cutoff=DIAGNOSIS_PARTIAL_CUTOFF,
        )
        if part:
            return DiagnosisMatch(self._disease_names[part[0]], part[0], "partial", part[1])
        return None

    def closest_diseases(self, text: str) -> list[str]:
        """Names of the diseases a text that was not recognised may mean, closest first.

        Only names of the same kind as the text are offered (a lymphoma for a lymphoma, never
        for a cancer or an immune disease), and only from DIAGNOSIS_SUGGEST_CUTOFF.
        """
        self._index_all_diseases()
        key = text_key(text)
        family = disease_family(key)
        found = process.extract(
            key,
            self._long_choices,
            scorer=fuzz.token_sort_ratio,
            processor=utils.default_process,
            score_cutoff=DIAGNOSIS_SUGGEST_CUTOFF,
            limit=DIAGNOSIS_SUGGEST_LIMIT * 4,
        )
        names: list[str] = []
        for choice, _, _ in found:
            name = self.disease_name(self._disease_names[choice])
            if disease_family(choice) == family and name not in names:
                names.append(name)
        return names[:DIAGNOSIS_SUGGEST_LIMIT]

    def disease_code(self, text: str) -> str | None:
        """A canonical code given as-is (case-insensitive), else None."""
        key = text.strip().casefold()
        return key if key in self.diseases else None

    # -- antigens -------------------------------------------------------------------------

    def antigen(self, name: str) -> str | None:
        """Canonical antigen name for any known spelling, else None."""
        return self._antigen_names.get(compact_key(name))

    def antigen_names(self) -> list[str]:
        return list(self.antigens)

    def antigen_test(self, name: str) -> str:
        antigen = self.antigens.get(name)
        return antigen.test if antigen else f"{name} testing"

    # -- therapies ------------------------------------------------------------------------

    def therapy_classes_of(self, text: str) -> tuple[str, ...]:
        """Classes a prior-therapy text belongs to (with broader classes), () if unknown.

        Cycle counts, doses, dates and words such as "maintenance" or "方案" are ignored
        ("R-CHOP x6", "6周期R-CHOP", "bortezomib 1.3 mg/m2", "axi-cel (2025-03)"). A text
        naming several therapies ("daratumumab + pomalidomide + dexamethasone",
        "吉西他滨联合奥沙利铂") gets the union of their classes, but only when every part is
        recognised: one unrecognised part leaves the whole text unrecognised, so criteria on
        prior therapy stay unknown rather than rely on a partial list.
        """
        classes = read_therapy(text, self._therapy_names, self._therapy_choices)
        return self._with_broader(classes or ())

    def _with_broader(self, classes: tuple[str, ...]) -> tuple[str, ...]:
        out: list[str] = []
        for code in classes:
            current: str | None = code
            while current and current not in out:
                out.append(current)
                cls = self.therapy_classes.get(current)
                current = cls.parent if cls else None
        return tuple(out)

    def broader(self, code: str) -> tuple[str, ...]:
        """A therapy class and every class above it (cd19_cart -> cd19_cart, car_t, ...)."""
        return self._with_broader((code,))

    def classes_directed_at(self, antigen: str) -> tuple[str, ...]:
        """Therapy classes that act on an antigen (CAR-T, bispecifics, ADCs against CD19)."""
        return tuple(c.code for c in self.vocabulary.therapy_classes if antigen in c.directed_at)

    def therapy_class_name(self, code: str) -> str:
        cls = self.therapy_classes.get(code)
        return cls.name if cls else code
