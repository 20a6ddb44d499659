"""Reading a prior-therapy text: drug names, brands, regimens and the words around them.

"R-CHOP x6", "6周期R-CHOP", "bortezomib 1.3 mg/m2", "axi-cel (2025-03)",
"daratumumab + pomalidomide + dexamethasone": `read_therapy` takes out dates, doses, cycle
counts, responses and words such as "maintenance" or "方案", splits a text naming several
therapies, and looks each up (a close misspelling of a long name too). Used by
`matcher.model.lexicon.Lexicon.therapy_classes_of`.
"""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz import fuzz, process, utils

from matcher.model.vocabulary import CJK, compact_key, text_key

#: ratio score above which a misspelt therapy name is mapped to its class.
THERAPY_FUZZY_CUTOFF = 88
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
    return "" if CJK.match(match.group()) else " "


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(" .*#?")
