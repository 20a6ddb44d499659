"""JSON and JSON Lines referral files as rows, and the markers every row reader yields
(`Header`, `Rejected`, `Positioned`); `bulk.readers` turns rows into chunks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matcher.errors import InputFileError
from matcher.model.patient import unflatten


@dataclass
class Header:
    columns: list[str]


@dataclass
class Rejected:
    referral_id: str | None
    reason: str


@dataclass
class Positioned:
    """A row (as the row readers give it) of a JSON array item, with where the item starts."""

    row: Any
    position: tuple[int, int]
    """(line, column), 1-based, as an editor shows them."""


def item_at(number: int, line: int, column: int) -> str:
    return f"item {number} (line {line}, column {column})"


def jsonl_rows(path: Path, encoding: str | None) -> Iterator[tuple[int, Any]]:
    """(line, its record): one row per line of JSON Lines."""
    with open(path, encoding=encoding) as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                yield line, None
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as error:
                yield line, Rejected(None, f"line {line}: invalid JSON ({error.msg})")
                continue
            yield line, json_record(data, f"line {line}")


def json_rows(path: Path, encoding: str | None) -> Iterator[tuple[int, Any]]:
    """(item number 1..N, its record as a Positioned): one row per array item."""
    text = path.read_text(encoding=encoding)
    decoder = json.JSONDecoder()
    pos = _skip_space(text, 0)
    if text[pos : pos + 1] != "[":
        raise InputFileError(
            f"{path}: expected a JSON array of referrals ([{{...}}, ...]); "
            "for one object per line name the file .jsonl",
            path=str(path),
        )
    pos, line, counted, line_start = _skip_space(text, pos + 1), 1, 0, 0
    item = 0
    while text[pos : pos + 1] != "]":
        newlines = text.count("\n", counted, pos)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", counted, pos) + 1
        counted = pos
        item += 1
        column = pos - line_start + 1
        try:
            data, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as error:
            raise InputFileError(
                f"{path} line {error.lineno}, column {error.colno}: invalid JSON "
                f"({error.msg}); fix the file and run again",
                path=str(path),
            ) from None
        where = item_at(item, line, column)
        yield item, Positioned(json_record(data, where), (line, column))
        pos = _skip_space(text, pos)
        if text[pos : pos + 1] == ",":
            pos = _skip_space(text, pos + 1)
        elif text[pos : pos + 1] != "]":
            raise InputFileError(
                f"{path}: invalid JSON after the referral {where} "
                "(expected , or ]); fix the file and run again",
                path=str(path),
            )


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def json_record(data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        return Rejected(
            None,
            f"{where}: expected a JSON object of profile fields, got {type(data).__name__}",
        )
    if not data:
        return None
    flat: dict[str, Any] = {}
    for key, value in unflatten(data).items():
        if key in ("antigens", "labs") and isinstance(value, dict):
            flat.update({f"{key}.{name}": v for name, v in value.items()})
        else:
            flat[key] = value
    return flat


def json_columns(records: list[Any]) -> tuple[list[str], list[list[Any]]]:
    """Records (dicts; [] for an empty row) as columns in order of first appearance and rows."""
    columns: dict[str, None] = {}
    for record in records:
        if isinstance(record, dict):
            columns.update(dict.fromkeys(record))
    names = list(columns)
    rows = [[r.get(c) if isinstance(r, dict) else None for c in names] for r in records]
    return names, rows


__all__ = ["Header", "Positioned", "Rejected", "item_at", "json_columns", "json_rows", "jsonl_rows"]
