"""Reading a diagnosis text: the thresholds, the patterns and the result.

`matcher.model.lexicon.Lexicon.resolve_diagnosis` reads a free-text diagnosis (English or
Chinese, abbreviated or misspelt, or an ICD-10 code) with these.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from matcher.model.vocabulary import CJK, compact_key

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

#: A diagnosis given as an ICD-10 code ("C83.3", "ICD-10: M32.14", "c833").
ICD10 = re.compile(r"^(?:icd ?10(?: cm)?:? ?)?([A-Z][0-9][0-9A-Z])\.?([0-9A-Z]{0,4})$", re.I)
#: Words that say a text names a cancer, lymphoma or leukaemia (checked in this order).
BACKSTOP = (
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
FAMILIES = {
    "lymphoma": re.compile(r"lymph|淋巴瘤"),
    "leukaemia": re.compile(r"leuk|白血病"),
    "myeloma": re.compile(r"myelom|骨髓瘤"),
    "cancer": re.compile(r"carcin|canc|sarcom|blastom|melanom|gliom|tumo|癌|瘤"),
}


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


def is_short(name: str) -> bool:
    """An abbreviation ("MM", "B-ALL"): read only in its own case. Cheap length test first."""
    return (
        len(name) <= 3 * SHORT_SYNONYM_LENGTH
        and len(compact_key(name)) <= SHORT_SYNONYM_LENGTH
        and not CJK.search(name)
    )


def disease_family(text: str) -> frozenset[str]:
    """The kinds of disease a text names by its words (lymphoma, leukaemia, myeloma, cancer)."""
    return frozenset(kind for kind, words in FAMILIES.items() if words.search(text))


def spans(
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
