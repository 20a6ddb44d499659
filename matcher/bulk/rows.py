"""JSON and JSON Lines referral files as rows, and the markers every row reader yields
(`Header`, `Rejected`, `Positioned`); `bulk.readers` turns rows into chunks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matcher.errors import InputFileError
from matcher.limits import CELL_CHARS, JSON_DEPTH
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
            except (RecursionError, ValueError) as error:
                yield line, Rejected(None, f"line {line}: {_unreadable(error)}")
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
        where = item_at(item, line, column)
        try:
            data, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as error:
            raise InputFileError(
                f"{path} line {error.lineno}, column {error.colno}: invalid JSON "
                f"({error.msg}); fix the file and run again",
                path=str(path),
            ) from None
        except (RecursionError, ValueError) as error:
            # valid JSON the parser will not take: this item alone is rejected
            data, pos = Rejected(None, f"{where}: {_unreadable(error)}"), _value_end(text, pos)
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


def _unreadable(error: Exception) -> str:
    if isinstance(error, RecursionError):
        return f"nested deeper than the JSON reader goes (the limit is {JSON_DEPTH.value} levels)"
    return f"a number too long to read ({str(error).split(':')[0]})"


def _value_end(text: str, pos: int) -> int:
    """Where the JSON value starting at pos ends (brackets counted outside strings): the
    next item is read from there when this one cannot be parsed."""
    depth, in_string, escaped = 0, False, False
    for at in range(pos, len(text)):
        char = text[at]
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth <= 0:
                return at + 1
        elif depth == 0 and char in ",":
            return at
    return len(text)


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def json_record(data: Any, where: str) -> Any:
    if isinstance(data, Rejected):
        return data
    if not isinstance(data, dict):
        return Rejected(
            None,
            f"{where}: expected a JSON object of profile fields, got {type(data).__name__}",
        )
    if not data:
        return None
    long = next(
        (k for k, v in data.items() if isinstance(v, str) and len(v) > CELL_CHARS.value), None
    )
    if long is not None:
        return Rejected(
            None, f"{where}: field '{long[:60]}': {CELL_CHARS.message(len(data[long]))}"
        )
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
