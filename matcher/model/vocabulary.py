"""Vocabularies (data in `rules/vocab/`) and the normalisation of free text against them.

Diagnoses arrive in English or Chinese, abbreviated or misspelt; antigen names come in many
spellings ("Claudin 18.2", "CLDN18.2", "claudin18_2"); prior therapies are drug names, brand
names or regimens. `Lexicon` turns each into canonical codes, or says it could not.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass

from pydantic import Field
from rapidfuzz import fuzz, process, utils

from matcher.model.base import Frozen

#: token_sort_ratio score above which a whole diagnosis is taken as a misspelt synonym.
DIAGNOSIS_FUZZY_CUTOFF = 85
#: token_sort_ratio score from which a misspelt diagnosis is matched on without confirmation
#: ("multple myeloma"); below it the reading is only offered as "did you mean".
DIAGNOSIS_FUZZY_CERTAIN = 92
#: partial_ratio score above which a long synonym is taken as found (misspelt) inside the text.
DIAGNOSIS_PARTIAL_CUTOFF = 90
#: Synonyms shorter than this are never matched partially (too many false hits).
DIAGNOSIS_PARTIAL_MIN_LENGTH = 10
#: Abbreviations this short ("MM", "FL", "SLE") are found inside longer text only when written
#: in the same case as the vocabulary has them: "5 mm lesion" is not myeloma.
SHORT_SYNONYM_LENGTH = 4
#: token_sort_ratio score from which a disease name is offered as "did you mean".
DIAGNOSIS_SUGGEST_CUTOFF = 80
#: How many "did you mean" names at most.
DIAGNOSIS_SUGGEST_LIMIT = 3
#: Diseases read when a text names a cancer that no tier knows ("backstop" readings).
UNPLACED_CANCER = "cancer_not_in_vocabulary"
UNPLACED_LEUKAEMIA = "leukaemia"
UNPLACED_LYMPHOMA = "lymphoma"
#: ratio score above which a misspelt therapy name is mapped to its class.
THERAPY_FUZZY_CUTOFF = 88

#: What spaced() turns into spaces (besides whitespace).
_PUNCTUATION = str.maketrans(dict.fromkeys("-_/,;:()[]'\"", " "))
_CJK = re.compile(r"[\u3400-\u9fff]")
#: A diagnosis given as an ICD-10 code ("C83.3", "ICD-10: M32.14", "c833").
_ICD10 = re.compile(r"^(?:icd ?10(?: cm)?:? ?)?([A-Z][0-9][0-9A-Z])\.?([0-9A-Z]{0,4})$", re.I)
#: Words that say a text names a cancer, lymphoma or leukaemia (checked in this order).
_BACKSTOP = (
    (UNPLACED_LYMPHOMA, re.compile(r"lymphoma|淋巴瘤")),
    (UNPLACED_LEUKAEMIA, re.compile(r"leuka?emia|白血病")),
    (
        UNPLACED_CANCER,
        re.compile(
            r"carcinoma|cancer|sarcoma|blastoma|melanoma|glioma|mesothelioma|myeloma|malignan"
            r"|癌|肉瘤|母细胞瘤|黑色素瘤|胶质瘤|间皮瘤|骨髓瘤|恶性"
        ),
    ),
)
#: Kinds of disease a "did you mean" must share with the text: never lymphoma for a cancer.
#: Word stems, so that a misspelt text ("lymphomma") still has its kind.
_FAMILIES = {
    "lymphoma": re.compile(r"lymph|淋巴瘤"),
    "leukaemia": re.compile(r"leuk|白血病"),
    "myeloma": re.compile(r"myelom|骨髓瘤"),
    "cancer": re.compile(r"carcin|canc|sarcom|blastom|melanom|gliom|tumo|癌|瘤"),
}


class Disease(Frozen):
    """One node of the disease hierarchy."""

    code: str
    """Canonical code, lower-case (`dlbcl`, `gastric_adenocarcinoma`)."""
    name: str
    """English display name."""
    name_zh: str | None = None
    """Chinese display name."""
    parent: str | None = None
    """Code of the broader disease this one belongs to (DLBCL -> LBCL)."""
    icd10: list[str] = Field(default_factory=list)
    """ICD-10 codes, for cross-reference."""
    oncotree: list[str] = Field(default_factory=list)
    """OncoTree codes, for cross-reference."""
    synonyms: list[str] = Field(default_factory=list)
    """Other names in English or Chinese, abbreviations included."""
    exact_names: list[str] = Field(default_factory=list)
    """Names read only as the whole diagnosis, never inside longer text ("MS")."""
    match_name: bool = True
    """False when the display name is too generic to read in free text (OncoTree's "IgG")."""


class Reported(Frozen):
    """A published report of an antigen in tumours beyond those the catalog treats."""

    diseases: list[str] = Field(min_length=1)
    """Disease codes (OncoTree codes as `oncotree:luad`) the report covers."""
    title: str
    url: str | None = None
    date: str | None = None


class Antigen(Frozen):
    """A target antigen or biomarker."""

    name: str
    """Canonical name (`CLDN18.2`)."""
    aliases: list[str] = Field(default_factory=list)
    """Other spellings; matched ignoring case, spaces and punctuation."""
    test: str
    """How it is tested: what a coordinator asks the referring doctor for."""
    reported_in: list[Reported] = Field(default_factory=list)
    """Tumours it is reported in that no catalog cohort treats: a hint for a referral whose
    disease has no option (a trial against the antigen may still take it)."""


class TherapyClass(Frozen):
    """A class of prior therapy (`btk_inhibitor`, `cd19_cart`)."""

    code: str
    name: str
    parent: str | None = None
    """A broader class (`cd19_cart` -> `car_t`)."""
    directed_at: list[str] = Field(default_factory=list)
    """Antigens a targeted class acts on (`cd19_cart` -> CD19): the target may be lost after it."""


class Therapy(Frozen):
    """A drug, product, regimen or procedure and the classes it belongs to."""

    name: str
    classes: list[str]
    aliases: list[str] = Field(default_factory=list)


class Vocabulary(Frozen):
    """Everything in `rules/vocab/`."""

    diseases: list[Disease]
    antigens: list[Antigen]
    therapy_classes: list[TherapyClass]
    therapies: list[Therapy]


@dataclass(frozen=True)
class DiagnosisMatch:
    """How a diagnosis text was resolved."""

    code: str | None
    """None when the text names unrelated diseases (method "ambiguous")."""
    matched: str
    method: str
    """"code", "icd10", "exact", "contains", "broad", "ambiguous", "fuzzy", "partial" or
    "backstop" (a cancer, lymphoma or leukaemia that no tier names more precisely)."""
    score: float
    also: tuple[str, ...] = ()
    """For "broad" and "ambiguous": the diseases the text names."""

    @property
    def certain(self) -> bool:
        """Whether the reading may be matched on without a human confirming it."""
        if self.method == "partial":
            return False
        return self.method != "fuzzy" or self.score >= DIAGNOSIS_FUZZY_CERTAIN


def text_key(text: str) -> str:
    """Case- and punctuation-insensitive form used for exact and containment matching."""
    return spaced(text).casefold()


def compact_key(text: str) -> str:
    """Letters and digits only: 'Claudin 18.2' and 'claudin18_2' both give 'claudin182'."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def spaced(text: str) -> str:
    """NFKC text with punctuation runs as single spaces, case kept (for abbreviations)."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(_PUNCTUATION).split())


def _is_short(name: str) -> bool:
    """An abbreviation ("MM", "B-ALL"): read only in its own case. Cheap length test first."""
    return (
        len(name) <= 3 * SHORT_SYNONYM_LENGTH
        and len(compact_key(name)) <= SHORT_SYNONYM_LENGTH
        and not _CJK.search(name)
    )


def _family(text: str) -> frozenset[str]:
    """The kinds of disease a text names by its words (lymphoma, leukaemia, myeloma, cancer)."""
    return frozenset(kind for kind, words in _FAMILIES.items() if words.search(text))


def _spans(
    text: str, names: dict[str, str], longest: int, *, anywhere: bool
) -> list[tuple[int, int, str, str]]:
    """Every (start, end, name, code) where a name of `names` stands in the text.

    Each substring up to the longest name is looked up, so the cost grows with the text, not
    with the vocabulary. Unless `anywhere` (Chinese), a name must not touch a letter or digit.
    """
    size = len(text)
    if anywhere:
        starts, ends = list(range(size)), list(range(size + 1))
    else:
        word = [ch.isascii() and ch.isalnum() for ch in text]
        starts = [i for i in range(size) if i == 0 or not word[i - 1]]
        ends = [j for j in range(1, size + 1) if j == size or not word[j]]
    found = []
    for i in starts:
        for j in ends[bisect_right(ends, i) : bisect_right(ends, i + longest)]:
            code = names.get(text[i:j])
            if code:
                found.append((i, j, text[i:j], code))
    return found


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
                if _is_short(name):
                    self._short_names.setdefault(spaced(name), disease.code)
            for code in disease.icd10:
                self._icd10.setdefault(code.upper(), disease.code)
        self._latin_names: dict[str, str] = {}
        self._cjk_names: dict[str, str] = {}
        for name, code in self._disease_names.items():
            if _CJK.search(name):
                self._cjk_names[name] = code
            elif not _is_short(name):
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
        found = _ICD10.match(spaced(text))
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
        for code, words in _BACKSTOP:
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
            *_spans(key, self._latin_names, self._longest["latin"], anywhere=False),
            *_spans(key, self._cjk_names, self._longest["cjk"], anywhere=True),
            *_spans(in_case, self._short_names, self._longest["short"], anywhere=False),
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
        family = _family(key)
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
            if _family(choice) == family and name not in names:
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


# -- prior-therapy wordings (helpers of Lexicon.therapy_classes_of) -------------------------

#: The best fuzzy reading of a therapy must lead every reading of other classes by this many
#: points: a misspelling halfway between two drugs is not guessed.
THERAPY_FUZZY_MARGIN = 4
#: Names shorter than this (letters and digits) are only matched exactly: regimen acronyms
#: ("ICE", "VRd", "Kd", "CHOP") differ from one another by a letter.
THERAPY_FUZZY_MIN_LENGTH = 6
#: A misspelling may be this many letters longer or shorter than the name it is read as, and
#: must have as many words: "daratumumab Rd" is not a misspelt "daratumumab".
THERAPY_FUZZY_MAX_EXTRA = 2

_NUMBER = r"(?:\d+|[一二两三四五六七八九十]+)"
#: Dates ("2023", "2025-03", "2023年5月"), doses ("1.3 mg/m2", "420mg qd", "AUC5", "30Gy")
#: and cell doses ("2x10^6/kg").
_DATE_OR_DOSE = re.compile(
    r"(?<![a-z0-9.])(?:19|20)\d{2}(?:\s*[\s./\-年]\s*\d{1,2}(?!\d)\s*月?"
    r"(?:\s*[\s./\-]\s*\d{1,2}(?!\d)\s*日?)?)?(?![0-9])\s*年?"
    r"|(?<![a-z0-9.])\d+(?:\.\d+)?\s*[x×*]\s*10\s*\^?\s*\d+(?:\s*cells?)?(?:\s*[/ ]\s*kg)?"
    r"|(?<![a-z0-9.])\d+(?:\.\d+)?\s*(?:mg|g|mcg|μg|ug|iu|u|ml|gy|cgy|mbq|gbq)"
    r"(?:\s*[/ ]?\s*(?:m2|kg|d|day|qd|bid|tid|w|wk|week))?(?![a-z0-9])"
    r"|(?<![a-z0-9])auc\s*\d+(?:\.\d+)?"
    r"|(?<![a-z0-9])d\d{1,2}(?:\s*[-~ ]\s*\d{1,2})?(?![0-9a-z])"
    r"|(?<![a-z0-9])q\d{1,2}[dw](?![a-z0-9])"
)
#: Cycle counts: "x6", "×6", "*6", "6x", "6 cycles", "cycles 1-6", "6周期", "六个疗程", "#3".
_COUNT = re.compile(
    rf"(?:(?<![a-z0-9])x|[×*])\s*{_NUMBER}(?![0-9])"
    rf"|(?<![a-z0-9]){_NUMBER}\s*[x×](?![a-z0-9]|\s*\d)"
    rf"|(?<![a-z0-9]){_NUMBER}\s*(?:cycles?|cyc|courses?|doses?|infusions?|sessions?|times)"
    r"(?![a-z])"
    rf"|(?<![a-z0-9])(?:cycles?|courses?)\s*{_NUMBER}(?:\s*(?:-|to|\s)\s*{_NUMBER})?(?![0-9])"
    rf"|{_NUMBER}\s*个?(?:周期|疗程|程|次|轮)"
    r"|#\s*\d+"
)
#: Responses written beside a therapy ("R-CHOP x6 (PD)"): not a therapy, even where the
#: same letters name one (Pd, pomalidomide and dexamethasone).
_RESPONSE = re.compile(
    r"(?:cr|pr|pd|sd|vgpr|mr|nr|ncr|orr|progression|progressed|relapse|relapsed|refractory|"
    r"progressive disease|stable disease|no response|intolerance|intolerant|toxicity|"
    r"完全缓解|部分缓解|缓解|进展|复发|难治|耐药|稳定|无效|不耐受)"
)
#: Words around a therapy's name that do not change what it was.
_NOISE_WORDS = re.compile(
    rf"(?<![a-z0-9]){_RESPONSE.pattern}(?![a-z0-9])|"
    r"(?<![a-z0-9])(?:maintenance|maint|induction|consolidation|consolidative|salvage|"
    r"bridging|bridge|conditioning|regimens?|protocol|therapy|treatment|treated|chemo|"
    r"chemotherapy|immunochemotherapy|cycles?|courses?|of|prior|previous|previously|received|"
    r"s p|status post|post|after|single agent|monotherapy|mono|alone|biosimilar|infusion|"
    r"infused|injection|tablets?|capsules?|oral|po|iv|ivgtt|sc|subcutaneous|intravenous|daily|"
    r"weekly|monthly|qd|bid|tid|qw|q\dw|pulses?|clinical|trial|study|in|since|from|until|"
    r"modified|sessions?|sulfate|sulphate|hydrochloride|mesylate|citrate|maleate|"
    r"ongoing|completed|stopped|discontinued|(?:\d(?:st|nd|rd|th)|first|second|third|fourth|"
    r"\dl)(?: line)?|lines?)(?![a-z0-9])"
    r"|[一二三四五六七八九十\d]+线|方案|化疗|治疗|维持|巩固|诱导|挽救|桥接|预处理|单药|术后|输注|"
    r"注射液|注射用|注射|静脉|口服|胶囊|片|回输|冲击|既往|曾经|曾|接受|使用|等|共|后"
)
#: A cycle count written onto the name ("R-CHOPx6"): tried only as an exact name.
_GLUED_COUNT = re.compile(r"(?<=[a-z])[x×*]\d{1,2}$")
#: Between two therapies named in one text.
_THERAPY_SEPARATORS = re.compile(
    r"\s*(?:\+|&|、|;|,|/|\(|\)|\[|\]|->|→|=>|联合|联用|加用|序贯|和|及"
    r"|(?<![a-z])(?:and|plus|with|then|followed by)(?![a-z]))\s*"
)


def read_therapy(
    text: str, names: dict[str, tuple[str, ...]], choices: list[str]
) -> tuple[str, ...] | None:
    """The classes a prior-therapy text names; None when it, or any therapy in it, is unknown.

    `names` maps name keys to classes, `choices` are its keys (the fuzzy candidates).
    """
    text = _without_annotations(text, names)
    parts = therapy_parts(text)
    forms = therapy_forms(text)
    if forms[0] in names:
        return names[forms[0]]
    if len(parts) == 1 and (joined := _hyphenated(parts[0], names)) is not None:
        # Before words are dropped: "Elotuzumab-Pd" is elotuzumab and Pd, not "PD" (progression).
        return joined
    # A misspelling is looked for in one name only, never across a list of names.
    whole = lookup_therapy(forms, names, choices, fuzzy=len(parts) <= 1)
    if whole is not None:
        return whole
    found = []
    for part in parts:
        forms = therapy_forms(part)
        if _names_no_therapy(forms, names):
            continue
        classes = lookup_therapy(forms, names, choices) if len(parts) > 1 else None
        if classes is None:
            classes = _hyphenated(part, names)
        if classes is None:
            return None
        found.append(classes)
    return tuple(dict.fromkeys(c for classes in found for c in classes)) if found else None


def therapy_forms(text: str) -> list[str]:
    """Keys to look a prior-therapy text up by, from as written to stripped of dates and doses,
    cycle counts and words such as "maintenance" or "方案" ("R-CHOP x6" -> "r chop").

    The last form is empty when nothing but such words was written ("x6", "2023").
    """
    key = text_key(text)
    undated = _squeeze(_DATE_OR_DOSE.sub(" ", key))
    uncounted = _squeeze(_COUNT.sub(" ", undated))
    cleaned = _squeeze(_NOISE_WORDS.sub(_noise_gap, uncounted))
    glued = _GLUED_COUNT.sub("", cleaned)
    return [*dict.fromkeys(f for f in (key, undated, uncounted, glued) if f), cleaned]


def therapy_parts(text: str) -> list[str]:
    """The therapies a text joins with "+", "and", "联合", "、" and the like.

    Doses and dates are taken out first, so the "/" of "mg/m2" or "2025/03" does not split.
    """
    text = _DATE_OR_DOSE.sub(" ", unicodedata.normalize("NFKC", text).casefold())
    return [part for part in _THERAPY_SEPARATORS.split(text) if part.strip()]


def lookup_therapy(
    forms: list[str],
    names: dict[str, tuple[str, ...]],
    choices: list[str],
    *,
    fuzzy: bool = True,
) -> tuple[str, ...] | None:
    """The classes of the first form that is a known name, else of a close misspelling."""
    for form in forms:
        if form in names:
            return names[form]
    cleaned = forms[-1]
    if not fuzzy or len(compact_key(cleaned)) < THERAPY_FUZZY_MIN_LENGTH:
        return None
    hits = process.extract(
        cleaned,
        choices,
        scorer=fuzz.ratio,
        processor=utils.default_process,
        score_cutoff=THERAPY_FUZZY_CUTOFF - THERAPY_FUZZY_MARGIN,
        limit=10,
    )
    if not hits or hits[0][1] < THERAPY_FUZZY_CUTOFF:
        return None
    if len(cleaned.split()) != len(hits[0][0].split()) or (
        abs(len(compact_key(cleaned)) - len(compact_key(hits[0][0]))) > THERAPY_FUZZY_MAX_EXTRA
    ):
        return None
    best = names[hits[0][0]]
    rivals = [
        name
        for name, score, _ in hits[1:]
        if score > hits[0][1] - THERAPY_FUZZY_MARGIN and set(names[name]) != set(best)
    ]
    return None if rivals else best


def _names_no_therapy(forms: list[str], names: dict[str, tuple[str, ...]]) -> bool:
    """A part that is only a count, a date or a response ("R-CHOP + x2", "R-CHOP (PD)")."""
    if _RESPONSE.fullmatch(forms[0]):
        return True
    return forms[0] not in names and not re.search(r"[^\W\d_]", forms[-1])


def _hyphenated(part: str, names: dict[str, tuple[str, ...]]) -> tuple[str, ...] | None:
    """Drugs joined by hyphens ("obinutuzumab-bendamustine", "Dara-Pom-Dex"), each known."""
    pieces = [p for p in part.split("-") if p.strip()]
    if len(pieces) < 2:
        return None
    found = [lookup_therapy(therapy_forms(p), names, [], fuzzy=False) for p in pieces]
    if None in found:
        return None
    return tuple(dict.fromkeys(c for classes in found if classes for c in classes))


#: A bracketed note beside a therapy: "(MUD)", "(IIT)", "(Euro-Lupus)", "（同胞全合）".
_ANNOTATION = re.compile(r"[(（\[]([^()（）\[\]]*)[)）\]]")
#: Words that make a note matter: a target or a cell therapy ("CAR-T (CD19)").
_TARGET_WORDS = re.compile(r"cd\s*\d|bcma|gprc5d|cldn|claudin|gpc3|her2|car|嵌合")


def _without_annotations(text: str, names: dict[str, tuple[str, ...]]) -> str:
    """The text without bracketed notes that name no therapy and no target: such a note
    ("allo-SCT (MUD)") says how, not what; one naming a target ("CAR-T (CD19)") stays."""

    def drop(match: re.Match[str]) -> str:
        note = unicodedata.normalize("NFKC", match.group(1)).casefold()
        if _TARGET_WORDS.search(note) or lookup_therapy(
            therapy_forms(note), names, [], fuzzy=False
        ):
            return match.group()
        return " "

    return _ANNOTATION.sub(drop, text)


def _noise_gap(match: re.Match[str]) -> str:
    # An English word leaves a space; a Chinese one leaves nothing, so "R-CHOP方案化疗" and
    # "自体移植术后" close up to names the vocabulary has.
    return "" if _CJK.match(match.group()) else " "


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(" .*#?")
