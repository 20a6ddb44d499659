"""The app's words in English and Chinese (messages/*.yaml), and the language of a request.

The reports' message catalogue (issue #15) can take these keys over; until then this small
catalogue holds the web app's own words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("en", "zh")
MESSAGES = Path(__file__).parent / "messages"


@cache
def messages(lang: str) -> Mapping[str, str]:
    """The words of one language; a key it lacks falls back to English."""
    english = _read("en")
    return english if lang == "en" else {**english, **_read(lang)}


def _read(lang: str) -> dict[str, str]:
    data: Any = yaml.safe_load((MESSAGES / f"{lang}.yaml").read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()}


def translator(lang: str) -> Callable[[str], str]:
    """t(key): the word in `lang`; an unknown key shows as itself, so a gap is visible."""
    words = messages(lang if lang in LANGUAGES else "en")
    return lambda key: words.get(key, key)


def language_of(session: Mapping[str, Any], accept_language: str | None) -> str:
    """The language chosen with the switch, else the browser's first choice, else English."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    first = (accept_language or "").split(",")[0].strip().lower()
    return "zh" if first.startswith("zh") else "en"
