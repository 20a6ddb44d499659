"""Places as data (rules/places.yaml): cities and provinces in English and Chinese, and the
hospitals a coordinator may name, each with its Chinese name, short forms and sources.

A site in an entry is linked to a hospital here when its name is the hospital's name or one
of its English aliases; the hospital then lends the site its Chinese name and short forms for
look-up. Nothing here says a hospital gives any product: only entries say that.
"""

from __future__ import annotations

from pydantic import Field

from matcher.model.base import Frozen
from matcher.model.facts import Contact, Source


class City(Frozen):
    name: str
    """English name (Beijing, Xi'an)."""
    zh: str
    """Chinese name (北京)."""
    province: str
    """English name of its province or municipality."""
    aliases: list[str] = Field(default_factory=list)
    """Other spellings (Peking, Canton)."""


class Province(Frozen):
    name: str
    zh: str
    aliases: list[str] = Field(default_factory=list)


class Hospital(Frozen):
    """A hospital's identity: names, place and public contact routes, each sourced."""

    name: str
    """English name as the hospital writes it."""
    zh: str | None = None
    short_names: list[str] = Field(default_factory=list)
    """Short forms in English and Chinese (PUMCH, 协和)."""
    aliases: list[str] = Field(default_factory=list)
    """Other English names sites in entries use for it."""
    city: str
    province: str | None = None
    international_service: bool | None = None
    """Whether it runs an international patient service; null when no source says."""
    contacts: list[Contact] = Field(default_factory=list)
    sources: dict[str, Source] = Field(min_length=1)
    """Where the names, place and contacts come from; contacts cite these ids."""

    def names(self) -> list[str]:
        return [self.name, *([self.zh] if self.zh else []), *self.short_names, *self.aliases]


class Places(Frozen):
    cities: list[City] = Field(default_factory=list)
    provinces: list[Province] = Field(default_factory=list)
    hospitals: list[Hospital] = Field(default_factory=list)


__all__ = ["City", "Hospital", "Places", "Province"]
