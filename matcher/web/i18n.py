"""The app's words in English and Chinese, and the language of a request.

messages/en.yaml names every word by key. In Chinese a key comes from messages/zh.yaml, else
from the reports' reviewed catalogue (`matcher.report.words`, keyed by the English text), so
the app and the reports say a thing the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from matcher.report.words import Words

LANGUAGES = ("en", "zh")
MESSAGES = Path(__file__).parent / "messages"


@cache
def messages(lang: str) -> Mapping[str, str]:
    """The words of one language: its own file, then the reports' catalogue, then English."""
    english = _read("en")
    if lang == "en":
        return english
    own, reports = _read(lang), Words.of(lang).catalogue
    return {key: own.get(key) or reports.get(text) or text for key, text in english.items()}


def untranslated(lang: str) -> list[str]:
    """Keys that neither the language's file nor the reports' catalogue translates."""
    own, reports = _read(lang), Words.of(lang).catalogue
    return [k for k, text in _read("en").items() if k not in own and text not in reports]


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
