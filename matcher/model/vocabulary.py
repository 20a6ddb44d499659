"""Vocabularies (data in `rules/vocab/`) and the keys free text is compared by.

Diagnoses arrive in English or Chinese, abbreviated or misspelt; antigen names come in many
spellings ("Claudin 18.2", "CLDN18.2", "claudin18_2"); prior therapies are drug names, brand
names or regimens. The vocabulary lists the canonical codes and their names; `text_key`,
`compact_key` and `spaced` are the forms names and texts are compared in
(`matcher.model.lexicon` does the reading).
"""

from __future__ import annotations

import re
import unicodedata

from pydantic import Field

from matcher.model.base import Frozen

#: What spaced() turns into spaces (besides whitespace).
_PUNCTUATION = str.maketrans(dict.fromkeys("-_/,;:()[]'\"", " "))
#: A Chinese character: such names are found anywhere in a text, not only as whole words.
CJK = re.compile(r"[\u3400-\u9fff]")


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
