"""Shared pydantic configuration and small helpers used by every model module."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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


#: Location parts pydantic adds for a validator or a union member: not a field's name.
_TAGS = ("function-after", "literal[")


#: Characters of an offending value an error message repeats.
SHOWN_INPUT = 80


@dataclass(frozen=True)
class FirstError:
    """The first error of a pydantic ValidationError, in the parts every message is made of.

    Each caller words the sentence around them: which file, row or profile field, and what to
    do next differ from one to another.
    """

    loc: tuple[int | str, ...]
    """Where, as pydantic gives it (validator and union tags included)."""
    msg: str
    """pydantic's message; a validator's own ValueError reads "Value error, ..."."""
    input: Any
    others: int
    """How many more errors the ValidationError holds."""

    @property
    def where(self) -> str:
        """The dotted location, empty at the top level."""
        return dotted(self.loc)

    def field(self, depth: int | None = None) -> str:
        """The dotted location without pydantic's tags, its first `depth` parts only."""
        parts = [str(part) for part in self.loc if not str(part).startswith(_TAGS)]
        return ".".join(parts[:depth])

    @property
    def reason(self) -> str:
        """The message without pydantic's "Value error, " prefix."""
        return self.msg.removeprefix("Value error, ")

    @property
    def got(self) -> str:
        """' (got X)' for a single input value; empty for none, a mapping or a list."""
        shown = self.input
        if shown is None or isinstance(shown, dict | list):
            return ""
        text = repr(shown)  # a long value is cut: a message is one readable sentence
        return f" (got {text if len(text) <= SHOWN_INPUT else text[: SHOWN_INPUT - 1] + '…'})"


def first_error(error: ValidationError) -> FirstError:
    """The first of a ValidationError's errors, and how many more there are."""
    errors = error.errors(include_url=False)
    first = errors[0]
    return FirstError(tuple(first["loc"]), first["msg"], first.get("input"), len(errors) - 1)


def digest(text: str) -> str:
    """SHA-256 of text, in hex: the one content hash (entries, registry records, sources)."""
    return hashlib.sha256(text.encode()).hexdigest()
