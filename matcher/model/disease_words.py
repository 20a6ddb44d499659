"""Words a diagnosis or a field may carry about the disease's course: its status (relapsed,
refractory ...), its setting (adjuvant, advanced) and its stage, with the staging systems."""

from __future__ import annotations

import re
import unicodedata

#: Status words a diagnosis text may carry ("relapsed DLBCL", "难治性多发性骨髓瘤"), most
#: specific first; used only when disease_status itself is missing.
DIAGNOSIS_STATUS_WORDS = (
    ("primary refractory", "refractory"),
    ("relapsed/refractory", "relapsed"),
    ("r/r", "relapsed"),
    ("复发难治", "relapsed"),
    ("refractory", "refractory"),
    ("难治", "refractory"),
    ("relapsed", "relapsed"),
    ("recurrent", "relapsed"),
    ("复发", "relapsed"),
    ("newly diagnosed", "newly_diagnosed"),
    ("初治", "newly_diagnosed"),
)


#: The setting of a solid tumour: resected disease treated after surgery (adjuvant,
#: consolidation) or advanced disease (unresectable, metastatic).
SETTING_ALIASES = {
    "adjuvant": "adjuvant",
    "resected": "adjuvant",
    "post-resection": "adjuvant",
    "postoperative": "adjuvant",
    "after resection": "adjuvant",
    "consolidation": "adjuvant",
    "术后": "adjuvant",
    "辅助": "adjuvant",
    "advanced": "advanced",
    "metastatic": "advanced",
    "unresectable": "advanced",
    "locally advanced": "advanced",
    "stage iv": "advanced",
    "晚期": "advanced",
    "转移": "advanced",
    "转移性": "advanced",
    "不可切除": "advanced",
}
#: Setting words a diagnosis text may carry, advanced first: "术后复发转移" (metastatic
#: recurrence after surgery) is advanced disease. Used only when setting itself is missing.
DIAGNOSIS_SETTING_WORDS = (
    ("metastatic", "advanced"),
    ("metastases", "advanced"),
    ("mets", "advanced"),
    ("stage iv", "advanced"),
    ("unresectable", "advanced"),
    ("advanced", "advanced"),
    ("晚期", "advanced"),
    ("转移", "advanced"),
    ("不可切除", "advanced"),
    ("iv期", "advanced"),
    ("post-resection", "adjuvant"),
    ("after resection", "adjuvant"),
    ("resected", "adjuvant"),
    ("adjuvant", "adjuvant"),
    ("术后", "adjuvant"),
)


#: Staging systems a profile's `stage` may use, each with the pattern that reads it from
#: text ("MGFA IIIb", "BCLC C", "CNLC IIa", "stage IV", "IV期") and the values it allows.
STAGE_SYSTEMS = {
    "MGFA": (
        r"mgfa\s*(?:class\s*)?(iv[ab]?|i{1,3}[ab]?|v)(?![a-z])",
        "I IIa IIb IIIa IIIb IVa IVb V",
    ),
    "BCLC": (r"bclc\s*(?:stage\s*)?([0abcd])(?![a-z])", "0 A B C D"),
    "CNLC": (r"cnlc\s*(?:stage\s*)?(iv|i{1,3}[ab]?)(?![a-z])", "Ia Ib IIa IIb IIIa IIIb IV"),
    "stage": (r"(?:stage\s*|^)(iv|i{1,3})[abce]?(?![a-z])|(iv|i{1,3})[abc]?\s*期", "I II III IV"),
}


def read_stage(text: str) -> str | None:
    """A stage as 'MGFA IIIb', 'BCLC C', 'CNLC IIa' or 'stage IV' from text, or None."""
    key = unicodedata.normalize("NFKC", text).casefold()
    for system, (pattern, values) in STAGE_SYSTEMS.items():
        match = re.search(pattern, key)
        if match:
            found = next(g for g in match.groups() if g)
            value = next(v for v in values.split() if v.casefold() == found)
            return f"{system} {value}"
    return None


#: A Child-Pugh class with the scores it allows (A5-A6, B7-B9, C10-C15), or the class alone.
