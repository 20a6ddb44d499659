"""The report's words: fixed texts through a reviewed message catalogue, dates and amounts as
readers of each language write them (CNY 1.49–1.63 M, about USD 207–226k; 149–163 万元)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import yaml

from matcher.errors import CartmatchError
from matcher.render.money import amount_range, amount_range_zh

LANGUAGES = ("en", "zh")

#: Fixed texts asked for in a language whose catalogue lacks them (English shown instead).
UNTRANSLATED: set[str] = set()


@cache
def _catalogue(lang: str) -> dict[str, str]:
    """English text -> translation, from messages/LANG.yaml (English needs none)."""
    if lang == "en":
        return {}
    text = resources.files("matcher.report").joinpath(f"messages/{lang}.yaml").read_text("utf-8")
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise CartmatchError(f"matcher/report/messages/{lang}.yaml: expected a mapping")
    return {str(k): str(v) for k, v in data.items()}


@dataclass(frozen=True)
class Words:
    """Fixed texts, dates and amounts in one language."""

    lang: str
    catalogue: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, lang: str) -> Words:
        if lang not in LANGUAGES:
            raise CartmatchError(f"report language must be en or zh, not '{lang}'")
        return cls(lang, _catalogue(lang))

    def __call__(self, text: str, **values: Any) -> str:
        """The text in this language with {names} filled in. An untranslated text stays in
        English and is recorded in UNTRANSLATED (a test renders the examples and fails on any)."""
        translated = self.catalogue.get(text)
        if translated is None:
            if self.lang != "en":
                UNTRANSLATED.add(text)
            translated = text
        return translated.format(**values) if values else translated

    def date(self, day: date | str | None) -> str:
        """'29 Nov 2026' or '2026年11月29日'; partial dates ('2026-04', '2021') as given."""
        if day is None:
            return self("unknown")
        if isinstance(day, str):
            try:
                day = date.fromisoformat(day[:10])
            except ValueError:
                return self._partial(day)
        if self.lang == "zh":
            return f"{day.year}年{day.month}月{day.day}日"
        return f"{day.day} {day:%b} {day.year}"

    def _partial(self, text: str) -> str:
        parts = text.split("-")
        if self.lang == "zh" and len(parts) == 2 and all(p.isdigit() for p in parts):
            return f"{int(parts[0])}年{int(parts[1])}月"
        if self.lang == "zh" and text.isdigit():
            return f"{text}年"
        return text

    def money(
        self, low: float | None, high: float | None, currency: str, *, about: bool = False
    ) -> str:
        """A range as people read it: 'CNY 1.49–1.63 M', 'about USD 207–226k', '149–163 万元'."""
        if low is None or high is None:
            return self("unknown")
        text = (
            amount_range_zh(low, high, currency)
            if self.lang == "zh"
            else amount_range(low, high, currency)
        )
        return self("about {amount}", amount=text) if about else text
