"""Shared pydantic configuration and small helpers used by every model module."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, ValidationError
from rapidfuzz import fuzz, process, utils

#: Minimum WRatio score for a "did you mean" suggestion on a field or name.
SUGGESTION_CUTOFF = 70


#: Field docstrings become JSON Schema descriptions, but reading them means parsing every model's
#: source at import (about 0.1 s): only scripts/gen-schema, which sets this, pays for it.
SCHEMA_DOCS = os.environ.get("CARTMATCH_SCHEMA_DOCS") == "1"


class Frozen(BaseModel):
    """Immutable, strict about unknown keys; field docstrings become schema text."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=SCHEMA_DOCS)


def suggest(word: str, choices: Iterable[str], cutoff: float = SUGGESTION_CUTOFF) -> str | None:
    """The closest known name to `word`, or None when nothing is close enough."""
    found = process.extractOne(
        word,
        list(choices),
        scorer=fuzz.WRatio,
        processor=utils.default_process,
        score_cutoff=cutoff,
    )
    return found[0] if found else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean X?)' or an empty string."""
    best = suggest(word, choices)
    return f" (did you mean {best}?)" if best else ""


def dotted(loc: Iterable[object]) -> str:
    """A pydantic error location as a dotted path: ('indications', 0, 'criteria') -> ..."""
    return ".".join(str(part) for part in loc)


def first_error_lines(error: ValidationError, limit: int = 5) -> list[str]:
    """`dotted.location: message` lines for the first few errors of a ValidationError."""
    lines = []
    for err in error.errors(include_url=False, include_input=False)[:limit]:
        where = dotted(err["loc"]) or "(top level)"
        lines.append(f"{where}: {err['msg']}")
    return lines


def digest(text: str) -> str:
    """SHA-256 of text, in hex: the one content hash (entries, registry records, sources)."""
    return hashlib.sha256(text.encode()).hexdigest()
